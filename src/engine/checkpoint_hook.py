"""Network checkpoints and resumable states on the training's schedule (src/engine/checkpoint.py writes them)."""

from src.engine.hooks import TrainingHook
from src.options import Option, Options


CHECKPOINT_OPTIONS = Options(
    Option("train.checkpoint_interval", 1,
           "epochs between network checkpoints (network only, for eval / export)", minimum=1),
    Option("train.state_interval", 1,
           "epochs between resumable states (network + optimizer moments, about 3x the network)", minimum=1),
    Option("train.keep_checkpoints", 3, "how many recent network checkpoints and states to keep", minimum=1),
    Option("train.save_initial", False, "also save the untrained network as checkpoints/network_init.ckpt"),
)


class CheckpointHook(TrainingHook):
    """Saves the network and the resumable state.

    before_train: ``network_init.ckpt``, the untrained network, with ``save_initial`` when the run
    starts at step 0. after_epoch: ``network_e{epoch:04d}_s000000.ckpt`` every ``checkpoint_interval``
    epochs, then the state at the next epoch's start every ``state_interval`` epochs, both after
    the last epoch too. after_train: ``network_last.ckpt``, as ``summary["network_checkpoint"]``.
    The state saved for a stop signal or Ctrl-C is StopHook's.
    """

    def __init__(self, checkpoint_interval, state_interval, save_initial=False):
        self.checkpoint_interval = checkpoint_interval
        self.state_interval = state_interval
        self.save_initial = save_initial

    def before_train(self, trainer):
        if self.save_initial and trainer.global_step == 0:
            trainer.checkpoints.save_network(trainer.network, 0, name="network_init.ckpt")

    def after_epoch(self, trainer):
        completed = trainer.epoch + 1
        last = completed == trainer.cfg.train.epochs
        if completed % self.checkpoint_interval == 0 or last:
            trainer.save_network(completed)
        if completed % self.state_interval == 0 or last:
            trainer.save_state(trainer.position(completed, 0))

    def after_train(self, trainer):
        trainer.summary["network_checkpoint"] = trainer.save_network(trainer.cfg.train.epochs,
                                                                     name="network_last.ckpt")
