"""The loss-term contract and the registry of terms.

The training objective (``src.losses.objective``) is the weighted sum of the terms that
``loss.terms`` names, in the order it names them, with the weights it gives. A term is a cell
with a ``name`` (its component in the training log), a ``weight`` (its factor in the total) and
``streams`` (the indices of the network outputs it reads); ``construct(outputs, labels)``
returns its unweighted value. A new term is one file: a ``LossTerm`` subclass registered with
``@LOSS_TERMS.register(name, options=...)``, whose ``applies`` says whether the network has
what it reads and whose ``from_config`` reads its own options (declared in its file,
``src.options``); ``loss.terms`` accepts exactly the registered names.
"""

from mindspore import nn

from src.options import Option, Options
from src.registry import Registry


OBJECTIVE_OPTIONS = Options(
    Option("loss.terms", {"cls": 1.0, "metric": 1.0, "dml": 8.0, "vsd": 2.0, "vcd": 2.0, "vml": 2.0},
           "the objective: loss term -> weight, summed in this order (Eq. 16-17: alpha 8 on dml, beta 2 on vsd, vcd, "
           "vml); a term the network lacks the streams for is skipped; a name without a weight ({cls, metric}) keeps "
           "the weight it inherits", minimum=0.0),
)

LOSS_TERMS = Registry("loss term", config_keys=("loss.terms",))


class LossTerm(nn.Cell):
    """``construct(outputs, labels)`` -> unweighted scalar float32.

    ``outputs``: the network's stream tuples (``src.models.outputs``), B rows each;
    ``labels``: (B,) int32 identities, shared by the visible and the infrared rows.
    Subclasses set the class attribute ``name``.
    """

    name = None

    def __init__(self, weight, streams):
        super().__init__()
        self.weight = float(weight)
        self.streams = tuple(streams)

    @classmethod
    def applies(cls, cfg, layout):
        """Whether a network with streams ``layout`` (``StreamLayout``) has what the term reads under
        the resolved configuration ``cfg``. A term named in ``loss.terms`` that does not apply is
        left out of the objective (VSD on a network without specific bottlenecks), so that one
        term list serves every network; a network the term cannot serve at all is an error its
        ``from_config`` raises."""
        return True

    @classmethod
    def from_config(cls, cfg, layout, weight):
        """The term, weighed by ``weight`` (its value in ``loss.terms``), for a network with streams
        ``layout`` (``StreamLayout``) to which it applies, under the resolved configuration ``cfg``."""
        raise NotImplementedError(f"{cls.__name__} does not define from_config")
