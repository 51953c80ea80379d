"""Ranked list loss (Wang et al., CVPR 2019, "Ranked List Loss for Deep Metric Learning").

Every row of the batch is a query; the other rows are its gallery. With d the Euclidean
distance between L2-normalised features, the pairwise margin loss pulls positives within
``alpha - margin`` and pushes negatives beyond ``alpha``:
    positive j: [d_ij - (alpha - margin)]_+,   negative j: [alpha - d_ij]_+.
Only non-trivial pairs (non-zero loss) count. The positive part of a query is the mean over
its non-trivial positives; the negative part is a weighted sum over its non-trivial
negatives with weights exp(T * (alpha - d_ij)) normalised over those negatives (harder
negatives weigh more). As in the RLL paper's gradient, the weights are constants (no
gradient flows through them). The two parts are added with equal weight (the paper's
lambda = 1) and averaged over the queries.
"""

from mindspore import nn, ops
import mindspore as ms

from src.losses.pairwise_distance import identity_masks, normalized_distances


class RankedListLoss(nn.Cell):
    """``construct(features, labels)``: features (N, D), labels (N,) int -> scalar loss.

    Args:
        margin: gap between the positive boundary (alpha - margin) and alpha, in distance units.
        alpha: distance beyond which negatives are pushed (distances lie in [0, 2]).
        temperature: T of the negative weighting; 0 weighs all non-trivial negatives equally.
    """

    def __init__(self, margin=0.4, alpha=1.2, temperature=10.0):
        super().__init__()
        if not 0.0 <= margin <= alpha:
            raise ValueError(f"ranked list loss needs 0 <= margin <= alpha, got margin {margin}, alpha {alpha}")
        if temperature < 0:
            raise ValueError(f"ranked list loss temperature must be non-negative, got {temperature}")
        self.positive_boundary = float(alpha - margin)
        self.alpha = float(alpha)
        self.temperature = float(temperature)

    def construct(self, features, labels):
        distances = normalized_distances(features)
        positives, negatives = identity_masks(labels)

        positive_hinge = ops.relu(distances - self.positive_boundary) * positives
        positive_count = (positive_hinge > 0).astype(ms.float32).sum(axis=1)
        positive_loss = positive_hinge.sum(axis=1) / ops.maximum(positive_count, 1.0)

        negative_hinge = ops.relu(self.alpha - distances) * negatives
        negative_active = (negative_hinge > 0).astype(ms.float32)
        weight_logits = ops.stop_gradient(self.temperature * (self.alpha - distances))
        # Active logits are positive, so the row maximum over active pairs bounds every exponent.
        row_max = (weight_logits * negative_active).max(axis=1, keepdims=True)
        weights = ops.exp(weight_logits - row_max) * negative_active
        weights = weights / ops.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        negative_loss = (weights * negative_hinge).sum(axis=1)

        return (positive_loss + negative_loss).mean()
