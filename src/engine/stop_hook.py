"""Stopping a training at a step boundary: stop signals on any rank, and Ctrl-C.

SIGTERM / SIGHUP are only recorded by their handler (src/engine/stop_signals.py); this hook
asks, at each step boundary, whether any rank received one (src/engine/stop_agreement.py),
and if so saves the state there, logs the resume command and raises StopRequested. The
trainer calls it after every other hook at each boundary, so that their work is in the state
and every rank asks at the same boundaries (also where logging and checkpoints are off).
"""

import sys

from src.engine.hooks import TrainingHook
from src.engine.stop_signals import StopRequested


class StopHook(TrainingHook):
    """Args: ``agreement``: the run's StopAgreement.

    before_train: a stop signal received while the trainer was built or restored raises
    StopRequested unsaved (nothing was trained in this session). after_step: the state at the
    step just counted; after_epoch: the state at the next epoch's start. on_interrupt (Ctrl-C):
    saves the state at the position reached and logs the resume command.
    """

    def __init__(self, agreement):
        self.agreement = agreement

    def before_train(self, trainer):
        signum = self.agreement.signal()
        if signum:
            raise StopRequested(signum)

    def after_step(self, trainer):
        # After the step has been counted: the state and its position agree.
        self._stop_if_requested(trainer, trainer.epoch, trainer.steps_done)

    def after_epoch(self, trainer):
        # Every other hook's end-of-epoch work is done: a resumed run starts the next epoch.
        self._stop_if_requested(trainer, trainer.epoch + 1, 0)

    def on_interrupt(self, trainer, interrupt):
        if isinstance(interrupt, StopRequested):  # raised here, with the state saved
            return
        # Ctrl-C raised by Python (MindSpore's own handler sends SIGTERM). Keep the work done
        # so far: a resumed run continues with the next step. Every rank holds the same weights
        # after each step (the step's all-reduce needs them all), so rank 0's state at its step
        # is the state of the run.
        trainer.save_state(trainer.position(trainer.epoch, trainer.steps_done))
        _log_saved(trainer, interrupt, trainer.epoch, trainer.steps_done)

    def _stop_if_requested(self, trainer, epoch, steps_done):
        """After a stop signal (on any rank): save the state at (``epoch``, ``steps_done``) (unless
        the end-of-epoch work just saved it), log the resume command and raise StopRequested."""
        signum = self.agreement.signal()
        if signum is None:
            return
        if trainer.checkpoints.saved_position() != (epoch, steps_done):
            trainer.save_state(trainer.position(epoch, steps_done))
        self.agreement.wait_for_all_ranks()  # the state is on disk before any rank exits
        interrupt = StopRequested(signum, saved=True)
        if not trainer.context.is_main:  # its log is msrun's worker log; the run folder's is rank 0's
            print(f"rank {trainer.context.rank}: {interrupt} at epoch {epoch + 1}, step {steps_done}; "
                  f"rank 0 saved the state", file=sys.stderr, flush=True)
        _log_saved(trainer, interrupt, epoch, steps_done)
        raise interrupt


def _log_saved(trainer, interrupt, epoch, steps_done):
    trainer.logger.info(f"{str(interrupt) or 'interrupted'}: state saved at epoch {epoch + 1}, step {steps_done}; "
                        f"resume with: {trainer.resume_command()}")
