"""Checkpoints: atomic writes, pruning, resumable state, refusal of a foreign state."""

import os

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from src.engine import checkpoint as checkpoint_module
from src.engine.checkpoint import CheckpointManager


class Tiny(nn.Cell):
    def __init__(self, width=3):
        super().__init__()
        self.dense = nn.Dense(2, width)

    def construct(self, x):
        return self.dense(x)


def set_all(cell, value):
    for param in cell.get_parameters():
        param.set_data(ms.Tensor(np.full(param.shape, value, np.float32)).astype(param.dtype))


def test_network_checkpoints_are_pruned_to_the_most_recent(tmp_path):
    manager = CheckpointManager(str(tmp_path), keep=2)
    network = Tiny()
    for epoch in range(1, 5):
        manager.save_network(network, epoch)
    kept = sorted(os.listdir(tmp_path))
    assert kept == ["network_e0003_s000000.ckpt", "network_e0004_s000000.ckpt"]


def test_state_round_trip_restores_every_parameter(tmp_path):
    manager = CheckpointManager(str(tmp_path), keep=2)
    network = Tiny()
    optimizer = nn.Adam(network.trainable_params(), 0.1)
    holder = nn.WithLossCell(network, nn.MSELoss())
    holder.optimizer = optimizer
    set_all(holder, 0.25)
    manager.save_state(holder, {"epoch": 2, "step_in_epoch": 5, "global_step": 25})
    saved = {p.name: p.asnumpy().copy() for p in holder.get_parameters()}
    set_all(holder, -1.0)
    position = manager.restore_state(holder)
    assert position["epoch"] == 2 and position["step_in_epoch"] == 5 and position["global_step"] == 25
    for param in holder.get_parameters():
        np.testing.assert_array_equal(param.asnumpy(), saved[param.name])


def test_no_state_means_a_fresh_start(tmp_path):
    assert CheckpointManager(str(tmp_path)).restore_state(Tiny()) is None


def test_state_of_another_configuration_is_refused_by_name(tmp_path):
    manager = CheckpointManager(str(tmp_path))
    manager.save_state(Tiny(width=3), {"epoch": 0, "step_in_epoch": 1, "global_step": 1})
    with pytest.raises(ValueError, match=r"does not fit.*dense\.weight"):
        manager.restore_state(Tiny(width=4))


def test_crash_while_writing_keeps_the_previous_state_loadable(tmp_path, monkeypatch):
    manager = CheckpointManager(str(tmp_path), keep=3)
    network = Tiny()
    set_all(network, 0.5)
    manager.save_state(network, {"epoch": 0, "step_in_epoch": 3, "global_step": 3})

    real_save = ms.save_checkpoint

    def save_then_crash(obj, path, **kwargs):
        real_save(obj, path, **kwargs)
        with open(path, "r+b") as handle:  # a half-written file, then the process dies
            handle.truncate(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_module.ms, "save_checkpoint", save_then_crash)
    set_all(network, 0.75)
    with pytest.raises(KeyboardInterrupt):
        manager.save_state(network, {"epoch": 0, "step_in_epoch": 6, "global_step": 6})
    monkeypatch.setattr(checkpoint_module.ms, "save_checkpoint", real_save)

    assert not [name for name in os.listdir(tmp_path) if name.startswith(".tmp")]
    set_all(network, 0.0)
    position = CheckpointManager(str(tmp_path)).restore_state(network)
    assert position["step_in_epoch"] == 3
    for param in network.get_parameters():
        np.testing.assert_array_equal(param.asnumpy(), 0.5)


def test_disabled_manager_writes_nothing(tmp_path):
    manager = CheckpointManager(str(tmp_path / "ckpt"), enabled=False)
    assert manager.save_network(Tiny(), 1) is None
    assert manager.save_state(Tiny(), {"epoch": 0, "step_in_epoch": 0, "global_step": 0}) is None
    assert not os.path.exists(tmp_path / "ckpt")
