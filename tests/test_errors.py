"""Anticipated failures end with exit status 2 and one ``error: ...`` line naming the file or
key and what was expected, without a traceback, and write nothing into the output folder;
unexpected exceptions keep their traceback. One test per case.

The entry points run in this process through ``report_and_exit_status`` (what their
``__main__`` blocks do); one test runs train.py as a script to check the real exit status.
"""

import os
import shutil
import subprocess
import sys

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

import eval as eval_entry
import export as export_entry
import train as train_entry
from conftest import REPO_ROOT
from src.engine import builders
from src.errors import report_and_exit_status

TINY_TRAINING = ["--backbone.depth", "10", "--backbone.base_width", "8", "--data.height", "32", "--data.width", "16",
                 "--data.batch_ids", "4", "--data.per_modality", "2", "--model.hidden_dims", "[16, 8]",
                 "--model.z_dim", "8", "--data.num_workers", "1", "--train.epochs", "1", "--train.warmup_epochs", "0"]


def fails_with(capsys, entry, argv, *fragments):
    """Run ``entry`` on ``argv``; check status 2 and one error line, the last on stderr (progress
    bars may precede it), holding every fragment; no traceback."""
    capsys.readouterr()
    status = report_and_exit_status(entry.main, [str(arg) for arg in argv])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:], lines
    assert "Traceback" not in captured.err + captured.out
    for fragment in fragments:
        assert str(fragment) in lines[-1], (fragment, lines[-1])
    return lines[-1]


@pytest.fixture
def sysu_copy(synthetic_sysu, tmp_path):
    return shutil.copytree(synthetic_sysu, str(tmp_path / "sysu"))


@pytest.fixture
def features_file(tmp_path):
    path = tmp_path / "features.npz"
    np.savez(path, paths=np.array(["cam3/0001/0001.jpg"]), features=np.ones((1, 4), np.float32))
    return path


def test_missing_dataset_root_writes_nothing(capsys, tmp_path):
    output_dir = tmp_path / "run"
    fails_with(capsys, train_entry, ["--data.data_path", tmp_path / "absent", "--output_dir", output_dir],
               tmp_path / "absent", "expected a SYSU-MM01 root")
    assert not output_dir.exists()


def test_malformed_split_file(capsys, sysu_copy, features_file, tmp_path):
    split = os.path.join(sysu_copy, "exp", "test_id.txt")
    with open(split, "w") as handle:
        handle.write("first,second\n")
    fails_with(capsys, eval_entry, ["--features", features_file, "--data.data_path", sysu_copy,
                                    "--output_dir", tmp_path / "out"],
               split, "comma-separated integer ids")
    assert not (tmp_path / "out").exists()


def test_missing_idx_file(capsys, synthetic_regdb, features_file, tmp_path):
    root = shutil.copytree(synthetic_regdb, str(tmp_path / "regdb"))
    idx = os.path.join(root, "idx", "train_thermal_1.txt")
    os.remove(idx)
    fails_with(capsys, eval_entry, ["--features", features_file, "--data.dataset", "regdb", "--data.data_path", root,
                                    "--output_dir", tmp_path / "out"], idx, "not found")


def test_malformed_mat_file(capsys, synthetic_sysu, features_file, tmp_path):
    mat = tmp_path / "rand_perm_cam.mat"
    mat.write_bytes(b"this is not a MATLAB file")
    fails_with(capsys, eval_entry, ["--features", features_file, "--data.data_path", synthetic_sysu,
                                    "--eval.protocol", "official", "--rand_perm_cam", mat,
                                    "--output_dir", tmp_path / "out"], mat, "not a readable MATLAB file")


def test_missing_checkpoint(capsys, synthetic_sysu, tmp_path):
    fails_with(capsys, eval_entry, ["--eval.checkpoint", tmp_path / "absent.ckpt", "--data.data_path", synthetic_sysu,
                                    "--output_dir", tmp_path / "out"], "checkpoint not found", tmp_path / "absent.ckpt")
    assert not (tmp_path / "out").exists()


def test_truncated_checkpoint(capsys, tmp_path):
    checkpoint = tmp_path / "network.ckpt"
    ms.save_checkpoint(nn.Dense(4, 3), str(checkpoint))
    checkpoint.write_bytes(checkpoint.read_bytes()[:20])
    fails_with(capsys, export_entry, ["--export.checkpoint", checkpoint, "--output_dir", tmp_path / "out"],
               "cannot read checkpoint", checkpoint)
    assert not (tmp_path / "out").exists()


