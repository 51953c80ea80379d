"""Synthetic LLCM layout (README, Datasets; naming checked against public code).

Training images ``vis/<id>/<id>_c<cc>_s<session>_f<frame>_vis.jpg`` and ``nir/<id>/..._nir.jpg``
listed in ``idx/train_vis.txt`` / ``idx/train_nir.txt`` (``path label`` lines), test images
under ``test_vis/cam<N>/<id>/`` and ``test_nir/cam<N>/<id>/``, test ids in ``idx/test_id.txt``
(first line, comma-separated). The public LLCM evaluation code walks visible cameras 1..9 and
infrared cameras 1, 2, 4..9, so no infrared images of camera 3 are written.
"""

import os

import numpy as np

from src.datasets.synthetic.layout import SYNTHETIC_LAYOUTS, save_image
from src.datasets.synthetic.style import style_named

VIS_CAMS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
NIR_CAMS = (1, 2, 4, 5, 6, 7, 8, 9)


@SYNTHETIC_LAYOUTS.register("llcm")
def write_synthetic_llcm(out_dir, num_ids=30, seed=0, height=128, width=64, images_per_folder=(2, 4),
                         style="default"):
    """Write an LLCM-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids; a third are test ids. Each id is seen by 2..4 visible and 2..4
    infrared cameras; training images go to ``vis/`` and ``nir/`` (listed in the idx files
    with labels = rank of the id among training ids), test images to ``test_vis/cam<N>/``
    and ``test_nir/cam<N>/``. ``style`` picks the rendering (a name in ``STYLES``).
    """
    painter = style_named(style)
    if num_ids < 6:
        raise ValueError(f"LLCM synthetic data needs at least 6 ids; got {num_ids}")
    rng = np.random.default_rng([seed, 0])
    test_ids = sorted(int(x) for x in rng.choice(np.arange(1, num_ids + 1), num_ids // 3, replace=False))
    train_ids = [pid for pid in range(1, num_ids + 1) if pid not in test_ids]
    train_lines = {"vis": [], "nir": []}
    for pid in range(1, num_ids + 1):
        for modality, cams in (("vis", VIS_CAMS), ("nir", NIR_CAMS)):
            chosen = sorted(int(c) for c in rng.choice(cams, int(rng.integers(2, 5)), replace=False))
            for cam in chosen:
                session = int(rng.integers(100000, 1000000))
                first_frame = int(rng.integers(1, 9000))
                count = int(rng.integers(images_per_folder[0], images_per_folder[1] + 1))
                for shot in range(count):
                    name = f"{pid:04d}_c{cam:02d}_s{session:06d}_f{first_frame + 7 * shot:04d}_{modality}.jpg"
                    if pid in test_ids:
                        relative = f"test_{modality}/cam{cam}/{pid:04d}/{name}"
                    else:
                        relative = f"{modality}/{pid:04d}/{name}"
                        train_lines[modality].append(f"{relative} {train_ids.index(pid)}")
                    image_rng = np.random.default_rng([seed, 3, 200 + cam + 10 * (modality == "nir"), pid, shot])
                    camera = painter.sample_camera(seed, 200 + cam + 10 * (modality == "nir"))
                    image = painter.draw(seed, pid, camera, modality == "nir", image_rng, height, width)
                    save_image(image, os.path.join(out_dir, relative))

    os.makedirs(os.path.join(out_dir, "idx"), exist_ok=True)
    for modality, lines in train_lines.items():
        with open(os.path.join(out_dir, "idx", f"train_{modality}.txt"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "idx", "test_id.txt"), "w") as handle:
        handle.write(",".join(str(pid) for pid in test_ids) + "\n")
    return out_dir
