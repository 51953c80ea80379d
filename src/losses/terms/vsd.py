"""L_VSD (beta of Eq. 16): variational self-distillation, summed over the specific streams
that have a bottleneck. Applies where the specific branches have one."""

from src.losses.distillation import DISTILLATION_OPTIONS, VariationalSelfDistillation
from src.losses.term import LOSS_TERMS, LossTerm
from src.models.outputs import LOGITS, SPECIFIC_STREAMS, Z_LOGITS


@LOSS_TERMS.register("vsd", options=DISTILLATION_OPTIONS)
class SelfDistillationTerm(LossTerm):
    """Args: ``streams``: indices of the distilled streams; ``weight``: beta; ``detach_teacher``:
    stop the gradient on the observation (teacher) side."""

    name = "vsd"

    def __init__(self, streams, weight=2.0, detach_teacher=True):
        super().__init__(weight, streams)
        self.self_distillation = VariationalSelfDistillation(detach_teacher)

    @staticmethod
    def _distilled(layout):
        return tuple(layout.index(name) for name in SPECIFIC_STREAMS if name in layout.bottleneck_streams)

    @classmethod
    def applies(cls, cfg, layout):
        return bool(cls._distilled(layout))

    @classmethod
    def from_config(cls, cfg, layout, weight):
        return cls(cls._distilled(layout), weight, cfg.loss.detach_teacher)

    def construct(self, outputs, labels):
        vsd = 0.0
        for index in self.streams:
            vsd = vsd + self.self_distillation(outputs[index][LOGITS], outputs[index][Z_LOGITS])
        return vsd
