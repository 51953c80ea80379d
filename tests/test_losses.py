"""Each loss against an independent numpy computation, known cases, and where gradients flow."""

import math

import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor, ops

from src.losses.cross_entropy import LabelSmoothingCrossEntropy
from src.losses.distillation import (VariationalCrossDistillation, VariationalMutualLearning,
                                     VariationalSelfDistillation)
from src.losses.divergences import js_divergence, kl_divergence
from src.losses.mutual_information import AdversarialMutualInformation
from src.losses.mutual_learning import DeepMutualLearning
from src.losses.ranked_list import RankedListLoss
from src.losses.triplet import BatchHardTripletLoss

RNG = np.random.default_rng(0)


def _logits(rows=6, classes=5, scale=2.0):
    return (scale * RNG.standard_normal((rows, classes))).astype(np.float32)


def _np_softmax(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _np_kl(target, predicted):
    p, q = _np_softmax(target), _np_softmax(predicted)
    return float(np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1)))


def _np_js(first, second):
    p, q = _np_softmax(first), _np_softmax(second)
    m = (p + q) / 2
    return float(np.mean(0.5 * np.sum(p * np.log(p / m), axis=1) + 0.5 * np.sum(q * np.log(q / m), axis=1)))


def _value(tensor):
    return float(tensor.asnumpy())


def _grads(fn, *arrays):
    """Gradients of a scalar function w.r.t. each of its tensor inputs, as numpy arrays."""
    tensors = [Tensor(a) for a in arrays]
    grads = ms.grad(fn, grad_position=tuple(range(len(tensors))))(*tensors)
    return [g.asnumpy() for g in grads]


# ---------------------------------------------------------------- values against numpy

def test_label_smoothing_cross_entropy_matches_numpy():
    logits, labels = _logits(8, 7), RNG.integers(0, 7, 8).astype(np.int32)
    eps = 0.1
    targets = np.full((8, 7), eps / 7)
    targets[np.arange(8), labels] += 1 - eps
    expected = -np.mean(np.sum(targets * np.log(_np_softmax(logits)), axis=1))
    loss = LabelSmoothingCrossEntropy(7, eps)(Tensor(logits), Tensor(labels))
    assert _value(loss) == pytest.approx(expected, abs=1e-5)


def test_label_smoothing_zero_is_plain_cross_entropy():
    logits, labels = _logits(8, 7), RNG.integers(0, 7, 8).astype(np.int32)
    expected = -np.mean(np.log(_np_softmax(logits)[np.arange(8), labels]))
    loss = LabelSmoothingCrossEntropy(7, 0.0)(Tensor(logits), Tensor(labels))
    assert _value(loss) == pytest.approx(expected, abs=1e-5)
    reference = ops.cross_entropy(Tensor(logits), Tensor(labels))
    assert _value(loss) == pytest.approx(_value(reference), abs=1e-5)


def test_kl_and_js_match_numpy():
    a, b = _logits(), _logits()
    assert _value(kl_divergence(Tensor(a), Tensor(b))) == pytest.approx(_np_kl(a, b), abs=1e-5)
    assert _value(js_divergence(Tensor(a), Tensor(b))) == pytest.approx(_np_js(a, b), abs=1e-5)


def test_identical_distributions_have_zero_divergence():
    a = _logits()
    shifted = a + 3.0  # same softmax
    assert abs(_value(kl_divergence(Tensor(a), Tensor(shifted)))) < 1e-6
    assert abs(_value(js_divergence(Tensor(a), Tensor(a)))) < 1e-6
    assert abs(_value(VariationalMutualLearning()(Tensor(a), Tensor(shifted)))) < 1e-6
    assert abs(_value(VariationalSelfDistillation()(Tensor(a), Tensor(a)))) < 1e-6


def test_js_is_symmetric_and_at_most_log_two():
    a, b = _logits(scale=4.0), _logits(scale=4.0)
    forward, backward = _value(js_divergence(Tensor(a), Tensor(b))), _value(js_divergence(Tensor(b), Tensor(a)))
    assert forward == pytest.approx(backward, abs=1e-6)
    assert 0 < forward < math.log(2)
    # Disjoint, near one-hot predictions reach the bound (and stay finite where both underflow).
    first = np.full((3, 4), -200.0, np.float32)
    second = first.copy()
    first[:, 0] = 200.0
    second[:, 1] = 200.0
    assert _value(js_divergence(Tensor(first), Tensor(second))) == pytest.approx(math.log(2), abs=1e-5)


def test_distillation_losses_match_numpy():
    v1, z1, v2, z2 = _logits(), _logits(), _logits(), _logits()
    assert _value(VariationalSelfDistillation()(Tensor(v1), Tensor(z1))) == pytest.approx(_np_kl(v1, z1), abs=1e-5)
    vcd = VariationalCrossDistillation()(Tensor(v1), Tensor(z1), Tensor(v2), Tensor(z2))
    assert _value(vcd) == pytest.approx(_np_kl(v2, z1) + _np_kl(v1, z2), abs=1e-5)
    assert _value(VariationalMutualLearning()(Tensor(z1), Tensor(z2))) == pytest.approx(_np_js(z1, z2), abs=1e-5)
    dml = DeepMutualLearning()(Tensor(v1), Tensor(v2))
    assert _value(dml) == pytest.approx(_np_kl(v2, v1) + _np_kl(v1, v2), abs=1e-5)


