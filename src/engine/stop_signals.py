"""SIGTERM and SIGHUP stop a training as Ctrl-C does.

A cluster ends a job with SIGTERM (a scheduler's preemption or time limit, msrun's own
shutdown) and SIGKILL a little later; a closing terminal sends SIGHUP. Python's default
ends the process at once, with nothing saved, and a scheduler would read the silence as a
clean finish. Here both raise ``StopRequested``, a KeyboardInterrupt, so that the trainer's
Ctrl-C path saves the state at the current step and logs the resume command; the entry
point then exits with 128 + the signal's number, as a shell reports a process a signal ended.
"""

import contextlib
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class StopRequested(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` is its number."""

    def __init__(self, signum):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def interrupt_exit_status(interrupt):
    """128 + the number of the signal behind ``interrupt`` (a plain KeyboardInterrupt is SIGINT's: 130)."""
    return 128 + getattr(interrupt, "signum", signal.SIGINT)


def _request_stop(signum, frame):
    # Later stop signals are ignored: the state being saved at this step must be finished
    # (the atomic write would keep the previous one, but this step's work would be lost).
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    raise StopRequested(signum)


@contextlib.contextmanager
def stop_on_signals():
    """Within the block SIGTERM and SIGHUP raise StopRequested; the previous handlers come back after.

    A signal that was ignored when the process started stays ignored: ``nohup`` sets SIGHUP
    so, precisely so that closing the terminal does not stop the run.
    """
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(number, _request_stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler is not None:  # None: a handler installed outside Python, which cannot be put back
                signal.signal(number, handler)
