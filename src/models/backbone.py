"""The backbone contract: what a branch needs from its encoder, and the registry of encoders.

Every branch of the network (``src.models.network``) holds one backbone. A backbone is a cell
mapping images (B, 3, H, W) float32 to the observation v (B, ``output_dim``); the heads, the
bottleneck and the losses only ever see v, so any encoder with this interface plugs in.

A new backbone is one file: a ``Backbone`` subclass registered under a name, e.g.
``@BACKBONES.register("my_vit")``, with a ``from_config`` that reads the ``backbone`` section.
``backbone.name`` in the configuration then selects it (its allowed values are the names
registered here). A backbone in ``src/models/`` is found in the source (``src.source_index``);
one elsewhere is named in the configuration's ``imports``.
"""

from mindspore import nn, ops

from src.errors import AnticipatedError
from src.options import Option, Options
from src.registry import Registry


BACKBONE_OPTIONS = Options(
    Option("backbone.name", "resnet", "the encoder of every branch (a registered backbone)"),
    Option("backbone.pretrained", "", "ImageNet checkpoint (.ckpt) loaded into every encoder"),
)

BACKBONES = Registry("backbone", config_keys=("backbone.name",))


class NoPretrainedWeightsError(AnticipatedError, ValueError):
    """``backbone.pretrained`` names a checkpoint for a backbone that cannot load one."""


class Backbone(nn.Cell):
    """Images (B, 3, H, W) float32 -> observation v (B, ``output_dim``) float32.

    A subclass sets ``output_dim`` (the size of v) in its constructor and defines
    ``feature_map``; ``construct`` averages that map over its spatial axes, which an encoder
    without a spatial map (a transformer's class token) overrides. ``load_pretrained`` loads
    ImageNet-style weights into this one encoder; ``from_config`` maps the configuration onto
    the constructor's arguments, so the constructor itself stays free of the configuration.
    """

    output_dim = None

    @classmethod
    def from_config(cls, cfg):
        """A new encoder from the resolved configuration (``cfg.backbone`` and, where a choice
        depends on it, ``cfg.device_target``); each branch gets its own."""
        raise NotImplementedError(f"{cls.__name__} does not define from_config")

    def feature_map(self, images):
        """(B, 3, H, W) -> the last feature map (B, output_dim, H', W')."""
        raise NotImplementedError(f"{type(self).__name__} does not define feature_map")

    def construct(self, images):
        return ops.mean(self.feature_map(images), axis=(2, 3))

    def convolution_batch_norm_pairs(self):
        """Each convolution whose output goes straight into a BatchNorm and nowhere else, as
        (owner cell, convolution key, BatchNorm key), a key being an attribute name or an index
        of a SequentialCell; inference graphs fold each pair into one convolution
        (``src.models.batch_norm_folding``). None by default: nothing is folded."""
        return []

    def load_pretrained(self, path):
        """Loads the weights in checkpoint ``path`` into this encoder; returns a
        ``src.models.pretrained.LoadReport``. Refuses (typed error) a checkpoint that does not fit."""
        raise NoPretrainedWeightsError(f"backbone {type(self).__name__} cannot load pretrained weights "
                                       f"({path}); leave backbone.pretrained empty")
