"""The conventional IB baseline (Table 3 rows 7-9): negative pairs, critic size, trained heads,
its weight (its entry in loss.terms) and option (loss.cib_observation_grad), and how a resumed run
treats them. Runs saved with the loss flags: tests/test_legacy_loss_config.py."""

import os

import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor, nn

from src.config import REPO_ROOT, ConfigError, load_config
from src.engine.resume import check_resume_changes, resume_argv
from src.engine.train_step import NetworkWithObjective
from src.losses.mutual_information import AdversarialMutualInformation, negative_partners
from src.losses.objective import TrainObjective, build_objective
from src.losses.streams import StreamLayout
from src.losses.terms.cib import ConventionalIBTerm
from src.models.network import build_network
from src.models.outputs import ALL_FIELDS, FEATURE, SHARED_STREAMS, Z


def _identity_major(identities, per_identity, seed=0):
    """Labels of a P x K batch: P distinct random identities, each repeated K times in a row."""
    rng = np.random.default_rng(seed)
    return np.repeat(rng.choice(100, size=identities, replace=False), per_identity).astype(np.int32)


def _reference_partners(labels):
    """Brute force: the first row after i, cyclically, with another label."""
    count = len(labels)
    return np.array([next(j % count for j in range(i + 1, i + count) if labels[j % count] != labels[i])
                     for i in range(count)])


class _Partners(nn.Cell):
    def construct(self, labels):
        return negative_partners(labels)


@pytest.mark.parametrize("identities, per_identity", [(2, 1), (2, 2), (3, 2), (16, 2), (4, 4), (5, 3)])
@pytest.mark.parametrize("mode", [ms.PYNATIVE_MODE, ms.GRAPH_MODE])
def test_negatives_never_pair_two_images_of_one_identity(identities, per_identity, mode):
    previous = ms.get_context("mode")
    ms.set_context(mode=mode)
    try:
        labels = _identity_major(identities, per_identity)
        # A specific stream's batch, and the shared branch's [visible rows; infrared rows] pool.
        for batch in (labels, np.concatenate([labels, labels])):
            partners = _Partners()(Tensor(batch)).asnumpy()
            assert np.all(batch[partners] != batch)
            np.testing.assert_array_equal(partners, _reference_partners(batch))
    finally:
        ms.set_context(mode=previous)


def test_one_identity_batch_falls_back_to_the_next_row():
    partners = negative_partners(Tensor(np.full(4, 7, np.int32))).asnumpy()
    np.testing.assert_array_equal(partners, [1, 2, 3, 0])


def test_critic_size_matches_table_4():
    hidden = load_config([]).loss.cib_critic_hidden
    estimator = AdversarialMutualInformation(2048, 256, hidden)
    count = sum(parameter.size for parameter in estimator.trainable_params())
    assert count == hidden ** 2 + (2048 + 256 + 3) * hidden + 1
    # Table 4: 35.71M - 29.41M = 6.30M for the estimator of one ResNet-50 branch.
    assert 6.25e6 < count < 6.35e6


CLASSES = 3
LABELS = np.array([0, 0, 1, 1, 2, 2], np.int32)


def _gradients(row):
    """{parameter name: gradient} of the total loss of an ablation row, at tiny sizes."""
    cfg = load_config(["--config_path", os.path.join(REPO_ROOT, "configs", "ablation", f"{row}.yaml"),
                       "--backbone.depth", "10", "--data.height", "32", "--data.width", "16",
                       "--loss.cib_critic_hidden", "16"])
    network = build_network(cfg, CLASSES)
    objective = build_objective(cfg, network, CLASSES)
    loss_network = NetworkWithObjective(network, objective)
    loss_network.set_train(True)
    rng = np.random.default_rng(0)
    batch = len(LABELS)
    visible, infrared = (Tensor(rng.standard_normal((batch, 3, 32, 16)).astype(np.float32)) for _ in range(2))
    noise = Tensor(rng.standard_normal(network.noise_shape(batch)).astype(np.float32))
    parameters = network.trainable_params() + objective.trainable_params()

    def total(*inputs):
        return loss_network(*inputs)[0]

    gradients = ms.grad(total, grad_position=None, weights=parameters)(visible, infrared, Tensor(LABELS), noise)
    return {parameter.name: gradient for parameter, gradient in zip(parameters, gradients)}


def _largest(gradients, suffix):
    matched = [np.abs(value.asnumpy()).max() for name, value in gradients.items() if name.endswith(suffix)]
    assert matched, suffix
    return max(matched)


@pytest.mark.parametrize("row, branches", [("row07", ("shared",)), ("row08", ("visible", "infrared")),
                                           ("row09", ("shared", "visible", "infrared"))])
def test_cib_rows_train_z_and_never_the_observation_heads(pynative_mode, row, branches):
    gradients = _gradients(row)
    for branch in branches:
        prefix = f"{branch}_branch."
        assert _largest(gradients, prefix + "classifier.weight") == 0
        assert _largest(gradients, prefix + "neck.bn.gamma") == 0
        assert _largest(gradients, prefix + "z_classifier.weight") > 0
        assert _largest(gradients, prefix + "bottleneck.mlp.0.weight") > 0
        assert _largest(gradients, prefix + "encoder.conv1.weight") > 0
    assert _largest(gradients, "critic.layers.0.weight") > 0


def test_row06_without_cib_trains_the_observation_heads(pynative_mode):
    gradients = _gradients("row06")
    for branch in ("shared", "visible", "infrared"):
        assert _largest(gradients, f"{branch}_branch.classifier.weight") > 0


