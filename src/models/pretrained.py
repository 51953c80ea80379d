"""Loading weights by exact, explicit names: ImageNet ResNets into an encoder, and the
project's own checkpoints into a network.

MindSpore's ``load_param_into_net`` matches names by suffix, so optimizer moments
(``moment1.x``) can land in ``x``; these loaders never use it. They build the exact
{parameter: value} dict for the cell's own parameter names, check every shape, report what
was loaded, missing, unused or dropped, and refuse (``CheckpointMismatchError``, naming the
keys) a checkpoint that does not fit.

ImageNet checkpoints may use any of three namings, mapped onto this project's
(torchvision's layout with MindSpore's BatchNorm names, see ``src.models.resnet``):
- torchvision (``.pth``, converted by ``tools/convert_torchvision_resnet.py`` through
  ``torchvision_to_project_names``): BN ``weight/bias/running_mean/running_var`` ->
  ``gamma/beta/moving_mean/moving_variance``; ``num_batches_tracked`` is dropped;
- mindcv: the projection shortcut is ``down_sample``; the classifier ``classifier``;
- MindSpore model zoo (official/cv/ResNet): the shortcut is ``down_sample_layer``, the
  BNs of ResNet-18/34 blocks ``bn1d``/``bn2d``, the classifier ``end_point``. Note that
  the model zoo's ResNet-50 was trained with ``pad_mode='same'`` (asymmetric padding at
  stride 2), so its weights see slightly shifted inputs in this torchvision-style network.
The ImageNet classifier (``fc``, ``classifier``, ``end_point``) is dropped.
"""

import os
import re
from dataclasses import dataclass

import mindspore as ms

from src.errors import MalformedInputError, MissingInputError
from src.utils.checkpoint_io import load_checkpoint

TORCHVISION_BN_NAMES = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean",
                        "running_var": "moving_variance"}
# A torchvision ResNet's BatchNorms: bn1, bn2, bn3 and the projection shortcut's downsample.1.
_TORCHVISION_BN_MODULE = re.compile(r"(^|\.)(bn\d+|downsample\.1)$")
# mindcv / model-zoo module names -> this project's.
_MINDSPORE_MODULE_RENAMES = (
    (re.compile(r"\.down_sample_layer\."), ".downsample."),
    (re.compile(r"\.down_sample\."), ".downsample."),
    (re.compile(r"\.bn1d\."), ".bn1."),
    (re.compile(r"\.bn2d\."), ".bn2."),
)
IMAGENET_CLASSIFIER_PREFIXES = ("fc.", "classifier.", "end_point.")
# A parameter of a residual block of a ResNet trunk: layer1.0.conv1.weight, ...
_TRUNK_BLOCK = re.compile(r"(^|\.)layer[1-4]\.\d+\.")
_LISTED = 8


class CheckpointMismatchError(MalformedInputError):
    """A checkpoint does not fit the cell it is loaded into."""


@dataclass(frozen=True)
class LoadReport:
    """Outcome of a load. ``loaded``, ``missing``: the cell's parameter names (relative to
    the cell); ``unexpected``: checkpoint keys not used (optimizer state, other layers);
    ``dropped``: checkpoint keys deliberately left out (the ImageNet classifier)."""

    path: str
    loaded: tuple
    missing: tuple = ()
    unexpected: tuple = ()
    dropped: tuple = ()

    def summary(self):
        return (f"{self.path}: loaded {len(self.loaded)} parameters, missing {len(self.missing)}, "
                f"unused {len(self.unexpected)}{_listing(self.unexpected)}, dropped {len(self.dropped)}")


def _listing(names):
    if not names:
        return ""
    shown = ", ".join(names[:_LISTED])
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return f" ({shown}{more})"


