"""The training objective, Eq. 16 and 17 of the paper (DESIGN.md section 2).

    L_train = L_cls + metric_weight * L_metric + alpha * L_DML + beta * (L_VSD + L_VCD + L_VML)

or, for the conventional IB baseline (``cib``, Table 3 rows 7-9),

    L_train = L_cls(z) + metric_weight * L_metric(z) + beta * I_JS(v; z)

where the cross-entropy on z is the I(z; y) term of that baseline. Conventional IB "does
not explicitly enforce any constraints to the observation" (Table 3's footnote), so with
``cib`` v gets no re-id loss: no cross-entropy on the observation head, no metric loss on
v, no DML. The network keeps its BN neck and observation classifier (the neck gives the v
test feature, the classifier keeps one checkpoint layout for every row); the classifier
simply receives no gradient. Which terms exist follows the network: per-stream terms only
where the stream has a bottleneck, DML only with both branches.

Choices this project made where the paper is silent (all per-head terms are summed):
- L_cls: label-smoothing cross-entropy on every classifier head, i.e. the observation head
  of every stream and the representation head of every stream with a bottleneck.
- L_metric: computed per branch on the visible and infrared streams pooled together, so
  positives and negatives include cross-modal pairs. For the specific branch the pool is
  E_V(visible) with E_I(infrared): at test a visible and an infrared image are compared
  through exactly these two features, so they must share one metric space. It is applied
  to the observation v and, where the branch has a bottleneck, to z (the sample), both
  L2-normalised; the per-branch, per-feature losses are summed.
- L_DML: per modality, between the specific and the shared stream's observation heads.
- L_VSD: summed over the two specific streams. L_VCD, L_VML: on the shared branch.
- ``cib`` replaces VSD/VCD/VML: asking for both is an error rather than a silent choice.
  It trains every branch as a conventional IB, so every branch needs a bottleneck. One
  critic per bottleneck (B_S on the two shared streams pooled, B_V, B_I); its negative
  pairs take z from another identity (``negative_partners`` in mutual_information.py).
``components`` report each term unweighted, in the order of ``component_names``.
"""

from mindspore import nn, ops

from src.losses.cross_entropy import LabelSmoothingCrossEntropy
from src.losses.distillation import (VariationalCrossDistillation, VariationalMutualLearning,
                                     VariationalSelfDistillation)
from src.losses.mutual_information import AdversarialMutualInformation
from src.losses.mutual_learning import DeepMutualLearning
from src.losses.ranked_list import RankedListLoss
from src.losses.triplet import BatchHardTripletLoss
from src.models.outputs import FEATURE, LOGITS, SHARED_STREAMS, SPECIFIC_STREAMS, Z, Z_LOGITS
from src.registry import fixed_choices

METRICS = fixed_choices("metric loss", ("ranked_list", "triplet", "none"), config_keys=("loss.metric",))


def _branch_pairs(stream_names):
    """(visible index, infrared index) of each branch present, shared first."""
    pairs = ()
    for visible_name, infrared_name in (SHARED_STREAMS, SPECIFIC_STREAMS):
        present = (visible_name in stream_names, infrared_name in stream_names)
        if present == (True, True):
            pairs += ((stream_names.index(visible_name), stream_names.index(infrared_name)),)
        elif any(present):
            raise ValueError(f"streams {stream_names} hold only one of {visible_name!r} and "
                             f"{infrared_name!r}; a branch has both")
    return pairs


