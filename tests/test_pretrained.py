"""Weight loading: torchvision / mindcv / model-zoo naming, numerics against a NumPy
reference of torchvision's ResNet, refusal of mismatched checkpoints, network checkpoints."""

import importlib.util

import mindspore as ms
import numpy as np
import pytest

from src.config import load_config
from src.models.network import VIReIDNetwork, build_network
from src.models.pretrained import (CheckpointMismatchError, load_network_checkpoint, load_pretrained_backbone,
                                   torchvision_to_project_names)
from src.models.resnet import ResNetEncoder


def resnet18():
    """A fresh ResNet-18 encoder (one per branch)."""
    return ResNetEncoder(18)


pytestmark = pytest.mark.usefixtures("pynative_mode")


# ---- a torchvision ResNet state dict, written from torchvision's published layout ----

TORCHVISION_LAYOUT = {18: ("basic", (2, 2, 2, 2)), 50: ("bottleneck", (3, 4, 6, 3))}


def torchvision_shapes(depth):
    """{torchvision key: shape} of torchvision.models.resnet{depth}() (1000 classes)."""
    kind, counts = TORCHVISION_LAYOUT[depth]
    expansion = 4 if kind == "bottleneck" else 1
    shapes = {}

    def bn(prefix, channels):
        for leaf in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{prefix}.{leaf}"] = (channels,)
        shapes[f"{prefix}.num_batches_tracked"] = ()

    shapes["conv1.weight"] = (64, 3, 7, 7)
    bn("bn1", 64)
    in_channels = 64
    for stage, (width, count) in enumerate(zip((64, 128, 256, 512), counts), start=1):
        for block in range(count):
            prefix = f"layer{stage}.{block}"
            if kind == "basic":
                convs = [(width, in_channels, 3, 3), (width, width, 3, 3)]
            else:
                convs = [(width, in_channels, 1, 1), (width, width, 3, 3), (width * 4, width, 1, 1)]
            for index, shape in enumerate(convs, start=1):
                shapes[f"{prefix}.conv{index}.weight"] = shape
                bn(f"{prefix}.bn{index}", shape[0])
            if block == 0 and (stage > 1 or in_channels != width * expansion):
                shapes[f"{prefix}.downsample.0.weight"] = (width * expansion, in_channels, 1, 1)
                bn(f"{prefix}.downsample.1", width * expansion)
            in_channels = width * expansion
    shapes["fc.weight"] = (1000, in_channels)
    shapes["fc.bias"] = (1000,)
    return shapes


def random_torchvision_state(depth, seed=0):
    """Random but well-scaled weights and BN statistics in torchvision naming (float32)."""
    rng = np.random.default_rng(seed)
    state = {}
    for name, shape in torchvision_shapes(depth).items():
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "num_batches_tracked":
            value = np.array(100, dtype=np.int64)
        elif len(shape) == 4:
            value = rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
        elif leaf == "running_var":
            value = rng.uniform(0.5, 1.5, shape)
        elif leaf == "weight" and len(shape) == 1:
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.normal(0.0, 0.1, shape)
        state[name] = value.astype(np.float32) if leaf != "num_batches_tracked" else value
    return state


# ---- NumPy reference of torchvision's ResNet-18 in eval mode (float64) ----

def np_conv(x, weight, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = weight.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,ocij->nohw", windows, weight, optimize=True)


def np_bn(x, state, prefix):
    scale = state[f"{prefix}.weight"] / np.sqrt(state[f"{prefix}.running_var"] + 1e-5)
    shift = state[f"{prefix}.bias"] - state[f"{prefix}.running_mean"] * scale
    return x * scale[None, :, None, None] + shift[None, :, None, None]


def np_maxpool(x):
    x = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    return np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))[:, :, ::2, ::2].max(axis=(4, 5))


def np_resnet18(x, state, last_stride):
    state = {name: value.astype(np.float64) for name, value in state.items()}
    relu = lambda t: np.maximum(t, 0.0)  # noqa: E731
    x = np_maxpool(relu(np_bn(np_conv(x, state["conv1.weight"], 2, 3), state, "bn1")))
    for stage, stride in zip(range(1, 5), (1, 2, 2, last_stride)):
        for block in range(2):
            prefix = f"layer{stage}.{block}"
            block_stride = stride if block == 0 else 1
            out = relu(np_bn(np_conv(x, state[f"{prefix}.conv1.weight"], block_stride, 1), state, f"{prefix}.bn1"))
            out = np_bn(np_conv(out, state[f"{prefix}.conv2.weight"], 1, 1), state, f"{prefix}.bn2")
            shortcut = x
            if f"{prefix}.downsample.0.weight" in state:
                shortcut = np_bn(np_conv(x, state[f"{prefix}.downsample.0.weight"], block_stride, 0), state,
                                 f"{prefix}.downsample.1")
            x = relu(out + shortcut)
    return x.mean(axis=(2, 3))


