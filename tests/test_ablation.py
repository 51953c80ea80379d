"""The ablation command: planning, reuse, failure reporting and the table's arithmetic (with
stand-ins for train.py / eval.py), and one real tiny run end to end."""

import json
import os

import numpy as np
import pytest

from src.config import load_config
from tools import run_ablation

# A budget that trains in seconds: one step of a ResNet-10 on 32 x 16 images.
TINY = ["--backbone.depth", "10", "--data.height", "32", "--data.width", "16", "--data.batch_ids", "30",
        "--data.per_modality", "1", "--model.hidden_dims", "[64, 32]", "--model.z_dim", "16",
        "--train.epochs", "1", "--train.warmup_epochs", "0", "--train.decay_epochs", "[]",
        "--eval.trials", "2", "--eval.flip_tta", "false", "--graph_mode", "false", "--data.num_workers", "1"]


def option(command, name):
    return command[command.index(name) + 1]


class StandInScripts:
    """Replaces the train.py / eval.py processes: writes what they would, with made-up figures.

    Training writes the resolved config.yaml and a last checkpoint (or fails for the (row, seed)
    pairs in ``failing``); evaluation writes eval_results.json with figures drawn from (row,
    seed, feature). Counts the calls of each script.
    """

    def __init__(self, failing=()):
        self.failing = set(failing)
        self.calls = {"train.py": 0, "eval.py": 0}

    def __call__(self, command, log_path):
        script, arguments = command[0], command[1:]
        self.calls[script] += 1
        cfg = load_config(arguments)
        folder = cfg.output_dir if script == "train.py" else os.path.dirname(cfg.output_dir)
        row, seed = int(os.path.basename(os.path.dirname(folder))[3:]), cfg.seed
        if script == "train.py":
            if (row, seed) in self.failing:
                with open(log_path, "a") as handle:
                    handle.write("step 1\nRuntimeError: made-up failure\n")
                return False
            cfg.save(os.path.join(folder, "config.yaml"))
            os.makedirs(os.path.join(folder, "checkpoints"), exist_ok=True)
            open(os.path.join(folder, run_ablation.LAST_CHECKPOINT), "w").close()
            return True
        feature = cfg.model.test_feature
        rng = np.random.default_rng([row, seed, ord(feature)])
        mean = {"rank1": float(rng.random()), "mAP": float(rng.random()), "mINP": 0.0}
        os.makedirs(cfg.output_dir, exist_ok=True)
        with open(os.path.join(cfg.output_dir, "eval_results.json"), "w") as handle:
            json.dump({"config": cfg.to_dict(), "results": {"v2t": {"mean": mean, "std": mean, "trials": []}}},
                      handle)
        return True


def seed_figures(output_root, row, seed, feature):
    """{metric: %} of one run's eval_results.json, read independently of the tool."""
    path = os.path.join(output_root, f"row{row:02d}", f"seed{seed}", f"eval_{feature}", "eval_results.json")
    mean = json.load(open(path))["results"]["v2t"]["mean"]
    return {metric: 100 * mean[metric] for metric in ("rank1", "mAP")}


def test_table_arithmetic_failures_and_reuse(synthetic_sysu, tmp_path, monkeypatch):
    scripts = StandInScripts(failing={(9, 2)})
    monkeypatch.setattr(run_ablation.Ablation, "_succeeds", staticmethod(scripts))
    root = str(tmp_path / "ablation")
    command = ["sysu", synthetic_sysu, "--rows", "1,6,9,12", "--seeds", "3", "--output_root", root, *TINY]

    assert run_ablation.main(command) == 1  # one run failed; the table is written anyway
    assert scripts.calls == {"train.py": 12, "eval.py": 3 + 3 * 2 + 2 * 2 + 3 * 2}
    table = json.load(open(os.path.join(root, "ablation_table.json")))
    summary = {entry["row"]: entry for entry in table["summary"]["v2t"]}
    assert list(summary) == [1, 6, 9, 12]
    assert {row: entry["n"] for row, entry in summary.items()} == {1: 3, 6: 3, 9: 2, 12: 3}
    assert summary[1]["z"] is None and summary[6]["z"] is not None
    assert summary[1]["description"] == "E_S only, no bottleneck, L_ReID."
    finished = {1: [1, 2, 3], 6: [1, 2, 3], 9: [1, 3], 12: [1, 2, 3]}
    for row, seeds in finished.items():
        for feature in ("v", "z") if row != 1 else ("v",):
            for metric in ("rank1", "mAP"):
                values = [seed_figures(root, row, seed, feature)[metric] for seed in seeds]
                cell = summary[row][feature][metric]
                assert cell["values"] == pytest.approx(values)
                assert cell["mean"] == pytest.approx(np.mean(values))
                assert cell["std"] == pytest.approx(np.std(values, ddof=1))

    differences = {entry["against"]: entry for entry in table["differences"]["v2t"]}
    assert set(differences) == {6, 9} and all(entry["row"] == 12 for entry in differences.values())
    for against, seeds in ((6, [1, 2, 3]), (9, [1, 3])):
        entry = differences[against]
        assert [item["seed"] for item in entry["per_seed"] if item["v"]] == seeds
        for feature in ("v", "z"):
            for metric in ("rank1", "mAP"):
                expected = [seed_figures(root, 12, seed, feature)[metric]
                            - seed_figures(root, against, seed, feature)[metric] for seed in seeds]
                got = [item[feature][metric] for item in entry["per_seed"] if item[feature]]
                assert got == pytest.approx(expected)
                assert entry["mean"][feature][metric]["mean"] == pytest.approx(np.mean(expected))

    text = open(os.path.join(root, "ablation_table.md")).read()
    assert "| 01 | E_S only, no bottleneck, L_ReID. | 3 |" in text and text.count(" | - | - |") >= 1
    assert "### Row 12 minus row 06" in text and "### Row 12 minus row 09" in text
    assert "| 09 | 2 | training (RuntimeError: made-up failure) |" in text

    # Again: every finished training and evaluation is reused; only the failed run is redone.
    scripts.failing.clear()
    scripts.calls = {"train.py": 0, "eval.py": 0}
    assert run_ablation.main(command) == 0
    assert scripts.calls == {"train.py": 1, "eval.py": 2}
    # An evaluation-only change re-evaluates every run without retraining any.
    scripts.calls = {"train.py": 0, "eval.py": 0}
    assert run_ablation.main([*command, "--eval.trials", "3"]) == 0
    assert scripts.calls == {"train.py": 0, "eval.py": 3 + 3 * 2 * 3}
    # A training change conflicts with the finished runs: refused before anything runs.
    assert run_ablation.main([*command, "--train.lr", "0.5"]) == 2
    assert scripts.calls["train.py"] == 0


