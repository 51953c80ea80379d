"""ResNet-10/18/34/50 encoders with torchvision's structure, parameter layout and numerics.

The layout mirrors torchvision (``conv1``, ``bn1``, ``layer1`` .. ``layer4``, blocks with
``conv1``/``bn1``/..., projection shortcut ``downsample.0`` (conv) and ``downsample.1``
(BN)), so that ImageNet weights map one-to-one (see ``src.models.pretrained``). Numerics
follow torchvision too: explicit symmetric padding (``pad_mode='same'`` pads stride-2
layers asymmetrically and shifts every converted feature map), BatchNorm eps 1e-5 and
momentum 0.9 in MindSpore's convention (= torchvision's 0.1), the stride of a bottleneck
block on its 3x3 convolution (ResNet v1.5).

The encoder returns the observation v: global average pooling of the last stage,
(B, 2048) for ResNet-50 and (B, 512) for ResNet-10/18/34 (at base width 64). The last stage's stride is
configurable; 1 (the re-id default) doubles both spatial sides of the last feature map.
"""

from mindspore import nn, ops
from mindspore.common.initializer import HeNormal

from src.models.backbone import BACKBONES, Backbone
from src.models.pointwise_conv import PointwiseConv2d
from src.models.pretrained import load_pretrained_backbone
from src.options import Option, Options


RESNET_OPTIONS = Options(
    Option("backbone.depth", 50,
           "resnet: depth 10, 18, 34 or 50 (10 has no ImageNet weights)", choices=(10, 18, 34, 50)),
    Option("backbone.base_width", 64,
           "resnet: stem / first-stage channels (64: torchvision, needed for ImageNet weights)", minimum=1),
    Option("backbone.last_stride", 1, "resnet: stride of the last stage, 1 or 2", choices=(1, 2)),
    Option("backbone.frozen_stages", -1,
           "resnet: freeze the stem and the first N stages (-1: nothing frozen)", minimum=-1, maximum=4),
    Option("backbone.pointwise_grad", "auto",
           "resnet: 1x1 convolutions' input gradient: conv (faster on CPU), builtin, auto (conv on CPU only)",
           choices=("auto", "conv", "builtin")),
)

BN_EPS = 1e-5
BN_MOMENTUM = 0.9

# depth -> (block kind, blocks per stage)
ARCHITECTURES = {
    10: ("basic", (1, 1, 1, 1)),  # not a torchvision model: no ImageNet weights; for CPU runs from scratch
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
}
DEPTHS = RESNET_OPTIONS.choices("backbone.depth")
LAST_STRIDES = RESNET_OPTIONS.choices("backbone.last_stride")
# Stage widths are base_width * STAGE_MULTIPLIERS; torchvision's (and ImageNet weights') base is 64.
STAGE_MULTIPLIERS = (1, 2, 4, 8)
TORCHVISION_BASE_WIDTH = 64
POINTWISE_GRADS = ("conv", "builtin")
# The configuration may also say "auto", resolved by the device (ResNetEncoder.from_config).
CONFIG_POINTWISE_GRADS = RESNET_OPTIONS.choices("backbone.pointwise_grad")
EXPANSION = {"basic": 1, "bottleneck": 4}


def conv(in_channels, out_channels, kernel_size, stride=1, pointwise_grad="builtin"):
    """Bias-free convolution with symmetric padding kernel_size // 2 (torchvision's).

    With ``pointwise_grad="conv"``, 1x1 stride-1 convolutions are ``PointwiseConv2d``: the
    same layer with an input gradient that is faster on CPU.
    """
    weight_init = HeNormal(mode="fan_out", nonlinearity="relu")
    if kernel_size == 1 and stride == 1 and pointwise_grad == "conv":
        return PointwiseConv2d(in_channels, out_channels, weight_init)
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, pad_mode="pad",
                     padding=kernel_size // 2, has_bias=False, weight_init=weight_init)


