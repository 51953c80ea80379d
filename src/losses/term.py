"""The loss-term contract and the registry of terms.

The training objective (``src.losses.objective``) is a weighted sum of terms. A term is a
cell with a ``name`` (its component in the training log), a ``weight`` (its factor in the
total) and ``streams`` (the indices of the network outputs it reads); ``construct(outputs,
labels)`` returns its unweighted value. A new term is one file: a ``LossTerm`` subclass
registered with ``@LOSS_TERMS.register(name)``, whose ``from_config`` reads its own keys of
the ``loss`` section (added to ``default_config.yaml``) and returns None where the term does
not apply to the network. Terms are summed in registration order: the built-in ones in the
order ``src/losses/terms/__init__.py`` imports them, a new one after them.
"""

from mindspore import nn

from src.registry import Registry

LOSS_TERMS = Registry("loss term")


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
    def from_config(cls, cfg, layout):
        """The term for a network with streams ``layout`` (``StreamLayout``) under the resolved
        configuration ``cfg``, or None where it does not apply."""
        raise NotImplementedError(f"{cls.__name__} does not define from_config")
