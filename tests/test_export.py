"""Export: the MINDIR pair reproduces the checkpoint's test features, with a dynamic batch."""

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn
from mindspore.train import mind_ir_pb2

from src.datasets.records import INFRARED, VISIBLE
from src.engine.exporter import export_network
from src.models.network import InferenceNetwork, VIReIDNetwork
from src.models.resnet import ResNetEncoder


def resnet10():
    """A fresh ResNet-10 encoder (one per branch)."""
    return ResNetEncoder(10)


def test_mindir_reproduces_the_network_features_for_any_batch_size(tmp_path):
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(3)
    network = VIReIDNetwork(7, resnet10, hidden_dims=(32, 16), z_dim=8, test_feature="both")
    network.set_train(False)
    written = export_network(network, 32, 16, str(tmp_path / "model"))
    assert set(written) == {VISIBLE, INFRARED}
    rng = np.random.default_rng(0)
    for modality, path in written.items():
        exported = nn.GraphCell(ms.load(path))
        reference = InferenceNetwork(network, modality)
        for batch in (3, 5):
            images = ms.Tensor(rng.standard_normal((batch, 3, 32, 16)).astype(np.float32))
            expected = reference(images).asnumpy()
            actual = exported(images).asnumpy()
            assert actual.shape == (batch, network.feature_dim)
            np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    # the two routes differ (E_V vs E_I), so the files are not copies of one graph
    images = ms.Tensor(rng.standard_normal((2, 3, 32, 16)).astype(np.float32))
    visible = nn.GraphCell(ms.load(written[VISIBLE]))(images).asnumpy()
    infrared = nn.GraphCell(ms.load(written[INFRARED]))(images).asnumpy()
    assert not np.allclose(visible, infrared)


def test_onnx_export_matches_the_network_at_its_fixed_batch(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(4)
    network = VIReIDNetwork(5, resnet10, hidden_dims=(32, 16), z_dim=8, test_feature="v")
    network.set_train(False)
    written = export_network(network, 32, 16, str(tmp_path / "model"), file_format="ONNX",
                             modalities=(INFRARED,), onnx_batch_size=4)
    assert written[INFRARED].endswith("_infrared.onnx")
    images = np.random.default_rng(1).standard_normal((4, 3, 32, 16)).astype(np.float32)
    session = onnxruntime.InferenceSession(written[INFRARED], providers=["CPUExecutionProvider"])
    actual = session.run(None, {session.get_inputs()[0].name: images})[0]
    expected = InferenceNetwork(network, INFRARED)(ms.Tensor(images)).asnumpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_exported_graphs_fold_the_encoders_batch_norms_and_keep_the_features(tmp_path):
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(5)
    network = VIReIDNetwork(7, resnet10, hidden_dims=(32, 16), z_dim=8, test_feature="v")
    rng = np.random.default_rng(6)
    for name, parameter in network.parameters_and_names():  # trained-like statistics, so the fold matters
        if name.endswith(("moving_variance", "gamma")):
            parameter.set_data(ms.Tensor(rng.uniform(0.3, 2.0, parameter.shape).astype(np.float32)))
        elif name.endswith(("moving_mean", "beta")):
            parameter.set_data(ms.Tensor(rng.normal(0, 0.4, parameter.shape).astype(np.float32)))
    network.set_train(False)
    folded = export_network(network, 32, 16, str(tmp_path / "folded"), modalities=(VISIBLE,))[VISIBLE]
    kept = export_network(network, 32, 16, str(tmp_path / "kept"), modalities=(VISIBLE,),
                          fold_batch_norm=False)[VISIBLE]
    # ResNet-10: stem + 4 blocks x 2 + 3 projections = 12 per encoder, two encoders, one BN neck each
    assert batch_norm_nodes(kept) == 2 * 12 + 2
    assert batch_norm_nodes(folded) == 2
    images = ms.Tensor(rng.standard_normal((4, 3, 32, 16)).astype(np.float32))
    expected = InferenceNetwork(network, VISIBLE)(images).asnumpy()
    np.testing.assert_allclose(nn.GraphCell(ms.load(folded))(images).asnumpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nn.GraphCell(ms.load(kept))(images).asnumpy(), expected, rtol=1e-5, atol=1e-6)


def batch_norm_nodes(path):
    """BatchNorm operators in the graph of a MINDIR file."""
    model = mind_ir_pb2.ModelProto()
    with open(path, "rb") as handle:
        model.ParseFromString(handle.read())
    return sum("::BatchNorm:" in node.op_type for node in model.graph.node)
