"""The three-branch network (paper Fig. 3) and its inference cell.

Branches: shared E_S (+ B_S) sees both modalities; visible-specific E_V (+ B_V) sees only
visible images; infrared-specific E_I (+ B_I) sees only infrared images. Each branch is an
encoder (a backbone, ``src.models.backbone``: ResNet by default), a BN neck and a classifier
on v, and optionally an information bottleneck with a classifier on z. Training outputs follow
``src.models.outputs``.
"""

from mindspore import nn, ops

from src.models import outputs
from src.models.backbone import BACKBONES
from src.models.bottleneck import InformationBottleneck
from src.models.heads import BNNeck, identity_classifier
from src.options import Option, Options


NETWORK_OPTIONS = Options(
    Option("model.branches", ["shared", "specific"],
           "encoders: shared (E_S) and/or specific (E_V and E_I)", choices=("shared", "specific")),
    Option("model.shared_bottleneck", "gaussian",
           "bottleneck on the shared branch: gaussian, deterministic or none",
           choices=("gaussian", "deterministic", "none")),
    Option("model.specific_bottleneck", "gaussian",
           "bottleneck on the specific branches: gaussian, deterministic or none",
           choices=("gaussian", "deterministic", "none")),
    Option("model.test_feature", "v",
           "test feature: v (observation), z (representation) or both", choices=("v", "z", "both")),
    Option("model.test_branches", "all",
           "branches whose features are concatenated at test: all, shared or specific",
           choices=("all", "shared", "specific")),
)

BOTTLENECK_KINDS = NETWORK_OPTIONS.choices("model.shared_bottleneck")
TEST_FEATURES = NETWORK_OPTIONS.choices("model.test_feature")
TEST_BRANCHES = NETWORK_OPTIONS.choices("model.test_branches")
MODALITIES = ("visible", "infrared")


class Branch(nn.Cell):
    """One encoder with its heads: images (B, 3, H, W) [, noise (B, z_dim)] -> stream tuple.

    ``encoder`` is a ``Backbone`` (images -> v of ``encoder.output_dim``) owned by this branch
    alone. The stream is ``(feature, logits)`` without a bottleneck and ``(feature, logits, z,
    z_mean, z_scale, z_logits)`` with one (field order and shapes: ``src.models.outputs``).
    """

    def __init__(self, encoder, num_classes, bottleneck, hidden_dims, z_dim, initial_scale=0.01):
        super().__init__()
        if bottleneck not in BOTTLENECK_KINDS:
            raise ValueError(f"bottleneck must be one of {BOTTLENECK_KINDS}, got {bottleneck!r}")
        self.encoder = encoder
        observation_dim = self.encoder.output_dim
        self.neck = BNNeck(observation_dim)
        self.classifier = identity_classifier(observation_dim, num_classes)
        self.has_bottleneck = bottleneck != "none"
        self.bottleneck = None
        self.z_classifier = None
        if self.has_bottleneck:
            self.bottleneck = InformationBottleneck(observation_dim, hidden_dims, z_dim,
                                                    stochastic=bottleneck == "gaussian", initial_scale=initial_scale)
            self.z_classifier = identity_classifier(z_dim, num_classes)

    def construct(self, images, noise=None):
        feature = self.encoder(images)
        logits = self.classifier(self.neck(feature))
        if self.bottleneck is None:
            return feature, logits
        z, z_mean, z_scale = self.bottleneck(feature, noise)
        return feature, logits, z, z_mean, z_scale, self.z_classifier(z)

    def test_parts(self, images, with_v, with_z):
        """Inference features: (BN-neck output,) and/or (z mean,), each L2-normalised."""
        feature = self.encoder(images)
        parts = ()
        if with_v:
            parts += (_l2_normalise(self.neck(feature)),)
        if with_z:
            _, z_mean, _ = self.bottleneck(feature)
            parts += (_l2_normalise(z_mean),)
        return parts


def _l2_normalise(x):
    # sqrt(sum + eps) rather than clamp(norm, eps): MindSpore's ONNX exporter rejects the
    # Maximum node that clamp becomes; the results agree wherever the norm exceeds 1e-12.
    return x / ops.sqrt((x * x).sum(axis=1, keepdims=True) + 1e-24)


