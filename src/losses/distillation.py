"""Variational distillation losses of the paper (Eq. 8, 12, 15; docs/differences.md).

P_v is the softmax of a branch's observation classifier (on v), P_z that of its
representation classifier (on z). Inputs are logits (B, C); outputs are scalars (nats,
averaged over the B rows). Where the observation is the teacher, ``detach_teacher`` stops
its gradient so that only the representation (and what produces it) learns from it.
"""

from mindspore import nn, ops

from src.losses.divergences import js_divergence, kl_divergence
from src.options import Option, Options


DISTILLATION_OPTIONS = Options(
    Option("loss.detach_teacher", True, "stop the gradient on the teacher side of VSD / VCD"),
)


class VariationalSelfDistillation(nn.Cell):
    """VSD (Eq. 8) on one branch: KL(P_v || P_z).

    ``construct(observation_logits, representation_logits)`` -> scalar.
    """

    def __init__(self, detach_teacher=True):
        super().__init__()
        self.detach_teacher = bool(detach_teacher)

    def construct(self, observation_logits, representation_logits):
        if self.detach_teacher:
            observation_logits = ops.stop_gradient(observation_logits)
        return kl_divergence(observation_logits, representation_logits)


class VariationalCrossDistillation(nn.Cell):
    """VCD (Eq. 15) across the two views of the shared branch.

    KL(P_v2 || P_z1) + KL(P_v1 || P_z2): each view's representation is taught by the other
    view's observation. Row k of view 1 pairs with row k of view 2 (same identity). The two
    directions are summed, as VSD sums its two branches and DML its two directions, so that
    every KL of Eq. 16 carries the same weight beta.
    ``construct(v1_logits, z1_logits, v2_logits, z2_logits)`` -> scalar.
    """

    def __init__(self, detach_teacher=True):
        super().__init__()
        self.detach_teacher = bool(detach_teacher)

    def construct(self, v1_logits, z1_logits, v2_logits, z2_logits):
        if self.detach_teacher:
            v1_logits = ops.stop_gradient(v1_logits)
            v2_logits = ops.stop_gradient(v2_logits)
        return kl_divergence(v2_logits, z1_logits) + kl_divergence(v1_logits, z2_logits)


class VariationalMutualLearning(nn.Cell):
    """VML (Eq. 12): Jensen-Shannon divergence between P_z1 and P_z2, rows paired by index.

    No side is detached: both representations learn from each other.
    ``construct(z1_logits, z2_logits)`` -> scalar in [0, log 2].
    """

    def construct(self, z1_logits, z2_logits):
        return js_divergence(z1_logits, z2_logits)
