"""Export the inference network (images -> test feature) to MINDIR or ONNX, one file per modality.

Visible and infrared images take different routes through the network (E_V + E_S or
E_I + E_S), so each modality is its own exported graph: ``<stem>_visible.mindir`` and
``<stem>_infrared.mindir``. The batch dimension is dynamic (MINDIR) or fixed (ONNX). By
default every BatchNorm of the encoders is folded into the convolution before it
(``src.models.batch_norm_folding``): the graph computes the same features to float32 rounding
in fewer passes over the feature maps (docs/performance.md).
"""

import os
from contextlib import nullcontext

import mindspore as ms
import numpy as np

from src.config import ConfigError

from src.datasets.records import INFRARED, VISIBLE
from src.models.batch_norm_folding import batch_norms_folded
from src.models.network import InferenceNetwork, build_network
from src.models.pretrained import checkpoint_num_classes, load_network_checkpoint
from src.options import Option, Options
from src.utils.run_log import get_logger
from src.utils.safe_write import write_atomically


EXPORT_OPTIONS = Options(
    Option("export.checkpoint", "", "network checkpoint to export"),
    Option("export.file_name", "vireid", "output path stem: writes <stem>_<modality>.mindir (or .onnx)"),
    Option("export.file_format", "MINDIR", "MINDIR or ONNX", choices=("MINDIR", "ONNX")),
    Option("export.modality", "both",
           "route(s) to export: visible, infrared or both (one file each)", choices=("visible", "infrared", "both")),
    Option("export.onnx_batch_size", 32, "ONNX graphs cannot have a dynamic batch: their fixed batch size", minimum=1),
    Option("export.fold_batch_norm", True,
           "fold each BatchNorm into the convolution before it: same features to float32 rounding, faster on CPU"),
)

EXTENSIONS = {"MINDIR": ".mindir", "ONNX": ".onnx"}


def export_network(network, height, width, stem, file_format="MINDIR", modalities=(VISIBLE, INFRARED),
                   onnx_batch_size=32, fold_batch_norm=True):
    """Write one file per modality; returns {modality: path}.

    Args:
        network: a trained VIReIDNetwork in inference mode; left as it was found.
        height, width: input image size in pixels. The batch size is dynamic in MINDIR;
            MindSpore exports ONNX only with fixed shapes, so ONNX gets ``onnx_batch_size``.
        stem: output path without the ``_<modality>.<ext>`` ending (folders are created).
        fold_batch_norm: export the encoders with each BatchNorm folded into its convolution.
    """
    folder = os.path.dirname(os.path.abspath(stem))
    os.makedirs(folder, exist_ok=True)
    if file_format == "ONNX":
        example = ms.Tensor(np.zeros((onnx_batch_size, 3, height, width), np.float32))
    else:
        example = ms.Tensor(shape=[None, 3, height, width], dtype=ms.float32)
    extension = EXTENSIONS[file_format]

    def export_to(cell, temporary):
        # ms.export appends the extension itself; a failed write leaves no partial graph (safe_write)
        ms.export(cell, example, file_name=temporary[:-len(extension)], file_format=file_format)
        if not os.path.isfile(temporary):
            raise RuntimeError(f"MindSpore reported no error but {temporary} was not written")
    written = {}
    with batch_norms_folded(network) if fold_batch_norm else nullcontext():
        for modality in modalities:
            cell = InferenceNetwork(network, modality)
            written[modality] = write_atomically(f"{stem}_{modality}{extension}",
                                                 lambda temporary, cell=cell: export_to(cell, temporary))
    return written


def export_from_config(cfg):
    """Build the network ``cfg`` describes, load ``export.checkpoint`` and export it."""
    if not cfg.export.checkpoint:
        raise ConfigError("set export.checkpoint to the network checkpoint to export")
    network = build_network(cfg, checkpoint_num_classes(cfg.export.checkpoint))
    get_logger().info(load_network_checkpoint(network, cfg.export.checkpoint).summary())
    network.set_train(False)
    modalities = (VISIBLE, INFRARED) if cfg.export.modality == "both" else (cfg.export.modality,)
    stem = cfg.export.file_name
    if not os.path.isabs(stem) and not os.path.dirname(stem):
        stem = os.path.join(cfg.output_dir, stem)
    return export_network(network, cfg.data.height, cfg.data.width, stem, cfg.export.file_format, modalities,
                          cfg.export.onnx_batch_size, cfg.export.fold_batch_norm)

