"""The conventional IB baseline (Table 3 rows 7-9): negative pairs, critic size, trained heads."""

import os

import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor, nn

from src.config import REPO_ROOT, load_config
from src.engine.train_step import NetworkWithObjective
from src.losses.mutual_information import AdversarialMutualInformation, negative_partners
from src.losses.objective import build_objective
from src.models.network import build_network


def _identity_major(identities, per_identity, seed=0):
    """Labels of a P x K batch: P distinct random identities, each repeated K times in a row."""
    rng = np.random.default_rng(seed)
    return np.repeat(rng.choice(100, size=identities, replace=False), per_identity).astype(np.int32)


def _reference_partners(labels):
    """Brute force: the first row after i, cyclically, with another label."""
    count = len(labels)
    return np.array([next(j % count for j in range(i + 1, i + count) if labels[j % count] != labels[i])
                     for i in range(count)])


class _Partners(nn.Cell):
    def construct(self, labels):
        return negative_partners(labels)


@pytest.mark.parametrize("identities, per_identity", [(2, 1), (2, 2), (3, 2), (16, 2), (4, 4), (5, 3)])
@pytest.mark.parametrize("mode", [ms.PYNATIVE_MODE, ms.GRAPH_MODE])
def test_negatives_never_pair_two_images_of_one_identity(identities, per_identity, mode):
    previous = ms.get_context("mode")
    ms.set_context(mode=mode)
    try:
        labels = _identity_major(identities, per_identity)
        # A specific stream's batch, and the shared branch's [visible rows; infrared rows] pool.
        for batch in (labels, np.concatenate([labels, labels])):
            partners = _Partners()(Tensor(batch)).asnumpy()
            assert np.all(batch[partners] != batch)
            np.testing.assert_array_equal(partners, _reference_partners(batch))
    finally:
        ms.set_context(mode=previous)


def test_one_identity_batch_falls_back_to_the_next_row():
    partners = negative_partners(Tensor(np.full(4, 7, np.int32))).asnumpy()
    np.testing.assert_array_equal(partners, [1, 2, 3, 0])


def test_critic_size_matches_table_4():
    hidden = load_config([]).loss.cib_critic_hidden
    estimator = AdversarialMutualInformation(2048, 256, hidden)
    count = sum(parameter.size for parameter in estimator.trainable_params())
    assert count == hidden ** 2 + (2048 + 256 + 3) * hidden + 1
    # Table 4: 35.71M - 29.41M = 6.30M for the estimator of one ResNet-50 branch.
    assert 6.25e6 < count < 6.35e6


CLASSES = 3
LABELS = np.array([0, 0, 1, 1, 2, 2], np.int32)


def _gradients(row):
    """{parameter name: gradient} of the total loss of an ablation row, at tiny sizes."""
    cfg = load_config(["--config_path", os.path.join(REPO_ROOT, "configs", "ablation", f"{row}.yaml"),
                       "--backbone.depth", "10", "--data.height", "32", "--data.width", "16",
                       "--loss.cib_critic_hidden", "16"])
    network = build_network(cfg, CLASSES)
    objective = build_objective(cfg, network, CLASSES)
    loss_network = NetworkWithObjective(network, objective)
    loss_network.set_train(True)
    rng = np.random.default_rng(0)
    batch = len(LABELS)
    visible, infrared = (Tensor(rng.standard_normal((batch, 3, 32, 16)).astype(np.float32)) for _ in range(2))
    noise = Tensor(rng.standard_normal(network.noise_shape(batch)).astype(np.float32))
    parameters = network.trainable_params() + objective.trainable_params()

    def total(*inputs):
        return loss_network(*inputs)[0]

    gradients = ms.grad(total, grad_position=None, weights=parameters)(visible, infrared, Tensor(LABELS), noise)
    return {parameter.name: gradient for parameter, gradient in zip(parameters, gradients)}


def _largest(gradients, suffix):
    matched = [np.abs(value.asnumpy()).max() for name, value in gradients.items() if name.endswith(suffix)]
    assert matched, suffix
    return max(matched)


@pytest.mark.parametrize("row, branches", [("row07", ("shared",)), ("row08", ("visible", "infrared")),
                                           ("row09", ("shared", "visible", "infrared"))])
def test_cib_rows_train_z_and_never_the_observation_heads(pynative_mode, row, branches):
    gradients = _gradients(row)
    for branch in branches:
        prefix = f"{branch}_branch."
        assert _largest(gradients, prefix + "classifier.weight") == 0
        assert _largest(gradients, prefix + "neck.bn.gamma") == 0
        assert _largest(gradients, prefix + "z_classifier.weight") > 0
        assert _largest(gradients, prefix + "bottleneck.mlp.0.weight") > 0
        assert _largest(gradients, prefix + "encoder.conv1.weight") > 0
    assert _largest(gradients, "critic.layers.0.weight") > 0


def test_row06_without_cib_trains_the_observation_heads(pynative_mode):
    gradients = _gradients("row06")
    for branch in ("shared", "visible", "infrared"):
        assert _largest(gradients, f"{branch}_branch.classifier.weight") > 0
