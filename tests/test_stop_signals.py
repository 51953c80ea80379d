"""SIGTERM and SIGHUP are recorded by their handler, never raised from it; the training loop
stops at the next step boundary with the state of that step, and a resumed run ends with the
weights of an uninterrupted one, bit for bit.

(A whole training stopped by each signal from outside: tests/test_fault_injection.py.)
"""

import json
import os
import signal

import mindspore as ms
import numpy as np
import pytest

import train as train_entry
from src.engine import checkpoint as checkpoint_module
from src.engine.stop_agreement import StopAgreement
from src.engine.stop_signals import (STOP_SIGNALS, StopRequested, interrupt_exit_status, stop_on_signals,
                                     stop_requested)
from src.engine.train_step import TrainStep
from src.utils.checkpoint_io import load_checkpoint
from test_errors import TINY_TRAINING


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_is_recorded_not_raised(signum, status):
    # Start from the default action: under nohup SIGHUP arrives ignored, and stays ignored.
    before = signal.signal(signum, signal.SIG_DFL)
    try:
        with stop_on_signals():
            os.kill(os.getpid(), signum)  # returns: the handler raises nothing wherever Python is
            os.kill(os.getpid(), signal.SIGTERM)  # a repeated signal changes nothing
            assert stop_requested() == signum
        assert stop_requested() is None
        assert signal.getsignal(signum) == signal.SIG_DFL
    finally:
        signal.signal(signum, before)
    interrupt = StopRequested(signum, saved=True)
    assert isinstance(interrupt, KeyboardInterrupt) and str(interrupt) == f"stopped by {signal.Signals(signum).name}"
    assert interrupt_exit_status(interrupt) == status


def test_a_plain_keyboard_interrupt_is_sigint():
    assert interrupt_exit_status(KeyboardInterrupt()) == 130


def test_a_signal_ignored_before_stays_ignored():
    """nohup ignores SIGHUP so that closing the terminal does not end the run."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_on_signals():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
            assert stop_requested() is None
    finally:
        signal.signal(signal.SIGHUP, previous)


class OtherRanks:
    """Stands in for the all-reduce: adds what the other ranks received to this rank's counts."""

    def __init__(self, *received):
        self.counts = np.array([sum(number == signum for signum in received) for number in STOP_SIGNALS],
                               dtype=np.float32)
        self.calls = 0

    def __call__(self, values):
        self.calls += 1
        return ms.Tensor(values.asnumpy() + self.counts)


@pytest.mark.parametrize("here, elsewhere, agreed", [
    (None, (), None),
    (None, (signal.SIGHUP,), signal.SIGHUP),  # a rank that received nothing stops with the others
    (signal.SIGTERM, (), signal.SIGTERM),
    (signal.SIGHUP, (signal.SIGTERM,), signal.SIGTERM),  # different signals: SIGTERM first, on every rank
    (signal.SIGTERM, (signal.SIGHUP, signal.SIGHUP), signal.SIGTERM),
])
def test_the_ranks_agree_on_a_signal_that_any_of_them_received(here, elsewhere, agreed):
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL), signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        with stop_on_signals():
            if here is not None:
                os.kill(os.getpid(), here)
            agreement = StopAgreement(distributed=False)
            assert agreement.signal() == here  # one process: what it received
            agreement.sum_over_ranks = OtherRanks(*elsewhere)
            assert agreement.signal() == agreed
            agreement.wait_for_all_ranks()
            assert agreement.sum_over_ranks.calls == 2
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGHUP, before[1])


def options(data_path, run, cache, *extra):
    # 2 epochs of (with the synthetic set) several steps; a state only at the end
    return [str(arg) for arg in ["--data.data_path", data_path, "--output_dir", run, "--data.cache_dir", cache,
                                 *TINY_TRAINING, "--train.epochs", "2", "--train.log_interval", "1",
                                 "--train.state_interval", "10", *extra]]


def weights(path):
    return {name: value.asnumpy() for name, value in load_checkpoint(str(path)).items()}


