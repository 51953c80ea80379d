"""The z_dim sweep: one run per (dimension, seed) with that dimension, the table's arithmetic, reuse, the plot."""

import importlib.util
import json
import os

import numpy as np
import pytest

from src.config import load_config
from tools import sweep_z_dim

TINY = ["--backbone.depth", "10", "--data.height", "32", "--data.width", "16", "--train.epochs", "1"]


class StandInScripts:
    """Replaces train.py / eval.py: training writes config.yaml and a checkpoint, evaluation made-up
    figures drawn from (z_dim, seed, feature) of the resolved config."""

    def __init__(self):
        self.calls = {"train.py": 0, "eval.py": 0}

    def __call__(self, command, log_path):
        script, arguments = command[0], command[1:]
        self.calls[script] += 1
        cfg = load_config(arguments)
        if script == "train.py":
            cfg.save(os.path.join(cfg.output_dir, "config.yaml"))
            os.makedirs(os.path.join(cfg.output_dir, "checkpoints"), exist_ok=True)
            open(os.path.join(cfg.output_dir, "checkpoints", "network_last.ckpt"), "w").close()
            return True
        rng = np.random.default_rng([cfg.model.z_dim, cfg.seed, ord(cfg.model.test_feature)])
        mean = {"rank1": float(rng.random()), "mAP": float(rng.random()), "mINP": 0.0}
        os.makedirs(cfg.output_dir, exist_ok=True)
        with open(os.path.join(cfg.output_dir, "eval_results.json"), "w") as handle:
            json.dump({"config": cfg.to_dict(), "results": {"v2t": {"mean": mean, "std": mean, "trials": []}}}, handle)
        return True


def test_sweep_trains_each_dimension_and_tabulates_it(synthetic_sysu, tmp_path, monkeypatch):
    scripts = StandInScripts()
    monkeypatch.setattr(sweep_z_dim.ZDimSweep, "_succeeds", staticmethod(scripts))
    root = str(tmp_path / "sweep")
    command = ["sysu", synthetic_sysu, "--z_dims", "64,16", "--seeds", "2", "--output_root", root, *TINY]
    status = sweep_z_dim.main(command)
    assert scripts.calls == {"train.py": 4, "eval.py": 8}  # 2 dimensions x 2 seeds, each evaluated with v and z
    for z_dim in (16, 64):
        for seed in (1, 2):
            run = os.path.join(root, f"z_dim_{z_dim:04d}", f"seed{seed}")
            saved = load_config(["--config_path", os.path.join(run, "config.yaml")])
            assert (saved.model.z_dim, saved.seed, saved.backbone.depth) == (z_dim, seed, 10)
    summary = json.load(open(os.path.join(root, "z_dim_sweep.json")))
    assert [entry["z_dim"] for entry in summary["rows"]] == [16, 64]
    for entry in summary["rows"]:
        for feature in ("v", "z"):
            figures = [json.load(open(os.path.join(root, f"z_dim_{entry['z_dim']:04d}", f"seed{seed}",
                                                   f"eval_{feature}", "eval_results.json")))["results"]["v2t"]["mean"]
                       for seed in (1, 2)]
            ranks = [100 * figure["rank1"] for figure in figures]
            assert entry[f"{feature}_rank1_mean"] == pytest.approx(np.mean(ranks))
            assert entry[f"{feature}_rank1_std"] == pytest.approx(abs(ranks[0] - ranks[1]) / np.sqrt(2))
    table = open(os.path.join(root, "z_dim_sweep.md")).read()
    assert "| 16 | 2 |" in table and "| 64 | 2 |" in table
    if importlib.util.find_spec("matplotlib"):
        assert status == 0 and os.path.getsize(os.path.join(root, "z_dim_sweep.png")) > 5000
    else:
        assert status == 2  # the table is written; the plot needs the optional extras
    sweep_z_dim.main(command)  # everything is reused
    assert scripts.calls == {"train.py": 4, "eval.py": 8}


def test_sweep_refuses_its_own_keys_and_presets_without_bottleneck(synthetic_sysu, tmp_path, capsys):
    assert sweep_z_dim.main(["sysu", synthetic_sysu, "--model.z_dim", "8"]) == 2
    assert "--model.z_dim is set by the z_dim sweep for each run; use --z_dims" in capsys.readouterr().err
    assert sweep_z_dim.main(["sysu", synthetic_sysu, "--model.shared_bottleneck", "none"]) == 2
    assert "without bottleneck" in capsys.readouterr().err