def _rows(stream, start, stop):
    """Rows start:stop of every field of a stream tuple."""
    return tuple(field[start:stop] for field in stream)


class VIReIDNetwork(nn.Cell):
    """Shared and/or modality-specific branches, routed by modality.

    Args:
        num_classes: training identities C.
        make_encoder: () -> a new ``Backbone``; called once per branch, so that every branch
            has its own weights (e.g. ``lambda: ResNetEncoder(18)``).
        use_shared: build E_S (streams ``shared_visible``, ``shared_infrared``).
        use_specific: build E_V and E_I (streams ``visible``, ``infrared``).
        shared_bottleneck, specific_bottleneck: "gaussian", "deterministic" or "none".
        hidden_dims, z_dim, initial_scale: bottleneck MLP hidden sizes, representation size and
            the Gaussian's sigma at initialisation (``InformationBottleneck``).
        test_feature: "v" (BN-neck output), "z" (bottleneck mean) or "both".
        test_branches: "all", "shared" or "specific": whose features form the test feature.

    ``construct(visible, infrared, noise=None)``: visible and infrared (B, 3, H, W) float32,
    aligned by identity; ``noise`` (len(stream_names), B, z_dim) standard-normal, row i for
    stream i (used only by Gaussian bottlenecks in training; drawn in the graph when None).
    Returns one stream tuple per name of ``stream_names``. Visible images reach only E_V and
    E_S, infrared ones only E_I and E_S; E_S sees both modalities in one batch of 2B, so
    its BatchNorm statistics cover both, as at test time.
    """

    def __init__(self, num_classes, make_encoder, use_shared=True, use_specific=True,
                 shared_bottleneck="gaussian", specific_bottleneck="gaussian", hidden_dims=(1024, 512),
                 z_dim=256, test_feature="v", test_branches="all", initial_scale=0.01):
        super().__init__()
        if not (use_shared or use_specific):
            raise ValueError("the network needs the shared branch, the specific branches or both")
        if test_feature not in TEST_FEATURES:
            raise ValueError(f"test_feature must be one of {TEST_FEATURES}, got {test_feature!r}")
        if test_branches not in TEST_BRANCHES:
            raise ValueError(f"test_branches must be one of {TEST_BRANCHES}, got {test_branches!r}")
        if test_branches == "shared" and not use_shared:
            raise ValueError("test_branches 'shared' needs use_shared")
        if test_branches == "specific" and not use_specific:
            raise ValueError("test_branches 'specific' needs use_specific")

        def branch(bottleneck):
            return Branch(make_encoder(), num_classes, bottleneck, tuple(hidden_dims), z_dim, initial_scale)

        self.use_shared = use_shared
        self.use_specific = use_specific
        self.z_dim = z_dim
        self.test_feature = test_feature
        self.test_branches = test_branches
        self.shared_branch = branch(shared_bottleneck) if use_shared else None
        self.visible_branch = branch(specific_bottleneck) if use_specific else None
        self.infrared_branch = branch(specific_bottleneck) if use_specific else None
        self.stream_names = outputs.stream_names(use_shared, use_specific)
        self.bottleneck_streams = ()
        if use_shared and shared_bottleneck != "none":
            self.bottleneck_streams += outputs.SHARED_STREAMS
        if use_specific and specific_bottleneck != "none":
            self.bottleneck_streams += outputs.SPECIFIC_STREAMS
        self.observation_dim = self.test_branch_list("visible")[0].encoder.output_dim

        for used in self.test_branch_list("visible"):
            if test_feature != "v" and not used.has_bottleneck:
                raise ValueError(f"test_feature {test_feature!r} needs a bottleneck on every test branch")
        per_branch = {"v": self.observation_dim, "z": z_dim, "both": self.observation_dim + z_dim}[test_feature]
        self.feature_dim = per_branch * len(self.test_branch_list("visible"))

    def encoders(self):
        """{name: encoder (Backbone)} of the branches that exist."""
        branches = {"shared": self.shared_branch, "visible": self.visible_branch, "infrared": self.infrared_branch}
        return {name: branch.encoder for name, branch in branches.items() if branch is not None}

    def test_branch_list(self, modality):
        """The branches whose features make the test feature of ``modality``, shared first."""
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
        specific = self.visible_branch if modality == "visible" else self.infrared_branch
        chosen = []
        if self.use_shared and self.test_branches in ("all", "shared"):
            chosen.append(self.shared_branch)
        if self.use_specific and self.test_branches in ("all", "specific"):
            chosen.append(specific)
        return chosen

    def noise_shape(self, batch_size):
        """Shape of the ``noise`` input for a batch of ``batch_size`` per modality."""
        return (len(self.stream_names), batch_size, self.z_dim)

    def construct(self, visible, infrared, noise=None):
        batch = visible.shape[0]
        streams = ()
        index = 0
        if self.use_shared:
            shared_noise = None
            if noise is not None:
                shared_noise = ops.concat((noise[0], noise[1]), axis=0)
            shared = self.shared_branch(ops.concat((visible, infrared), axis=0), shared_noise)
            streams += (_rows(shared, 0, batch), _rows(shared, batch, 2 * batch))
            index = 2
        if self.use_specific:
            visible_noise = None
            infrared_noise = None
            if noise is not None:
                visible_noise = noise[index]
                infrared_noise = noise[index + 1]
            streams += (self.visible_branch(visible, visible_noise), self.infrared_branch(infrared, infrared_noise))
        return streams


