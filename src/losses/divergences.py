"""Divergences between the class distributions that two classifiers predict, from logits.

All functions take logits of shape (B, C), apply a softmax over C, and return a scalar:
the divergence of each row pair, averaged over the B rows ("batchmean"), in nats.
"""

import math

from mindspore import ops

_LOG_2 = math.log(2.0)


def kl_divergence(target_logits, predicted_logits):
    """KL(P_target || P_predicted), batchmean. Gradients reach both sides; detach as needed."""
    target_log_probs = ops.log_softmax(target_logits, axis=1)
    predicted_log_probs = ops.log_softmax(predicted_logits, axis=1)
    per_row = (ops.exp(target_log_probs) * (target_log_probs - predicted_log_probs)).sum(axis=1)
    return per_row.mean()


def js_divergence(first_logits, second_logits):
    """Jensen-Shannon divergence between P_first and P_second, batchmean; symmetric, in [0, log 2]."""
    first_log_probs = ops.log_softmax(first_logits, axis=1)
    second_log_probs = ops.log_softmax(second_logits, axis=1)
    # log of the mixture computed as a log-sum-exp, finite even where both probabilities underflow.
    mixture_log_probs = ops.logsumexp(ops.stack((first_log_probs, second_log_probs)), 0) - _LOG_2
    first_term = (ops.exp(first_log_probs) * (first_log_probs - mixture_log_probs)).sum(axis=1)
    second_term = (ops.exp(second_log_probs) * (second_log_probs - mixture_log_probs)).sum(axis=1)
    return (0.5 * (first_term + second_term)).mean()
