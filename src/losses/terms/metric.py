"""L_metric: a metric loss per branch on its visible and infrared streams pooled together.

Positives and negatives thus include cross-modal pairs. For the specific branch the pool is
E_V(visible) with E_I(infrared): at test a visible and an infrared image are compared through
exactly these two features, so they must share one metric space. ``loss.metric_on`` names the
features: ``v``, the observation, and ``z``, the sample, where the branch has a bottleneck (the
conventional IB baseline of Table 3 rows 7-9 puts no re-id loss on v); the per-branch,
per-feature losses are summed. Applies where it has a feature to train.
"""

from src.losses.ranked_list import RankedListLoss
from src.losses.streams import OBSERVATION, REPRESENTATION, paired_labels, pooled
from src.losses.term import LOSS_TERMS, LossTerm
from src.losses.triplet import BatchHardTripletLoss
from src.models.outputs import FEATURE, Z
from src.options import Option, Options


METRIC_OPTIONS = Options(
    Option("loss.metric", "ranked_list", "metric loss: ranked_list or triplet", choices=("ranked_list", "triplet")),
    Option("loss.metric_on", ["v", "z"],
           "metric: the features it is applied to: v (observation), z (representation, where a bottleneck is)",
           choices=("v", "z")),
    Option("loss.rll_margin", 0.4, "ranked list loss: margin between positives and negatives", minimum=0.0),
    Option("loss.rll_alpha", 1.2, "ranked list loss: negatives are pushed beyond this distance", minimum=0.0),
    Option("loss.rll_temperature", 10.0, "ranked list loss: temperature of the negative weighting", minimum=0.0),
    Option("loss.triplet_margin", 0.3, "batch-hard triplet loss margin", minimum=0.0),
)

METRICS = METRIC_OPTIONS.choices("loss.metric")


@LOSS_TERMS.register("metric", options=METRIC_OPTIONS)
class MetricTerm(LossTerm):
    """Args: ``metric_loss``: a cell (features (N, D), labels (N,)) -> scalar; ``branch_pairs``:
    (visible index, infrared index) per branch; ``branch_has_z``: per branch, whether z is
    supervised too; ``on_observation``: whether v is; ``weight``: its weight in the objective."""

    name = "metric"

    def __init__(self, metric_loss, branch_pairs, branch_has_z, on_observation=True, weight=1.0):
        super().__init__(weight, [index for pair in branch_pairs for index in pair])
        self.metric_loss = metric_loss
        self.branch_pairs = tuple(branch_pairs)
        self.branch_has_z = tuple(branch_has_z)
        self.on_observation = on_observation

    @staticmethod
    def _features(cfg, layout):
        """(whether v is supervised, per branch whether z is), as ``loss.metric_on`` asks and the network has."""
        on_z = REPRESENTATION in cfg.loss.metric_on
        return OBSERVATION in cfg.loss.metric_on, tuple(on_z and layout.has_z(pair[0]) for pair in layout.branch_pairs)

    @classmethod
    def applies(cls, cfg, layout):
        on_observation, branch_has_z = cls._features(cfg, layout)
        return on_observation or any(branch_has_z)

    @classmethod
    def from_config(cls, cfg, layout, weight):
        loss = cfg.loss
        if loss.metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {loss.metric!r}")
        if loss.metric == "ranked_list":
            metric_loss = RankedListLoss(loss.rll_margin, loss.rll_alpha, loss.rll_temperature)
        else:
            metric_loss = BatchHardTripletLoss(loss.triplet_margin)
        on_observation, branch_has_z = cls._features(cfg, layout)
        return cls(metric_loss, layout.branch_pairs, branch_has_z, on_observation, weight)

    def construct(self, outputs, labels):
        pooled_labels = paired_labels(labels)
        metric = 0.0
        for pair, branch_z in zip(self.branch_pairs, self.branch_has_z):
            if self.on_observation:
                metric = metric + self.metric_loss(pooled(outputs, pair, FEATURE), pooled_labels)
            if branch_z:
                metric = metric + self.metric_loss(pooled(outputs, pair, Z), pooled_labels)
        return metric
