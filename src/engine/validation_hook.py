"""Validation on the held-out training identities, and the best checkpoint it selects."""

from src.engine import builders
from src.engine.hooks import TrainingHook
from src.options import Option, Options


VALIDATION_OPTIONS = Options(
    Option("train.val_interval", 10, "epochs between validation runs (when data.val_ratio > 0)", minimum=1),
)


class ValidationHook(TrainingHook):
    """after_epoch, every ``interval`` epochs: evaluates ``trainer.val_records`` (``builders.validate``),
    logs Rank-1 and mAP (a line and a record), and saves ``network_best.ckpt`` when the mAP beats
    ``trainer.best_score``, which it raises. The trainer keeps that score in the resumable state,
    so it runs before CheckpointHook's end-of-epoch work."""

    def __init__(self, interval):
        self.interval = interval

    def after_epoch(self, trainer):
        completed = trainer.epoch + 1
        if completed % self.interval:
            return
        result = builders.validate(trainer.cfg, trainer.network, trainer.reader, trainer.val_records)
        score = result["mAP"]
        record = {"epoch": completed, "val_rank1": float(result["cmc"][0]), "val_mAP": float(score)}
        trainer.logger.info(f"validation after epoch {completed}: Rank-1 {record['val_rank1']:.2%} "
                            f"mAP {record['val_mAP']:.2%}")
        trainer.logger.write(record)
        if score > trainer.best_score:
            trainer.best_score = score
            trainer.save_network(completed, name="network_best.ckpt")
        trainer.network.set_train(True)