def _pad_with_zeros(x):
    """(B, C, H, W) -> (B, C, H + 2, W + 2) with a border of zeros, batch size left dynamic."""
    row = ops.zeros_like(x[:, :, :1, :])
    x = ops.concat((row, x, row), axis=2)
    column = ops.zeros_like(x[:, :, :, :1])
    return ops.concat((column, x, column), axis=3)


def batch_norm(channels, frozen=False):
    """BatchNorm2d with torchvision's constants; ``frozen`` keeps it on its moving statistics."""
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM,
                          use_batch_statistics=False if frozen else None)


def projection(in_channels, out_channels, stride, frozen, pointwise_grad):
    """Shortcut projection (1x1 convolution + BN) used when shape or stride change."""
    return nn.SequentialCell([conv(in_channels, out_channels, 1, stride, pointwise_grad),
                              batch_norm(out_channels, frozen)])


class BasicBlock(nn.Cell):
    """Two 3x3 convolutions with an identity or projected shortcut (ResNet-18/34)."""

    def __init__(self, in_channels, width, stride=1, frozen=False, pointwise_grad="builtin"):
        super().__init__()
        out_channels = width * EXPANSION["basic"]
        self.conv1 = conv(in_channels, width, 3, stride)
        self.bn1 = batch_norm(width, frozen)
        self.conv2 = conv(width, out_channels, 3)
        self.bn2 = batch_norm(out_channels, frozen)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = projection(in_channels, out_channels, stride, frozen, pointwise_grad)

    def convolution_batch_norm_pairs(self):
        """(self, "conv<i>", "bn<i>") for each layer, and the projection's (SequentialCell, 0, 1)."""
        pairs = [(self, "conv1", "bn1"), (self, "conv2", "bn2")]
        return pairs + ([(self.downsample, 0, 1)] if self.downsample is not None else [])

    def construct(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.downsample is not None:
            shortcut = self.downsample(x)
        return self.relu(out + shortcut)


class BottleneckBlock(nn.Cell):
    """1x1 -> 3x3 (strided) -> 1x1 convolutions with a shortcut (ResNet-50)."""

    def __init__(self, in_channels, width, stride=1, frozen=False, pointwise_grad="builtin"):
        super().__init__()
        out_channels = width * EXPANSION["bottleneck"]
        self.conv1 = conv(in_channels, width, 1, pointwise_grad=pointwise_grad)
        self.bn1 = batch_norm(width, frozen)
        self.conv2 = conv(width, width, 3, stride)
        self.bn2 = batch_norm(width, frozen)
        self.conv3 = conv(width, out_channels, 1, pointwise_grad=pointwise_grad)
        self.bn3 = batch_norm(out_channels, frozen)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = projection(in_channels, out_channels, stride, frozen, pointwise_grad)

    def convolution_batch_norm_pairs(self):
        """(self, "conv<i>", "bn<i>") for each layer, and the projection's (SequentialCell, 0, 1)."""
        pairs = [(self, "conv1", "bn1"), (self, "conv2", "bn2"), (self, "conv3", "bn3")]
        return pairs + ([(self.downsample, 0, 1)] if self.downsample is not None else [])

    def construct(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x
        if self.downsample is not None:
            shortcut = self.downsample(x)
        return self.relu(out + shortcut)


BLOCKS = {"basic": BasicBlock, "bottleneck": BottleneckBlock}


@BACKBONES.register("resnet", options=RESNET_OPTIONS)
class ResNetEncoder(Backbone):
    """ResNet trunk + global average pooling: images (B, 3, H, W) -> v (B, ``output_dim``).

    Args:
        depth: 10, 18, 34 or 50 (10: one basic block per stage, which has no ImageNet weights).
        last_stride: stride of the last stage, 1 or 2.
        frozen_stages: -1 freezes nothing; N >= 0 freezes the stem and stages 1..N: their
            parameters get ``requires_grad=False`` and their BatchNorms always use the
            moving statistics, whatever ``set_train`` says.
        pointwise_grad: input gradient of the 1x1 stride-1 convolutions: "conv" (a forward
            convolution, ``PointwiseConv2d``: ~4% faster training steps on CPU, ~11% more peak
            memory there) or "builtin" (MindSpore's). Forward values, parameters and exported
            graphs are the same either way.
        base_width: channels of the stem and the first stage; stage s has base_width * 2^s.
            64 is torchvision's ResNet (the only width ImageNet weights fit); a narrower
            network costs about (base_width / 64)^2 of the compute, for CPU runs from scratch.
    """

    def __init__(self, depth=50, last_stride=1, frozen_stages=-1, pointwise_grad="builtin",
                 base_width=TORCHVISION_BASE_WIDTH):
        super().__init__()
        if depth not in DEPTHS:
            raise ValueError(f"ResNet depth must be one of {DEPTHS}, got {depth}")
        if last_stride not in LAST_STRIDES:
            raise ValueError(f"last_stride must be 1 or 2, got {last_stride}")
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f"frozen_stages must be in -1..4, got {frozen_stages}")
        if pointwise_grad not in POINTWISE_GRADS:
            raise ValueError(f"pointwise_grad must be one of {POINTWISE_GRADS}, got {pointwise_grad!r}")
        if base_width < 1:
            raise ValueError(f"base_width must be a positive channel count, got {base_width}")
        kind, blocks_per_stage = ARCHITECTURES[depth]
        block = BLOCKS[kind]
        self.depth = depth
        self.base_width = base_width
        stage_widths = tuple(base_width * multiplier for multiplier in STAGE_MULTIPLIERS)
        self.output_dim = stage_widths[-1] * EXPANSION[kind]

        stem_frozen = frozen_stages >= 0
        self.conv1 = conv(3, base_width, 7, stride=2)
        self.bn1 = batch_norm(base_width, stem_frozen)
        self.relu = nn.ReLU()
        # torchvision pads the max pool with -inf; after ReLU zeros are equivalent (every
        # window holds a real value >= 0), and a zero-padded "valid" pool exports to MINDIR
        # with a dynamic batch, where pad_mode="pad" fails to load. The zeros are
        # concatenated rather than added with ops.pad, whose CPU backward kernel in
        # MindSpore 2.10 hangs (spins forever) from the 18th training step of a process.
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2)

        strides = (1, 2, 2, last_stride)
        in_channels = base_width
        stages = []
        for index, (width, count, stride) in enumerate(zip(stage_widths, blocks_per_stage, strides)):
            frozen = index + 1 <= frozen_stages
            blocks = []
            for position in range(count):
                blocks.append(block(in_channels, width, stride if position == 0 else 1, frozen, pointwise_grad))
                in_channels = width * EXPANSION[kind]
            stages.append(nn.SequentialCell(blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages

        frozen_cells = [self.conv1, self.bn1] if stem_frozen else []
        frozen_cells += stages[:max(frozen_stages, 0)]
        for cell in frozen_cells:
            for parameter in cell.get_parameters():
                parameter.requires_grad = False

    @classmethod
    def from_config(cls, cfg):
        """The ``backbone`` section's ResNet options; ``pointwise_grad: auto`` is "conv" on CPU
        (``cfg.device_target``) and "builtin" elsewhere (unmeasured on GPU / Ascend, so left as it was)."""
        section = cfg.backbone
        pointwise_grad = section.pointwise_grad
        if pointwise_grad == "auto":
            pointwise_grad = "conv" if cfg.device_target == "CPU" else "builtin"
        return cls(section.depth, section.last_stride, section.frozen_stages, pointwise_grad, section.base_width)

    def feature_map(self, images):
        """(B, 3, H, W) -> last-stage map (B, output_dim, H', W')."""
        x = self.maxpool(_pad_with_zeros(self.relu(self.bn1(self.conv1(images)))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def convolution_batch_norm_pairs(self):
        """The stem's convolution and BatchNorm, then every block's pairs."""
        pairs = [(self, "conv1", "bn1")]
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            for block in stage:
                pairs += block.convolution_batch_norm_pairs()
        return pairs

    def load_pretrained(self, path):
        """ImageNet ResNet weights of any naming ``src.models.pretrained`` knows."""
        return load_pretrained_backbone(self, path)
