"""L_VML (beta of Eq. 16): variational mutual learning between the representation heads of the
shared branch's visible and infrared streams. Applies where the shared branch has a bottleneck."""

from src.losses.distillation import VariationalMutualLearning
from src.losses.term import LOSS_TERMS, LossTerm
from src.models.outputs import SHARED_STREAMS, Z_LOGITS


@LOSS_TERMS.register("vml")
class VariationalMutualLearningTerm(LossTerm):
    """Args: ``shared_pair``: (shared visible index, shared infrared index); ``weight``: beta."""

    name = "vml"

    def __init__(self, shared_pair, weight=2.0):
        super().__init__(weight, shared_pair)
        self.variational_mutual_learning = VariationalMutualLearning()

    @classmethod
    def applies(cls, cfg, layout):
        return layout.all_have_z(SHARED_STREAMS)

    @classmethod
    def from_config(cls, cfg, layout, weight):
        return cls(tuple(layout.index(name) for name in SHARED_STREAMS), weight)

    def construct(self, outputs, labels):
        return self.variational_mutual_learning(outputs[self.streams[0]][Z_LOGITS], outputs[self.streams[1]][Z_LOGITS])
