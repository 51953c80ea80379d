"""The ablation command: planning, reuse, failure reporting and the table's arithmetic (with
stand-ins for train.py / eval.py), and one real tiny run end to end."""

import json
import os

import numpy as np
import pytest
import yaml

from src.config import REPO_ROOT, load_config
from tools import ablation_table, run_ablation

# Student's t quantiles t_{0.975, n-1} for n = 2, 3 and 5 seeds (from tables, not from scipy).
T_975 = {1: 12.706204736174694, 2: 4.302652729911275, 4: 2.7764451051977987}

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
            json.dump({"config": cfg.to_dict(), "results": {"t2v": {"mean": mean, "std": mean, "trials": []}}},
                      handle)
        return True


def seed_figures(output_root, row, seed, feature):
    """{metric: %} of one run's eval_results.json, read independently of the tool."""
    path = os.path.join(output_root, f"row{row:02d}", f"seed{seed}", f"eval_{feature}", "eval_results.json")
    mean = json.load(open(path))["results"]["t2v"]["mean"]
    return {metric: 100 * mean[metric] for metric in ("rank1", "mAP")}


def test_table_arithmetic_failures_and_reuse(synthetic_sysu, tmp_path, monkeypatch, capsys):
    scripts = StandInScripts(failing={(9, 2)})
    monkeypatch.setattr(run_ablation.Ablation, "_succeeds", staticmethod(scripts))
    root = str(tmp_path / "ablation")
    command = ["sysu", synthetic_sysu, "--rows", "1,6,9,12", "--seeds", "3", "--output_root", root, *TINY]

    assert run_ablation.main(command) == 1  # one run failed; the table is written anyway
    assert scripts.calls == {"train.py": 12, "eval.py": 3 + 3 * 2 + 2 * 2 + 3 * 2}
    table = json.load(open(os.path.join(root, "ablation_table.json")))
    summary = {entry["row"]: entry for entry in table["summary"]["t2v"]}
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

    differences = {entry["against"]: entry for entry in table["differences"]["t2v"]}
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
                stats = entry["mean"][feature][metric]
                assert stats["mean"] == pytest.approx(np.mean(expected))
                half_width = T_975[len(seeds) - 1] * np.std(expected, ddof=1) / np.sqrt(len(seeds))
                assert stats["n"] == len(seeds) and stats["half_width"] == pytest.approx(half_width)
                assert stats["interval"] == pytest.approx([np.mean(expected) - half_width,
                                                           np.mean(expected) + half_width])
    # The paper's figures beside ours, and its differences beside our paired ones.
    assert summary[12]["paper"] == {"v": {"rank1": 60.02, "mAP": 58.80}, "z": {"rank1": 50.62, "mAP": 51.55}}
    assert summary[1]["paper"] == {"v": {"rank1": 44.95, "mAP": 46.27}, "z": None}
    assert differences[9]["paper"]["v"] == {"rank1": pytest.approx(60.02 - 8.79), "mAP": pytest.approx(58.80 - 11.23)}

    text = open(os.path.join(root, "ablation_table.md")).read()
    assert text in capsys.readouterr().out  # the command prints the table it writes
    assert "| 01 | E_S only, no bottleneck, L_ReID. | 3 |" in text and text.count(" | - | - |") >= 1
    assert "| 44.95 |" in text and "| 60.02 |" in text  # the paper's row 1 and row 12 v Rank-1
    assert "### Row 12 minus row 06" in text and "### Row 12 minus row 09" in text
    assert "### Row 11 minus row 05" not in text and "### Row 10 minus row 04" not in text
    assert "### Paired differences (t2v)" in text and "| 12 - 09 | z | 2 |" in text
    assert "| 12 - 06 | v | 3 | " + ablation_table._interval_cell(differences[6]["mean"]["v"]["rank1"], 3) in text
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


