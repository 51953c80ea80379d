"""The training objective: which terms exist, their values and weights, graph mode, errors."""

from types import SimpleNamespace

import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor, nn, ops

from src.config import load_config
from src.losses.cross_entropy import LabelSmoothingCrossEntropy
from src.losses.divergences import js_divergence, kl_divergence
from src.losses.objective import TrainObjective, build_objective
from src.losses.ranked_list import RankedListLoss
from src.losses.terms.classification import ClassificationTerm
from src.losses.triplet import BatchHardTripletLoss
from src.models.outputs import FEATURE, LOGITS, SHARED_STREAMS, SPECIFIC_STREAMS, Z, Z_LOGITS, Z_MEAN, Z_SCALE

ALL_STREAMS = SHARED_STREAMS + SPECIFIC_STREAMS
BATCH, CLASSES, V_DIM, Z_DIM = 4, 5, 12, 6
LABELS = np.array([0, 0, 3, 3], np.int32)
# The conventional IB baseline of Table 3 rows 7-9 (its weights: those of the defaults, and 2 for cib).
CONVENTIONAL_IB = {"terms": "{cls, metric, cib: 2.0}", "cls_on": "[z]", "metric_on": "[z]"}


def _outputs(stream_names, bottleneck_streams, seed=0):
    rng = np.random.default_rng(seed)
    outputs = []
    for name in stream_names:
        fields = [rng.standard_normal((BATCH, V_DIM)), 2 * rng.standard_normal((BATCH, CLASSES))]
        if name in bottleneck_streams:
            mean = rng.standard_normal((BATCH, Z_DIM))
            fields += [mean + 0.1 * rng.standard_normal((BATCH, Z_DIM)), mean,
                       np.abs(rng.standard_normal((BATCH, Z_DIM))), 2 * rng.standard_normal((BATCH, CLASSES))]
        outputs.append(tuple(Tensor(field.astype(np.float32)) for field in fields))
    return tuple(outputs)


def _network(stream_names=ALL_STREAMS, bottleneck_streams=ALL_STREAMS):
    """What build_objective reads of a network."""
    return SimpleNamespace(stream_names=stream_names, bottleneck_streams=bottleneck_streams,
                           observation_dim=V_DIM, z_dim=Z_DIM)


