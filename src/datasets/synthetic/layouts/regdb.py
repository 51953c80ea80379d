"""Synthetic RegDB layout (README, Datasets; naming checked against public code).

``Visible/<id>/<sex>_<view>_v_<5-digit counter>_<id>.bmp`` and the same under ``Thermal/``
with ``_t_`` (the real naming, e.g. ``Thermal/1/male_front_t_00007_1.bmp``), 10 + 10 images
per id, and ``idx/{train,test}_{visible,thermal}_{k}.txt`` for k = 1..10, one
``relative/path label`` per line, each trial a seeded half / half split of the ids.
"""

import os

import numpy as np

from src.datasets.synthetic.layout import SYNTHETIC_LAYOUTS, save_image
from src.datasets.synthetic.style import style_named

TRIALS = 10


@SYNTHETIC_LAYOUTS.register("regdb")
def write_synthetic_regdb(out_dir, num_ids=20, seed=0, height=128, width=64, images_per_modality=10,
                          style="default"):
    """Write a RegDB-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids (even), each with ``images_per_modality`` visible and thermal images
    (one camera per modality). Trial k's idx files split the ids half / half by a seeded
    permutation; labels are the rank of the id within the trial's half. ``style`` picks the
    rendering (a name in ``STYLES``).
    """
    painter = style_named(style)
    if num_ids < 4 or num_ids % 2:
        raise ValueError(f"RegDB synthetic data needs an even number of ids >= 4; got {num_ids}")
    rng = np.random.default_rng([seed, 0])
    cameras = {"Visible": painter.sample_camera(seed, 101), "Thermal": painter.sample_camera(seed, 102)}
    paths_of = {"Visible": {}, "Thermal": {}}
    counter = {"Visible": 0, "Thermal": 0}
    for pid in range(1, num_ids + 1):
        sex = "female" if rng.random() < 0.4 else "male"
        for folder, letter in (("Visible", "v"), ("Thermal", "t")):
            paths = []
            for shot in range(images_per_modality):
                counter[folder] += 1
                view = "front" if shot < images_per_modality // 2 else "back"
                relative = f"{folder}/{pid}/{sex}_{view}_{letter}_{counter[folder]:05d}_{pid}.bmp"
                image_rng = np.random.default_rng([seed, 3, 100 + len(folder), pid, shot])
                image = painter.draw(seed, pid, cameras[folder], folder == "Thermal", image_rng, height, width)
                save_image(image, os.path.join(out_dir, relative))
                paths.append(relative)
            paths_of[folder][pid] = paths

    os.makedirs(os.path.join(out_dir, "idx"), exist_ok=True)
    for trial in range(1, TRIALS + 1):
        order = np.random.default_rng([seed, 4, trial]).permutation(np.arange(1, num_ids + 1))
        halves = {"train": sorted(int(x) for x in order[:num_ids // 2]),
                  "test": sorted(int(x) for x in order[num_ids // 2:])}
        for split, ids in halves.items():
            for folder in ("Visible", "Thermal"):
                lines = [f"{path} {label}" for label, pid in enumerate(ids) for path in paths_of[folder][pid]]
                name = f"{split}_{folder.lower()}_{trial}.txt"
                with open(os.path.join(out_dir, "idx", name), "w") as handle:
                    handle.write("\n".join(lines) + "\n")
    return out_dir
