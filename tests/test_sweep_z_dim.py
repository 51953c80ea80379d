"""The z_dim sweep: one run per (dimension, seed) with that dimension, the table's arithmetic, reuse, the plot;
the H(y|z) - H(y|v) curves over seeds read from the training logs, their table and plot."""

import importlib.util
import json
import math
import os

import numpy as np
import pytest

from src.config import load_config
from tools import sweep_z_dim

TINY = ["--backbone.depth", "10", "--data.height", "32", "--data.width", "16", "--train.epochs", "1"]
PROBED_BRANCHES = ("shared", "visible", "infrared")  # the demo preset's bottlenecked branches
STEP_LOG_INTERVAL = 5


def stand_in_gap(z_dim, seed, branch, step):
    """The H(y|z) - H(y|v) (nats) the stand-in training logs for ``branch`` at ``step``."""
    return step * (1 + PROBED_BRANCHES.index(branch)) / (10.0 * math.log2(z_dim)) + 0.05 * seed ** 2


def write_stand_in_training_log(cfg):
    """train_log.jsonl of a stand-in training: a step record every STEP_LOG_INTERVAL steps and, with
    train.gap_interval, ``stand_in_gap`` records; seed S probes 2 + S times, so only the first three
    probes are common to seeds 1 and 2. The second probe is logged twice, first with a wrong value,
    as a run resumed from before it would."""
    interval = cfg.train.gap_interval
    last_step = interval * (2 + cfg.seed) if interval else 4 * STEP_LOG_INTERVAL
    records = []
    for step in range(1, last_step + 1):
        if step % STEP_LOG_INTERVAL == 0:
            records.append({"epoch": 0, "step": step, "global_step": step, "lr": 0.001, "loss": 1.0})
        if interval and step % interval == 0:
            if step == 2 * interval:
                stale = {f"gap_{branch}": 99.0 for branch in PROBED_BRANCHES}
                records.append({"epoch": 0, "global_step": step, **stale})
            records.append({"epoch": 0, "global_step": step, **{
                f"{kind}_{branch}": stand_in_gap(cfg.model.z_dim, cfg.seed, branch, step)
                for branch in PROBED_BRANCHES for kind in ("gap", "ce_z")}})
    with open(os.path.join(cfg.output_dir, "train_log.jsonl"), "w") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)


class StandInScripts:
    """Replaces train.py / eval.py: training writes config.yaml, a checkpoint and a training log
    (``write_stand_in_training_log``), evaluation made-up figures drawn from (z_dim, seed, feature)
    of the resolved config."""

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
            write_stand_in_training_log(cfg)
            return True
        rng = np.random.default_rng([cfg.model.z_dim, cfg.seed, ord(cfg.model.test_feature)])
        mean = {"rank1": float(rng.random()), "mAP": float(rng.random()), "mINP": 0.0}
        os.makedirs(cfg.output_dir, exist_ok=True)
        with open(os.path.join(cfg.output_dir, "eval_results.json"), "w") as handle:
            json.dump({"config": cfg.to_dict(), "results": {"t2v": {"mean": mean, "std": mean, "trials": []}}}, handle)
        return True


