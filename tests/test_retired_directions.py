"""SYSU-MM01 runs saved before the dataset declared its direction: their config.yaml held
``eval.direction: v2t``. It is read as what it meant, the dataset's own direction ("t2v")."""

import os

import pytest

from src.config import REPO_ROOT, ConfigError, load_config
from src.datasets.dataset import configured_test_options

# A config.yaml a SYSU-MM01 run saved then (eval.direction: v2t, as every one of them).
OLD_SYSU_CONFIG = os.path.join(REPO_ROOT, "tests", "fixtures", "legacy_run_config.yaml")


def test_an_old_sysu_config_evaluates_t2v_but_v2t_asked_for_is_refused():
    cfg = load_config(["--config_path", OLD_SYSU_CONFIG])
    assert cfg.eval.direction == "standard"
    assert list(configured_test_options(cfg.data.dataset, cfg.eval)) == ["t2v"]
    asked = load_config(["--config_path", OLD_SYSU_CONFIG, "--eval.direction", "v2t"])
    with pytest.raises(ConfigError, match="SYSU-MM01 does not test eval.direction 'v2t'"):
        configured_test_options(asked.data.dataset, asked.eval)
