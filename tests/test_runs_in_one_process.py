"""Several runs in one process that has already run MindSpore kernels: two trainings, then
export and evaluation. The trainings must end with the weights separate processes give."""

import json
import os
import subprocess
import sys

import mindspore as ms
import numpy as np
import pytest

import eval as eval_entry
import export as export_entry
from src.config import load_config
from src.engine.trainer import Trainer
from src.utils.checkpoint_io import load_checkpoint

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = (1, 2)


def tiny_train_argv(data_path, output_dir, seed):
    """train.py arguments for one epoch of a ResNet-10 shared branch on 32 x 16 images.

    One branch keeps the four trainings quick; the state a run leaves in the process, which
    this file is about, does not depend on the number of branches.
    """
    return ["--data.data_path", data_path, "--output_dir", str(output_dir), "--seed", str(seed),
            "--model.branches", "[shared]", "--backbone.depth", "10", "--data.height", "32", "--data.width", "16",
            "--data.batch_ids", "8", "--data.per_modality", "2", "--model.hidden_dims", "[64, 32]",
            "--model.z_dim", "16", "--data.num_workers", "1", "--train.epochs", "1", "--train.warmup_epochs", "0",
            "--train.lr", "1e-3"]


def last_weights(output_dir):
    """{parameter name: array} of the run's final network checkpoint."""
    checkpoint = os.path.join(output_dir, "checkpoints", "network_last.ckpt")
    return {name: value.asnumpy() for name, value in load_checkpoint(checkpoint).items()}


@pytest.fixture(scope="module")
def trained_in_one_process(synthetic_sysu, tmp_path_factory):
    """{seed: output_dir} of tiny trainings run one after the other in this process, after other kernels."""
    (ms.Tensor(np.ones(2, np.float32)) * 2).asnumpy()  # MindSpore's runtime starts before any Trainer
    mode = ms.get_context("mode")
    root = tmp_path_factory.mktemp("in_process")
    runs = {}
    for seed in SEEDS:
        runs[seed] = str(root / f"seed{seed}")
        Trainer(load_config(tiny_train_argv(synthetic_sysu, runs[seed], seed))).run()
    ms.set_context(mode=mode)  # the Trainer set graph mode; conftest's per-test restore cannot see a module fixture
    return runs


def test_two_trainings_in_one_process_equal_two_processes(trained_in_one_process, synthetic_sysu, tmp_path):
    for seed in SEEDS:
        output_dir = tmp_path / f"seed{seed}"
        result = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "train.py"),
                                 *tiny_train_argv(synthetic_sysu, output_dir, seed)],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        expected, actual = last_weights(output_dir), last_weights(trained_in_one_process[seed])
        assert expected.keys() == actual.keys()
        for name in expected:
            np.testing.assert_array_equal(actual[name], expected[name], err_msg=f"seed {seed}: {name}")
    first, second = (last_weights(trained_in_one_process[seed]) for seed in SEEDS)
    assert any(not np.array_equal(first[name], second[name]) for name in first), "the seeds changed nothing"


def evaluate(config, model, output_dir):
    """The mean figures of eval.py on ``model`` (a .ckpt or one of an exported .mindir pair)."""
    assert eval_entry.main(["--config_path", config, "--eval.checkpoint", model, "--eval.flip_tta", "false",
                            "--eval.trials", "2", "--output_dir", str(output_dir)]) == 0
    with open(os.path.join(output_dir, "eval_results.json"), encoding="utf-8") as handle:
        return json.load(handle)["results"]["t2v"]["mean"]


def test_export_and_evaluation_run_in_the_training_process(trained_in_one_process, tmp_path):
    run = trained_in_one_process[SEEDS[0]]
    config, checkpoint = os.path.join(run, "config.yaml"), os.path.join(run, "checkpoints", "network_last.ckpt")
    assert export_entry.main(["--config_path", config, "--export.checkpoint", checkpoint,
                              "--output_dir", str(tmp_path / "export")]) == 0
    from_checkpoint = evaluate(config, checkpoint, tmp_path / "checkpoint")
    from_mindir = evaluate(config, str(tmp_path / "export" / "vireid_visible.mindir"), tmp_path / "mindir")
    assert 0.0 < from_checkpoint["mAP"] <= 1.0
    assert from_mindir == pytest.approx(from_checkpoint, abs=1e-6)
