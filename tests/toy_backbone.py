"""A backbone added as one file outside ``src/``: importing it registers ``toy_convs``, which
owns one option of its own, ``backbone.toy_width``.

Taken up through the configuration's ``imports`` (``tests/test_imports.py``) or imported by a
test (``tests/test_plug_in_parts.py``); nothing else in the repository names it.
"""

from mindspore import nn

from src.models.backbone import BACKBONES, Backbone
from src.options import Option, Options

TOY_BACKBONE_OPTIONS = Options(
    Option("backbone.toy_width", 6, "toy_convs: channels of both convolutions", minimum=1),
)


@BACKBONES.register("toy_convs", options=TOY_BACKBONE_OPTIONS)
class ToyBackbone(Backbone):
    """Two strided 3x3 convolutions: images (B, 3, H, W) -> v (B, width)."""

    def __init__(self, width=6):
        super().__init__()
        self.output_dim = width
        self.conv1 = nn.Conv2d(3, width, 3, stride=2, pad_mode="pad", padding=1, has_bias=True)
        self.conv2 = nn.Conv2d(width, width, 3, stride=2, pad_mode="pad", padding=1, has_bias=True)
        self.relu = nn.ReLU()

    @classmethod
    def from_config(cls, cfg):
        return cls(cfg.backbone.toy_width)

    def feature_map(self, images):
        return self.relu(self.conv2(self.relu(self.conv1(images))))
