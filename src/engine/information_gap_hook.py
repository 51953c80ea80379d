"""The H(y|z) - H(y|v) probe during training (src/engine/information_gap.py), as a hook."""

from src.engine.hooks import TrainingHook
from src.options import Option, Options


INFORMATION_GAP_OPTIONS = Options(
    Option("train.gap_interval", 0,
           "steps between estimates of H(y|z) - H(y|v) (z-head minus v-head cross-entropy) on a fixed probe batch (0: "
           "off)", minimum=0),
    Option("train.gap_ids", 32,
           "training identities in that probe batch (one visible and one infrared image each)", minimum=1),
)


class InformationGapHook(TrainingHook):
    """after_step, every ``interval`` global steps: runs ``probe`` (an InformationGapProbe) on the
    network, writes its figures as a record and logs the gap of each bottlenecked branch."""

    def __init__(self, probe, interval):
        self.probe = probe
        self.interval = interval

    def after_step(self, trainer):
        if trainer.global_step % self.interval:
            return
        figures = self.probe(trainer.network)
        trainer.logger.write({"epoch": trainer.epoch, "global_step": trainer.global_step, **figures})
        gaps = " ".join(f"{name[4:]} {value:.4f}" for name, value in figures.items() if name.startswith("gap_"))
        trainer.logger.info(f"H(y|z) - H(y|v) on the probe batch, nats: {gaps}")