def save_checkpoint(entries, path):
    ms.save_checkpoint([{"name": name, "data": ms.Tensor(value)} for name, value in entries.items()], str(path))
    return str(path)


def encoder_values(encoder):
    return {name: p.asnumpy() for name, p in encoder.parameters_and_names()}


# ---- tests ----

@pytest.mark.parametrize("depth", [18, 50])
def test_torchvision_names_and_shapes_map_one_to_one(depth):
    shapes = torchvision_shapes(depth)
    converted = torchvision_to_project_names({name: np.zeros(shape) for name, shape in shapes.items()})
    without_fc = {name: value.shape for name, value in converted.items() if not name.startswith("fc.")}
    encoder_shapes = {name: tuple(p.shape) for name, p in ResNetEncoder(depth).parameters_and_names()}
    assert without_fc == encoder_shapes
    assert len(converted) == len(shapes) - sum(name.endswith("num_batches_tracked") for name in shapes)


def test_bn_entries_are_renamed_to_mindspore_names():
    converted = torchvision_to_project_names({"layer2.0.downsample.1.running_var": 1, "layer2.0.downsample.0.weight": 2,
                                              "bn1.weight": 3, "layer1.0.bn2.bias": 4, "fc.weight": 5})
    assert converted == {"layer2.0.downsample.1.moving_variance": 1, "layer2.0.downsample.0.weight": 2,
                         "bn1.gamma": 3, "layer1.0.bn2.beta": 4, "fc.weight": 5}


@pytest.mark.parametrize("last_stride", [1, 2])
def test_converted_resnet18_matches_numpy_reference_of_torchvision(tmp_path, last_stride):
    state = random_torchvision_state(18, seed=last_stride)
    path = save_checkpoint(torchvision_to_project_names(state), tmp_path / "resnet18.ckpt")
    encoder = ResNetEncoder(18, last_stride=last_stride)
    report = load_pretrained_backbone(encoder, path)
    assert report.dropped == ("fc.weight", "fc.bias") and not report.unexpected
    encoder.set_train(False)
    x = np.random.default_rng(5).standard_normal((2, 3, 64, 32)).astype(np.float32)
    ours = encoder(ms.Tensor(x)).asnumpy()
    reference = np_resnet18(x.astype(np.float64), state, last_stride)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())


@pytest.mark.skipif(importlib.util.find_spec("torch") is None or importlib.util.find_spec("torchvision") is None,
                    reason="torch / torchvision not installed")
def test_converted_resnet18_matches_torchvision(tmp_path):
    import torch
    import torchvision

    model = torchvision.models.resnet18()
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in random_torchvision_state(18).items()})
    model.eval()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    encoder = ResNetEncoder(18, last_stride=2)
    load_pretrained_backbone(encoder, save_checkpoint(torchvision_to_project_names(state), tmp_path / "r18.ckpt"))
    encoder.set_train(False)
    x = np.random.default_rng(1).standard_normal((2, 3, 64, 32)).astype(np.float32)
    with torch.no_grad():
        model.fc = torch.nn.Identity()
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(encoder(ms.Tensor(x)).asnumpy(), expected, rtol=1e-4, atol=1e-4)


def mindspore_zoo_names(project_state, style):
    """Rename project names the way mindcv or the MindSpore model zoo names them."""
    renamed = {}
    for name, value in project_state.items():
        if style == "mindcv":
            name = name.replace(".downsample.", ".down_sample.")
        else:
            name = name.replace(".downsample.", ".down_sample_layer.")
            name = name.replace(".bn1.", ".bn1d.").replace(".bn2.", ".bn2d.")
        renamed[name] = value
    return renamed


@pytest.mark.parametrize("style, classifier", [("mindcv", "classifier"), ("zoo", "end_point")])
def test_mindspore_checkpoints_load_by_explicit_names_and_skip_optimizer_state(tmp_path, style, classifier):
    project_state = torchvision_to_project_names(random_torchvision_state(18, seed=3))
    fc = {key: project_state.pop(key) for key in ("fc.weight", "fc.bias")}
    entries = mindspore_zoo_names(project_state, style)
    entries.update({f"{classifier}.{leaf}": value for leaf, value in (("weight", fc["fc.weight"]),
                                                                       ("bias", fc["fc.bias"]))})
    # Momentum state under the same suffixes: must never reach the weights.
    moments = {f"moments.{name}": np.full_like(value, 7.0) for name, value in entries.items()}
    path = save_checkpoint({**entries, **moments, "learning_rate": np.array(0.1, np.float32)}, tmp_path / "zoo.ckpt")

    encoder = ResNetEncoder(18)
    before = encoder_values(encoder)
    report = load_pretrained_backbone(encoder, path)
    after = encoder_values(encoder)
    assert set(report.loaded) == set(after) and not report.missing
    assert set(report.dropped) == {f"{classifier}.weight", f"{classifier}.bias"}
    assert set(report.unexpected) == set(moments) | {"learning_rate"}
    for name, value in after.items():
        np.testing.assert_array_equal(value, project_state[name])
        assert not np.array_equal(value, before[name]) or name.endswith("moving_variance")


