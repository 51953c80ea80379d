"""The three-branch network: outputs per Table 3 setting, routing, sampling, inference."""

import mindspore as ms
import numpy as np
import pytest

from src.config import load_config
from src.models import outputs
from src.models.bottleneck import InformationBottleneck
from src.models.network import InferenceNetwork, VIReIDNetwork, build_network
from src.models.resnet import ResNetEncoder


def resnet10():
    """A fresh ResNet-10 encoder (one per branch)."""
    return ResNetEncoder(10)


CLASSES = 5
Z_DIM = 8
BATCH = 2


pytestmark = pytest.mark.usefixtures("pynative_mode")


def tiny(**kwargs):
    return VIReIDNetwork(CLASSES, resnet10, hidden_dims=(32, 16), z_dim=Z_DIM, **kwargs)


def images(seed, batch=BATCH):
    return ms.Tensor(np.random.default_rng(seed).standard_normal((batch, 3, 64, 32)).astype(np.float32))


def l2(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# Paper Table 3: E_S only, E_V + E_I only, both; each without and with bottlenecks.
TABLE3 = [
    dict(use_shared=True, use_specific=False, shared_bottleneck="none"),
    dict(use_shared=False, use_specific=True, specific_bottleneck="none"),
    dict(use_shared=True, use_specific=True, shared_bottleneck="none", specific_bottleneck="none"),
    dict(use_shared=True, use_specific=False, shared_bottleneck="gaussian"),
    dict(use_shared=False, use_specific=True, specific_bottleneck="gaussian"),
    dict(use_shared=True, use_specific=True, shared_bottleneck="gaussian", specific_bottleneck="deterministic"),
]


@pytest.mark.parametrize("setting", TABLE3)
def test_training_and_inference_shapes_for_every_table3_setting(setting):
    network = tiny(**setting)
    network.set_train(True)
    streams = network(images(0), images(1))
    assert network.stream_names == outputs.stream_names(setting["use_shared"], setting["use_specific"])
    assert len(streams) == len(network.stream_names)
    for name, stream in zip(network.stream_names, streams):
        with_z = name in network.bottleneck_streams
        assert len(stream) == (outputs.ALL_FIELDS if with_z else outputs.OBSERVATION_FIELDS)
        assert stream[outputs.FEATURE].shape == (BATCH, 512)
        assert stream[outputs.LOGITS].shape == (BATCH, CLASSES)
        if with_z:
            for field in (outputs.Z, outputs.Z_MEAN, outputs.Z_SCALE):
                assert stream[field].shape == (BATCH, Z_DIM)
            assert stream[outputs.Z_LOGITS].shape == (BATCH, CLASSES)
    branches = int(setting["use_shared"]) + int(setting["use_specific"])
    assert network.feature_dim == 512 * branches
    for modality in ("visible", "infrared"):
        features = InferenceNetwork(network, modality)(images(2)).asnumpy()
        assert features.shape == (BATCH, network.feature_dim)
        # Each branch's part is L2-normalised: squared norm = number of parts.
        np.testing.assert_allclose((features ** 2).sum(axis=1), branches, rtol=1e-5)


@pytest.mark.parametrize("test_feature, test_branches, parts", [("z", "all", 2), ("both", "specific", 2),
                                                                ("both", "all", 4), ("v", "shared", 1)])
def test_inference_feature_is_the_normalised_parts_of_the_chosen_branches(test_feature, test_branches, parts):
    network = tiny(test_feature=test_feature, test_branches=test_branches)
    infrared = InferenceNetwork(network, "infrared")
    x = images(3)
    features = infrared(x).asnumpy()
    assert features.shape == (BATCH, network.feature_dim)

    expected = []
    chosen = {"all": [network.shared_branch, network.infrared_branch], "shared": [network.shared_branch],
              "specific": [network.infrared_branch]}[test_branches]
    for branch in chosen:
        v = branch.encoder(x)
        if test_feature in ("v", "both"):
            expected.append(l2(branch.neck(v).asnumpy()))
        if test_feature in ("z", "both"):
            expected.append(l2(branch.bottleneck(v)[1].asnumpy()))
    assert len(expected) == parts
    np.testing.assert_allclose(features, np.concatenate(expected, axis=1), rtol=1e-5, atol=1e-6)
    assert InferenceNetwork(network, "infrared")(x).asnumpy() == pytest.approx(features, abs=1e-6)


def test_visible_and_infrared_inference_use_their_own_specific_branch():
    network = tiny()
    x = images(4)
    visible = InferenceNetwork(network, "visible")(x).asnumpy()
    infrared = InferenceNetwork(network, "infrared")(x).asnumpy()
    np.testing.assert_allclose(visible[:, :512], infrared[:, :512], rtol=1e-5, atol=1e-6)  # shared part
    assert not np.allclose(visible[:, 512:], infrared[:, 512:], atol=1e-3)


def test_routing_infrared_never_reaches_the_visible_branch_and_vice_versa():
    network = tiny()
    names = network.stream_names
    network.set_train(True)
    noise = ms.Tensor(np.zeros(network.noise_shape(BATCH), np.float32))
    first = network(images(5), images(6), noise)
    second = network(images(5), images(7), noise)  # infrared changed
    for field in range(outputs.ALL_FIELDS):
        np.testing.assert_allclose(first[names.index("visible")][field].asnumpy(),
                                   second[names.index("visible")][field].asnumpy(), rtol=1e-6, atol=1e-6)
    assert not np.allclose(first[names.index("infrared")][0].asnumpy(), second[names.index("infrared")][0].asnumpy())

    # Gradients of a loss on the visible stream: zero on every E_I parameter, not on E_V's.
    visible_index = names.index("visible")

    def visible_loss(visible, infrared):
        stream = network(visible, infrared, noise)[visible_index]
        return stream[outputs.LOGITS].sum() + stream[outputs.Z_LOGITS].sum() + stream[outputs.FEATURE].sum()

    infrared_params = network.infrared_branch.trainable_params()
    visible_params = network.visible_branch.trainable_params()
    grads = ms.grad(visible_loss, grad_position=None, weights=infrared_params + visible_params)(images(5), images(6))
    infrared_grads, visible_grads = grads[:len(infrared_params)], grads[len(infrared_params):]
    assert all(float(np.abs(g.asnumpy()).max()) == 0.0 for g in infrared_grads)
    assert float(np.abs(visible_grads[0].asnumpy()).max()) > 0.0

    # In inference the shared branch too sees each image alone.
    network.set_train(False)
    shared_first = network(images(5), images(6))[names.index("shared_visible")][outputs.FEATURE].asnumpy()
    shared_second = network(images(5), images(7))[names.index("shared_visible")][outputs.FEATURE].asnumpy()
    np.testing.assert_allclose(shared_first, shared_second, rtol=1e-5, atol=1e-6)


def test_gaussian_bottleneck_samples_in_training_only():
    bottleneck = InformationBottleneck(16, (32,), Z_DIM, stochastic=True)
    v = ms.Tensor(np.random.default_rng(8).standard_normal((4, 16)).astype(np.float32))
    bottleneck.set_train(True)
    z1, mean1, scale1 = (t.asnumpy() for t in bottleneck(v))
    z2, mean2, _ = (t.asnumpy() for t in bottleneck(v))
    np.testing.assert_array_equal(mean1, mean2)
    assert (scale1 > 0).all()
    assert not np.allclose(z1, z2) and not np.allclose(z1, mean1)
    noise = np.random.default_rng(9).standard_normal((4, Z_DIM)).astype(np.float32)
    z3 = bottleneck(v, ms.Tensor(noise))[0].asnumpy()
    np.testing.assert_allclose(z3, mean1 + scale1 * noise, rtol=1e-5, atol=1e-6)

    bottleneck.set_train(False)
    z4, mean4, _ = (t.asnumpy() for t in bottleneck(v))
    z5 = bottleneck(v)[0].asnumpy()
    np.testing.assert_array_equal(z4, mean4)
    np.testing.assert_array_equal(z4, z5)
    np.testing.assert_allclose(mean4, mean1, rtol=1e-6)


@pytest.mark.parametrize("initial_scale", [0.01, 0.5])
def test_gaussian_bottleneck_starts_at_the_requested_scale(initial_scale):
    # The scale bias sets sigma; the weights' contribution at initialisation is a small spread around it.
    bottleneck = InformationBottleneck(16, (32,), Z_DIM, stochastic=True, initial_scale=initial_scale)
    v = ms.Tensor(np.random.default_rng(3).standard_normal((64, 16)).astype(np.float32) * 0.05)
    _, mean, scale = (t.asnumpy() for t in bottleneck(v))
    assert abs(np.median(scale) - initial_scale) < 0.2 * initial_scale
    zero_weights = InformationBottleneck(16, (32,), Z_DIM, stochastic=True, initial_scale=initial_scale)
    last = zero_weights.mlp[-1]
    last.weight.set_data(ms.Tensor(np.zeros(last.weight.shape, np.float32)))
    np.testing.assert_allclose(zero_weights(v)[2].asnumpy(), initial_scale, rtol=1e-5)
    with pytest.raises(ValueError, match="initial_scale"):
        InformationBottleneck(16, (32,), Z_DIM, stochastic=True, initial_scale=1e-5)


def test_deterministic_bottleneck_has_zero_scale_and_z_equal_to_mean():
    bottleneck = InformationBottleneck(16, (32,), Z_DIM, stochastic=False)
    bottleneck.set_train(True)
    z, mean, scale = (t.asnumpy() for t in bottleneck(ms.Tensor(np.ones((3, 16), np.float32))))
    np.testing.assert_array_equal(z, mean)
    np.testing.assert_array_equal(scale, np.zeros((3, Z_DIM)))


def test_network_routes_each_noise_row_to_its_stream():
    network = tiny(use_shared=True, use_specific=True)
    network.set_train(True)
    noise = np.random.default_rng(10).standard_normal(network.noise_shape(BATCH)).astype(np.float32)
    streams = network(images(11), images(12), ms.Tensor(noise))
    for row, stream in enumerate(streams):
        expected = stream[outputs.Z_MEAN].asnumpy() + stream[outputs.Z_SCALE].asnumpy() * noise[row]
        np.testing.assert_allclose(stream[outputs.Z].asnumpy(), expected, rtol=1e-5, atol=1e-5)


def test_graph_mode_training_and_inference():
    network = tiny()
    x, y = images(13), images(14)
    network.set_train(False)
    pynative_streams = network(x, y)
    pynative_features = InferenceNetwork(network, "visible")(x).asnumpy()
    ms.set_context(mode=ms.GRAPH_MODE)
    network.set_train(False)
    graph_streams = network(x, y)
    for graph_stream, pynative_stream in zip(graph_streams, pynative_streams):
        for graph_field, pynative_field in zip(graph_stream, pynative_stream):
            np.testing.assert_allclose(graph_field.asnumpy(), pynative_field.asnumpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(InferenceNetwork(network, "visible")(x).asnumpy(), pynative_features,
                               rtol=1e-4, atol=1e-5)
    network.set_train(True)
    sampled = network(x, y)
    again = network(x, y)
    assert [len(s) for s in sampled] == [outputs.ALL_FIELDS] * 4
    assert not np.allclose(sampled[0][outputs.Z].asnumpy(), again[0][outputs.Z].asnumpy())


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="shared branch, the specific branches or both"):
        tiny(use_shared=False, use_specific=False)
    with pytest.raises(ValueError, match="needs a bottleneck"):
        tiny(shared_bottleneck="none", test_feature="z")
    with pytest.raises(ValueError, match="needs use_shared"):
        tiny(use_shared=False, test_branches="shared")
    with pytest.raises(ValueError, match="bottleneck must be one of"):
        tiny(specific_bottleneck="sampled")


def test_build_network_maps_the_model_config_section():
    cfg = load_config(["--backbone.depth", "10", "--model.branches", "[specific]", "--model.z_dim", "16",
                       "--model.hidden_dims", "[32]", "--model.specific_bottleneck", "deterministic"])
    network = build_network(cfg, CLASSES)
    assert network.stream_names == outputs.SPECIFIC_STREAMS
    assert network.shared_branch is None
    assert network.bottleneck_streams == outputs.SPECIFIC_STREAMS
    assert network.noise_shape(3) == (2, 3, 16)
    assert network.visible_branch.bottleneck.stochastic is False
    assert network.visible_branch.bottleneck.mlp[0].weight.shape == (32, 512)


def test_inference_network_exports_to_mindir_with_a_dynamic_batch(tmp_path):
    ms.set_context(mode=ms.GRAPH_MODE)
    inference = InferenceNetwork(tiny(test_feature="both"), "infrared")
    path = str(tmp_path / "vireid")
    ms.export(inference, ms.Tensor(shape=[None, 3, 64, 32], dtype=ms.float32), file_name=path, file_format="MINDIR")
    loaded = ms.nn.GraphCell(ms.load(path + ".mindir"))
    x = images(15, batch=3)
    np.testing.assert_allclose(loaded(x).asnumpy(), inference(x).asnumpy(), rtol=1e-5, atol=1e-6)