def torchvision_to_project_names(state_dict):
    """Rename a torchvision ResNet state dict ({name: numpy array}) to this project's names.

    BatchNorm ``weight/bias/running_mean/running_var`` become ``gamma/beta/moving_mean/
    moving_variance``; ``num_batches_tracked`` is dropped; every other name (convolutions,
    ``downsample.0``, ``fc``) is kept. Arrays are passed through unchanged.
    """
    renamed = {}
    for name, value in state_dict.items():
        module, _, leaf = name.rpartition(".")
        if leaf == "num_batches_tracked":
            continue
        if _TORCHVISION_BN_MODULE.search(module):
            if leaf not in TORCHVISION_BN_NAMES:
                raise ValueError(f"unknown BatchNorm entry {name!r} in the torchvision state dict")
            name = f"{module}.{TORCHVISION_BN_NAMES[leaf]}"
        renamed[name] = value
    return renamed


def mindspore_to_project_name(name):
    """A mindcv or model-zoo ResNet parameter name -> this project's name for it."""
    name = "." + name
    for pattern, replacement in _MINDSPORE_MODULE_RENAMES:
        name = pattern.sub(replacement, name)
    return name[1:]


def _read_checkpoint(path):
    if not os.path.isfile(path):
        raise MissingInputError(f"checkpoint not found: {path}")
    try:
        checkpoint = load_checkpoint(path)
    except (OSError, ValueError, RuntimeError) as error:
        raise CheckpointMismatchError(f"cannot read checkpoint {path}: {error}") from error
    return {name: value.asnumpy() for name, value in checkpoint.items()}


def _surplus_blocks(unused, names):
    """Unused keys of residual blocks that the cell lacks (its optimizer moments aside).

    A deeper ResNet of the same block kind (ResNet-18 into ResNet-10, 34 into 18) fits every
    parameter of the shallower one with the right shape; only these keys show it is another network.
    """
    def block(name):  # ".visible_branch.encoder.layer1.0." of a parameter in it, or None
        match = _TRUNK_BLOCK.search(name)
        return "." + name[:match.end()] if match else None

    # A key's block is the cell's own if it ends with one (optimizer moments carry a longer prefix).
    own_blocks = tuple({block(name) for name in names} - {None})
    return [key for key in unused if block(key) is not None and not block(key).endswith(own_blocks)]


def _assign(targets, values, path, unused):
    """Check shapes of {name: array} against {name: Parameter} and refuse surplus residual
    blocks among the ``unused`` keys, then set them all."""
    wrong = [f"{name} {tuple(values[name].shape)} (expected {tuple(targets[name].shape)})"
             for name in values if tuple(values[name].shape) != tuple(targets[name].shape)]
    if wrong:
        raise CheckpointMismatchError(f"checkpoint {path} does not fit: wrong shapes for {len(wrong)} "
                                      f"parameters{_listing(wrong)}")
    surplus = _surplus_blocks(unused, set(targets))
    if surplus:
        raise CheckpointMismatchError(f"checkpoint {path} has {len(surplus)} parameters of residual blocks this "
                                      f"network lacks{_listing(surplus)}; is it a deeper ResNet?")
    for name, value in values.items():
        targets[name].set_data(ms.Tensor(value, dtype=targets[name].dtype))


def load_pretrained_backbone(encoder, path):
    """Load ImageNet ResNet weights (any naming above) into ``encoder``; returns a LoadReport.

    Every encoder parameter must be found with the right shape; otherwise nothing is loaded
    and ``CheckpointMismatchError`` names the missing or misshapen keys.
    """
    checkpoint = _read_checkpoint(path)
    targets = dict(encoder.parameters_and_names())
    values, sources, unexpected, dropped = {}, {}, [], []
    for key, value in checkpoint.items():
        if key.startswith(IMAGENET_CLASSIFIER_PREFIXES):
            dropped.append(key)
            continue
        name = mindspore_to_project_name(key)
        if name not in targets:
            unexpected.append(key)
            continue
        if name in values:
            raise CheckpointMismatchError(f"checkpoint {path}: keys {sources[name]!r} and {key!r} both map to {name!r}")
        values[name], sources[name] = value, key
    if not values:
        raise CheckpointMismatchError(
            f"checkpoint {path} has no ResNet parameter this encoder knows: keys{_listing(sorted(checkpoint))}; "
            f"expected names like{_listing(list(targets))}")
    missing = [name for name in targets if name not in values]
    if missing:
        raise CheckpointMismatchError(f"checkpoint {path} lacks {len(missing)} encoder parameters{_listing(missing)} "
                                      f"(is it a ResNet-{encoder.depth}?)")
    _assign(targets, values, path, [mindspore_to_project_name(key) for key in unexpected])
    return LoadReport(path, tuple(values), (), tuple(unexpected), tuple(dropped))


