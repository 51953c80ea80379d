"""Cross-entropy with label smoothing (Szegedy et al., 2016), as in the re-id strong baseline."""

from mindspore import Tensor, nn, ops
import mindspore as ms


class LabelSmoothingCrossEntropy(nn.Cell):
    """Cross-entropy against targets (1 - epsilon) * one_hot(y) + epsilon / C.

    ``construct(logits, labels)``: logits (B, C) float, labels (B,) int32 in [0, C);
    returns the mean over B of -sum_c target_c * log softmax(logits)_c (a scalar, nats).
    With epsilon 0 this is the ordinary cross-entropy.
    """

    def __init__(self, num_classes, epsilon=0.1):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"label smoothing epsilon must be in [0, 1], got {epsilon}")
        self.num_classes = num_classes
        self.on_value = Tensor(1.0 - epsilon + epsilon / num_classes, ms.float32)
        self.off_value = Tensor(epsilon / num_classes, ms.float32)

    def construct(self, logits, labels):
        targets = ops.one_hot(labels, self.num_classes, self.on_value, self.off_value)
        log_probs = ops.log_softmax(logits, axis=1)
        return -(targets * log_probs).sum(axis=1).mean()
