"""Heads of a branch: the BN neck on v and the identity classifiers on v and on z.

The BN neck follows the "strong baseline" the paper adopts: BatchNorm1d on v, its shift
(beta) frozen at zero so the classifier sees a feature centred only by the statistics;
the observation classifier reads the neck's output and has no bias.
"""

from mindspore import nn
from mindspore.common.initializer import Normal

BN_EPS = 1e-5
BN_MOMENTUM = 0.9
# The strong baseline initialises identity classifiers with N(0, 0.001^2).
CLASSIFIER_INIT_STD = 0.001


class BNNeck(nn.Cell):
    """BatchNorm1d: v (B, dim) -> normalised v (B, dim); ``freeze_bias`` fixes beta at 0."""

    def __init__(self, dim, freeze_bias=True):
        super().__init__()
        self.bn = nn.BatchNorm1d(dim, eps=BN_EPS, momentum=BN_MOMENTUM)
        if freeze_bias:
            self.bn.beta.requires_grad = False

    def construct(self, v):
        return self.bn(v)


def identity_classifier(in_dim, num_classes):
    """Linear classifier (B, in_dim) -> logits (B, num_classes), no bias."""
    return nn.Dense(in_dim, num_classes, has_bias=False, weight_init=Normal(CLASSIFIER_INIT_STD))
