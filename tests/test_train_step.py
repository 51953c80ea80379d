"""The graph-mode train step on a toy network: updates, loss scaling, non-finite protection."""

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn, ops

from src.engine.overflow import NonFiniteLossError, NonFiniteSteps
from src.engine.schedule import learning_rates
from src.engine.train_step import AllFinite, NetworkWithObjective, TrainStep


class ToyNetwork(nn.Cell):
    def __init__(self):
        super().__init__()
        self.dense = nn.Dense(4, 3)

    def construct(self, visible, infrared, noise):
        flat_visible = visible.reshape(visible.shape[0], -1)
        flat_infrared = infrared.reshape(infrared.shape[0], -1)
        return self.dense(flat_visible), self.dense(flat_infrared) + noise


class ToyObjective(nn.Cell):
    component_names = ("visible", "infrared")

    def __init__(self, poison=1.0):
        super().__init__()
        self.loss = nn.CrossEntropyLoss()
        self.poison = poison

    def construct(self, outputs, labels):
        visible_loss = self.loss(outputs[0], labels) * self.poison
        infrared_loss = self.loss(outputs[1], labels)
        return visible_loss + infrared_loss, (visible_loss, infrared_loss)


def make_batch():
    rng = np.random.default_rng(0)
    visible = ms.Tensor(rng.normal(size=(6, 1, 2, 2)).astype(np.float32))
    infrared = ms.Tensor(rng.normal(size=(6, 1, 2, 2)).astype(np.float32))
    labels = ms.Tensor(np.array([0, 1, 2, 0, 1, 2], np.int32))
    noise = ms.Tensor(np.zeros((6, 3), np.float32))
    return visible, infrared, labels, noise


@pytest.fixture(autouse=True)
def graph_mode():
    ms.set_context(mode=ms.GRAPH_MODE)
    yield


def weights_of(cell):
    return {p.name: p.asnumpy().copy() for p in cell.trainable_params()}


def test_steps_reduce_the_loss_and_report_components():
    ms.set_seed(0)
    network = ToyNetwork()
    step = TrainStep(NetworkWithObjective(network, ToyObjective()), nn.Adam(network.trainable_params(), 0.05))
    batch = make_batch()
    losses = []
    for _ in range(30):
        total, components, finite = step(*batch)
        assert bool(finite.asnumpy())
        assert components.shape == (2,)
        np.testing.assert_allclose(total.asnumpy(), components.asnumpy().sum(), rtol=1e-5)
        losses.append(float(total.asnumpy()))
    assert losses[-1] < losses[0] * 0.8


def test_loss_scale_gives_the_same_update():
    results = []
    for scale in (1.0, 1024.0):
        ms.set_seed(0)
        network = ToyNetwork()
        for param in network.trainable_params():
            param.set_data(ms.Tensor(np.full(param.shape, 0.1, np.float32)))
        step = TrainStep(NetworkWithObjective(network, ToyObjective()), nn.SGD(network.trainable_params(), 0.1),
                         loss_scale=scale)
        step(*make_batch())
        results.append(weights_of(network))
    for name in results[0]:
        np.testing.assert_allclose(results[0][name], results[1][name], rtol=1e-5, atol=1e-7)


def test_non_finite_loss_leaves_parameters_untouched():
    network = ToyNetwork()
    step = TrainStep(NetworkWithObjective(network, ToyObjective(poison=float("nan"))),
                     nn.Adam(network.trainable_params(), 0.05))
    before = weights_of(network)
    total, _, finite = step(*make_batch())
    assert not bool(finite.asnumpy()) and np.isnan(total.asnumpy())
    after = weights_of(network)
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])


