"""1x1 stride-1 convolution with a faster input gradient on CPU.

The gradient of y = conv1x1(x, W) with respect to x is conv1x1(dy, W^T): another forward
convolution, with the weight's two channel axes swapped. MindSpore 2.10 runs convolutions on
CPU through oneDNN's im2col + GEMM path on plain NCHW tensors, where the backward-data kernel
of a 1x1 convolution is up to 2x slower than the forward kernel of the same size (ResNet-50
layer4 at 256x128, batch 8: 55 ms against 24 ms for 2048 -> 512 channels). Computing the input
gradient as a forward convolution takes ~80 ms (4%) off a 1.86 s ResNet-50 training step
there, for ~11% more peak memory (docs/performance.md). The weight gradient is MindSpore's
own kernel; values agree with the built-in gradient to float32 rounding
(tests/test_pointwise_conv.py).

Parameters, names, initialisation and the forward graph are those of ``nn.Conv2d``, so
checkpoints, pretrained-weight maps and exported models do not see the difference.

MindSpore 2.10 limitation of any cell holding a custom-bprop cell: a graph that first
differentiates such a cell and then calls it again fails to compile ("Graph cycle exists");
calling it first and differentiating after works, which is the order of ``TrainStep``.
"""

from mindspore import nn, ops
from mindspore.ops.operations import _grad_ops


class _PointwiseConvolution(nn.Cell):
    """``convolution(x, weight)`` (a 1x1 Conv2D primitive) with a custom gradient; ``weight`` is
    an input so that it gets a gradient too."""

    def __init__(self, convolution, out_channels):
        super().__init__()
        self.convolution = convolution
        # The weight-gradient primitive MindSpore's own Conv2D gradient uses (no public alias).
        self.weight_gradient = _grad_ops.Conv2DBackpropFilter(out_channels, (1, 1))

    def construct(self, x, weight):
        return self.convolution(x, weight)

    def bprop(self, x, weight, out, dout):
        input_gradient = ops.conv2d(dout, weight.transpose(1, 0, 2, 3))
        return input_gradient, self.weight_gradient(dout, x, weight.shape)


class PointwiseConv2d(nn.Conv2d):
    """Bias-free 1x1 convolution, stride 1: (B, in_channels, H, W) -> (B, out_channels, H, W)."""

    def __init__(self, in_channels, out_channels, weight_init):
        super().__init__(in_channels, out_channels, 1, pad_mode="pad", padding=0, has_bias=False,
                         weight_init=weight_init)
        # nn.Conv2d's own primitive: its attributes are the ones the ONNX and MINDIR exporters expect.
        self.pointwise = _PointwiseConvolution(self.conv2d, out_channels)

    def construct(self, x):
        return self.pointwise(x, self.weight)
