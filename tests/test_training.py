"""The training engine end to end on a synthetic SYSU-MM01 tree: learning, resume, non-finite stop."""

import json
import os
import re
import subprocess
import sys

import mindspore as ms
import numpy as np
import pytest

from conftest import REPO_ROOT
from src.config import load_config
from src.engine import builders
from src.engine.trainer import NonFiniteLossError, Trainer
from src.utils.checkpoint_io import load_checkpoint


def tiny_config(data_path, output_dir, *extra):
    return load_config([
        "--data.data_path", data_path, "--output_dir", str(output_dir), "--backbone.depth", "10",
        "--data.height", "32", "--data.width", "16", "--data.batch_ids", "4", "--data.per_modality", "2",
        "--model.hidden_dims", "[64, 32]", "--model.z_dim", "16", "--data.num_workers", "1",
        "--train.warmup_epochs", "0", "--train.lr", "1e-3", "--train.log_interval", "1", *extra])


def network_weights(trainer):
    return {p.name: p.asnumpy().copy() for p in trainer.network.get_parameters()}


def read_log(output_dir):
    with open(os.path.join(output_dir, "train_log.jsonl")) as handle:
        return [json.loads(line) for line in handle]


def interrupt_at(monkeypatch, global_step):
    """Make the run's iterator raise KeyboardInterrupt when it is asked for ``global_step``."""
    original = builders.train_iterator

    def interrupted(dataset, start_epoch, start_step):
        for index, item in enumerate(original(dataset, start_epoch, start_step)):
            if index == global_step:
                raise KeyboardInterrupt
            yield item
    monkeypatch.setattr(builders, "train_iterator", interrupted)


def test_training_learns_and_writes_its_outputs(synthetic_sysu, tmp_path):
    cfg = tiny_config(synthetic_sysu, tmp_path / "run", "--train.epochs", "3", "--loss.metric", "triplet")
    trainer = Trainer(cfg)
    summary = trainer.run()
    records = [r for r in read_log(cfg.output_dir) if "loss" in r]
    assert len(records) == 3 * trainer.steps_per_epoch
    first = np.mean([r["cls"] for r in records[:trainer.steps_per_epoch]])
    last = np.mean([r["cls"] for r in records[-trainer.steps_per_epoch:]])
    assert last < first
    assert set(trainer.objective.component_names) <= set(records[0])
    assert os.path.isfile(os.path.join(cfg.output_dir, "config.yaml"))
    assert os.path.isfile(summary["network_checkpoint"])
    assert load_config(["--config_path", os.path.join(cfg.output_dir, "config.yaml")]).train.epochs == 3


def test_resumed_run_matches_an_uninterrupted_one(synthetic_sysu, tmp_path, monkeypatch):
    """Interrupted in the second epoch, then resumed by folder through the CPU launcher: the
    same weights as an uninterrupted run, bit for bit, and one appended train.log."""
    epochs = ["--train.epochs", "2"]
    # Saving states only every second epoch changes no weight; it checks the checkpoint policy.
    uninterrupted = Trainer(tiny_config(synthetic_sysu, tmp_path / "full", *epochs, "--train.state_interval", "2"))
    uninterrupted.run()
    expected = network_weights(uninterrupted)
    assert sorted(os.listdir(tmp_path / "full" / "checkpoints")) == [
        "network_e0001_s000000.ckpt", "network_e0002_s000000.ckpt", "network_last.ckpt", "state.json",
        "state_e0002_s000000.ckpt"]
    full_log = open(tmp_path / "full" / "train.log").read()
    assert "compiled and ran the first step in" in full_log
    assert re.search(r"saved the resumable state \S+state_e0002_s000000\.ckpt \(\d+\.\d MB\)", full_log)
    first, second = read_log(tmp_path / "full")[:2]
    # The first step compiles the graph: no throughput is claimed for it.
    assert (first["global_step"], first["images_per_second"]) == (1, 0.0) and second["images_per_second"] > 0

    steps_per_epoch = uninterrupted.steps_per_epoch
    interrupt_at(monkeypatch, steps_per_epoch + 1)  # in the middle of the second epoch
    with pytest.raises(KeyboardInterrupt):
        Trainer(tiny_config(synthetic_sysu, tmp_path / "cut", *epochs)).run()
    monkeypatch.undo()
    state = json.load(open(tmp_path / "cut" / "checkpoints" / "state.json"))
    assert (state["epoch"], state["step_in_epoch"]) == (1, 1)
    log_before = open(tmp_path / "cut" / "train.log").read()
    assert f"resume with: python train.py --resume {tmp_path / 'cut'}" in log_before

    result = subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "run_standalone_train_cpu.sh"),
                             "--resume", str(tmp_path / "cut")], capture_output=True, text=True, timeout=900,
                            env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    log_after = open(tmp_path / "cut" / "train.log").read()
    assert log_after.startswith(log_before) and "resumed from state_e0001_s000001.ckpt" in log_after
    actual = {name: value.asnumpy() for name, value in
              load_checkpoint(str(tmp_path / "cut" / "checkpoints" / "network_last.ckpt")).items()}
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


def test_non_finite_loss_stops_and_keeps_the_last_good_state(synthetic_sysu, tmp_path, monkeypatch):
    cfg = tiny_config(synthetic_sysu, tmp_path / "nan", "--train.epochs", "2")
    original = builders.train_iterator

    def poisoned(dataset, start_epoch, start_step):
        for index, (visible, infrared, labels) in enumerate(original(dataset, start_epoch, start_step)):
            if index == trainer.steps_per_epoch + 1:
                visible = ms.Tensor(np.full(visible.shape, np.nan, np.float32))
            yield visible, infrared, labels
    monkeypatch.setattr(builders, "train_iterator", poisoned)
    trainer = Trainer(cfg)
    with pytest.raises(NonFiniteLossError, match="epoch 2, step 2"):
        trainer.run()
    # The update of the bad step was skipped, but its forward pass already moved the BN
    # statistics in memory: what is kept is the last checkpoint, written before it.
    folder = tmp_path / "nan" / "checkpoints"
    state = json.load(open(folder / "state.json"))
    assert (state["epoch"], state["step_in_epoch"]) == (1, 0)  # the end of the first epoch
    assert sorted(os.listdir(folder)) == ["network_e0001_s000000.ckpt", "state.json", "state_e0001_s000000.ckpt"]
    for file_name in ("network_e0001_s000000.ckpt", state["checkpoint"]):
        for name, value in load_checkpoint(str(folder / file_name)).items():
            assert np.isfinite(value.asnumpy()).all(), f"{file_name}: {name}"


def test_validation_split_selects_a_best_checkpoint(synthetic_sysu, tmp_path):
    cfg = tiny_config(synthetic_sysu, tmp_path / "val", "--train.epochs", "1", "--data.val_ratio", "0.2",
                      "--train.val_interval", "1", "--eval.flip_tta", "false")
    trainer = Trainer(cfg)
    held_out = {record.pid for record in trainer.val_records}
    assert held_out and not held_out & {record.pid for record in trainer.train_records}
    assert trainer.num_classes == len({record.pid for record in trainer.train_records})
    trainer.run()
    validation = [r for r in read_log(cfg.output_dir) if "val_mAP" in r]
    assert len(validation) == 1 and 0.0 < validation[0]["val_mAP"] <= 1.0
    assert os.path.isfile(os.path.join(cfg.output_dir, "checkpoints", "network_best.ckpt"))