class InferenceNetwork(nn.Cell):
    """Test feature of one modality: images (B, 3, H, W) -> (B, network.feature_dim).

    For modality m, the features of the shared branch and of the m-specific branch (as
    ``network.test_branches`` selects) are concatenated, shared first; per branch the parts
    are the BN-neck output v, the bottleneck mean z, or both [v, z] (``test_feature``).
    Each part is L2-normalised before concatenation so that every branch and every part
    weighs equally in a distance whatever its scale; the normalisation of the whole feature
    is left to the evaluation. Puts the network in inference mode (BN moving statistics,
    z = mean). Built with ``auto_prefix=False`` so the network's parameter names stay as
    they are. This cell is what eval uses and export writes.
    """

    def __init__(self, network, modality):
        super().__init__(auto_prefix=False)
        self.network = network
        chosen = network.test_branch_list(modality)
        # Two plain attributes, not a CellList, which would rename the parameters "0.", "1.".
        self.first = chosen[0]
        self.second = chosen[1] if len(chosen) > 1 else None
        self.with_v = network.test_feature in ("v", "both")
        self.with_z = network.test_feature in ("z", "both")
        self.feature_dim = network.feature_dim
        self.set_train(False)

    def construct(self, images):
        parts = self.first.test_parts(images, self.with_v, self.with_z)
        if self.second is not None:
            parts += self.second.test_parts(images, self.with_v, self.with_z)
        return ops.concat(parts, axis=1)


def build_network(cfg, num_classes):
    """The network described by the resolved configuration: the ``model`` section, and every
    encoder built by the backbone ``backbone.name`` from the ``backbone`` section, with the
    weights of ``backbone.pretrained`` loaded into each when it names a checkpoint.

    The load reports are kept on the network as ``pretrained_reports`` ({encoder: report}).
    """
    backbone = BACKBONES.get(cfg.backbone.name)
    model = cfg.model
    branches = tuple(model.branches)
    network = VIReIDNetwork(
        num_classes,
        lambda: backbone.from_config(cfg),
        use_shared="shared" in branches,
        use_specific="specific" in branches,
        shared_bottleneck=model.shared_bottleneck,
        specific_bottleneck=model.specific_bottleneck,
        hidden_dims=tuple(model.hidden_dims),
        z_dim=model.z_dim,
        test_feature=model.test_feature,
        test_branches=model.test_branches,
        initial_scale=model.initial_scale,
    )
    network.pretrained_reports = {}
    if cfg.backbone.pretrained:
        for name, encoder in network.encoders().items():
            network.pretrained_reports[name] = encoder.load_pretrained(cfg.backbone.pretrained)
    return network
