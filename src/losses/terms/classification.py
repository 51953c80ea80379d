"""L_cls: label-smoothing cross-entropy on every classifier head, summed.

The heads are the observation classifier of every stream and the representation classifier
of every stream with a bottleneck. With ``loss.cib`` (conventional IB) the observation v gets
no re-id loss (Table 3's footnote), so only the z heads count.
"""

from src.losses.cross_entropy import LabelSmoothingCrossEntropy
from src.losses.term import LOSS_TERMS, LossTerm
from src.models.outputs import LOGITS, Z_LOGITS


@LOSS_TERMS.register("cls")
class ClassificationTerm(LossTerm):
    """Args: ``observation_streams`` / ``z_streams``: indices of the streams whose observation /
    representation head is supervised; ``num_classes``, ``label_smoothing``: of the cross-entropy."""

    name = "cls"

    def __init__(self, observation_streams, z_streams, num_classes, label_smoothing=0.1):
        super().__init__(1.0, sorted(set(observation_streams) | set(z_streams)))
        self.observation_streams = tuple(observation_streams)
        self.z_streams = tuple(z_streams)
        self.classification = LabelSmoothingCrossEntropy(num_classes, label_smoothing)

    @classmethod
    def from_config(cls, cfg, layout):
        observation_streams = () if cfg.loss.cib else tuple(range(len(layout.names)))
        return cls(observation_streams, layout.z_streams(), layout.num_classes, cfg.loss.label_smoothing)

    def construct(self, outputs, labels):
        cls = 0.0
        for index in self.observation_streams:
            cls = cls + self.classification(outputs[index][LOGITS], labels)
        for index in self.z_streams:
            cls = cls + self.classification(outputs[index][Z_LOGITS], labels)
        return cls
