"""Information bottleneck: an MLP mapping the observation v to the representation z.

Gaussian (paper section 3): in_dim -> 1024 -> ReLU -> 512 -> ReLU -> 2 x z_dim, read as
the mean mu and, through softplus plus a small floor, the positive scale sigma of a
diagonal Gaussian. In training z = mu + sigma * eps (reparameterised, eps ~ N(0, 1)); in
inference z = mu. Deterministic (the authors' release): the MLP ends in z_dim outputs,
z = mu and the scale is zeros.
"""

import math

import mindspore as ms
import numpy as np
from mindspore import nn, ops

from src.options import Option, Options


BOTTLENECK_OPTIONS = Options(
    Option("model.hidden_dims", [1024, 512], "bottleneck MLP hidden sizes", minimum=1),
    Option("model.z_dim", 256, "size of the representation z", minimum=1),
    Option("model.initial_scale", 0.01,
           "Gaussian bottleneck: sigma at initialisation (softplus bias set to match)", minimum=0.001),
)

# Keeps sigma away from 0 so that log-densities of z stay finite.
SCALE_FLOOR = 1e-4


class InformationBottleneck(nn.Cell):
    """v (B, in_dim) [, noise (B, z_dim)] -> (z, mu, sigma), each (B, z_dim).

    Args:
        in_dim: size of v.
        hidden_dims: hidden layer sizes, each followed by ReLU.
        z_dim: size of z.
        stochastic: True for the Gaussian bottleneck, False for the deterministic one.
        initial_scale: sigma at initialisation: the scale outputs' bias is set so that
            softplus(bias) + floor equals it. A zero bias would start sigma at softplus(0),
            far larger than the spread of the means of an untrained MLP, so z would start as
            noise (docs/differences.md).

    ``noise`` is the standard-normal draw used in training (the trainer draws it on the
    host so that resumed runs sample exactly as uninterrupted ones); when it is None, the
    draw happens in the graph. It is ignored in inference and by the deterministic variant.
    """

    def __init__(self, in_dim, hidden_dims=(1024, 512), z_dim=256, stochastic=True, initial_scale=0.01):
        super().__init__()
        if stochastic and not initial_scale > SCALE_FLOOR:
            raise ValueError(f"initial_scale must exceed the scale floor {SCALE_FLOOR}, got {initial_scale}")
        self.z_dim = z_dim
        self.stochastic = stochastic
        layers = []
        width = in_dim
        for hidden in hidden_dims:
            layers += [nn.Dense(width, hidden), nn.ReLU()]
            width = hidden
        output = nn.Dense(width, 2 * z_dim if stochastic else z_dim)
        if stochastic:
            bias = np.zeros(2 * z_dim, dtype=np.float32)
            bias[z_dim:] = _inverse_softplus(initial_scale - SCALE_FLOOR)
            output.bias.set_data(ms.Tensor(bias))
        self.mlp = nn.SequentialCell(layers + [output])

    def construct(self, v, noise=None):
        out = self.mlp(v)
        if not self.stochastic:
            return out, out, ops.zeros_like(out)
        mean = out[:, :self.z_dim]
        scale = ops.softplus(out[:, self.z_dim:]) + SCALE_FLOOR
        if not self.training:
            return mean, mean, scale
        if noise is None:
            noise = ops.standard_normal(mean.shape)
        return mean + scale * noise, mean, scale


def _inverse_softplus(y):
    """x with softplus(x) = y, for y > 0."""
    return math.log(math.expm1(y))
