"""The training objective: the weighted sum of the loss terms ``loss.terms`` names.

``loss.terms`` is an ordered mapping term name -> weight; the terms are summed in the order
written. The default is the paper's Eq. 16 and 17 (README, Differences from the paper):

    L_train = L_cls + L_metric + alpha * L_DML + beta * (L_VSD + L_VCD + L_VML),
    loss.terms: {cls: 1.0, metric: 1.0, dml: 8.0, vsd: 2.0, vcd: 2.0, vml: 2.0}   (alpha 8, beta 2)

and the conventional IB baseline (Table 3 rows 7-9) is

    L_train = L_cls(z) + L_metric(z) + 2 * I_JS(v; z),
    loss.terms: {cls: 1.0, metric: 1.0, cib: 2.0}, loss.cls_on: [z], loss.metric_on: [z]

where the cross-entropy on z is the I(z; y) term of that baseline. Conventional IB "does not
explicitly enforce any constraints to the observation" (Table 3's footnote), so there v gets no
re-id loss: no cross-entropy on the observation head, no metric loss on v, no DML. The network
keeps its BN neck and observation classifier (the neck gives the v test feature, the classifier
keeps one checkpoint layout for every row); the classifier simply receives no gradient.

A term that does not apply to the network (``LossTerm.applies``: per-stream terms need the
streams, and z where they read it; DML needs both branches) is left out, so one list serves
every network of Table 3. Each term is one file in ``src/losses/terms/`` (``src.losses.term``
states the contract), which also records the choices this project made where the paper is
silent. ``components`` report each term unweighted, in the order of ``component_names``.
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
    """The ``TrainObjective`` for ``network`` under the resolved configuration: the terms of
    ``loss.terms`` that apply to the network, in its order and with its weights, each built from
    the ``loss`` section.

    The network supplies ``stream_names``, ``bottleneck_streams``, ``observation_dim`` and ``z_dim``.
    """
    layout = StreamLayout(network.stream_names, network.bottleneck_streams, num_classes,
                          network.observation_dim, network.z_dim)
    terms = []
    for name, weight in cfg.loss.terms.items():
        term_class = LOSS_TERMS.get(name)
        if term_class.applies(cfg, layout):
            terms.append(term_class.from_config(cfg, layout, weight))
    if not terms:
        bottlenecks = ", ".join(layout.bottleneck_streams) or "none"
        raise ValueError(f"none of the loss terms {', '.join(cfg.loss.terms)} applies to a network with streams "
                         f"{', '.join(layout.names)} (bottlenecks on: {bottlenecks})")
    return TrainObjective(terms)
