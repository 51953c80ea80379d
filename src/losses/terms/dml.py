"""L_DML (alpha of Eq. 17): mutual learning, per modality, between the specific and the shared
stream's observation heads. Applies where the network has both branches."""

from src.losses.mutual_learning import DeepMutualLearning
from src.losses.term import LOSS_TERMS, LossTerm
from src.models.outputs import LOGITS, SHARED_STREAMS, SPECIFIC_STREAMS


@LOSS_TERMS.register("dml")
class MutualLearningTerm(LossTerm):
    """Args: ``pairs``: (specific index, shared index) per modality; ``weight``: alpha."""

    name = "dml"

    def __init__(self, pairs, weight=8.0):
        super().__init__(weight, [index for pair in pairs for index in pair])
        self.pairs = tuple(pairs)
        self.mutual_learning = DeepMutualLearning()

    @classmethod
    def applies(cls, cfg, layout):
        return layout.has_all(SHARED_STREAMS + SPECIFIC_STREAMS)

    @classmethod
    def from_config(cls, cfg, layout, weight):
        pairs = tuple((layout.index(specific), layout.index(shared))
                      for specific, shared in zip(SPECIFIC_STREAMS, SHARED_STREAMS))
        return cls(pairs, weight)

    def construct(self, outputs, labels):
        dml = 0.0
        for specific, shared in self.pairs:
            dml = dml + self.mutual_learning(outputs[specific][LOGITS], outputs[shared][LOGITS])
        return dml
