"""Conventional IB baseline (Table 3 rows 7-9): the compression term I_JS(v; z), one critic per bottleneck.

The baseline's objective, ``loss.terms: {cls, metric, cib: 2.0}`` with ``loss.cls_on: [z]`` and
``loss.metric_on: [z]``, is L_cls(z) + L_metric(z) + 2 * I_JS(v; z), where the cross-entropy on z
is the I(z; y) term of that baseline and v gets no re-id loss. The weight (the paper's beta, 2)
is this term's entry in ``loss.terms``. It trains every branch as a conventional IB, so every
branch needs a bottleneck: a network without one on some branch is an error, not a skip. The
shared branch's critic sees its two streams pooled, each specific stream has its own; negative
pairs take z from another identity (``negative_partners`` in mutual_information.py). With
``loss.cib_observation_grad`` false v enters the critics as a constant, so the encoders are
compressed only through z (``AdversarialMutualInformation``).
"""

from mindspore import nn

from src.losses.mutual_information import AdversarialMutualInformation
from src.losses.streams import paired_labels, pooled
from src.losses.term import LOSS_TERMS, LossTerm
from src.models.outputs import FEATURE, SHARED_STREAMS, Z
from src.options import Option, Options


CIB_OPTIONS = Options(
    Option("loss.cib_critic_hidden", 1609,
           "cib (conventional IB, Table 3 rows 7-9): MI critic hidden width (2 layers); 1609: 6.30M parameters per "
           "critic at v 2048, z 256 (Table 4)", minimum=1),
    Option("loss.cib_observation_grad", True,
           "cib: I_JS's gradient reaches v directly (false: the encoder is compressed only through z)"),
)


@LOSS_TERMS.register("cib", options=CIB_OPTIONS)
class ConventionalIBTerm(LossTerm):
    """Args: ``groups``: per critic, the indices of the streams it sees (one, or the two of the
    shared branch pooled); ``observation_dim``, ``z_dim``: sizes of v and z; ``critic_hidden``:
    width of the critic's two hidden layers; ``weight``: the compression weight;
    ``observation_grad``: whether I_JS's gradient reaches v directly (false: v is a constant
    where it enters the critics, so only z carries the compression back to the encoder)."""

    name = "cib"

    def __init__(self, groups, observation_dim, z_dim, critic_hidden=1609, weight=2.0, observation_grad=True):
        super().__init__(weight, [index for group in groups for index in group])
        self.groups = tuple(tuple(group) for group in groups)
        self.observation_grad = bool(observation_grad)
        self.mutual_information = nn.CellList([
            AdversarialMutualInformation(observation_dim, z_dim, critic_hidden, self.observation_grad)
            for _ in self.groups])

    @classmethod
    def from_config(cls, cfg, layout, weight):
        loss = cfg.loss
        if set(layout.bottleneck_streams) != set(layout.names):
            raise ValueError("the cib term (conventional IB) needs a bottleneck on every branch it trains "
                             "(model.shared_bottleneck and model.specific_bottleneck other than none for the "
                             "branches in model.branches)")
        groups = ()
        for pair in layout.branch_pairs:
            groups += (pair,) if layout.names[pair[0]] in SHARED_STREAMS else ((pair[0],), (pair[1],))
        return cls(groups, layout.observation_dim, layout.z_dim, loss.cib_critic_hidden, weight,
                   loss.cib_observation_grad)

    def construct(self, outputs, labels):
        pooled_labels = paired_labels(labels)
        cib = 0.0
        for group_index, group in enumerate(self.groups):
            group_labels = pooled_labels if len(group) == 2 else labels
            cib = cib + self.mutual_information[group_index](pooled(outputs, group, FEATURE),
                                                             pooled(outputs, group, Z), group_labels)
        return cib
