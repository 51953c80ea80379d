"""L_VCD (beta of Eq. 16): variational cross-distillation between the shared branch's visible
and infrared streams. Applies where the shared branch has a bottleneck."""

from src.losses.distillation import DISTILLATION_OPTIONS, VariationalCrossDistillation
from src.losses.term import LOSS_TERMS, LossTerm
from src.models.outputs import LOGITS, SHARED_STREAMS, Z_LOGITS


@LOSS_TERMS.register("vcd", options=DISTILLATION_OPTIONS)
class CrossDistillationTerm(LossTerm):
    """Args: ``shared_pair``: (shared visible index, shared infrared index); ``weight``: beta;
    ``detach_teacher``: stop the gradient on the observation (teacher) side."""

    name = "vcd"

    def __init__(self, shared_pair, weight=2.0, detach_teacher=True):
        super().__init__(weight, shared_pair)
        self.cross_distillation = VariationalCrossDistillation(detach_teacher)

    @classmethod
    def applies(cls, cfg, layout):
        return layout.all_have_z(SHARED_STREAMS)

    @classmethod
    def from_config(cls, cfg, layout, weight):
        return cls(tuple(layout.index(name) for name in SHARED_STREAMS), weight, cfg.loss.detach_teacher)

    def construct(self, outputs, labels):
        first, second = outputs[self.streams[0]], outputs[self.streams[1]]
        return self.cross_distillation(first[LOGITS], first[Z_LOGITS], second[LOGITS], second[Z_LOGITS])
