"""ResNet encoder: sizes, last stride, frozen stages, parameter counts."""

import os
import re
import mindspore as ms
import numpy as np
import pytest

from src.models.resnet import ResNetEncoder


pytestmark = pytest.mark.usefixtures("pynative_mode")


def images(batch=2, height=64, width=32, seed=0):
    return ms.Tensor(np.random.default_rng(seed).standard_normal((batch, 3, height, width)).astype(np.float32))


def test_pooled_observation_size():
    encoder = ResNetEncoder(depth=18)
    assert encoder.output_dim == 512
    assert encoder(images()).shape == (2, 512)


def test_last_stride_one_doubles_both_sides_of_the_last_map():
    x = images()
    stride_one = ResNetEncoder(depth=18, last_stride=1).feature_map(x).shape
    stride_two = ResNetEncoder(depth=18, last_stride=2).feature_map(x).shape
    # 64x32 input: /2 conv1, /2 max pool, /2 layer2, /2 layer3 -> 4x2, then /last_stride.
    assert stride_two == (2, 512, 2, 1)
    assert stride_one == (2, 512, 4, 2)


@pytest.mark.parametrize("depth, torchvision_total", [(18, 11_689_512), (34, 21_797_672), (50, 25_557_032)])
def test_parameter_count_is_torchvision_minus_its_classifier(depth, torchvision_total):
    # torchvision's published totals include the 1000-class fc layer (weight + bias).
    encoder = ResNetEncoder(depth=depth)
    fc = (encoder.output_dim + 1) * 1000
    assert sum(p.size for p in encoder.trainable_params()) == torchvision_total - fc


def test_resnet10_is_resnet18_with_one_block_per_stage():
    names = {name for name, _ in ResNetEncoder(depth=10).parameters_and_names()}
    assert names == {name for name, _ in ResNetEncoder(depth=18).parameters_and_names()
                     if not re.match(r"layer\d\.1\.", name)}
    # Stem 9,408 + 128; stages 73,984 + 230,144 + 919,040 + 3,673,088 (convolutions, BatchNorms, shortcuts).
    assert sum(p.size for p in ResNetEncoder(depth=10).trainable_params()) == 4_905_792


def test_frozen_stages_stop_gradients_and_batch_statistics():
    encoder = ResNetEncoder(depth=18, frozen_stages=1)
    frozen = {name for name, p in encoder.parameters_and_names() if p.requires_grad is False}
    trainable_names = {name for name, _ in encoder.parameters_and_names()} - frozen
    assert all(name.startswith(("conv1.", "bn1.", "layer1.")) or "moving_" in name for name in frozen)
    assert any(name.startswith("layer1.") for name in frozen) and "conv1.weight" in frozen
    assert all(name.startswith(("layer2.", "layer3.", "layer4.")) for name in trainable_names)

    encoder.set_train(True)
    stem_mean = encoder.bn1.moving_mean.asnumpy().copy()
    layer1_mean = encoder.layer1[0].bn1.moving_mean.asnumpy().copy()
    layer2_mean = encoder.layer2[0].bn1.moving_mean.asnumpy().copy()
    encoder(images())
    np.testing.assert_array_equal(encoder.bn1.moving_mean.asnumpy(), stem_mean)
    np.testing.assert_array_equal(encoder.layer1[0].bn1.moving_mean.asnumpy(), layer1_mean)
    assert not np.allclose(encoder.layer2[0].bn1.moving_mean.asnumpy(), layer2_mean)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="depth"):
        ResNetEncoder(depth=101)
    with pytest.raises(ValueError, match="last_stride"):
        ResNetEncoder(depth=18, last_stride=3)


TRAIN_MANY_STEPS = """
import sys
sys.path.insert(0, {root!r})
import src
import mindspore as ms, numpy as np
from mindspore import nn, ops
from src.models.resnet import ResNetEncoder
ms.set_context(mode=ms.GRAPH_MODE)
encoder = ResNetEncoder(depth=18)
loss_net = nn.WithLossCell(encoder, nn.MSELoss())
step = nn.TrainOneStepCell(loss_net, nn.SGD(encoder.trainable_params(), 0.01))
images = ms.Tensor(np.random.default_rng(0).standard_normal((2, 3, 16, 8)).astype(np.float32))
target = ms.Tensor(np.zeros((2, encoder.output_dim), np.float32))
for _ in range(25):
    step(images, target)
print("finished")
"""


def test_training_runs_past_the_steps_where_mindspore_kernels_hung():
    # MindSpore 2.10's CPU backward of ops.pad spins forever from the 18th step of a process;
    # the stem avoids it. A subprocess with a timeout turns a regression into a failure, not a hang.
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", TRAIN_MANY_STEPS.format(root=root)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "finished" in result.stdout


@pytest.mark.parametrize("base_width", [16, 32])
def test_base_width_scales_every_stage(base_width):
    encoder = ResNetEncoder(depth=18, base_width=base_width)
    assert encoder.output_dim == 8 * base_width
    assert encoder(images()).shape == (2, 8 * base_width)
    # Every convolution's channel counts scale with the width, so the parameters scale by its square
    # (BatchNorm parameters, linear in the width, are excluded).
    conv_params = {name: p.size for name, p in encoder.parameters_and_names() if "conv" in name or "downsample.0" in name}
    reference = {name: p.size for name, p in ResNetEncoder(depth=18).parameters_and_names()
                 if "conv" in name or "downsample.0" in name}
    assert conv_params.keys() == reference.keys()
    for name, size in conv_params.items():
        ratio = base_width / 64
        expected = reference[name] * ratio * (1 if name == "conv1.weight" else ratio)
        assert size == expected, name