@pytest.mark.parametrize("checkpoint_depth, encoder_depth, message", [
    (50, 18, r"layer1\.0\.conv1\.weight \(64, 64, 1, 1\)"),
    # ResNet-18 holds every ResNet-10 parameter with the right shape; its second blocks give it away.
    (18, 10, r"residual blocks this network lacks \(layer1\.1\.conv1\.weight"),
])
def test_checkpoint_of_another_depth_is_refused_naming_keys(tmp_path, checkpoint_depth, encoder_depth, message):
    state = torchvision_to_project_names(random_torchvision_state(checkpoint_depth))
    path = save_checkpoint(state, tmp_path / f"r{checkpoint_depth}.ckpt")
    encoder = ResNetEncoder(encoder_depth)
    before = encoder_values(encoder)
    with pytest.raises(CheckpointMismatchError, match=message):
        load_pretrained_backbone(encoder, path)
    for name, value in encoder_values(encoder).items():
        np.testing.assert_array_equal(value, before[name])


def test_checkpoint_without_resnet_names_is_refused(tmp_path):
    path = save_checkpoint({"backbone.stem.weight": np.zeros((64, 3, 7, 7), np.float32)}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointMismatchError, match="backbone.stem.weight"):
        load_pretrained_backbone(ResNetEncoder(18), path)


def test_incomplete_backbone_is_refused_naming_missing_keys(tmp_path):
    state = torchvision_to_project_names(random_torchvision_state(18))
    del state["layer4.1.bn2.gamma"]
    with pytest.raises(CheckpointMismatchError, match=r"lacks 1 encoder parameters \(layer4\.1\.bn2\.gamma\)"):
        load_pretrained_backbone(ResNetEncoder(18), save_checkpoint(state, tmp_path / "cut.ckpt"))


def tiny_network(**kwargs):
    return VIReIDNetwork(4, resnet18, hidden_dims=(32,), z_dim=8, **kwargs)


def test_network_checkpoint_round_trip_ignores_optimizer_moments(tmp_path):
    source = tiny_network()
    names = [name for name, _ in source.parameters_and_names()]
    values = {name: p.asnumpy() for name, p in source.parameters_and_names()}
    # As the trainer writes them: a wrapping cell's prefix, and Adam moments with that prefix too.
    entries = {f"network.{name}": value for name, value in values.items()}
    entries.update({f"moment1.network.{name}": np.full_like(value, 9.0) for name, value in values.items()
                    if "moving_" not in name})
    path = save_checkpoint(entries, tmp_path / "state.ckpt")

    target = tiny_network()
    report = load_network_checkpoint(target, path)
    assert set(report.loaded) == set(names)
    assert len(report.unexpected) == sum("moving_" not in name for name in names)
    for name, parameter in target.parameters_and_names():
        np.testing.assert_array_equal(parameter.asnumpy(), values[name])


def test_network_checkpoint_of_another_configuration_is_refused(tmp_path):
    source = tiny_network(shared_bottleneck="none", specific_bottleneck="none")
    path = save_checkpoint({name: p.asnumpy() for name, p in source.parameters_and_names()}, tmp_path / "nob.ckpt")
    with pytest.raises(CheckpointMismatchError, match=r"shared_branch\.bottleneck\.mlp\.0\.weight"):
        load_network_checkpoint(tiny_network(), path)


def test_network_checkpoint_of_a_deeper_resnet_is_refused(tmp_path):
    # A ResNet-18 network's checkpoint fits every parameter of the same network on ResNet-10.
    def network(depth):
        return VIReIDNetwork(4, lambda: ResNetEncoder(depth, base_width=8), hidden_dims=(16,), z_dim=8)
    values = {name: p.asnumpy() for name, p in network(18).parameters_and_names()}
    entries = {f"network.{name}": value for name, value in values.items()}
    entries.update({f"moment1.network.{name}": value for name, value in values.items()})
    path = save_checkpoint(entries, tmp_path / "r18_network.ckpt")
    with pytest.raises(CheckpointMismatchError, match=r"residual blocks this network lacks \([a-z_]+\.encoder\.layer1\.1\."):
        load_network_checkpoint(network(10), path)


def test_build_network_loads_the_pretrained_backbone_into_every_encoder(tmp_path):
    state = torchvision_to_project_names(random_torchvision_state(18, seed=4))
    path = save_checkpoint(state, tmp_path / "imagenet18.ckpt")
    cfg = load_config(["--backbone.depth", "18", "--backbone.pretrained", path, "--model.hidden_dims", "[16]"])
    network = build_network(cfg, 3)
    assert set(network.pretrained_reports) == {"shared", "visible", "infrared"}
    for encoder in network.encoders().values():
        for name, parameter in encoder.parameters_and_names():
            np.testing.assert_array_equal(parameter.asnumpy(), state[name])
