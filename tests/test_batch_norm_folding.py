"""BatchNorm folded into the convolution before it: same inference features, original network back."""

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from src.datasets.records import VISIBLE
from src.models.batch_norm_folding import batch_norms_folded, folded_convolution
from src.models.network import InferenceNetwork, VIReIDNetwork
from src.models.resnet import ResNetEncoder


@pytest.fixture(autouse=True)
def graph_mode():
    mode = ms.get_context("mode")
    ms.set_context(mode=ms.GRAPH_MODE)
    yield
    ms.set_context(mode=mode)


def randomise_batch_norms(network, seed):
    """Moving statistics, scales and shifts far from their initial 0 / 1, as after training."""
    rng = np.random.default_rng(seed)
    for _, cell in network.cells_and_names():
        if isinstance(cell, (nn.BatchNorm2d, nn.BatchNorm1d)):
            channels = cell.gamma.shape
            cell.moving_mean.set_data(ms.Tensor(rng.normal(0, 0.5, channels).astype(np.float32)))
            cell.moving_variance.set_data(ms.Tensor(rng.uniform(0.2, 3.0, channels).astype(np.float32)))
            cell.gamma.set_data(ms.Tensor(rng.uniform(0.5, 1.5, channels).astype(np.float32)))
            cell.beta.set_data(ms.Tensor(rng.normal(0, 0.3, channels).astype(np.float32)))


def test_a_folded_convolution_is_the_formula_and_equals_convolution_then_batch_norm():
    ms.set_seed(0)
    convolution = nn.Conv2d(3, 5, 3, stride=2, pad_mode="pad", padding=1, has_bias=False)
    batch_norm = nn.BatchNorm2d(5, eps=1e-5)
    pair = nn.SequentialCell([convolution, batch_norm])
    randomise_batch_norms(pair, seed=1)
    pair.set_train(False)
    folded = folded_convolution(convolution, batch_norm)

    gamma, beta = batch_norm.gamma.asnumpy(), batch_norm.beta.asnumpy()
    mean, variance = batch_norm.moving_mean.asnumpy(), batch_norm.moving_variance.asnumpy()
    scale = gamma / np.sqrt(variance + 1e-5)
    np.testing.assert_allclose(folded.weight.asnumpy(), convolution.weight.asnumpy() * scale[:, None, None, None],
                               rtol=1e-6)
    np.testing.assert_allclose(folded.bias.asnumpy(), beta - mean * scale, rtol=1e-6, atol=1e-7)

    images = ms.Tensor(np.random.default_rng(2).standard_normal((2, 3, 9, 7)).astype(np.float32))
    expected = pair(images).asnumpy()
    np.testing.assert_allclose(folded(images).asnumpy(), expected, rtol=1e-5, atol=1e-5)


def test_a_convolution_with_a_bias_is_refused():
    with pytest.raises(ValueError, match="bias-free"):
        folded_convolution(nn.Conv2d(3, 4, 1, has_bias=True), nn.BatchNorm2d(4))


@pytest.mark.parametrize("depth", [10, 50])
def test_folded_network_gives_the_same_features_and_is_given_back_unchanged(depth):
    ms.set_seed(3)
    network = VIReIDNetwork(7, lambda: ResNetEncoder(depth, base_width=8), hidden_dims=(32, 16), z_dim=8,
                            test_feature="both")
    randomise_batch_norms(network, seed=4)
    network.set_train(False)
    names = [parameter.name for parameter in network.get_parameters()]
    cells = {name: cell for name, cell in network.cells_and_names()}
    images = ms.Tensor(np.random.default_rng(5).standard_normal((3, 3, 32, 16)).astype(np.float32))
    expected = InferenceNetwork(network, VISIBLE)(images).asnumpy()

    with batch_norms_folded(network):
        encoder_batch_norms = [name for name, cell in network.cells_and_names()
                               if isinstance(cell, nn.BatchNorm2d) and ".encoder." in f".{name}"]
        folded_names = [parameter.name for parameter in network.get_parameters()]
        folded = InferenceNetwork(network, VISIBLE)(images).asnumpy()
    assert encoder_batch_norms == []
    assert len(set(folded_names)) == len(folded_names)
    # unit-norm parts: float32 rounding over 50 layers stays near 1e-6; a wrong fold is off by > 1e-2
    np.testing.assert_allclose(folded, expected, rtol=1e-4, atol=1e-5)

    assert [parameter.name for parameter in network.get_parameters()] == names
    assert all(cell is cells[name] for name, cell in network.cells_and_names())
    assert len(dict(network.cells_and_names())) == len(cells)
    np.testing.assert_array_equal(InferenceNetwork(network, VISIBLE)(images).asnumpy(), expected)