def assert_same_weights(expected_path, actual_path):
    expected, actual = weights(expected_path), weights(actual_path)
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


def state(run):
    return json.loads((run / "checkpoints" / "state.json").read_text())


@pytest.fixture(scope="module")
def uninterrupted(synthetic_sysu, tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    assert train_entry.main(options(synthetic_sysu, root / "run", root / "cache")) == 0
    return root / "run"


def sigterm_after_step(monkeypatch, number):
    """Send SIGTERM to this process right after the ``number``-th train step (counting from 1)
    has updated the weights: the moment a handler that raised would leave the state behind them."""
    original = TrainStep.__call__
    calls = [0]

    def step_then_signal(self, *inputs):
        result = original(self, *inputs)
        calls[0] += 1
        if calls[0] == number:
            os.kill(os.getpid(), signal.SIGTERM)
        return result
    monkeypatch.setattr(TrainStep, "__call__", step_then_signal)


def test_sigterm_after_a_step_saves_that_step_and_resumes_bit_identically(synthetic_sysu, tmp_path, monkeypatch,
                                                                          uninterrupted):
    run = tmp_path / "run"
    sigterm_after_step(monkeypatch, 3)
    assert train_entry.main(options(synthetic_sysu, run, tmp_path / "cache")) == 143
    monkeypatch.undo()
    saved = state(run)
    assert (saved["epoch"], saved["step_in_epoch"], saved["global_step"]) == (0, 3, 3)
    log = (run / "train.log").read_text()
    assert f"stopped by SIGTERM: state saved at epoch 1, step 3; resume with: python train.py --resume {run}" in log

    assert train_entry.main(["--resume", str(run)]) == 0
    assert "resumed from state_e0000_s000003.ckpt: epoch 1, step 3" in (run / "train.log").read_text()
    assert_same_weights(uninterrupted / "checkpoints" / "network_last.ckpt", run / "checkpoints" / "network_last.ckpt")


def test_sigterm_during_the_end_of_epoch_work_saves_the_next_epoch_start(synthetic_sysu, tmp_path, monkeypatch,
                                                                         uninterrupted):
    """With keep_checkpoints 1: the state saved for the signal is kept, state.json names it."""
    run = tmp_path / "run"
    original = checkpoint_module.CheckpointManager.save_network

    def save_then_signal(self, network, epoch, step=0, name=None):
        path = original(self, network, epoch, step, name)
        if epoch == 1 and name is None:
            os.kill(os.getpid(), signal.SIGTERM)
        return path
    monkeypatch.setattr(checkpoint_module.CheckpointManager, "save_network", save_then_signal)
    assert train_entry.main(options(synthetic_sysu, run, tmp_path / "cache", "--train.keep_checkpoints", "1")) == 143
    monkeypatch.undo()
    saved = state(run)
    assert (saved["epoch"], saved["step_in_epoch"]) == (1, 0)
    assert (run / "checkpoints" / saved["checkpoint"]).is_file()
    assert train_entry.main(["--resume", str(run)]) == 0
    assert_same_weights(uninterrupted / "checkpoints" / "network_last.ckpt", run / "checkpoints" / "network_last.ckpt")


def test_sigterm_while_the_trainer_is_built_says_nothing_was_trained(capsys, synthetic_sysu, tmp_path, monkeypatch):
    from src.engine import builders
    original = builders.build_train_dataset

    def build_then_signal(*args, **kwargs):
        built = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        return built
    monkeypatch.setattr(builders, "build_train_dataset", build_then_signal)
    run = tmp_path / "run"
    capsys.readouterr()
    assert train_entry.main(options(synthetic_sysu, run, tmp_path / "cache")) == 143
    lines = [line for line in capsys.readouterr().out.splitlines() if "before training started" in line]
    assert len(lines) == 1, lines
    assert lines[0].endswith("stopped by SIGTERM before training started: nothing was trained in this session; start "
                             f"it again with the same command and --overwrite ({run} holds only this run's "
                             f"config.yaml)")
    assert not (run / "checkpoints").exists()
