"""A synthetic layout added as one file outside ``src/``: the writer of a toy tree and the reader
that opens it, both registered under ``toy_one_camera`` when this module is imported.

Nothing else in the repository names it: ``tests/test_synthetic_toy_layout.py`` shows that
``write_synthetic_dataset``, ``tools/synthetic_dataset.py``, the fixtures of ``conftest.py`` and
the parametrised checks of ``tests/test_synthetic.py`` take it up (pytest loads this module
first with ``-p toy_synthetic_layout``).

The toy tree: ``visible/<id>/<n>.png`` and ``infrared/<id>/<n>.png``, one camera per modality,
``IMAGES_PER_FOLDER`` images per folder. Odd ids train, even ids are tested (one trial,
either direction, every image on both sides).
"""

import os

import numpy as np

from src.datasets.dataset import DATASETS, DIRECTIONS, DirectionOptions, VIReIDDataset
from src.datasets.records import INFRARED, VISIBLE, ImageRecord, TestLists
from src.datasets.synthetic.layout import SYNTHETIC_LAYOUTS, save_image
from src.datasets.synthetic.style import style_named

TOY = "toy_one_camera"
CAMERAS = {VISIBLE: 1, INFRARED: 2}
IMAGES_PER_FOLDER = 2


@SYNTHETIC_LAYOUTS.register(TOY)
def write_synthetic_toy(out_dir, num_ids=6, seed=0, height=128, width=64, style="default"):
    """Write the toy tree of ids 1..num_ids (even, >= 4) drawn in ``style``; returns ``out_dir``."""
    painter = style_named(style)
    if num_ids < 4 or num_ids % 2:
        raise ValueError(f"the toy layout needs an even number of ids >= 4; got {num_ids}")
    for modality, cam in CAMERAS.items():
        camera = painter.sample_camera(seed, cam)
        for pid in range(1, num_ids + 1):
            for shot in range(IMAGES_PER_FOLDER):
                image_rng = np.random.default_rng([seed, cam, pid, shot])
                image = painter.draw(seed, pid, camera, modality == INFRARED, image_rng, height, width)
                save_image(image, os.path.join(out_dir, modality, str(pid), f"{shot}.png"))
    return out_dir


@DATASETS.register(TOY)
class ToyOneCamera(VIReIDDataset):
    """Reader of a toy tree at ``root``."""

    title = "Toy one-camera"
    TestOptions = DirectionOptions
    directions = DIRECTIONS
    ranking_rule = "regdb"  # a registered rule that fits: nothing dropped, the CMC counts images
    trials = (1,)
    standard_num_classes = 3

    def __init__(self, root):
        self.root = root
        pids = sorted(int(name) for name in os.listdir(os.path.join(root, VISIBLE)))
        self.train_ids = [pid for pid in pids if pid % 2]
        self.test_ids = [pid for pid in pids if not pid % 2]

    @property
    def num_classes(self):
        return len(self.train_ids)

    def _records(self, pids, modality, labelled):
        label_of = {pid: label for label, pid in enumerate(pids)}
        return [ImageRecord(f"{modality}/{pid}/{name}", pid, CAMERAS[modality], modality,
                            label_of[pid] if labelled else -1)
                for pid in pids for name in sorted(os.listdir(os.path.join(self.root, modality, str(pid))))]

    def train_records(self):
        return self._records(self.train_ids, VISIBLE, True) + self._records(self.train_ids, INFRARED, True)

    def _test_lists(self, trial, options):
        visible = self._records(self.test_ids, VISIBLE, False)
        infrared = self._records(self.test_ids, INFRARED, False)
        if options.direction == "v2t":
            return TestLists(visible, infrared)
        return TestLists(infrared, visible)