def test_checkpoint_of_another_network(capsys, tmp_path):
    checkpoint = tmp_path / "dense.ckpt"
    ms.save_checkpoint(nn.Dense(4, 3), str(checkpoint))
    fails_with(capsys, export_entry, ["--export.checkpoint", checkpoint, "--output_dir", tmp_path / "out"],
               checkpoint, "holds no classifier of this project's network")


def test_corrupt_mindir(capsys, synthetic_sysu, tmp_path):
    for modality in ("visible", "infrared"):
        (tmp_path / f"net_{modality}.mindir").write_bytes(b"\x00 not a graph")
    fails_with(capsys, eval_entry, ["--eval.checkpoint", tmp_path / "net_visible.mindir",
                                    "--data.data_path", synthetic_sysu, "--output_dir", tmp_path / "out"],
               "cannot load", "net_visible.mindir", "as a MINDIR graph")


def test_features_file_without_paths_or_features(capsys, synthetic_sysu, tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, embeddings=np.ones((2, 3)))
    fails_with(capsys, eval_entry, ["--features", path, "--data.data_path", synthetic_sysu,
                                    "--output_dir", tmp_path / "out"], path, "missing paths, features", "embeddings")


def test_file_that_is_not_a_features_file(capsys, synthetic_sysu, tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("paths and features, in words\n")
    fails_with(capsys, eval_entry, ["--features", path, "--data.data_path", synthetic_sysu,
                                    "--output_dir", tmp_path / "out"], path, "is not a features file",
               "'paths'", "'features'")


def test_features_whose_paths_are_not_in_the_dataset(capsys, synthetic_sysu, features_file, tmp_path):
    fails_with(capsys, eval_entry, ["--features", features_file, "--data.data_path", synthetic_sysu,
                                    "--eval.trials", "1", "--output_dir", tmp_path / "out"],
               features_file, "has no features for", "paths relative to the dataset root")
    assert not (tmp_path / "out").exists()


def test_corrupt_training_image(capsys, sysu_copy, tmp_path):
    with open(os.path.join(sysu_copy, "exp", "train_id.txt")) as handle:
        first_training_id = int(handle.readline().split(",")[0])
    folder = os.path.join(sysu_copy, "cam1", f"{first_training_id:04d}")
    image = os.path.join(folder, sorted(os.listdir(folder))[0])
    with open(image, "wb") as handle:
        handle.write(b"\xff\xd8 truncated")
    fails_with(capsys, train_entry, ["--data.data_path", sysu_copy, "--output_dir", tmp_path / "run",
                                     "--data.cache_dir", tmp_path / "cache", *TINY_TRAINING],
               "unreadable image", image, "data.skip_corrupt")
    assert not (tmp_path / "run").exists()


def test_non_finite_loss(capsys, synthetic_sysu, tmp_path, monkeypatch):
    original = builders.train_iterator

    def poisoned(dataset, start_epoch, start_step):
        for visible, infrared, labels in original(dataset, start_epoch, start_step):
            yield ms.Tensor(np.full(visible.shape, np.nan, np.float32)), infrared, labels
    monkeypatch.setattr(builders, "train_iterator", poisoned)
    line = fails_with(capsys, train_entry, ["--data.data_path", synthetic_sysu, "--output_dir", tmp_path / "run",
                                            *TINY_TRAINING], "non-finite loss or gradient at epoch 1, step 1")
    with open(tmp_path / "run" / "train.log") as handle:
        assert line[len("error: "):] in handle.read()  # the run's log file says why it stopped


def test_unknown_preset(capsys, tmp_path):
    fails_with(capsys, train_entry, ["--config_path", tmp_path / "configs" / "sysuu.yaml"],
               "config file not found", "sysuu.yaml")


def test_unexpected_exceptions_keep_their_traceback(synthetic_sysu, features_file, tmp_path, monkeypatch):
    from src.engine import evaluator

    def broken(cfg):
        raise RuntimeError("a bug, not a user error")
    monkeypatch.setattr(evaluator, "evaluate_from_config", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        report_and_exit_status(eval_entry.main, ["--features", str(features_file), "--data.data_path", synthetic_sysu])


def test_script_exit_status_and_stderr(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "train.py"), "--data.data_path",
                             str(tmp_path / "absent"), "--output_dir", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'absent'} not found: expected a SYSU-MM01 root holding cam1..cam6/ and exp/"]
    assert "Traceback" not in result.stdout and not (tmp_path / "run").exists()
