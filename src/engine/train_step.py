"""The training step as one graph: forward, objective, gradients, reduction, update.

A Cell-based step compiled in graph mode was measured twice as fast on CPU as ``ms.jit``
on a Python function, so the whole step lives in ``TrainStep``.
"""

import mindspore as ms
from mindspore import nn, ops


class NetworkWithObjective(nn.Cell):
    """Network followed by the objective.

    ``construct(visible, infrared, labels, noise)`` -> ``(total, components)`` with ``total``
    a scalar and ``components`` a (n,) vector in the order of ``objective.component_names``.
    ``noise`` is the standard-normal draw for the Gaussian bottlenecks (see the network).
    """

    def __init__(self, network, objective):
        super().__init__()
        self.network = network
        self.objective = objective

    def construct(self, visible, infrared, labels, noise):
        outputs = self.network(visible, infrared, noise)
        total, components = self.objective(outputs, labels)
        return total, ops.stack(components)


class TrainStep(nn.Cell):
    """One optimisation step; returns ``(total, components, finite)``.

    The update is applied only when the loss and every gradient are finite, so a non-finite
    step leaves the parameters untouched. With ``loss_scale`` > 1 (mixed precision) the loss
    is scaled before differentiation and the gradients unscaled before the update. With
    ``scale_window`` set, the scale is dynamic (MindSpore's DynamicLossScaleUpdateCell):
    halved after a non-finite step, doubled after ``scale_window`` finite steps in a row; it
    and its counters are parameters of this cell (only then), so a saved state restores them. When
    ``distributed``, gradients are averaged over the devices before the update.
    """

    def __init__(self, loss_network, optimizer, loss_scale=1.0, distributed=False, group_size=1, scale_window=None):
        super().__init__(auto_prefix=False)
        self.loss_network = loss_network
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        self.grad = ops.GradOperation(get_by_list=True, sens_param=True)
        self.hyper_map = ops.HyperMap()
        self.all_finite = AllFinite()
        self.reducer = nn.DistributedGradReducer(self.weights, mean=True, degree=group_size) if distributed else None
        self.dynamic = scale_window is not None
        self.unscale = self.dynamic or float(loss_scale) != 1.0
        self.static_scale = float(loss_scale)
        if self.dynamic:
            self.loss_scale = ms.Parameter(ms.Tensor(float(loss_scale), ms.float32), name="loss_scale",
                                           requires_grad=False)
            self.scale_update = nn.DynamicLossScaleUpdateCell(float(loss_scale), scale_factor=2,
                                                              scale_window=scale_window)

    def construct(self, visible, infrared, labels, noise):
        total, components = self.loss_network(visible, infrared, labels, noise)
        scale = self.loss_scale.value() if self.dynamic else ms.Tensor(self.static_scale, ms.float32)
        sens = (ops.fill(total.dtype, total.shape, ops.cast(scale, total.dtype)), ops.zeros_like(components))
        grads = self.grad(self.loss_network, self.weights)(visible, infrared, labels, noise, sens)
        if self.unscale:
            grads = self.hyper_map(ops.partial(_unscale, scale), grads)
        if self.reducer is not None:
            grads = self.reducer(grads)
        finite = ops.logical_and(ops.isfinite(total), self.all_finite(grads))
        if self.dynamic:
            self.scale_update(self.loss_scale, ops.logical_not(finite))
        if finite:
            self.optimizer(grads)
        return total, components, finite


class AllFinite(nn.Cell):
    """Whether every element of a tuple of tensors is finite; returns a bool scalar.

    x * 0 is 0 for finite x and NaN for inf or NaN, so the sum over all tensors of
    sum((x * 0)^2) is exactly 0 or NaN, and no large finite value can overflow it. On CPU a
    multiply and an L2Loss per tensor cost much less than ``ms.amp.all_finite``'s IsFinite
    and ReduceAll (docs/performance.md).
    """

    def __init__(self):
        super().__init__()
        self.hyper_map = ops.HyperMap()

    def construct(self, tensors):
        return ops.isfinite(ops.addn(self.hyper_map(_zero_or_nan, tensors)))


_L2_LOSS = ops.L2Loss()


def _zero_or_nan(tensor):
    return ops.cast(_L2_LOSS(tensor * 0.0), ms.float32)


def _unscale(scale, grad):
    return grad / ops.cast(scale, grad.dtype)
