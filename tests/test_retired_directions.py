"""SYSU-MM01 runs saved before the dataset declared its direction: their config.yaml held
``eval.direction: v2t`` and their eval_results.json the figures under "v2t". They are read as
what they are, infrared queries in the visible gallery ("t2v"), with the same figures."""

import json
import os

import pytest
import yaml

from src.config import REPO_ROOT, ConfigError, load_config
from src.datasets.dataset import configured_test_options
from tools.run_ablation import mean_figures

# A config.yaml a SYSU-MM01 run saved then (eval.direction: v2t, as every one of them).
OLD_SYSU_CONFIG = os.path.join(REPO_ROOT, "tests", "fixtures", "legacy_run_config.yaml")
MEAN = {"rank1": 0.25, "rank5": 0.5, "rank10": 0.625, "rank20": 0.75, "mAP": 0.375, "mINP": 0.125}


def _results_file(folder, config, results):
    path = os.path.join(folder, "eval_results.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"config": config, "results": results}, handle)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def test_old_sysu_results_are_read_under_t2v_with_their_figures(tmp_path):
    with open(OLD_SYSU_CONFIG, encoding="utf-8") as handle:
        old_config = yaml.safe_load(handle)
    assert (old_config["data"]["dataset"], old_config["eval"]["direction"]) == ("sysu", "v2t")
    stored = _results_file(tmp_path, old_config, {"v2t": {"mean": MEAN, "std": MEAN, "trials": []}})
    assert mean_figures(stored) == {"t2v": {"rank1": 25.0, "mAP": 37.5}}


def test_regdb_results_keep_the_directions_they_were_stored_under(tmp_path):
    config = load_config(["--data.dataset", "regdb", "--eval.direction", "both"]).to_dict()
    other = {**MEAN, "rank1": 0.5}
    stored = _results_file(tmp_path, config, {"v2t": {"mean": MEAN}, "t2v": {"mean": other}})
    assert mean_figures(stored) == {"v2t": {"rank1": 25.0, "mAP": 37.5}, "t2v": {"rank1": 50.0, "mAP": 37.5}}


def test_an_old_sysu_config_evaluates_t2v_but_v2t_asked_for_is_refused():
    cfg = load_config(["--config_path", OLD_SYSU_CONFIG])
    assert cfg.eval.direction == "standard"
    assert list(configured_test_options(cfg.data.dataset, cfg.eval)) == ["t2v"]
    asked = load_config(["--config_path", OLD_SYSU_CONFIG, "--eval.direction", "v2t"])
    with pytest.raises(ConfigError, match="SYSU-MM01 does not test eval.direction 'v2t'"):
        configured_test_options(asked.data.dataset, asked.eval)
