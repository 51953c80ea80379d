"""Batch normalisation folded into the convolution before it, for inference graphs.

In inference a BatchNorm uses its moving statistics, so after a convolution it is an affine
map per output channel c: bn(conv(x, W))_c = conv(x, W_c * s_c) + (beta_c - mean_c * s_c) with
s_c = gamma_c / sqrt(var_c + eps). One convolution with that weight and bias replaces the pair:
one pass over the feature map less per pair (a ResNet-50 has 53). The folded values are
computed in float64 and rounded once to float32, so features differ from the unfolded graph
by float32 rounding only (tests/test_batch_norm_folding.py).

Which convolution feeds which BatchNorm is the backbone's knowledge
(``Backbone.convolution_batch_norm_pairs``); a backbone that names none is left as it is.
"""

from contextlib import contextmanager

import mindspore as ms
import numpy as np
from mindspore import nn

from src.models.backbone import Backbone


def folded_convolution(convolution, batch_norm):
    """A new ``nn.Conv2d`` with a bias equal to ``batch_norm(convolution(x))`` in inference.

    Args:
        convolution: a bias-free ``nn.Conv2d`` (C_in -> C_out channels).
        batch_norm: an ``nn.BatchNorm2d`` over its C_out output channels.
    """
    if convolution.has_bias:
        raise ValueError("only a bias-free convolution is folded")
    variance = batch_norm.moving_variance.asnumpy().astype(np.float64)
    scale = batch_norm.gamma.asnumpy().astype(np.float64) / np.sqrt(variance + batch_norm.eps)
    weight = convolution.weight.asnumpy().astype(np.float64) * scale[:, None, None, None]
    bias = batch_norm.beta.asnumpy().astype(np.float64) - batch_norm.moving_mean.asnumpy().astype(np.float64) * scale
    return nn.Conv2d(convolution.in_channels, convolution.out_channels, convolution.kernel_size,
                     stride=convolution.stride, pad_mode=convolution.pad_mode, padding=convolution.padding,
                     dilation=convolution.dilation, group=convolution.group, has_bias=True,
                     weight_init=ms.Tensor(weight.astype(np.float32)), bias_init=ms.Tensor(bias.astype(np.float32)))


def _child(owner, key):
    return owner[key] if isinstance(key, int) else getattr(owner, key)


def _replace_child(owner, key, cell):
    """Put ``cell`` at ``key`` of ``owner`` (an attribute name, or an index of a SequentialCell),
    keeping the full names its parameters had (inserting a cell renames them relative to ``owner``)."""
    names = [(parameter, parameter.name) for parameter in cell.get_parameters()]
    if isinstance(key, int):
        owner[key] = cell
    else:
        setattr(owner, key, cell)
    for parameter, name in names:
        parameter.name = name


@contextmanager
def batch_norms_folded(network):
    """Inside the block, every convolution + BatchNorm pair of every backbone in ``network`` is
    one folded convolution (the BatchNorm an identity); on leaving, the original cells are back.

    Meant for exporting or timing an inference graph of a network in inference mode
    (``set_train(False)``); the folded parameters keep the names of the convolution's weight and
    of the BatchNorm's shift, so names stay unique in the graph.
    """
    backbones = [cell for _, cell in network.cells_and_names() if isinstance(cell, Backbone)]
    replaced = []
    try:
        for backbone in backbones:
            for owner, convolution_key, batch_norm_key in backbone.convolution_batch_norm_pairs():
                convolution, batch_norm = _child(owner, convolution_key), _child(owner, batch_norm_key)
                folded = folded_convolution(convolution, batch_norm)
                folded.weight.name = convolution.weight.name
                folded.bias.name = batch_norm.beta.name
                replaced.append((owner, convolution_key, convolution, batch_norm_key, batch_norm))
                _replace_child(owner, convolution_key, folded)
                _replace_child(owner, batch_norm_key, nn.Identity())
        yield network
    finally:
        for owner, convolution_key, convolution, batch_norm_key, batch_norm in reversed(replaced):
            _replace_child(owner, convolution_key, convolution)
            _replace_child(owner, batch_norm_key, batch_norm)