def test_a_row_that_does_not_resolve_fails_alone(synthetic_sysu, tmp_path, monkeypatch, capsys):
    rows_dir = tmp_path / "rows"
    rows_dir.mkdir()
    (rows_dir / "row01.yaml").write_text("# Table 3, row 01: broken.\nmodel:\n  branches: [middle]\n")
    (rows_dir / "row12.yaml").write_text("# Table 3, row 12: the full method.\n")
    scripts = StandInScripts()
    monkeypatch.setattr(run_ablation.Ablation, "_succeeds", staticmethod(scripts))
    root = tmp_path / "ablation"
    assert run_ablation.main(["sysu", synthetic_sysu, "--rows", "1,12", "--seeds", "2", "--rows_dir", str(rows_dir),
                              "--output_root", str(root), *TINY]) == 1
    assert scripts.calls["train.py"] == 2
    assert "'model.branches' must be one of shared, specific" in capsys.readouterr().out
    summary = json.load(open(root / "ablation_table.json"))["summary"]["v2t"]
    assert [(entry["row"], entry["n"]) for entry in summary] == [(1, 0), (12, 2)]


@pytest.mark.parametrize("arguments, message", [
    (["market", "."], "DATASET must be"),
    (["sysu", "{data}", "--rows", "13"], "--rows must lie in 1..12"),
    (["sysu", "{data}", "--seeds", "0"], "--seeds must be a count"),
    (["sysu", "{data}", "--seed", "3"], "--seed is set by the ablation for each run; use --seeds"),
    (["sysu", "{data}", "--model.test_feature", "z"], "use nothing (v and z are both evaluated)"),
    (["sysu", "{data}", "--train.lrr", "1"], "unknown config key 'train.lrr'"),
    (["sysu", "{data}", "--preset", "absent.yaml"], "absent.yaml does not exist"),
])
def test_bad_command_lines_are_named(arguments, message, synthetic_sysu, capsys):
    arguments = [synthetic_sysu if item == "{data}" else item for item in arguments]
    assert run_ablation.main(arguments) == 2
    assert message in capsys.readouterr().err


def test_tiny_ablation_end_to_end(synthetic_sysu, tmp_path):
    """Real train.py / eval.py processes: row 1 (no bottleneck: v only) and row 6 (v and z)."""
    root = tmp_path / "ablation"
    assert run_ablation.main(["sysu", synthetic_sysu, "--rows", "1,6", "--seeds", "1,", "--output_root", str(root),
                              *TINY]) == 0
    table = json.load(open(root / "ablation_table.json"))
    summary = {entry["row"]: entry for entry in table["summary"]["v2t"]}
    assert summary[1]["z"] is None and summary[1]["n"] == 1
    for row, features in ((1, ("v",)), (6, ("v", "z"))):
        for feature in features:
            figures = seed_figures(str(root), row, 1, feature)
            assert summary[row][feature]["rank1"]["mean"] == pytest.approx(figures["rank1"])
            assert summary[row][feature]["mAP"]["values"] == pytest.approx([figures["mAP"]])
    evaluated = load_config(["--config_path", str(root / "row06" / "seed1" / "eval_z" / "eval_config.yaml")])
    assert evaluated.model.test_feature == "z" and evaluated.model.branches == ["shared", "specific"]
    trained = load_config(["--config_path", str(root / "row01" / "seed1" / "config.yaml")])
    assert trained.model.branches == ["shared"] and trained.train.epochs == 1

    def no_process_expected(command, log_path):
        raise AssertionError(f"{command[0]} should have been reused")
    # The configurations train.py and eval.py recorded are recognised: nothing runs again.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_ablation.Ablation, "_succeeds", staticmethod(no_process_expected))
        assert run_ablation.main(["sysu", synthetic_sysu, "--rows", "1,6", "--seeds", "1,",
                                  "--output_root", str(root), *TINY]) == 0