def branch_encoder_weights(path, branch="shared"):
    """{encoder parameter name: array} of one branch's encoder in a network checkpoint of this
    project (``<prefix>shared_branch.encoder.layer1.0.conv1.weight`` -> ``layer1.0.conv1.weight``):
    what ``load_pretrained_backbone`` loads into an encoder. Optimizer moments are left out.
    Refuses (``CheckpointMismatchError``) a checkpoint without that branch's encoder.
    """
    checkpoint = _read_checkpoint(path)
    marker = f"{branch}_branch.encoder."
    weights = {}
    for key, value in checkpoint.items():
        head, found, name = key.partition(marker)
        if found and head in ("", "network."):
            weights[name] = value
    if not weights:
        raise CheckpointMismatchError(f"checkpoint {path} holds no {branch} branch encoder (no '{marker}*' "
                                      f"parameter); is it a network checkpoint of a run with that branch?")
    return weights


def _network_prefix(names, checkpoint):
    """The prefix p with ``p + name`` in the checkpoint for every name (the shortest if several:
    optimizer moments carry longer prefixes), or the one covering most names."""
    anchor = names[0]
    prefixes = {key[:len(key) - len(anchor)] for key in checkpoint
                if key == anchor or key.endswith("." + anchor)}
    if not prefixes:
        return None
    return min(prefixes, key=lambda prefix: (-sum(prefix + name in checkpoint for name in names), len(prefix)))


def load_network_checkpoint(network, path):
    """Load a checkpoint of this project's network (or of a cell wrapping it) into ``network``.

    Names are matched exactly, up to one common prefix that wrapping cells add (e.g.
    ``network.`` when the trainer saved it); optimizer and loss entries are ignored and
    reported as unused. Missing parameters or wrong shapes refuse the checkpoint
    (``CheckpointMismatchError`` naming the keys). Returns a LoadReport.
    """
    checkpoint = _read_checkpoint(path)
    targets = dict(network.parameters_and_names())
    names = list(targets)
    prefix = _network_prefix(names, checkpoint)
    if prefix is None:
        raise CheckpointMismatchError(
            f"checkpoint {path} matches no parameter of this network: keys{_listing(sorted(checkpoint))}; "
            f"expected names like{_listing(names)}")
    missing = [name for name in names if prefix + name not in checkpoint]
    if missing:
        raise CheckpointMismatchError(f"checkpoint {path} lacks {len(missing)} network parameters{_listing(missing)}; "
                                      f"was it trained with another model configuration?")
    values = {name: checkpoint[prefix + name] for name in names}
    used = {prefix + name for name in names}
    unused = tuple(key for key in checkpoint if key not in used)
    _assign(targets, values, path, [key[len(prefix):] if key.startswith(prefix) else key for key in unused])
    return LoadReport(path, tuple(names), (), unused)


def checkpoint_num_classes(path):
    """Number of identities a project checkpoint was trained on (rows of its observation classifier)."""
    checkpoint = _read_checkpoint(path)
    rows = {value.shape[0] for name, value in checkpoint.items()
            if name.endswith("_branch.classifier.weight") and not name.startswith("moment")}
    if len(rows) != 1:
        raise CheckpointMismatchError(f"checkpoint {path} holds no classifier of this project's network "
                                      f"(no '*_branch.classifier.weight' entry); is it a network checkpoint?")
    return rows.pop()
