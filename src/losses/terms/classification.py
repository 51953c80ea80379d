"""L_cls: label-smoothing cross-entropy on classifier heads, summed.

``loss.cls_on`` names the heads: ``v``, the observation classifier of every stream; ``z``, the
representation classifier of every stream with a bottleneck. The paper's objective trains both;
the conventional IB baseline (Table 3 rows 7-9) only z, as v gets no re-id loss there (the
table's footnote). Applies where it has a head to train.
"""

from src.losses.cross_entropy import LabelSmoothingCrossEntropy
from src.losses.streams import OBSERVATION, REPRESENTATION
from src.losses.term import LOSS_TERMS, LossTerm
from src.models.outputs import LOGITS, Z_LOGITS
from src.options import Option, Options


CLASSIFICATION_OPTIONS = Options(
    Option("loss.label_smoothing", 0.1, "label-smoothing epsilon of the classification loss", minimum=0.0, maximum=1.0),
    Option("loss.cls_on", ["v", "z"],
           "cls: the classifier heads it trains: v (observation, every stream), z (representation, where a bottleneck "
           "is)", choices=("v", "z")),
)


@LOSS_TERMS.register("cls", options=CLASSIFICATION_OPTIONS)
class ClassificationTerm(LossTerm):
    """Args: ``observation_streams`` / ``z_streams``: indices of the streams whose observation /
    representation head is supervised; ``num_classes``, ``label_smoothing``: of the cross-entropy;
    ``weight``: its weight in the objective."""

    name = "cls"

    def __init__(self, observation_streams, z_streams, num_classes, label_smoothing=0.1, weight=1.0):
        super().__init__(weight, sorted(set(observation_streams) | set(z_streams)))
        self.observation_streams = tuple(observation_streams)
        self.z_streams = tuple(z_streams)
        self.classification = LabelSmoothingCrossEntropy(num_classes, label_smoothing)

    @staticmethod
    def _heads(cfg, layout):
        """(observation stream indices, z stream indices) that ``loss.cls_on`` asks for and the network has."""
        observation_streams = tuple(range(len(layout.names))) if OBSERVATION in cfg.loss.cls_on else ()
        z_streams = layout.z_streams() if REPRESENTATION in cfg.loss.cls_on else ()
        return observation_streams, z_streams

    @classmethod
    def applies(cls, cfg, layout):
        return any(cls._heads(cfg, layout))

    @classmethod
    def from_config(cls, cfg, layout, weight):
        return cls(*cls._heads(cfg, layout), layout.num_classes, cfg.loss.label_smoothing, weight)

    def construct(self, outputs, labels):
        cls = 0.0
        for index in self.observation_streams:
            cls = cls + self.classification(outputs[index][LOGITS], labels)
        for index in self.z_streams:
            cls = cls + self.classification(outputs[index][Z_LOGITS], labels)
        return cls