def _np_unit_distances(features):
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    return np.linalg.norm(unit[:, None, :] - unit[None, :, :], axis=2)


def _np_ranked_list(features, labels, margin, alpha, temperature):
    d = _np_unit_distances(features.astype(np.float64))
    losses = []
    for i in range(len(labels)):
        positive_terms = [d[i, j] - (alpha - margin) for j in range(len(labels))
                          if j != i and labels[j] == labels[i] and d[i, j] > alpha - margin]
        positive = np.mean(positive_terms) if positive_terms else 0.0
        negatives = [j for j in range(len(labels)) if labels[j] != labels[i] and d[i, j] < alpha]
        weights = np.array([math.exp(temperature * (alpha - d[i, j])) for j in negatives])
        negative = sum(w * (alpha - d[i, j]) for w, j in zip(weights / weights.sum(), negatives)) if negatives else 0.0
        losses.append(positive + negative)
    return float(np.mean(losses))


@pytest.mark.parametrize("margin, alpha, temperature", [(0.4, 1.2, 10.0), (0.2, 1.4, 0.0), (0.5, 1.0, 3.0)])
def test_ranked_list_loss_matches_numpy(margin, alpha, temperature):
    features = RNG.standard_normal((12, 6)).astype(np.float32)
    labels = np.repeat(np.arange(3), 4).astype(np.int32)
    expected = _np_ranked_list(features, labels, margin, alpha, temperature)
    assert expected > 0
    loss = RankedListLoss(margin, alpha, temperature)(Tensor(features), Tensor(labels))
    assert _value(loss) == pytest.approx(expected, abs=1e-5)


def test_ranked_list_loss_is_zero_when_every_pair_respects_its_boundary():
    # Identity k sits near the k-th axis: positives ~0 apart (< alpha - margin = 0.8),
    # negatives sqrt(2) ~ 1.41 apart (> alpha = 1.2).
    basis = np.eye(4, 8, dtype=np.float32)
    features = np.repeat(basis, 3, axis=0) + 0.01 * RNG.standard_normal((12, 8)).astype(np.float32)
    labels = np.repeat(np.arange(4), 3).astype(np.int32)
    assert _value(RankedListLoss(0.4, 1.2, 10.0)(Tensor(features), Tensor(labels))) == 0.0
    # Tighter boundaries make the same batch violate them: the check can fail.
    assert _value(RankedListLoss(0.0, 1.6, 10.0)(Tensor(features), Tensor(labels))) > 0.0


def test_batch_hard_triplet_matches_numpy():
    features = RNG.standard_normal((12, 6)).astype(np.float32)
    labels = np.repeat(np.arange(3), 4).astype(np.int32)
    d = _np_unit_distances(features.astype(np.float64))
    expected = np.mean([max(0.0, d[i, labels == labels[i]].max() - d[i, labels != labels[i]].min() + 0.3)
                        for i in range(12)])
    assert expected > 0
    loss = BatchHardTripletLoss(0.3)(Tensor(features), Tensor(labels))
    assert _value(loss) == pytest.approx(expected, abs=1e-5)


def _np_critic(cell, v, z):
    dense = [layer for layer in cell.critic.layers if hasattr(layer, "weight")]
    hidden = np.concatenate([v, z], axis=1).astype(np.float64)
    for index, layer in enumerate(dense):
        hidden = hidden @ layer.weight.asnumpy().T.astype(np.float64) + layer.bias.asnumpy()
        if index < len(dense) - 1:
            hidden = np.maximum(hidden, 0)
    return hidden[:, 0]


def _softplus(x):
    return np.logaddexp(0, x)


# Identity-major, K = 2: row i's negative is the first row of the next identity.
MI_LABELS = np.array([4, 4, 1, 1, 7, 7], np.int32)
MI_PARTNERS = np.array([2, 2, 4, 4, 0, 0])


def test_jensen_shannon_mutual_information_matches_numpy():
    v, z = RNG.standard_normal((6, 10)).astype(np.float32), RNG.standard_normal((6, 4)).astype(np.float32)
    estimator = AdversarialMutualInformation(10, 4, hidden=16)
    joint = _np_critic(estimator, v, z)
    marginal = _np_critic(estimator, v, z[MI_PARTNERS])
    expected = np.mean(-_softplus(-joint)) - np.mean(_softplus(marginal))
    assert _value(estimator(Tensor(v), Tensor(z), Tensor(MI_LABELS))) == pytest.approx(expected, abs=1e-5)


# ---------------------------------------------------------------- where gradients go

