"""The pretrained start: scripts/run_pretrain.sh trains one encoder on a synthetic set of its
own and writes it as a backbone checkpoint; configs/study.yaml loads it into every encoder."""

import os
import subprocess
import sys

import numpy as np
import pytest

import src  # noqa: F401
from src.models.pretrained import CheckpointMismatchError, branch_encoder_weights
from src.utils.checkpoint_io import load_checkpoint

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A tiny encoder and budget: what is tested is the plumbing, not what pretraining buys.
TINY = ["--backbone.base_width", "8", "--data.height", "32", "--data.width", "16", "--data.batch_ids", "4",
        "--data.num_workers", "1", "--data.steps_per_epoch", "2", "--train.epochs", "1", "--train.warmup_epochs", "0",
        "--train.decay_epochs", "[]", "--train.log_interval", "1", "--train.gap_interval", "0"]


def _arrays(path):
    return {name: value.asnumpy() for name, value in load_checkpoint(path).items()}


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A tiny pretraining through the script: (backbone checkpoint, its run folder)."""
    folder = tmp_path_factory.mktemp("pretrain")
    out, run = folder / "encoder.ckpt", folder / "run"
    environment = dict(os.environ, PRETRAIN_DATA=str(folder / "data"), PRETRAIN_IDS="16", PRETRAIN_SEED="3",
                       RUN_DIR=str(run), PYTHON=sys.executable)
    result = subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "run_pretrain.sh"), str(out), *TINY,
                             "--data.cache_dir", str(folder / "cache")],
                            capture_output=True, text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"train with --backbone.pretrained {out}" in result.stdout
    return str(out), str(run)


def test_pretraining_writes_the_trained_shared_encoder(pretrained):
    out, run = pretrained
    encoder = _arrays(out)
    network = _arrays(os.path.join(run, "checkpoints", "network_last.ckpt"))
    expected = {key[len("network.shared_branch.encoder."):]: value for key, value in network.items()
                if key.startswith("network.shared_branch.encoder.")}
    assert expected and set(encoder) == set(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(encoder[name], value)
    with open(os.path.join(run, "config.yaml")) as handle:  # the pretraining preset, on the mixed rendering
        text = handle.read()
    assert "branches:\n  - shared" in text or "branches: [shared]" in text


def test_study_preset_starts_every_encoder_from_the_pretrained_one(pretrained, synthetic_sysu, tmp_path):
    out, _ = pretrained
    run = tmp_path / "study"
    result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "train.py"), "--config_path",
                             os.path.join(REPO_ROOT, "configs", "study.yaml"), "--backbone.pretrained", out,
                             "--data.data_path", synthetic_sysu, "--output_dir", str(run), "--train.save_initial",
                             "true", "--model.hidden_dims", "[16, 8]", "--model.z_dim", "8", *TINY],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    encoder = _arrays(out)
    initial = _arrays(os.path.join(run, "checkpoints", "network_init.ckpt"))
    for branch in ("shared", "visible", "infrared"):
        for name, value in encoder.items():
            np.testing.assert_array_equal(initial[f"network.{branch}_branch.encoder.{name}"], value)
    with open(run / "train.log") as handle:
        log = handle.read()
    assert log.count(f"{out}: loaded {len(encoder)} parameters, missing 0") == 3
    trained = _arrays(os.path.join(run, "checkpoints", "network_last.ckpt"))
    assert not np.array_equal(trained["network.shared_branch.encoder.conv1.weight"], encoder["conv1.weight"])


def test_encoder_of_a_missing_branch_is_refused(pretrained):
    out, run = pretrained
    with pytest.raises(CheckpointMismatchError, match="no visible branch encoder"):
        branch_encoder_weights(os.path.join(run, "checkpoints", "network_last.ckpt"), "visible")
    with pytest.raises(CheckpointMismatchError, match="no shared branch encoder"):
        branch_encoder_weights(out, "shared")  # already an encoder checkpoint, not a network one


def test_extraction_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "tools", "extract_backbone.py"), str(tmp_path),
                             str(tmp_path / "x.ckpt")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "is not a run folder" in result.stderr and not (tmp_path / "x.ckpt").exists()


def test_study_script_runs_table_rows_from_the_pretrained_encoder(pretrained, synthetic_sysu, tmp_path):
    out, _ = pretrained
    root = tmp_path / "study"
    environment = dict(os.environ, PRETRAINED=out, STUDY_DATA=synthetic_sysu, PYTHON=sys.executable)
    result = subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "run_study.sh"), "--rows", "6", "--seeds",
                             "1", "--output_root", str(root), "--model.hidden_dims", "[16, 8]", "--model.z_dim", "8",
                             "--eval.trials", "2", *TINY], capture_output=True, text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "pretraining it first" not in result.stdout
    with open(root / "row06" / "seed1" / "config.yaml") as handle:
        config = handle.read()
    assert f"pretrained: {out}" in config and "flip_tta: false" in config
    with open(root / "row06" / "seed1" / "train.log") as handle:
        assert handle.read().count(f"{out}: loaded") == 3
    assert (root / "ablation_table.json").is_file()
