"""A loss term added as one file outside ``src/``: importing it registers ``toy_square``.

Taken up through the configuration's ``imports`` (``tests/test_imports.py``) or imported by a
test (``tests/test_plug_in_parts.py``); nothing else in the repository names it.
"""

from src.losses.term import LOSS_TERMS, LossTerm
from src.models.outputs import FEATURE


@LOSS_TERMS.register("toy_square")
class SquaredFeatureTerm(LossTerm):
    """mean(v^2) of the first stream: a term no built-in part computes."""

    name = "toy_square"

    def __init__(self, weight):
        super().__init__(weight=weight, streams=(0,))

    @classmethod
    def from_config(cls, cfg, layout, weight):
        return cls(weight)

    def construct(self, outputs, labels):
        feature = outputs[self.streams[0]][FEATURE]
        return (feature * feature).mean()
