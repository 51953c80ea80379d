"""The exported MINDIR pair (export.py): file names, loading, and the input size it expects.

Reading a pair needs MindSpore alone: no network code and no config, so that the deployment
path (``search.py``) runs from the exported files only.
"""

import os

import mindspore as ms
from mindspore import nn
from mindspore.train import mind_ir_pb2

from src.datasets.records import INFRARED, VISIBLE
from src.errors import MalformedInputError, MissingInputError

MINDIR_SUFFIXES = {VISIBLE: "_visible.mindir", INFRARED: "_infrared.mindir"}


def mindir_stem(path):
    """export.py's NAME for ``path``: NAME itself, or NAME_visible.mindir / NAME_infrared.mindir."""
    return next((path[:-len(suffix)] for suffix in MINDIR_SUFFIXES.values() if path.endswith(suffix)), path)


def mindir_pair(path):
    """{modality: GraphCell} for the visible / infrared MINDIR pair that ``path`` (either file) belongs to."""
    if not path.endswith(tuple(MINDIR_SUFFIXES.values())):
        raise MalformedInputError(f"{path}: expected a file named NAME_visible.mindir or NAME_infrared.mindir "
                                  f"(export.py writes both)")
    stem = mindir_stem(path)
    cells = {}
    for modality, suffix in MINDIR_SUFFIXES.items():
        if not os.path.isfile(stem + suffix):
            raise MissingInputError(f"{stem + suffix} not found: evaluating a MINDIR needs both modalities' files")
        try:
            cells[modality] = nn.GraphCell(ms.load(stem + suffix))
        except (RuntimeError, ValueError, OSError) as error:
            raise MalformedInputError(f"cannot load {stem + suffix} as a MINDIR graph "
                                      f"(written by export.py?): {' '.join(str(error).split())[:300]}") from None
    return cells


def mindir_input_size(path):
    """(height, width) in pixels of the image batches (B, 3, height, width) a MINDIR file takes."""
    model = mind_ir_pb2.ModelProto()
    with open(path, "rb") as handle:
        model.ParseFromString(handle.read())
    shapes = [list(tensor.dims) for graph_input in model.graph.input for tensor in graph_input.tensor]
    if len(shapes) != 1 or len(shapes[0]) != 4 or shapes[0][1] != 3:
        raise ValueError(f"{path}: expected one input of shape (B, 3, H, W), found {shapes}")
    return int(shapes[0][2]), int(shapes[0][3])
