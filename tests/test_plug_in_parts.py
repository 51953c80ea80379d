"""Parts that plug in: a backbone and a loss term defined outside ``src/``, one file each
(``tests/toy_backbone.py``, ``tests/toy_loss_term.py``), registered here for one test at a time.

Each is registered by name, selected through the configuration (``backbone.name``, ``loss.terms``),
and goes through the same code paths as the built-in parts (Trainer, export), with no other file
changed.
"""

import importlib
import json
import os
from types import SimpleNamespace

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from src.config import ConfigError, load_config
from src.datasets.records import INFRARED, VISIBLE
from src.engine.exporter import export_from_config
from src.engine.trainer import Trainer
from src.losses.objective import build_objective
from src.losses.term import LOSS_TERMS
from src.models.backbone import BACKBONES
from src.models.network import InferenceNetwork
from src.models.outputs import FEATURE, SHARED_STREAMS, SPECIFIC_STREAMS


def _toy_module(name):
    """The toy part's module (``tests/toy_backbone.py`` or ``toy_loss_term.py``). Its first import
    registers its part; a test registers it again (harmlessly) and removes it when done."""
    return importlib.import_module(name)


def _register_toy_backbone():
    module = _toy_module("toy_backbone")
    BACKBONES.register("toy_convs", options=module.TOY_BACKBONE_OPTIONS)(module.ToyBackbone)
    return module.ToyBackbone


@pytest.fixture
def toy_backbone():
    yield _register_toy_backbone()
    BACKBONES.unregister("toy_convs")


@pytest.fixture
def toy_term():
    LOSS_TERMS.register("toy_square")(_toy_module("toy_loss_term").SquaredFeatureTerm)
    yield "toy_square"
    LOSS_TERMS.unregister("toy_square")


# The default terms, then the toy term with weight 0.5.
WITH_TOY_TERM = ["--loss.terms", "{cls, metric, dml, vsd, vcd, vml, toy_square: 0.5}"]


def toy_run_config(data_path, output_dir, *extra):
    return load_config([
        "--data.data_path", data_path, "--output_dir", str(output_dir), "--backbone.name", "toy_convs",
        "--data.height", "32", "--data.width", "16", "--data.batch_ids", "4", "--data.per_modality", "2",
        "--data.steps_per_epoch", "2", "--train.epochs", "1", "--train.warmup_epochs", "0", "--train.lr", "1e-2",
        "--train.log_interval", "1", "--model.hidden_dims", "[8]", "--model.z_dim", "4",
        "--data.num_workers", "1", *extra])


def test_a_backbone_is_a_config_choice_while_registered():
    with pytest.raises(ConfigError, match="'backbone.name' must be one of .*resnet"):
        load_config(["--backbone.name", "toy_convs"])
    _register_toy_backbone()
    try:
        assert load_config(["--backbone.name", "toy_convs"]).backbone.name == "toy_convs"
    finally:
        BACKBONES.unregister("toy_convs")


def test_a_toy_backbone_trains_and_exports(synthetic_sysu, tmp_path, toy_backbone):
    cfg = toy_run_config(synthetic_sysu, tmp_path / "run")
    trainer = Trainer(cfg)
    encoders = trainer.network.encoders()
    assert {type(encoder) for encoder in encoders.values()} == {toy_backbone}
    assert trainer.network.observation_dim == 6
    before = {name: encoder.conv1.weight.asnumpy().copy() for name, encoder in encoders.items()}
    summary = trainer.run()
    for name, encoder in encoders.items():
        assert not np.allclose(encoder.conv1.weight.asnumpy(), before[name]), name

    export_cfg = load_config(["--backbone.name", "toy_convs", "--model.hidden_dims", "[8]", "--model.z_dim", "4",
                              "--data.height", "32", "--data.width", "16", "--output_dir", str(tmp_path),
                              "--export.checkpoint", summary["network_checkpoint"], "--export.file_name", "toy"])
    written = export_from_config(export_cfg)
    assert set(written) == {VISIBLE, INFRARED}
    trainer.network.set_train(False)
    images = ms.Tensor(np.random.default_rng(0).standard_normal((3, 3, 32, 16)).astype(np.float32))
    for modality, path in written.items():
        exported = nn.GraphCell(ms.load(path))(images).asnumpy()
        expected = InferenceNetwork(trainer.network, modality)(images).asnumpy()
        np.testing.assert_allclose(exported, expected, rtol=1e-5, atol=1e-6)


def _streams(seed):
    rng = np.random.default_rng(seed)
    return tuple((ms.Tensor(rng.standard_normal((4, 6)).astype(np.float32)),
                  ms.Tensor(rng.standard_normal((4, 5)).astype(np.float32))) for _ in range(4))


@pytest.mark.usefixtures("pynative_mode")
def test_a_toy_term_is_summed_with_its_weight_and_changes_the_gradient(toy_term):
    network = SimpleNamespace(stream_names=SHARED_STREAMS + SPECIFIC_STREAMS, bottleneck_streams=(),
                              observation_dim=6, z_dim=4)
    with_toy = build_objective(load_config(WITH_TOY_TERM), network, 5)
    without_toy = build_objective(load_config([]), network, 5)
    assert with_toy.component_names == without_toy.component_names + ("toy_square",)

    streams = _streams(0)
    labels = ms.Tensor(np.array([0, 0, 3, 3], np.int32))
    feature = streams[0][FEATURE]

    def total_of(objective):
        def total(first_feature):
            return objective(((first_feature, streams[0][1]),) + streams[1:], labels)[0]
        return total

    total, components = with_toy(streams, labels)
    square = float((feature.asnumpy() ** 2).mean())
    assert float(components[-1].asnumpy()) == pytest.approx(square, rel=1e-6)
    assert float(total.asnumpy()) == pytest.approx(float(without_toy(streams, labels)[0].asnumpy()) + 0.5 * square,
                                                   rel=1e-6)
    difference = ms.grad(total_of(with_toy))(feature).asnumpy() - ms.grad(total_of(without_toy))(feature).asnumpy()
    # d(0.5 * mean(v^2)) / dv = v / N for N entries.
    np.testing.assert_allclose(difference, feature.asnumpy() / feature.size, rtol=1e-4, atol=1e-7)


def test_a_toy_term_is_a_config_choice_while_registered():
    with pytest.raises(ConfigError, match="'loss.terms' names 'toy_square', which is not registered; registered: cib, cls"):
        load_config(WITH_TOY_TERM)
    LOSS_TERMS.register("toy_square")(_toy_module("toy_loss_term").SquaredFeatureTerm)
    try:
        assert load_config(WITH_TOY_TERM).loss.terms["toy_square"] == 0.5
    finally:
        LOSS_TERMS.unregister("toy_square")


def test_a_toy_term_appears_in_the_training_log(synthetic_sysu, tmp_path, toy_backbone, toy_term):
    cfg = toy_run_config(synthetic_sysu, tmp_path / "run", *WITH_TOY_TERM)
    trainer = Trainer(cfg)
    assert trainer.objective.component_names[-1] == "toy_square"
    trainer.run()
    with open(os.path.join(cfg.output_dir, "train_log.jsonl")) as handle:
        records = [record for record in map(json.loads, handle) if "loss" in record]
    assert len(records) == 2
    assert all(record["toy_square"] > 0 for record in records)
