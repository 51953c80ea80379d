"""The training objective, Eq. 16 and 17 of the paper (README, Differences from the paper).

    L_train = L_cls + metric_weight * L_metric + alpha * L_DML + beta * (L_VSD + L_VCD + L_VML)

or, for the conventional IB baseline (``cib``, Table 3 rows 7-9),

    L_train = L_cls(z) + metric_weight * L_metric(z) + cib_weight * I_JS(v; z)

where the cross-entropy on z is the I(z; y) term of that baseline and cib_weight
(``loss.cib_weight``, default 2.0 like beta) is its own key: beta does not weigh it.
Conventional IB "does not explicitly enforce any constraints to the observation" (Table 3's
footnote), so with ``cib`` v gets no re-id loss: no cross-entropy on the observation head,
no metric loss on v, no DML. The network keeps its BN neck and observation classifier (the
neck gives the v test feature, the classifier keeps one checkpoint layout for every row);
the classifier simply receives no gradient. Which terms exist follows the network:
per-stream terms only where the stream has a bottleneck, DML only with both branches.

Each term is one file in ``src/losses/terms/`` (``src.losses.term`` states the contract), which
also records the choices this project made where the paper is silent. ``components`` report
each term unweighted, in the order of ``component_names``.
"""

from mindspore import nn

from src.losses.streams import StreamLayout
from src.losses.term import LOSS_TERMS


class TrainObjective(nn.Cell):
    """``construct(outputs, labels)`` -> ``(total, components)``.

    Args:
        outputs: the network's training outputs, a tuple of streams in the order of its
            ``stream_names`` (see src/models/outputs.py); B rows per stream.
        labels: (B,) int32 identity labels, shared by the visible and the infrared rows.
    Returns:
        total: scalar, the sum of weight * value over the terms, in their order;
        components: tuple of the terms' unweighted scalar values, named by ``component_names``.

    Constructor: ``terms``, the ``LossTerm`` cells that apply, fixed here so that graph mode
    compiles one graph for them.
    """

    def __init__(self, terms):
        super().__init__()
        terms = list(terms)
        if not terms:
            raise ValueError("the objective needs at least one loss term")
        names = tuple(term.name for term in terms)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"loss terms {repeated} appear more than once")
        self.terms = nn.CellList(terms)
        self.weights = tuple(term.weight for term in terms)
        self.component_names = names

    def construct(self, outputs, labels):
        # 0.0 + w * value and 1.0 * value are exact: the sum is the one the terms' order gives.
        total = 0.0
        components = ()
        for index in range(len(self.weights)):
            value = self.terms[index](outputs, labels)
            total = total + self.weights[index] * value
            components += (value,)
        return total, components


def build_objective(cfg, network, num_classes):
    """The ``TrainObjective`` for ``network`` under the resolved configuration: every registered
    loss term, in registration order, built from the ``loss`` section where it applies.

    The network supplies ``stream_names``, ``bottleneck_streams``, ``observation_dim`` and ``z_dim``.
    """
    layout = StreamLayout(network.stream_names, network.bottleneck_streams, num_classes,
                          network.observation_dim, network.z_dim)
    terms = [LOSS_TERMS.get(name).from_config(cfg, layout) for name in LOSS_TERMS.names()]
    return TrainObjective([term for term in terms if term is not None])