def test_runs_saved_with_the_loss_flags_and_an_older_row_wording_are_reused(synthetic_sysu, tmp_path, monkeypatch):
    scripts = StandInScripts()
    monkeypatch.setattr(run_ablation.Ablation, "_succeeds", staticmethod(scripts))
    root = tmp_path / "ablation"
    command = ["sysu", synthetic_sysu, "--rows", "9", "--seeds", "1,", "--output_root", str(root), *TINY]
    assert run_ablation.main(command) == 0
    # Make the run what the code before loss.terms left: config.yaml and eval_results.json with the loss
    # flags of row 9 on the demo preset, and row_preset.yaml with the row's sections as then written.
    with open(os.path.join(REPO_ROOT, "tests", "fixtures", "legacy_run_config.yaml"), encoding="utf-8") as handle:
        flags = yaml.safe_load(handle)["loss"]
    run = root / "row09" / "seed1"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    (run / "config.yaml").write_text(yaml.safe_dump({**saved, "loss": flags}, sort_keys=False))
    for feature in ("v", "z"):
        results_path = run / f"eval_{feature}" / "eval_results.json"
        results = json.loads(results_path.read_text())
        results["config"]["loss"] = flags
        results_path.write_text(json.dumps(results))
    preset = yaml.safe_load((run / "row_preset.yaml").read_text())
    preset["loss"] = {"cib": True, "vsd": False, "vcd": False, "vml": False}
    (run / "row_preset.yaml").write_text(yaml.safe_dump(preset, sort_keys=False))

    scripts.calls = {"train.py": 0, "eval.py": 0}
    assert run_ablation.main(command) == 0
    assert scripts.calls == {"train.py": 0, "eval.py": 0}
    assert "cib: 2.0" in (run / "row_preset.yaml").read_text()  # today's wording of the same row
    # Another objective is still another training: refused, the folder left as it is.
    config_before = (run / "config.yaml").read_text()
    assert run_ablation.main([*command, "--loss.terms", "{cls, metric, cib: 0.5}"]) == 2
    assert scripts.calls["train.py"] == 0 and (run / "config.yaml").read_text() == config_before


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
    summary = json.load(open(root / "ablation_table.json"))["summary"]["t2v"]
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
    summary = {entry["row"]: entry for entry in table["summary"]["t2v"]}
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


def test_confidence_interval_matches_the_closed_form():
    # n = 5: mean 2, squared deviations 1 + 0.25 + 6.25 + 1 + 4 = 12.5, s^2 = 12.5 / 4.
    five = ablation_table.confidence_interval([1.0, 2.5, -0.5, 3.0, 4.0])
    half_width = T_975[4] * np.sqrt(12.5 / 4) / np.sqrt(5)
    assert five["n"] == 5 and five["mean"] == pytest.approx(2.0) and five["std"] == pytest.approx(np.sqrt(3.125))
    assert five["half_width"] == pytest.approx(half_width, rel=1e-9)
    assert five["interval"] == pytest.approx([2.0 - half_width, 2.0 + half_width], rel=1e-9)
    # n = 3: docs/experiments.md's demo-preset row 12 minus row 6, z Rank-1 (+4.94, -0.44, +0.83): mean 5.33 / 3.
    three = ablation_table.confidence_interval([4.94, -0.44, 0.83])
    mean = 5.33 / 3
    s = np.sqrt(((4.94 - mean) ** 2 + (-0.44 - mean) ** 2 + (0.83 - mean) ** 2) / 2)
    assert three["half_width"] == pytest.approx(T_975[2] * s / np.sqrt(3), rel=1e-9)
    half_width = T_975[2] * s / np.sqrt(3)  # 6.98...: the interval [-5.21, +8.76]
    assert ablation_table._interval_cell(three, 3) == "+1.78 [-5.21, +8.76]"
    assert (mean - half_width, mean + half_width) == pytest.approx((-5.2091, 8.7625), abs=1e-3)
    # Fewer than two seeds: no spread, no interval.
    one = ablation_table.confidence_interval([1.5])
    assert (one["mean"], one["std"], one["half_width"], one["interval"]) == (1.5, None, None, None)
    assert ablation_table._interval_cell(one, 1) == "+1.50 (n=1)"
    none = ablation_table.confidence_interval([])
    assert (none["n"], none["mean"], none["interval"]) == (0, None, None)


@pytest.mark.parametrize("interval, paper, expected", [
    ([0.5, 2.0], 5.17, "holds"), ([-2.0, -0.5], 5.17, "opposite"), ([-1.0, 1.0], 5.17, "within noise"),
    ([-2.0, -0.5], -3.0, "holds"), ([0.5, 2.0], -3.0, "opposite"), ([-1.0, 1.0], -3.0, "within noise"),
    ([0.0, 2.0], 5.17, "within noise"), ([-2.0, 0.0], -3.0, "within noise"),
    (None, 5.17, "-"), ([0.5, 2.0], None, "-"),
])
def test_verdict(interval, paper, expected):
    assert ablation_table.verdict(interval, paper) == expected


def test_paper_table_3_matches_the_papers_text():
    paper = ablation_table.PAPER_TABLE_3
    assert sorted(paper) == list(range(1, 13)) and all(len(figures) == 4 for figures in paper.values())
    # "+5.17% Rank-1 of v and +8.58% Rank-1 of z" of the full method (row 12) over row 6.
    assert paper[12][0] - paper[6][0] == pytest.approx(5.17)
    assert paper[12][2] - paper[6][2] == pytest.approx(8.58)
    assert ablation_table.paper_difference(12, 6)["v"]["rank1"] == 5.17
    assert ablation_table.paper_difference(12, 6)["z"]["rank1"] == 8.58
    assert ablation_table.paper_difference(12, 6)["z"]["mAP"] == pytest.approx(51.55 - 44.30)
    assert ablation_table.paper_figures(3) == {"v": {"rank1": 48.82, "mAP": 49.95}, "z": None}
    assert ablation_table.paper_difference(12, 3)["z"] is None


