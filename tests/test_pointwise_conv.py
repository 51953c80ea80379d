"""PointwiseConv2d: nn.Conv2d's 1x1 layer with the input gradient computed as a forward convolution."""

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, ops

from src.models.pointwise_conv import PointwiseConv2d
from src.config import load_config
from src.models.resnet import ResNetEncoder, conv


@pytest.fixture(autouse=True)
def graph_mode():
    ms.set_context(mode=ms.GRAPH_MODE)
    yield


class Gradients(nn.Cell):
    """(input gradient, weight gradient) of sum(layer(x) * upstream)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.grad = ops.GradOperation(get_all=True, get_by_list=True, sens_param=True)
        self.weights = layer.trainable_params()

    def construct(self, x, upstream):
        input_grads, weight_grads = self.grad(self.layer, self.weights)(x, upstream)
        return input_grads[0], weight_grads[0]


@pytest.mark.parametrize("shape", [(3, 5, 4, 7), (2, 16, 8, 4)])
def test_values_and_gradients_match_the_builtin_convolution(shape):
    rng = np.random.default_rng(0)
    batch, in_channels, height, width = shape
    out_channels = 6
    pointwise = PointwiseConv2d(in_channels, out_channels, "normal")
    builtin = nn.Conv2d(in_channels, out_channels, 1, has_bias=False, weight_init="normal")
    builtin.weight.set_data(pointwise.weight.data)
    x = ms.Tensor(rng.normal(size=shape).astype(np.float32))
    upstream = ms.Tensor(rng.normal(size=(batch, out_channels, height, width)).astype(np.float32))
    # Forward outside the gradient graph: calling it after differentiating it in one graph is a
    # MindSpore 2.10 compile error (see src/models/pointwise_conv.py).
    ours = [t.asnumpy() for t in (pointwise(x),) + Gradients(pointwise)(x, upstream)]
    reference = [t.asnumpy() for t in (builtin(x),) + Gradients(builtin)(x, upstream)]

    # Independent closed forms: y = W x per pixel; dx = W^T dy; dW = sum over batch and pixels of dy x^T.
    weight = pointwise.weight.asnumpy()[:, :, 0, 0]
    x_np, dy = x.asnumpy(), upstream.asnumpy()
    expected = (np.einsum("oi,bihw->bohw", weight, x_np), np.einsum("oi,bohw->bihw", weight, dy),
                np.einsum("bohw,bihw->oi", dy, x_np)[:, :, None, None])
    for name, value, builtin_value, closed_form in zip(("output", "input grad", "weight grad"), ours, reference,
                                                      expected):
        np.testing.assert_allclose(value, closed_form, rtol=1e-4, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(value, builtin_value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_has_the_parameter_layout_of_nn_conv2d():
    layer = PointwiseConv2d(8, 4, "normal")
    assert isinstance(layer, nn.Conv2d)
    assert [(p.name, p.shape) for p in layer.get_parameters()] == [("weight", (4, 8, 1, 1))]


def pointwise_layers(encoder):
    return {name for name, cell in encoder.cells_and_names() if isinstance(cell, PointwiseConv2d)}


def test_resnet_uses_it_for_every_unstrided_pointwise_convolution_when_asked():
    assert isinstance(conv(8, 4, 1, pointwise_grad="conv"), PointwiseConv2d)
    assert not isinstance(conv(8, 4, 1, stride=2, pointwise_grad="conv"), PointwiseConv2d)
    assert not isinstance(conv(8, 4, 3, pointwise_grad="conv"), PointwiseConv2d)
    pointwise = pointwise_layers(ResNetEncoder(depth=50, last_stride=1, pointwise_grad="conv"))
    # conv1 and conv3 of all 16 blocks, and the unstrided projections of layer1 and layer4.
    assert len(pointwise) == 34
    assert {"layer1.0.downsample.0", "layer4.0.downsample.0"} <= pointwise
    assert "layer2.0.downsample.0" not in pointwise
    assert not pointwise_layers(ResNetEncoder(depth=50, pointwise_grad="builtin"))


def test_auto_follows_the_configured_device_target():
    for device, expected in (("CPU", 1), ("GPU", 0), ("Ascend", 0)):
        cfg = load_config(["--device_target", device, "--backbone.depth", "18"])
        assert cfg.backbone.pointwise_grad == "auto"
        assert len(pointwise_layers(ResNetEncoder.from_config(cfg))) == expected, device


def test_the_constructor_reads_no_global_context_and_refuses_auto():
    # "auto" is the configuration's word; the constructor takes the resolved choice only.
    with pytest.raises(ValueError, match="pointwise_grad must be one of"):
        ResNetEncoder(depth=18, pointwise_grad="auto")


def test_an_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="pointwise_grad must be one of"):
        ResNetEncoder(depth=18, pointwise_grad="fast")