class TrainObjective(nn.Cell):
    """``construct(outputs, labels)`` -> ``(total, components)``.

    Args:
        outputs: the network's training outputs, a tuple of streams in the order of
            ``stream_names`` (see src/models/outputs.py); B rows per stream.
        labels: (B,) int32 identity labels, shared by the visible and the infrared rows.
    Returns:
        total: scalar loss; components: tuple of unweighted scalar terms named by
        ``component_names``.

    Constructor: ``stream_names`` and ``bottleneck_streams`` as the network reports them,
    ``observation_dim`` / ``z_dim`` the sizes of v and z (for the CIB critic); the rest are
    the weights and options of ``default_config.yaml``'s ``loss`` section.
    """

    def __init__(self, num_classes, stream_names, bottleneck_streams, observation_dim, z_dim,
                 label_smoothing=0.1, metric="ranked_list", metric_weight=1.0, rll_margin=0.4,
                 rll_alpha=1.2, rll_temperature=10.0, triplet_margin=0.3, dml_weight=8.0, beta=2.0,
                 vsd=True, vcd=True, vml=True, detach_teacher=True, cib=False, cib_critic_hidden=1609):
        super().__init__()
        stream_names = tuple(stream_names)
        bottleneck_streams = tuple(bottleneck_streams)
        if not stream_names:
            raise ValueError("the objective needs at least one stream")
        unknown = [name for name in stream_names if name not in SHARED_STREAMS + SPECIFIC_STREAMS]
        if unknown:
            raise ValueError(f"unknown stream names {unknown}; expected some of {SHARED_STREAMS + SPECIFIC_STREAMS}")
        stray = [name for name in bottleneck_streams if name not in stream_names]
        if stray:
            raise ValueError(f"bottleneck streams {stray} are not among the streams {stream_names}")
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
        if cib and (vsd or vcd or vml):
            raise ValueError("loss.cib (conventional IB) replaces VSD, VCD and VML: set loss.vsd, "
                             "loss.vcd and loss.vml to false to use it")
        if cib and set(bottleneck_streams) != set(stream_names):
            raise ValueError("loss.cib needs a bottleneck on every branch it trains (model.shared_bottleneck "
                             "and model.specific_bottleneck other than none for the branches in model.branches)")

        self.stream_names = stream_names
        self.branch_pairs = _branch_pairs(stream_names)
        for pair in self.branch_pairs:
            if (stream_names[pair[0]] in bottleneck_streams) != (stream_names[pair[1]] in bottleneck_streams):
                raise ValueError(f"streams {stream_names[pair[0]]!r} and {stream_names[pair[1]]!r} share a "
                                 "branch, so both or neither must have a bottleneck")
        has_z = tuple(name in bottleneck_streams for name in stream_names)
        self.z_streams = tuple(index for index, name in enumerate(stream_names) if has_z[index])
        self.branch_has_z = tuple(has_z[pair[0]] for pair in self.branch_pairs)

        self.classification = LabelSmoothingCrossEntropy(num_classes, label_smoothing)
        names = ("cls",)
        self.metric_loss = None
        if metric == "ranked_list":
            self.metric_loss = RankedListLoss(rll_margin, rll_alpha, rll_temperature)
        elif metric == "triplet":
            self.metric_loss = BatchHardTripletLoss(triplet_margin)
        if self.metric_loss is not None:
            names += ("metric",)
        self.metric_weight = float(metric_weight)

        # The observation v is supervised unless the branches are trained as a conventional IB.
        self.supervise_observation = not cib
        self.use_dml = self.supervise_observation and set(stream_names) == set(SHARED_STREAMS + SPECIFIC_STREAMS)
        if self.use_dml:
            self.mutual_learning = DeepMutualLearning()
            # (specific, shared) stream indices per modality.
            self.dml_pairs = tuple((stream_names.index(specific), stream_names.index(shared))
                                   for specific, shared in zip(SPECIFIC_STREAMS, SHARED_STREAMS))
            names += ("dml",)
        self.dml_weight = float(dml_weight)

        self.vsd_streams = tuple(stream_names.index(name) for name in SPECIFIC_STREAMS
                                 if vsd and name in bottleneck_streams)
        self.use_vsd = bool(self.vsd_streams)
        shared_has_z = all(name in bottleneck_streams for name in SHARED_STREAMS)
        self.use_vcd = bool(vcd) and shared_has_z
        self.use_vml = bool(vml) and shared_has_z
        if self.use_vcd or self.use_vml:
            self.shared_pair = (stream_names.index(SHARED_STREAMS[0]), stream_names.index(SHARED_STREAMS[1]))
        if self.use_vsd:
            self.self_distillation = VariationalSelfDistillation(detach_teacher)
            names += ("vsd",)
        if self.use_vcd:
            self.cross_distillation = VariationalCrossDistillation(detach_teacher)
            names += ("vcd",)
        if self.use_vml:
            self.variational_mutual_learning = VariationalMutualLearning()
            names += ("vml",)
        self.beta = float(beta)

        self.use_cib = bool(cib)
        if self.use_cib:
            # One critic per bottleneck: the shared branch's two streams pooled, each specific stream alone.
            groups = ()
            for pair, branch_z in zip(self.branch_pairs, self.branch_has_z):
                if branch_z:
                    groups += (pair,) if stream_names[pair[0]] in SHARED_STREAMS else ((pair[0],), (pair[1],))
            self.cib_groups = groups
            self.mutual_information = nn.CellList([
                AdversarialMutualInformation(observation_dim, z_dim, cib_critic_hidden) for _ in self.cib_groups])
            names += ("cib",)
        self.component_names = names

    def construct(self, outputs, labels):
        pooled_labels = ops.concat((labels, labels))

        cls = 0.0
        if self.supervise_observation:
            for index in range(len(self.stream_names)):
                cls = cls + self.classification(outputs[index][LOGITS], labels)
        for index in self.z_streams:
            cls = cls + self.classification(outputs[index][Z_LOGITS], labels)
        total = cls
        components = (cls,)

        if self.metric_loss is not None:
            metric = 0.0
            for pair, branch_z in zip(self.branch_pairs, self.branch_has_z):
                if self.supervise_observation:
                    metric = metric + self.metric_loss(self._pooled(outputs, pair, FEATURE), pooled_labels)
                if branch_z:
                    metric = metric + self.metric_loss(self._pooled(outputs, pair, Z), pooled_labels)
            total = total + self.metric_weight * metric
            components += (metric,)

        if self.use_dml:
            dml = 0.0
            for specific, shared in self.dml_pairs:
                dml = dml + self.mutual_learning(outputs[specific][LOGITS], outputs[shared][LOGITS])
            total = total + self.dml_weight * dml
            components += (dml,)

        if self.use_vsd:
            vsd = 0.0
            for index in self.vsd_streams:
                vsd = vsd + self.self_distillation(outputs[index][LOGITS], outputs[index][Z_LOGITS])
            total = total + self.beta * vsd
            components += (vsd,)

        if self.use_vcd:
            first, second = outputs[self.shared_pair[0]], outputs[self.shared_pair[1]]
            vcd = self.cross_distillation(first[LOGITS], first[Z_LOGITS], second[LOGITS], second[Z_LOGITS])
            total = total + self.beta * vcd
            components += (vcd,)

        if self.use_vml:
            first, second = outputs[self.shared_pair[0]], outputs[self.shared_pair[1]]
            vml = self.variational_mutual_learning(first[Z_LOGITS], second[Z_LOGITS])
            total = total + self.beta * vml
            components += (vml,)

        if self.use_cib:
            cib = 0.0
            for group_index, group in enumerate(self.cib_groups):
                group_labels = pooled_labels if len(group) == 2 else labels
                cib = cib + self.mutual_information[group_index](self._pooled(outputs, group, FEATURE),
                                                                 self._pooled(outputs, group, Z), group_labels)
            total = total + self.beta * cib
            components += (cib,)

        return total, components

    def _pooled(self, outputs, group, field):
        """One field of the streams in ``group`` (indices), stacked along the batch axis."""
        if len(group) == 1:
            return outputs[group[0]][field]
        return ops.concat((outputs[group[0]][field], outputs[group[1]][field]))


def build_objective(cfg, network, num_classes):
    """The ``TrainObjective`` for ``network`` from the resolved configuration's ``loss`` section.

    The network supplies ``stream_names``, ``bottleneck_streams``, ``observation_dim`` and
    ``z_dim``; every key of the section maps onto the constructor argument of the same name.
    """
    loss_cfg = cfg.loss
    return TrainObjective(
        num_classes, network.stream_names, network.bottleneck_streams, network.observation_dim, network.z_dim,
        label_smoothing=loss_cfg["label_smoothing"], metric=loss_cfg["metric"],
        metric_weight=loss_cfg["metric_weight"], rll_margin=loss_cfg["rll_margin"],
        rll_alpha=loss_cfg["rll_alpha"], rll_temperature=loss_cfg["rll_temperature"],
        triplet_margin=loss_cfg["triplet_margin"], dml_weight=loss_cfg["dml_weight"], beta=loss_cfg["beta"],
        vsd=loss_cfg["vsd"], vcd=loss_cfg["vcd"], vml=loss_cfg["vml"], detach_teacher=loss_cfg["detach_teacher"],
        cib=loss_cfg["cib"], cib_critic_hidden=loss_cfg["cib_critic_hidden"])
