"""Progress lines of the training steps: the first step's compilation, then the losses."""

import time

from src.engine.hooks import TrainingHook
from src.options import Option, Options


STEP_LOGGING_OPTIONS = Options(
    Option("train.log_interval", 10, "steps between log lines", minimum=1),
)


class StepLoggingHook(TrainingHook):
    """before_step / after_step of the session's first step: logs that it compiles the graph and
    how long it took, then starts the logger's clock, so that img/s and the ETA leave it out.
    after_step, every ``log_interval`` steps of an epoch and at its last step: one line and one
    record with every loss component, the learning rate, the throughput and the ETA
    (``TrainingLogger.log_step``)."""

    def __init__(self, log_interval):
        self.log_interval = log_interval
        self._compiled = False
        self._compile_started = None

    def before_step(self, trainer):
        if not self._compiled:
            trainer.logger.info("compiling the training graph (runs the first step)...")
            self._compile_started = time.perf_counter()

    def after_step(self, trainer):
        if not self._compiled:
            self._compiled = True
            trainer.logger.info(f"compiled and ran the first step in "
                                f"{time.perf_counter() - self._compile_started:.1f} s (left out of img/s and ETA)")
            trainer.logger.start(trainer.global_step)
        if trainer.steps_done % self.log_interval and trainer.steps_done != trainer.steps_per_epoch:
            return
        losses = trainer.step_losses()
        scale = float(trainer.train_step.loss_scale.asnumpy()) if trainer.train_step.dynamic else None
        global_step = trainer.global_step
        trainer.logger.log_step(trainer.epoch, trainer.cfg.train.epochs, trainer.steps_done, trainer.steps_per_epoch,
                                global_step, float(trainer.learning_rates[global_step - 1]), losses,
                                skipped=trainer.non_finite.skipped, loss_scale=scale)
