"""Batch-hard triplet loss (Hermans et al., 2017), the common alternative metric loss."""

from mindspore import nn, ops
import mindspore as ms

from src.losses.pairwise_distance import identity_masks, normalized_distances

# Added to non-negative pairs before the minimum; larger than any normalised distance (<= 2).
_NOT_A_NEGATIVE = 1e4


class BatchHardTripletLoss(nn.Cell):
    """``construct(features, labels)``: features (N, D), labels (N,) int -> scalar loss.

    For each anchor: [max_positive d - min_negative d + margin]_+, averaged over anchors,
    with d the Euclidean distance between L2-normalised features (so margin is in the same
    units as the ranked list loss). An anchor without positives uses d = 0 for them; one
    without negatives contributes 0.
    """

    def __init__(self, margin=0.3):
        super().__init__()
        if margin < 0:
            raise ValueError(f"triplet margin must be non-negative, got {margin}")
        self.margin = float(margin)

    def construct(self, features, labels):
        distances = normalized_distances(features)
        positives, negatives = identity_masks(labels)
        hardest_positive = (distances * positives).max(axis=1)
        hardest_negative = (distances + _NOT_A_NEGATIVE * (1.0 - negatives)).min(axis=1)
        return ops.relu(hardest_positive - hardest_negative + self.margin).astype(ms.float32).mean()
