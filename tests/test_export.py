"""Export: the MINDIR pair reproduces the checkpoint's test features, with a dynamic batch."""

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

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
