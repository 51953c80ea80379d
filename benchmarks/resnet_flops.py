"""Arithmetic of the benchmarked ResNet-50: floating-point operations per image, by shape alone.

Counts the convolutions only (2 operations per multiply-add: one multiply, one add), which are
over 99% of the arithmetic; batch norms, ReLUs, pooling and the classifier are left out. A
training step is counted as three forward passes (forward, input gradient, weight gradient:
each the same multiply-adds), the usual convention; the stem's input gradient, which no
framework computes, is counted all the same, 0.5% of the whole.
"""

STEM_CHANNELS = 64
# (width, blocks, stride) per stage; the last stage's stride is the caller's (re-id: 1)
STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, None))
EXPANSION = 4
TRAINING_PASSES = 3


def _output_side(side, kernel, stride):
    """Output length of a convolution padded by kernel // 2 on both ends (the ResNet's)."""
    return (side + 2 * (kernel // 2) - kernel) // stride + 1


def _convolution_flops(in_channels, out_channels, kernel, out_height, out_width):
    return 2 * in_channels * out_channels * kernel * kernel * out_height * out_width


def resnet50_forward_flops(height, width, last_stride=1):
    """Operations of one image's forward pass through the ResNet-50 encoder's convolutions.

    Args:
        height, width: input size in pixels.
        last_stride: stride of the last stage (1 doubles both sides of the last feature map).
    Returns:
        int, floating-point operations (multiply-adds x 2).
    """
    height, width = _output_side(height, 7, 2), _output_side(width, 7, 2)
    flops = _convolution_flops(3, STEM_CHANNELS, 7, height, width)
    height, width = _output_side(height, 3, 2), _output_side(width, 3, 2)  # max pool 3x3, stride 2
    channels = STEM_CHANNELS
    for stage_width, blocks, stride in STAGES:
        stride = last_stride if stride is None else stride
        for index in range(blocks):
            block_stride = stride if index == 0 else 1
            out_height, out_width = _output_side(height, 3, block_stride), _output_side(width, 3, block_stride)
            out_channels = stage_width * EXPANSION
            flops += _convolution_flops(channels, stage_width, 1, height, width)
            flops += _convolution_flops(stage_width, stage_width, 3, out_height, out_width)
            flops += _convolution_flops(stage_width, out_channels, 1, out_height, out_width)
            if index == 0:  # projection shortcut
                flops += _convolution_flops(channels, out_channels, 1, out_height, out_width)
            channels, height, width = out_channels, out_height, out_width
    return flops


def resnet50_training_flops(height, width, last_stride=1):
    """Operations of one image's training step through the encoder: three forward passes' worth."""
    return TRAINING_PASSES * resnet50_forward_flops(height, width, last_stride)
