"""The training hook contract: the Trainer's loop steps; everything else happens in hooks.

A hook subclasses ``TrainingHook`` and overrides the methods it needs; the others do nothing.
Each method receives the trainer (src/engine/trainer.py), whose parts it may use (``cfg``,
``network``, ``logger``, ``checkpoints``, ``context``, ...) and whose position it may read:

- ``trainer.epoch``: the epoch in progress, from 0; ``trainer.steps_done``: its steps done
  (``trainer.steps_per_epoch`` once its last step has run); ``trainer.global_step``: steps
  done in the whole run (a resumed run counts the earlier sessions' steps too).
- ``trainer.step_losses()``: the last step's loss and its components, {name: float}.
- ``trainer.summary``: what ``run()`` returns; ``after_train`` may add to it.

The trainer calls every hook's method in turn at each point: first the built-in hooks, then
those passed to ``Trainer(cfg, hooks=[...])``, then the stop-signal check (src/engine/stop_hook.py)
that closes the training's start, each step and each epoch. An exception a hook raises ends
the training as one the step raised would.
"""


class TrainingHook:
    """Base class of the hooks; every method does nothing here."""

    def before_train(self, trainer):
        """Once per session, before its first step: the position is the one the run starts
        or resumes from (a state saved after an epoch's last step resumes with that epoch's
        ``after_epoch``, no step of it left)."""

    def before_step(self, trainer):
        """Before each step's computation (its batch is loaded); ``steps_done`` does not count it yet."""

    def after_step(self, trainer):
        """After each step, once it is counted in ``steps_done`` and ``global_step``."""

    def after_epoch(self, trainer):
        """After an epoch's last step and that step's ``after_step``: ``trainer.epoch`` is the
        epoch completed, ``steps_done == steps_per_epoch``."""

    def after_train(self, trainer):
        """Once, after the last epoch's ``after_epoch``; ``trainer.summary`` holds ``epochs``,
        ``last_losses`` and ``wall_seconds``."""

    def on_interrupt(self, trainer, interrupt):
        """When a KeyboardInterrupt ends the training between ``before_train`` and ``after_train``:
        Ctrl-C, at any point of a step, or a stop signal (``StopRequested``, src/engine/stop_signals.py),
        which the stop-signal check raises at a step boundary once the state is saved. The
        trainer raises ``interrupt`` again after every hook's ``on_interrupt``."""
