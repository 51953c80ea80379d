"""SIGTERM and SIGHUP stop a training as Ctrl-C does, at a step boundary.

A cluster ends a job with SIGTERM (a scheduler's preemption or time limit, msrun's own
shutdown) and SIGKILL a little later; a closing terminal sends SIGHUP. Python's default
ends the process at once, with nothing saved, and a scheduler would read the silence as a
clean finish.

The handler only records the signal. Raising from it would interrupt whatever Python is
doing, e.g. after the compiled step has updated the weights and Adam's moments but before
the loop counts that step, so that the saved state would be one step behind its weights (and
an exception raised inside a finalizer is swallowed). The trainer's stop hook
(src/engine/stop_hook.py) asks ``stop_requested()`` after each step and after each epoch's
end-of-epoch work, saves the state at that point and raises ``StopRequested`` (a
KeyboardInterrupt); the entry point exits with 128 + the signal's number, as a shell reports
a process a signal ended. Before the loop has started (building the parts, the image cache),
nothing is trained yet, and the entry point says so once the construction is over
(``stop_requested()`` again).

Ctrl-C (SIGINT) is left to Python and MindSpore: Python raises KeyboardInterrupt, on which the
stop hook saves the state (exit 130); but MindSpore's runtime installs its own SIGINT handler
once it has started, which sends SIGTERM to the process, so a Ctrl-C during training usually
arrives here as SIGTERM (exit 143).

In a distributed run every rank records its signals and the ranks agree at each step
boundary (src/engine/stop_agreement.py), so that all of them stop at the same step.
"""

import contextlib
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

_requested = []  # the numbers of the stop signals received, first first


class StopRequested(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` is its number; ``saved``: the trainer saved the state
    and logged the resume command (False: it stopped before training anything)."""

    def __init__(self, signum, saved=False):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.saved = saved


def interrupt_exit_status(interrupt):
    """128 + the number of the signal behind ``interrupt`` (a plain KeyboardInterrupt is SIGINT's: 130)."""
    return 128 + getattr(interrupt, "signum", signal.SIGINT)


def stop_requested():
    """The number of the first stop signal received within ``stop_on_signals``, or None."""
    return _requested[0] if _requested else None


def _record(signum, frame):
    _requested.append(signum)


@contextlib.contextmanager
def stop_on_signals():
    """Within the block SIGTERM and SIGHUP are recorded (``stop_requested()``); the previous
    handlers come back after, and the record is cleared.

    A signal that was ignored when the process started stays ignored: ``nohup`` sets SIGHUP
    so, precisely so that closing the terminal does not stop the run.
    """
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(number, _record)
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler is not None:  # None: a handler installed outside Python, which cannot be put back
                signal.signal(number, handler)
        _requested.clear()
