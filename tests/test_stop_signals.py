"""SIGTERM and SIGHUP become an interrupt that names its signal; an ignored signal stays ignored.

(A whole training stopped by each signal: tests/test_fault_injection.py.)
"""

import os
import signal

import pytest

from src.engine.stop_signals import StopRequested, interrupt_exit_status, stop_on_signals


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_raises_an_interrupt_with_its_exit_status(signum, status):
    before = signal.getsignal(signum)
    with pytest.raises(StopRequested) as caught:
        with stop_on_signals():
            os.kill(os.getpid(), signum)
    assert isinstance(caught.value, KeyboardInterrupt)  # so that the trainer's Ctrl-C path saves the state
    assert str(caught.value) == f"stopped by {signal.Signals(signum).name}"
    assert interrupt_exit_status(caught.value) == status
    assert signal.getsignal(signum) == before


def test_a_plain_keyboard_interrupt_is_sigint():
    assert interrupt_exit_status(KeyboardInterrupt()) == 130


def test_a_repeated_signal_does_not_interrupt_the_save():
    saved = []
    with pytest.raises(StopRequested):
        with stop_on_signals():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            except StopRequested:
                os.kill(os.getpid(), signal.SIGTERM)  # e.g. the scheduler repeats it while the state is written
                saved.append(True)
                raise
    assert saved == [True]


def test_a_signal_ignored_before_stays_ignored():
    """nohup ignores SIGHUP so that closing the terminal does not end the run."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_on_signals():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
    finally:
        signal.signal(signal.SIGHUP, previous)