def synthetic_row(number, differences_by_seed, base=50.0):
    """A row of build_table with made-up figures: v and z Rank-1 / mAP = base + the seed's offset."""
    runs = [{"seed": seed, "folder": f"row{number}/seed{seed}", "status": "finished", "failure": None, "log": "",
             "results": {feature: {"v2t": {"rank1": base + offset, "mAP": base + offset / 2}} for feature in "vz"}}
            for seed, offset in differences_by_seed.items()]
    return {"row": number, "description": f"row {number}", "has_z": True, "runs": runs}


def test_pairs_appear_only_with_both_rows_and_get_verdicts():
    setup = {"dataset": "sysu", "preset": "p.yaml", "overrides": [], "seeds": [1, 2, 3]}
    zero = {1: 0.0, 2: 0.0, 3: 0.0}
    rows = {4: synthetic_row(4, zero), 5: synthetic_row(5, zero), 6: synthetic_row(6, zero),
            9: synthetic_row(9, zero),
            10: synthetic_row(10, {1: -3.0, 2: -2.0, 3: -4.0}),  # clearly below row 4: opposite to the paper
            11: synthetic_row(11, {1: 2.0, 2: -1.0, 3: 0.5}),  # straddles 0: within noise
            12: synthetic_row(12, {1: 3.0, 2: 4.0, 3: 5.0})}  # clearly above rows 6 and 9: holds

    def pairs(numbers):
        table = ablation_table.build_table([rows[number] for number in numbers], ["v2t"], setup)
        return [(entry["row"], entry["against"]) for entry in table["differences"]["v2t"]], table

    assert pairs([4, 5, 6, 9, 10, 11, 12])[0] == [(12, 6), (11, 5), (10, 4), (12, 9)]
    assert pairs([4, 6, 10, 11, 12])[0] == [(12, 6), (10, 4)]
    assert pairs([5, 6, 9, 10, 11, 12])[0] == [(12, 6), (11, 5), (12, 9)]
    assert pairs([4, 5, 9, 12])[0] == [(12, 9)]
    assert pairs([10, 11])[0] == []

    table = pairs([4, 5, 6, 9, 10, 11, 12])[1]
    by_pair = {(entry["row"], entry["against"]): entry for entry in table["differences"]["v2t"]}
    for pair, expected in (((12, 6), "holds"), ((12, 9), "holds"), ((11, 5), "within noise"),
                           ((10, 4), "opposite")):
        assert by_pair[pair]["verdict"] == {feature: {"rank1": expected, "mAP": expected} for feature in "vz"}
    # 12 - 6: differences 3, 4, 5: mean 4, s = 1, half-width t_{0.975,2} / sqrt(3).
    stats = by_pair[12, 6]["mean"]["v"]["rank1"]
    assert stats["interval"] == pytest.approx([4 - T_975[2] / np.sqrt(3), 4 + T_975[2] / np.sqrt(3)], rel=1e-9)
    assert by_pair[11, 5]["paper"]["z"] == {"rank1": 8.96, "mAP": 7.64}
    assert by_pair[10, 4]["paper"]["v"] == {"rank1": 2.02, "mAP": 1.71}

    text = ablation_table.markdown(table)
    low, high = 4 - T_975[2] / np.sqrt(3), 4 + T_975[2] / np.sqrt(3)
    assert f"| 12 - 06 | v | 3 | +4.00 [{low:+.2f}, {high:+.2f}] | +5.17 | holds |" in text
    assert "| 10 - 04 | z | 3 | -3.00 [" in text and "| +3.15 | opposite |" in text
    assert "| 11 - 05 | v | 3 | +0.50 [" in text and "| +6.35 | within noise |" in text
    assert f"| mean [95% CI] | +4.00 [{low:+.2f}, {high:+.2f}] |" in text
    assert "| paper | +5.17 | +4.83 | +8.58 | +7.25 |" in text
    assert "95% t interval over the n = 3 seeds" in text and "paired by seed" in text
    assert "| 12 | row 12 | 3 | 54.00 ± 1.00 | 60.02 | 52.00 ± 0.50 | 58.80 |" in text
    # One seed only: the difference is shown without an interval and gets no verdict.
    single = ablation_table.build_table([synthetic_row(12, {1: 3.0}), synthetic_row(6, {1: 0.0})], ["v2t"], setup)
    assert single["differences"]["v2t"][0]["verdict"]["v"] == {"rank1": "-", "mAP": "-"}
    assert "| 12 - 06 | v | 1 | +3.00 (n=1) | +5.17 | - |" in ablation_table.markdown(single)