# loss.cib_observation_grad and the term's weight, on the term alone at tiny sizes.
STREAMS = SHARED_STREAMS  # one critic on the pair pooled: the term's most involved input, and the cheapest test
V_DIM, Z_DIM, HIDDEN = 5, 3, 8
TERM_LABELS = np.array([0, 0, 1, 1], np.int32)


CONVENTIONAL_IB = ("--loss.terms", "{cls, metric, cib: 2.0}", "--loss.cls_on", "[z]", "--loss.metric_on", "[z]")


def _cib_config(*options):
    return load_config([*CONVENTIONAL_IB, "--loss.cib_critic_hidden", str(HIDDEN), *options])


def _term(cfg, like=None):
    """The CIB term of ``cfg`` for the shared branch with a bottleneck; ``like``: a term whose critic it copies."""
    term = ConventionalIBTerm.from_config(cfg, StreamLayout(STREAMS, STREAMS, CLASSES, V_DIM, Z_DIM),
                                          cfg.loss.terms["cib"])
    if like is not None:
        for parameter, source in zip(term.trainable_params(), like.trainable_params()):
            parameter.set_data(source.data.copy())
    return term


def _term_inputs(seed=0):
    rng = np.random.default_rng(seed)
    rows = len(TERM_LABELS)
    features = tuple(Tensor(rng.standard_normal((rows, V_DIM)).astype(np.float32)) for _ in STREAMS)
    zs = tuple(Tensor(rng.standard_normal((rows, Z_DIM)).astype(np.float32)) for _ in STREAMS)
    return features, zs


def _streams(features, zs):
    """Stream tuples with v and z where the term reads them (the other fields are never read)."""
    return tuple(tuple(field if index == FEATURE else z if index == Z else None for index in range(ALL_FIELDS))
                 for field, z in zip(features, zs))


def _cib_gradients(term):
    """Gradients of the unweighted term w.r.t. (v of each stream, z of each stream) and its critics' parameters."""
    features, zs = _term_inputs()
    count = len(STREAMS)

    def value(*inputs):
        return term(_streams(inputs[:count], inputs[count:]), Tensor(TERM_LABELS))

    inputs_grad, weights_grad = ms.grad(value, grad_position=tuple(range(2 * count)),
                                        weights=term.trainable_params())(*features, *zs)
    to_numpy = lambda tensors: [tensor.asnumpy() for tensor in tensors]  # noqa: E731
    return to_numpy(inputs_grad[:count]), to_numpy(inputs_grad[count:]), to_numpy(weights_grad)


def test_cutting_the_observation_leaves_z_and_the_critics_gradients_unchanged(pynative_mode):
    kept = _term(_cib_config())
    cut = _term(_cib_config("--loss.cib_observation_grad", "false"), like=kept)
    assert kept.observation_grad and not cut.observation_grad
    kept_v, kept_z, kept_critics = _cib_gradients(kept)
    cut_v, cut_z, cut_critics = _cib_gradients(cut)
    # v's own path carries gradient by default, none once cut, in both streams of the pooled pair.
    assert all(np.abs(gradient).max() > 0 for gradient in kept_v)
    assert all(not np.any(gradient) for gradient in cut_v)
    assert len(cut_critics) == 6  # one critic: three layers' weights and biases
    # Equal up to float32 rounding: MindSpore's CPU kernels do not always repeat the last bit.
    for kept_gradient, cut_gradient in zip(kept_z + kept_critics, cut_z + cut_critics):
        assert np.abs(kept_gradient).max() > 0
        np.testing.assert_allclose(cut_gradient, kept_gradient, rtol=1e-5, atol=1e-7)


def test_the_weight_in_loss_terms_weighs_the_term(pynative_mode):
    rows_weight = _term(_cib_config())
    assert rows_weight.weight == 2.0  # the paper's beta, as the rows give it
    first = _term(_cib_config("--loss.terms", "{cls, metric, cib: 0.5}"), like=rows_weight)
    second = _term(_cib_config("--loss.terms", "{cib: 1.5, cls: 1.0}"), like=rows_weight)
    assert (first.weight, second.weight) == (0.5, 1.5)
    outputs, labels = _streams(*_term_inputs(seed=1)), Tensor(TERM_LABELS)
    totals = []
    for term in (rows_weight, first, second):
        total, (value,) = TrainObjective([term])(outputs, labels)
        totals.append(float(total.asnumpy()))
        assert float(value.asnumpy()) != 0
    assert totals[1] == pytest.approx(0.25 * totals[0], rel=1e-6)
    assert totals[2] == pytest.approx(0.75 * totals[0], rel=1e-6)


def test_cib_options_are_checked():
    with pytest.raises(ConfigError, match=r"'loss\.terms' value of 'cib' must be at least 0"):
        load_config(["--loss.terms", "{cls, cib: -1}"])
    with pytest.raises(ConfigError, match=r"loss\.cib_observation_grad.*boolean"):
        load_config(["--loss.cib_observation_grad", "maybe"])
    assert load_config(["--loss.cib_observation_grad", "false"]).loss.cib_observation_grad is False


def _saved_run(folder, *options):
    """A run folder as training leaves it: its config.yaml and a state pointer (contents unread here)."""
    load_config(["--output_dir", str(folder), *options]).save(str(folder / "config.yaml"))
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "state.json").write_text("{}")
    return folder


def test_the_weight_and_the_option_cannot_change_on_resume(tmp_path):
    run = _saved_run(tmp_path / "run", *CONVENTIONAL_IB)
    for key, value in (("terms", "{cls, metric, cib: 0.5}"), ("cib_observation_grad", "false")):
        cfg = load_config(resume_argv(["--resume", str(run), f"--loss.{key}", value]))
        with pytest.raises(ConfigError, match=rf"loss\.{key} \("):
            check_resume_changes(cfg, str(run))