def test_kl_gradient_reaches_student_only_through_vsd():
    v, z = _logits(), _logits()
    grad_v, grad_z = _grads(VariationalSelfDistillation(detach_teacher=True), v, z)
    assert np.all(grad_v == 0)
    # d KL(p || softmax(z)) / dz = (softmax(z) - p) / B
    np.testing.assert_allclose(grad_z, (_np_softmax(z) - _np_softmax(v)) / len(z), atol=1e-6)
    grad_v, _ = _grads(VariationalSelfDistillation(detach_teacher=False), v, z)
    assert np.abs(grad_v).max() > 1e-4


def test_no_gradient_reaches_the_teachers_of_vcd():
    arrays = [_logits() for _ in range(4)]
    grad_v1, grad_z1, grad_v2, grad_z2 = _grads(VariationalCrossDistillation(detach_teacher=True), *arrays)
    assert np.all(grad_v1 == 0) and np.all(grad_v2 == 0)
    v1, z1, v2, z2 = arrays
    np.testing.assert_allclose(grad_z1, (_np_softmax(z1) - _np_softmax(v2)) / 6, atol=1e-6)
    np.testing.assert_allclose(grad_z2, (_np_softmax(z2) - _np_softmax(v1)) / 6, atol=1e-6)


def test_vml_sends_gradient_to_both_sides():
    z1, z2 = _logits(), _logits()
    grad_z1, grad_z2 = _grads(VariationalMutualLearning(), z1, z2)
    assert np.abs(grad_z1).max() > 1e-4 and np.abs(grad_z2).max() > 1e-4
    # Symmetry: swapping the inputs swaps the gradients.
    swapped_z2, swapped_z1 = _grads(VariationalMutualLearning(), z2, z1)
    np.testing.assert_allclose(grad_z1, swapped_z1, atol=1e-6)
    np.testing.assert_allclose(grad_z2, swapped_z2, atol=1e-6)


def test_dml_detaches_the_peer_in_each_direction():
    a, b = _logits(), _logits()
    grad_a, grad_b = _grads(DeepMutualLearning(), a, b)
    # Only KL(P_b || P_a) reaches a, only KL(P_a || P_b) reaches b.
    np.testing.assert_allclose(grad_a, (_np_softmax(a) - _np_softmax(b)) / 6, atol=1e-6)
    np.testing.assert_allclose(grad_b, (_np_softmax(b) - _np_softmax(a)) / 6, atol=1e-6)


def test_critic_and_encoder_receive_opposite_signs_through_the_mi_term():
    v, z = RNG.standard_normal((6, 10)).astype(np.float32), RNG.standard_normal((6, 4)).astype(np.float32)
    estimator = AdversarialMutualInformation(10, 4, hidden=16)
    critic = estimator.critic

    def plain_bound(observation, representation, labels):
        negatives = representation[Tensor(MI_PARTNERS.astype(np.int32))]
        joint, marginal = critic(observation, representation), critic(observation, negatives)
        return (-ops.softplus(-joint)).mean() - ops.softplus(marginal).mean()

    weights = critic.trainable_params()
    inputs = (Tensor(v), Tensor(z), Tensor(MI_LABELS))
    (adv_v, adv_z), adv_w = ms.grad(estimator, grad_position=(0, 1), weights=weights)(*inputs)
    (plain_v, plain_z), plain_w = ms.grad(plain_bound, grad_position=(0, 1), weights=weights)(*inputs)
    # Inputs (encoder, bottleneck): the ordinary gradient, so descending the loss lowers I_JS.
    np.testing.assert_allclose(adv_v.asnumpy(), plain_v.asnumpy(), atol=1e-6)
    np.testing.assert_allclose(adv_z.asnumpy(), plain_z.asnumpy(), atol=1e-6)
    assert np.abs(plain_v.asnumpy()).max() > 1e-6
    # Critic: the negated gradient, so the same descent step raises I_JS.
    for adversarial, plain in zip(adv_w, plain_w):
        np.testing.assert_allclose(adversarial.asnumpy(), -plain.asnumpy(), atol=1e-6)
    assert max(np.abs(g.asnumpy()).max() for g in plain_w) > 1e-6


def test_mi_critic_step_raises_the_bound():
    v, z = RNG.standard_normal((8, 10)).astype(np.float32), RNG.standard_normal((8, 4)).astype(np.float32)
    v[:, :4] = z  # v and z share information the critic can find
    estimator = AdversarialMutualInformation(10, 4, hidden=16)
    optimizer = ms.nn.Adam(estimator.trainable_params(), learning_rate=0.01)
    train = ms.nn.TrainOneStepCell(estimator, optimizer)
    inputs = (Tensor(v), Tensor(z), Tensor(np.arange(8, dtype=np.int32)))
    before = _value(estimator(*inputs))
    for _ in range(20):
        train(*inputs)
    assert _value(estimator(*inputs)) > before + 0.2


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="margin"):
        RankedListLoss(margin=1.5, alpha=1.2)
    with pytest.raises(ValueError, match="epsilon"):
        LabelSmoothingCrossEntropy(5, 1.5)
    with pytest.raises(ValueError, match="triplet"):
        BatchHardTripletLoss(-0.1)