def _objective(stream_names=ALL_STREAMS, bottleneck_streams=ALL_STREAMS, **options):
    """The objective of the default ``loss`` section with ``options`` ({key: value}) changed."""
    argv = []
    for key, value in options.items():
        argv += [f"--loss.{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    return build_objective(load_config(argv), _network(stream_names, bottleneck_streams), CLASSES)


def _critics(objective):
    """The conventional-IB term's critics."""
    return objective.terms[objective.component_names.index("cib")].mutual_information


def _numbers(result):
    total, components = result
    return float(total.asnumpy()), [float(c.asnumpy()) for c in components]


@pytest.fixture
def graph_mode():
    ms.set_context(mode=ms.GRAPH_MODE)
    yield
    ms.set_context(mode=ms.PYNATIVE_MODE)


@pytest.mark.parametrize("streams, bottlenecks, options, expected", [
    (ALL_STREAMS, ALL_STREAMS, {}, ("cls", "metric", "dml", "vsd", "vcd", "vml")),
    (ALL_STREAMS, (), {}, ("cls", "metric", "dml")),
    (SHARED_STREAMS, (), {}, ("cls", "metric")),
    (SHARED_STREAMS, SHARED_STREAMS, {}, ("cls", "metric", "vcd", "vml")),
    (SPECIFIC_STREAMS, SPECIFIC_STREAMS, {"metric": "triplet"}, ("cls", "metric", "vsd")),
    (ALL_STREAMS, ALL_STREAMS, {"terms": "{cls, metric, dml}"}, ("cls", "metric", "dml")),
    (ALL_STREAMS, ALL_STREAMS, {"terms": "{cls, cib: 2.0}", "cls_on": "[z]"}, ("cls", "cib")),
    (SHARED_STREAMS, SHARED_STREAMS, CONVENTIONAL_IB, ("cls", "metric", "cib")),
    (ALL_STREAMS, (), {"terms": "{vml, metric, cls, vsd}"}, ("metric", "cls")),
    (ALL_STREAMS, (), {"cls_on": "[z]", "metric_on": "[z]"}, ("dml",)),
])
def test_active_terms_follow_the_network_and_options(streams, bottlenecks, options, expected):
    objective = _objective(streams, bottlenecks, **options)
    assert objective.component_names == expected
    total, components = _numbers(objective(_outputs(streams, bottlenecks), Tensor(LABELS)))
    assert len(components) == len(expected)
    assert np.isfinite(total) and all(np.isfinite(components))


def test_full_objective_values_and_weights():
    weights = {"terms": "{cls: 1.0, metric: 0.7, dml: 3.0, vsd: 1.5, vcd: 1.5, vml: 1.5}"}
    objective = _objective(label_smoothing=0.2, rll_margin=0.3, rll_alpha=1.1, rll_temperature=5.0, **weights)
    outputs = _outputs(ALL_STREAMS, ALL_STREAMS)
    labels = Tensor(LABELS)
    total, components = _numbers(objective(outputs, labels))
    named = dict(zip(objective.component_names, components))
    sv, si, v, i = (outputs[ALL_STREAMS.index(name)] for name in ALL_STREAMS)

    ce = LabelSmoothingCrossEntropy(CLASSES, 0.2)
    cls = sum(float(ce(stream[head], labels).asnumpy()) for stream in outputs for head in (LOGITS, Z_LOGITS))
    rll = RankedListLoss(0.3, 1.1, 5.0)
    pooled_labels = Tensor(np.concatenate([LABELS, LABELS]))
    metric = sum(float(rll(ops.concat((first[field], second[field])), pooled_labels).asnumpy())
                 for first, second in ((sv, si), (v, i)) for field in (FEATURE, Z))

    def kl(target, predicted):
        return float(kl_divergence(target, predicted).asnumpy())

    dml = kl(sv[LOGITS], v[LOGITS]) + kl(v[LOGITS], sv[LOGITS]) + kl(si[LOGITS], i[LOGITS]) + kl(i[LOGITS], si[LOGITS])
    vsd = kl(v[LOGITS], v[Z_LOGITS]) + kl(i[LOGITS], i[Z_LOGITS])
    vcd = kl(si[LOGITS], sv[Z_LOGITS]) + kl(sv[LOGITS], si[Z_LOGITS])
    vml = float(js_divergence(sv[Z_LOGITS], si[Z_LOGITS]).asnumpy())
    expected = {"cls": cls, "metric": metric, "dml": dml, "vsd": vsd, "vcd": vcd, "vml": vml}
    for name, value in expected.items():
        assert named[name] == pytest.approx(value, abs=1e-5), name
    assert all(value > 0 for value in expected.values())
    weighted = cls + 0.7 * metric + 3.0 * dml + 1.5 * (vsd + vcd + vml)
    assert total == pytest.approx(weighted, rel=1e-5)


def test_terms_are_summed_in_the_order_written():
    outputs, labels = _outputs(ALL_STREAMS, ALL_STREAMS), Tensor(LABELS)
    default_total, default_components = _numbers(_objective()(outputs, labels))
    reversed_objective = _objective(terms="{vml: 2.0, vcd: 2.0, vsd: 2.0, dml: 8.0, metric: 1.0, cls: 1.0}")
    assert reversed_objective.component_names == ("vml", "vcd", "vsd", "dml", "metric", "cls")
    assert reversed_objective.weights == (2.0, 2.0, 2.0, 8.0, 1.0, 1.0)
    total, components = _numbers(reversed_objective(outputs, labels))
    np.testing.assert_allclose(components, default_components[::-1], rtol=1e-6)
    assert total == pytest.approx(default_total, rel=1e-6)


def test_cls_on_and_metric_on_choose_the_heads_and_features():
    outputs, labels = _outputs(ALL_STREAMS, ALL_STREAMS), Tensor(LABELS)
    loss = load_config([]).loss
    ce = LabelSmoothingCrossEntropy(CLASSES, loss.label_smoothing)
    rll = RankedListLoss(loss.rll_margin, loss.rll_alpha, loss.rll_temperature)
    pooled_labels = Tensor(np.concatenate([LABELS, LABELS]))
    branches = ((outputs[0], outputs[1]), (outputs[2], outputs[3]))
    for on, heads, fields in (("[v]", (LOGITS,), (FEATURE,)), ("[z]", (Z_LOGITS,), (Z,)),
                              ("[z, v]", (LOGITS, Z_LOGITS), (FEATURE, Z))):
        objective = _objective(terms="{cls: 1.0, metric: 0.5}", cls_on=on, metric_on=on)
        total, (cls, metric) = _numbers(objective(outputs, labels))
        expected_cls = sum(float(ce(stream[head], labels).asnumpy()) for stream in outputs for head in heads)
        expected_metric = sum(float(rll(ops.concat((first[field], second[field])), pooled_labels).asnumpy())
                              for first, second in branches for field in fields)
        assert cls == pytest.approx(expected_cls, abs=1e-5), on
        assert metric == pytest.approx(expected_metric, abs=1e-5), on
        assert total == pytest.approx(expected_cls + 0.5 * expected_metric, rel=1e-5), on


def test_cib_supervises_z_only_and_adds_its_weight_times_the_estimates():
    options = {**CONVENTIONAL_IB, "terms": "{cls: 1.0, metric: 0.7, cib: 2.5}", "metric": "triplet",
               "triplet_margin": 0.5, "cib_critic_hidden": 8}
    objective = _objective(**options)
    assert len(_critics(objective)) == 3  # B_S (both shared streams pooled), B_V, B_I
    outputs = _outputs(ALL_STREAMS, ALL_STREAMS)
    labels = Tensor(LABELS)
    total, components = _numbers(objective(outputs, labels))
    named = dict(zip(objective.component_names, components))
    sv, si, v, i = outputs

    ce = LabelSmoothingCrossEntropy(CLASSES, 0.1)
    cls = sum(float(ce(stream[Z_LOGITS], labels).asnumpy()) for stream in outputs)
    triplet = BatchHardTripletLoss(0.5)
    pooled_labels = Tensor(np.concatenate([LABELS, LABELS]))
    metric = sum(float(triplet(ops.concat((first[Z], second[Z])), pooled_labels).asnumpy()) for first, second in
                 ((sv, si), (v, i)))
    shared, visible, infrared = _critics(objective)
    cib = sum(float(estimator(observation, representation, estimator_labels).asnumpy())
              for estimator, observation, representation, estimator_labels in (
                  (shared, ops.concat((sv[FEATURE], si[FEATURE])), ops.concat((sv[Z], si[Z])), pooled_labels),
                  (visible, v[FEATURE], v[Z], labels), (infrared, i[FEATURE], i[Z], labels)))
    assert named["cls"] == pytest.approx(cls, abs=1e-5)
    assert named["metric"] == pytest.approx(metric, abs=1e-5)
    assert named["cib"] == pytest.approx(cib, abs=1e-5)
    assert total == pytest.approx(cls + 0.7 * metric + 2.5 * cib, rel=1e-5)


def test_graph_mode_matches_pynative(graph_mode):
    for options in ({}, {**CONVENTIONAL_IB, "cib_critic_hidden": 8}):
        outputs = _outputs(ALL_STREAMS, ALL_STREAMS, seed=3)
        objective = _objective(**options)
        graph_total, graph_components = _numbers(objective(outputs, Tensor(LABELS)))
        ms.set_context(mode=ms.PYNATIVE_MODE)
        eager_total, eager_components = _numbers(objective(outputs, Tensor(LABELS)))
        ms.set_context(mode=ms.GRAPH_MODE)
        assert graph_total == pytest.approx(eager_total, rel=1e-5)
        np.testing.assert_allclose(graph_components, eager_components, rtol=1e-5, atol=1e-6)


class _TotalOf(nn.Cell):
    def __init__(self, objective):
        super().__init__()
        self.objective = objective

    def construct(self, feature, z, first_stream, other_streams, labels):
        # The first stream with v and z given separately, so that gradients can be taken w.r.t. them.
        first = (feature, first_stream[LOGITS], z, first_stream[Z_MEAN], first_stream[Z_SCALE],
                 first_stream[Z_LOGITS])
        return self.objective((first,) + other_streams, labels)[0]


def test_cib_gradients_in_graph_mode_reverse_only_the_critic(graph_mode):
    options = {"terms": "{cls, cib: 2.0}", "cls_on": "[z]", "cib_critic_hidden": 8}
    objective = _objective(**options)
    outputs = _outputs(ALL_STREAMS, ALL_STREAMS, seed=5)
    feature, z = outputs[0][FEATURE], outputs[0][Z]
    weights = ms.ParameterTuple(objective.trainable_params())
    grad = ops.GradOperation(get_all=True, get_by_list=True)
    (grad_feature, grad_z, *_), grad_weights = grad(_TotalOf(objective), weights)(
        feature, z, outputs[0], outputs[1:], Tensor(LABELS))

    # Reference: the same bound without reversal, w.r.t. the same inputs and critic parameters.
    estimator = _critics(objective)[0]
    ms.set_context(mode=ms.PYNATIVE_MODE)

    # LABELS pooled over the two shared streams: [0, 0, 3, 3, 0, 0, 3, 3].
    partners = Tensor(np.array([2, 2, 4, 4, 6, 6, 0, 0], np.int32))

    def plain(observation, representation):
        observation = ops.concat((observation, outputs[1][FEATURE]))
        representation = ops.concat((representation, outputs[1][Z]))
        joint = estimator.critic(observation, representation)
        marginal = estimator.critic(observation, representation[partners])
        return 2.0 * ((-ops.softplus(-joint)).mean() - ops.softplus(marginal).mean())

    critic_weights = estimator.critic.trainable_params()
    (plain_feature, plain_z), plain_weights = ms.grad(plain, grad_position=(0, 1), weights=critic_weights)(feature, z)
    np.testing.assert_allclose(grad_feature.asnumpy(), plain_feature.asnumpy(), atol=1e-6)
    np.testing.assert_allclose(grad_z.asnumpy(), plain_z.asnumpy(), atol=1e-6)
    names = [p.name for p in objective.trainable_params()]
    for parameter, plain_grad in zip(critic_weights, plain_weights):
        graph_grad = grad_weights[names.index(parameter.name)]
        np.testing.assert_allclose(graph_grad.asnumpy(), -plain_grad.asnumpy(), atol=1e-6)
    assert np.abs(plain_feature.asnumpy()).max() > 1e-6


def test_conflicting_or_bad_options_raise():
    with pytest.raises(ValueError, match="'loss.terms' names 'vsx', which is not registered; registered: cib, cls, dml, metric"):
        _objective(terms="{cls, vsx: 1.0}")
    with pytest.raises(ValueError, match="needs a bottleneck on every branch"):
        _objective(ALL_STREAMS, (), **CONVENTIONAL_IB)
    with pytest.raises(ValueError, match="needs a bottleneck on every branch"):
        _objective(ALL_STREAMS, SHARED_STREAMS, **CONVENTIONAL_IB)
    with pytest.raises(ValueError, match="none of the loss terms vsd, vml applies"):
        _objective(ALL_STREAMS, (), terms="{vsd, vml}")
    with pytest.raises(ValueError, match="metric"):
        _objective(metric="contrastive")
    with pytest.raises(ValueError, match="a branch has both"):
        _objective(("shared_visible", "visible", "infrared"), ())
    with pytest.raises(ValueError, match="both or neither"):
        _objective(ALL_STREAMS, ("shared_visible",))
    with pytest.raises(ValueError, match="not among the streams"):
        _objective(SHARED_STREAMS, ("visible",))


def test_build_objective_maps_the_loss_section():
    cfg = load_config(["--loss.terms", "{cls, metric, dml, vsd: 3.0, vcd: 3.0}", "--loss.metric", "triplet"])
    objective = build_objective(cfg, _network(), CLASSES)
    assert objective.component_names == ("cls", "metric", "dml", "vsd", "vcd")
    total, components = _numbers(objective(_outputs(ALL_STREAMS, ALL_STREAMS), Tensor(LABELS)))
    cls, metric, dml, vsd, vcd = components
    assert total == pytest.approx(cls + metric + 8.0 * dml + 3.0 * (vsd + vcd), rel=1e-5)


def test_the_objective_needs_a_term_and_each_name_once():
    with pytest.raises(ValueError, match="at least one loss term"):
        TrainObjective([])
    with pytest.raises(ValueError, match=r"\['cls'\] appear more than once"):
        TrainObjective([ClassificationTerm((0,), (), CLASSES), ClassificationTerm((1,), (), CLASSES)])