def test_schedule_warms_up_linearly_then_decays():
    rates = learning_rates(1.0, steps_per_epoch=2, epochs=8, warmup_epochs=2, decay_epochs=[4, 6], decay_factor=0.1)
    np.testing.assert_allclose(rates[:4], [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(rates[4:8], 1.0)
    np.testing.assert_allclose(rates[8:12], 0.1, rtol=1e-6)
    np.testing.assert_allclose(rates[12:], 0.01, rtol=1e-6)
    assert learning_rates(1.0, 3, 2, warmup_epochs=0, decay_epochs=[]).tolist() == [1.0] * 6


class FiniteLossNaNGradientObjective(nn.Cell):
    """Loss sqrt(|y - y|) = 0 everywhere, whose gradient is 0.5 / 0 * 0 = NaN."""

    component_names = ("zero",)

    def construct(self, outputs, labels):
        first = outputs[0][:, 0]
        loss = ops.sqrt(ops.abs(first - first)).sum()
        return loss, (loss,)


class InfiniteGradient(nn.Cell):
    """Identity forward; an infinite gradient backward."""

    def construct(self, x):
        return x

    def bprop(self, x, out, dout):
        return (dout * float("inf"),)


class FiniteLossInfiniteGradientObjective(nn.Cell):
    """Loss mean(y), finite, whose gradient is made infinite on its way back."""

    component_names = ("plain",)

    def __init__(self):
        super().__init__()
        self.infinite_gradient = InfiniteGradient()

    def construct(self, outputs, labels):
        loss = self.infinite_gradient(outputs[0]).mean()
        return loss, (loss,)


@pytest.mark.parametrize("objective", [FiniteLossNaNGradientObjective, FiniteLossInfiniteGradientObjective])
def test_non_finite_gradient_with_a_finite_loss_leaves_parameters_untouched(objective):
    network = ToyNetwork()
    step = TrainStep(NetworkWithObjective(network, objective()), nn.SGD(network.trainable_params(), 0.1))
    before = weights_of(network)
    total, _, finite = step(*make_batch())
    assert np.isfinite(total.asnumpy()) and not bool(finite.asnumpy())
    for name, value in weights_of(network).items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_all_finite_agrees_with_numpy(dtype):
    """Large finite values (whose plain sum or squares overflow) stay finite; one inf, -inf
    or NaN anywhere, in a tensor of any shape, makes the whole tuple non-finite."""
    rng = np.random.default_rng(3)
    big = np.finfo(dtype).max
    arrays = [rng.normal(size=shape).astype(dtype) for shape in [(), (7,), (3, 5), (2, 3, 4, 5)]]
    arrays[2][:] = big
    arrays[1][0] = -big
    check = AllFinite()
    assert bool(check(tuple(ms.Tensor(a) for a in arrays)).asnumpy())
    for index, shape in enumerate(a.shape for a in arrays):
        for bad in (np.inf, -np.inf, np.nan):
            poisoned = [a.copy() for a in arrays]
            position = tuple(rng.integers(0, size) for size in shape)
            poisoned[index][position] = bad
            expected = all(np.isfinite(a).all() for a in poisoned)
            assert not expected
            assert bool(check(tuple(ms.Tensor(a) for a in poisoned)).asnumpy()) == expected, (index, bad)


def test_dynamic_loss_scale_skips_a_non_finite_step_and_halves_the_scale():
    """An injected NaN gradient: no update, the scale halves; finite steps then update and,
    after ``scale_window`` of them in a row, double it (MindSpore's rule, CPU here)."""
    network = ToyNetwork()
    poisoned = TrainStep(NetworkWithObjective(network, FiniteLossNaNGradientObjective()),
                         nn.SGD(network.trainable_params(), 0.1), loss_scale=1024.0, scale_window=2)
    before = weights_of(network)
    _, _, finite = poisoned(*make_batch())
    assert not bool(finite.asnumpy())
    assert float(poisoned.loss_scale.asnumpy()) == 512.0
    for name, value in weights_of(network).items():
        np.testing.assert_array_equal(value, before[name])

    healthy = TrainStep(NetworkWithObjective(network, ToyObjective()), nn.SGD(network.trainable_params(), 0.1),
                        loss_scale=512.0, scale_window=2)
    scales = []
    for _ in range(3):
        assert bool(healthy(*make_batch())[2].asnumpy())
        scales.append(float(healthy.loss_scale.asnumpy()))
    assert scales == [512.0, 1024.0, 1024.0]
    assert any(not np.array_equal(value, before[name]) for name, value in weights_of(network).items())


def test_non_finite_steps_stop_at_once_without_loss_scaling():
    steps = NonFiniteSteps(limit=None)
    steps.record(True, 2, 2, 1.5, "RUN/checkpoints")
    with pytest.raises(NonFiniteLossError, match=r"at epoch 2, step 3 \(loss nan\).*RUN/checkpoints"):
        steps.record(False, 2, 3, float("nan"), "RUN/checkpoints")


def test_non_finite_steps_are_skipped_until_too_many_in_a_row():
    steps = NonFiniteSteps(limit=3)
    for step, finite in enumerate([False, False, True, False, False], start=1):
        steps.record(finite, 1, step, 1.0 if finite else float("inf"), "RUN/checkpoints")
    assert (steps.skipped, steps.consecutive) == (4, 2)
    with pytest.raises(NonFiniteLossError, match=r"3 non-finite steps in a row .* epoch 1, step 6"):
        steps.record(False, 1, 6, float("inf"), "RUN/checkpoints")