def test_sweep_trains_each_dimension_and_tabulates_it(synthetic_sysu, tmp_path, monkeypatch):
    scripts = StandInScripts()
    monkeypatch.setattr(sweep_z_dim.ZDimSweep, "_succeeds", staticmethod(scripts))
    root = str(tmp_path / "sweep")
    command = ["sysu", synthetic_sysu, "--z_dims", "64,16", "--seeds", "2", "--output_root", root, *TINY,
               "--train.gap_interval", "10"]
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
                                                   f"eval_{feature}", "eval_results.json")))["results"]["t2v"]["mean"]
                       for seed in (1, 2)]
            ranks = [100 * figure["rank1"] for figure in figures]
            assert entry[f"{feature}_rank1_mean"] == pytest.approx(np.mean(ranks))
            assert entry[f"{feature}_rank1_std"] == pytest.approx(abs(ranks[0] - ranks[1]) / np.sqrt(2))
    table = open(os.path.join(root, "z_dim_sweep.md")).read()
    assert "| 16 | 2 |" in table and "| 64 | 2 |" in table
    common_steps = [10, 20, 30]  # seed 1 probed 10-30, seed 2 10-40
    for entry in summary["rows"]:
        gap = entry["gap"]
        assert gap["steps"] == common_steps and list(gap["curves"]) == [*PROBED_BRANCHES, "mean"]
        by_seed = {seed: {branch: [stand_in_gap(entry["z_dim"], seed, branch, step) for step in common_steps]
                          for branch in PROBED_BRANCHES} for seed in (1, 2)}
        for seed in (1, 2):
            by_seed[seed]["mean"] = [sum(by_seed[seed][branch][index] for branch in PROBED_BRANCHES) / 3
                                     for index in range(len(common_steps))]
        for name in (*PROBED_BRANCHES, "mean"):
            first, second = np.array(by_seed[1][name]), np.array(by_seed[2][name])
            assert gap["curves"][name]["mean"] == pytest.approx((first + second) / 2)
            assert gap["curves"][name]["std"] == pytest.approx(abs(first - second) / np.sqrt(2))
        if entry["z_dim"] == 16:
            cells = [f"{(by_seed[1][name][-1] + by_seed[2][name][-1]) / 2:.2f} ± "
                     f"{abs(by_seed[1][name][-1] - by_seed[2][name][-1]) / np.sqrt(2):.2f}"
                     for name in (*PROBED_BRANCHES, "mean")]
            assert "| 16 | 30 | " + " | ".join(cells) + " |" in table
    assert "## H(y|z) - H(y|v) at the last probe (nats)" in table
    assert "| z_dim | step | shared | visible | infrared | mean over branches |" in table
    if importlib.util.find_spec("matplotlib"):
        assert status == 0 and os.path.getsize(os.path.join(root, "z_dim_sweep.png")) > 5000
        assert os.path.getsize(os.path.join(root, "z_dim_sweep_gap.png")) > 5000
    else:
        assert status == 2  # the table is written; the plot needs the optional extras
    sweep_z_dim.main(command)  # everything is reused
    assert scripts.calls == {"train.py": 4, "eval.py": 8}
    assert json.load(open(os.path.join(root, "z_dim_sweep.json"))) == summary


def test_one_seed_gives_the_gap_without_spread(synthetic_sysu, tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_z_dim.ZDimSweep, "_succeeds", staticmethod(StandInScripts()))
    root = str(tmp_path / "sweep")
    sweep_z_dim.main(["sysu", synthetic_sysu, "--z_dims", "32", "--seeds", "3,", "--output_root", root, *TINY,
                      "--train.gap_interval", "7"])
    gap = json.load(open(os.path.join(root, "z_dim_sweep.json")))["rows"][0]["gap"]
    steps = [7, 14, 21, 28, 35]  # seed 3 probes 2 + 3 times
    assert gap["steps"] == steps and gap["curves"]["shared"]["std"] is None
    assert gap["curves"]["infrared"]["mean"] == pytest.approx([stand_in_gap(32, 3, "infrared", step) for step in steps])
    assert f"| 32 | 35 | {stand_in_gap(32, 3, 'shared', 35):.2f} |" in open(os.path.join(root, "z_dim_sweep.md")).read()


def test_runs_without_gap_records_give_no_gap_table_or_plot(synthetic_sysu, tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_z_dim.ZDimSweep, "_succeeds", staticmethod(StandInScripts()))
    root = str(tmp_path / "sweep")
    status = sweep_z_dim.main(["sysu", synthetic_sysu, "--z_dims", "16,32", "--seeds", "2", "--output_root", root,
                               *TINY, "--train.gap_interval", "0"])
    assert os.path.isfile(os.path.join(root, "z_dim_0016", "seed1", "train_log.jsonl"))  # step records only
    summary = json.load(open(os.path.join(root, "z_dim_sweep.json")))
    assert [entry["gap"] for entry in summary["rows"]] == [None, None]
    assert summary["rows"][0]["v_rank1_mean"] is not None
    table = open(os.path.join(root, "z_dim_sweep.md")).read()
    assert "| 16 | 2 |" in table and "H(y|z)" not in table
    assert not os.path.exists(os.path.join(root, "z_dim_sweep_gap.png"))
    if importlib.util.find_spec("matplotlib"):
        assert status == 0 and os.path.isfile(os.path.join(root, "z_dim_sweep.png"))
    else:
        assert status == 2


def test_sweep_refuses_its_own_keys_and_presets_without_bottleneck(synthetic_sysu, tmp_path, capsys):
    assert sweep_z_dim.main(["sysu", synthetic_sysu, "--model.z_dim", "8"]) == 2
    assert "--model.z_dim is set by the z_dim sweep for each run; use --z_dims" in capsys.readouterr().err
    assert sweep_z_dim.main(["sysu", synthetic_sysu, "--model.shared_bottleneck", "none"]) == 2
    assert "without bottleneck" in capsys.readouterr().err
