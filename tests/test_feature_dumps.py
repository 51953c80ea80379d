"""eval.py --save_features: the dump holds what was evaluated and evaluates back to identical figures."""

import json
import os
import shutil

import numpy as np
import pytest

import eval as eval_entry
from src.datasets.dataset import open_dataset


def results(output_dir):
    with open(os.path.join(output_dir, "eval_results.json"), encoding="utf-8") as handle:
        return json.load(handle)["results"]


def test_sysu_dump_round_trips_exactly(tiny_model, synthetic_sysu, tmp_path):
    dump = str(tmp_path / "features.npz")
    common = ["--config_path", tiny_model["config"], "--eval.trials", "3", "--eval.mode", "indoor"]
    assert eval_entry.main(common + ["--eval.checkpoint", tiny_model["checkpoint"], "--save_features", dump,
                                     "--output_dir", str(tmp_path / "from_checkpoint")]) == 0
    with np.load(dump) as content:
        assert set(content.files) == {"paths", "features", "modality", "pid", "cam", "kind"}
        paths, features = content["paths"].tolist(), content["features"]
        modality, pids, cams = content["modality"].tolist(), content["pid"], content["cam"]
        assert "both of all branches" in str(content["kind"])
    reader = open_dataset("sysu", synthetic_sysu)
    expected = {}
    for trial in range(3):
        lists = reader.test_lists(trial, reader.TestOptions(mode="indoor"))
        expected.update({record.path: record for record in lists.query + lists.gallery})
    assert sorted(paths) == sorted(expected)  # every image of the three trials, once
    # v has the last ResNet-18 stage's 8 x base width (8) = 64 channels, z 8 values
    assert features.dtype == np.float32 and features.shape == (len(paths), 64 + 8)
    for path, kind, pid, cam in zip(paths, modality, pids, cams):
        assert (kind, pid, cam) == (expected[path].modality, expected[path].pid, expected[path].cam)
    assert eval_entry.main(common[2:] + ["--data.data_path", synthetic_sysu, "--features", dump,
                                         "--output_dir", str(tmp_path / "from_dump")]) == 0
    assert results(tmp_path / "from_dump") == results(tmp_path / "from_checkpoint")


def test_regdb_writes_one_dump_per_trial(tiny_model, synthetic_regdb, tmp_path):
    for trial in (1, 2):  # one model per trial, as RegDB's protocol has it (here the same weights twice)
        shutil.copy(tiny_model["checkpoint"], tmp_path / f"net_{trial}.ckpt")
    common = ["--config_path", tiny_model["config"], "--data.dataset", "regdb", "--data.data_path", synthetic_regdb,
              "--eval.trials", "2", "--eval.direction", "both"]
    template = str(tmp_path / "dump_{trial}.npz")
    assert eval_entry.main(common + ["--eval.checkpoint", str(tmp_path / "net_{trial}.ckpt"),
                                     "--save_features", template, "--output_dir", str(tmp_path / "ckpt")]) == 0
    for trial in (1, 2):
        lists = open_dataset("regdb", synthetic_regdb, trial=trial).test_lists(trial)
        with np.load(template.format(trial=trial)) as content:
            assert sorted(content["paths"].tolist()) == sorted(r.path for r in lists.query + lists.gallery)
    assert eval_entry.main(common + ["--features", template, "--output_dir", str(tmp_path / "dump")]) == 0
    assert results(tmp_path / "dump") == results(tmp_path / "ckpt")
    assert set(results(tmp_path / "dump")) == {"v2t", "t2v"}


def test_per_trial_models_need_one_dump_per_trial(tiny_model, synthetic_regdb, tmp_path):
    for trial in (1, 2):
        shutil.copy(tiny_model["checkpoint"], tmp_path / f"net_{trial}.ckpt")
    with pytest.raises(ValueError, match=r"needs '\{trial\}'"):
        eval_entry.main(["--config_path", tiny_model["config"], "--data.dataset", "regdb", "--data.data_path",
                         synthetic_regdb, "--eval.trials", "2", "--eval.checkpoint", str(tmp_path / "net_{trial}.ckpt"),
                         "--save_features", str(tmp_path / "one.npz"), "--output_dir", str(tmp_path / "out")])
    assert eval_entry.main(["--features", "a.npz", "--save_features", "b.npz"]) == 2
