"""Deep mutual learning (Zhang et al., CVPR 2018) between two classifiers seeing the same image."""

from mindspore import nn, ops

from src.losses.divergences import kl_divergence


class DeepMutualLearning(nn.Cell):
    """``construct(first_logits, second_logits)`` (B, C) each -> scalar.

    KL(P_second || P_first) teaches the first classifier and KL(P_first || P_second) the
    second; in each direction the teacher (the peer) is detached, so each classifier only
    moves towards the other and never drags it. Returns the sum of both directions.
    """

    def construct(self, first_logits, second_logits):
        teaches_first = kl_divergence(ops.stop_gradient(second_logits), first_logits)
        teaches_second = kl_divergence(ops.stop_gradient(first_logits), second_logits)
        return teaches_first + teaches_second
