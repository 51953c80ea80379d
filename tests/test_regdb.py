"""RegDB reader: training records and test lists of a trial from its idx files; errors."""

import os
import shutil

import pytest

from src.config import ConfigError, load_config
from src.datasets.dataset import DirectionOptions, configured_test_options
from src.datasets.records import INFRARED, VISIBLE
from src.datasets.regdb import RegDB
from src.datasets.sysu import SYSUTestOptions


def _idx(root, name):
    with open(os.path.join(root, "idx", name)) as handle:
        return [line.split()[0] for line in handle if line.strip()]


def test_train_records_of_each_trial(synthetic_regdb):
    for trial in (1, 6):
        dataset = RegDB(synthetic_regdb, trial=trial)
        visible = _idx(synthetic_regdb, f"train_visible_{trial}.txt")
        thermal = _idx(synthetic_regdb, f"train_thermal_{trial}.txt")
        records = dataset.train_records()
        assert [r.path for r in records] == visible + thermal
        train_ids = sorted({int(p.split("/")[1]) for p in visible})
        assert dataset.num_classes == len(train_ids) == 10
        for r in records:
            assert r.pid == int(r.path.split("/")[1]) and r.label == train_ids.index(r.pid)
            assert (r.modality, r.cam) == ((VISIBLE, 1) if r.path.startswith("Visible/") else (INFRARED, 2))
        assert dataset.ranking_rule == "regdb" and dataset.test_trials == (trial,)


def test_test_lists_both_directions(synthetic_regdb):
    dataset = RegDB(synthetic_regdb, trial=3)
    visible = _idx(synthetic_regdb, "test_visible_3.txt")
    thermal = _idx(synthetic_regdb, "test_thermal_3.txt")
    v2t = dataset.test_lists(3, DirectionOptions(direction="v2t"))
    assert [r.path for r in v2t.query] == visible and [r.path for r in v2t.gallery] == thermal
    t2v = dataset.test_lists(3, DirectionOptions(direction="t2v"))
    assert t2v.query == v2t.gallery and t2v.gallery == v2t.query
    assert {r.pid for r in v2t.query}.isdisjoint({r.pid for r in dataset.train_records()})
    assert all(r.label == -1 for r in v2t.query + v2t.gallery)


def test_arguments_that_do_not_apply(synthetic_regdb):
    dataset = RegDB(synthetic_regdb, trial=1)
    with pytest.raises(ValueError, match="direction"):
        DirectionOptions("i2v")
    with pytest.raises(TypeError, match="RegDB test options must be DirectionOptions; got SYSUTestOptions"):
        dataset.test_lists(1, SYSUTestOptions(mode="indoor"))
    cfg = load_config(["--data.dataset", "regdb"])
    for key, value in (("mode", "indoor"), ("protocol", "official"), ("shots", 10), ("rand_perm_cam", "x.mat")):
        with pytest.raises(ConfigError, match=f"eval.{key} does not apply to regdb"):
            configured_test_options("regdb", dict(cfg.eval, **{key: value}))
    with pytest.raises(ValueError, match="1..10"):
        dataset.test_lists(0)
    with pytest.raises(ValueError, match="1..10"):
        RegDB(synthetic_regdb, trial=11)


def test_bad_trees(synthetic_regdb, tmp_path):
    with pytest.raises(FileNotFoundError, match="absent"):
        RegDB(str(tmp_path / "absent"))
    root = shutil.copytree(synthetic_regdb, str(tmp_path / "regdb"))
    os.remove(os.path.join(root, "idx", "train_thermal_2.txt"))
    with pytest.raises(FileNotFoundError, match="train_thermal_2.txt"):
        RegDB(root, trial=2)
    lines = open(os.path.join(root, "idx", "train_thermal_1.txt")).read().splitlines()
    first_pid = lines[0].split()[0].split("/")[1]
    kept = [line for line in lines if line.split()[0].split("/")[1] != first_pid]
    with open(os.path.join(root, "idx", "train_thermal_1.txt"), "w") as handle:
        handle.write("\n".join(kept) + "\n")
    with pytest.raises(ValueError, match=f"training ids \\[{first_pid}\\] have no infrared"):
        RegDB(root, trial=1)
    with open(os.path.join(root, "idx", "train_visible_4.txt"), "a") as handle:
        handle.write("Thermal/1/x.bmp 0\n")
    with pytest.raises(ValueError, match="expected 'Visible/<id>/<file> <label>'"):
        RegDB(root, trial=4)
    os.remove(os.path.join(root, _idx(root, "train_visible_3.txt")[0]))
    with pytest.raises(FileNotFoundError, match="line 1 of"):
        RegDB(root, trial=3)
