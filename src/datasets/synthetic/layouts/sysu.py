"""Synthetic SYSU-MM01 layout (README, Datasets; naming checked against public code).

``cam1..cam6/<4-digit id>/<4-digit frame>.jpg`` with frames 0001.. per folder,
``exp/{train,val,test}_id.txt`` (first line: comma-separated ids) and ``exp/rand_perm_cam.mat``
shaped like the official kit's (a 6 x 1 cell of per-id cells of 10 x n uint8 permutations,
10 x 0 where a folder is absent). RGB cameras 1, 2, 4, 5; IR cameras 3, 6. As in the real data,
cameras 1, 2 and 6 only see the lower ids (the kit's cells for them stop at 333 of 533), test
ids come from those, and not every id is seen by every camera.
"""

import io
import os

import numpy as np
import scipy.io

from src.datasets.synthetic.layout import SYNTHETIC_LAYOUTS, save_image
from src.datasets.synthetic.style import style_named

RGB_CAMS = (1, 2, 4, 5)
IR_CAMS = (3, 6)
INDOOR_ONLY_LOW_IDS_CAMS = (1, 2, 6)
TRIALS = 10
INDOOR_RGB_CAMS = (1, 2)
CAMERA_PRESENCE = 0.7  # chance that a camera sees an id it may see
MAT_HEADER_TEXT_BYTES = 116  # the descriptive text at the start of a MAT 5 file header
# Our header text (part of every mat's bytes, so of the tests' pinned digests).
MAT_HEADER_TEXT = b"MATLAB 5.0 MAT-file, written by src.datasets.synthetic"


def _save_mat(path, variables):
    """savemat with a fixed header text: scipy's carries the creation time, which would make
    the file differ between two runs with the same seed."""
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables)
    content = bytearray(buffer.getvalue())
    content[:MAT_HEADER_TEXT_BYTES] = MAT_HEADER_TEXT.ljust(MAT_HEADER_TEXT_BYTES)
    with open(path, "wb") as handle:
        handle.write(bytes(content))


def _cameras_per_id(rng, num_ids, low_id_limit, without_indoor_gallery):
    """Cameras that see each id; every id gets at least one RGB and one IR camera. Ids in
    ``without_indoor_gallery`` are not seen by the indoor RGB cameras 1 and 2 (as about 40 %
    of the real test ids), so their queries have no match in indoor search."""
    cams_of = {}
    for pid in range(1, num_ids + 1):
        allowed = [c for c in range(1, 7)
                   if (pid <= low_id_limit or c not in INDOOR_ONLY_LOW_IDS_CAMS)
                   and not (pid in without_indoor_gallery and c in INDOOR_RGB_CAMS)]
        while True:
            cams = [c for c in allowed if rng.random() < CAMERA_PRESENCE]
            rgb = [c for c in cams if c in RGB_CAMS]
            ir = [c for c in cams if c in IR_CAMS]
            if rgb and ir:
                cams_of[pid] = cams
                break
    return cams_of


@SYNTHETIC_LAYOUTS.register("sysu")
def write_synthetic_sysu(out_dir, num_ids=40, seed=0, height=128, width=64, images_per_folder=(2, 6),
                         style="default"):
    """Write a SYSU-MM01-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids; a quarter are test ids (all below the camera-1/2/6 limit, like the
    real split), an eighth validation, the rest training. Every id has visible and infrared
    images; 40 % of the test ids have no indoor (camera 1 / 2) images, as in the real data.
    ``images_per_folder`` is an inclusive (min, max) image count per folder; ``style`` picks
    the rendering (a name in ``STYLES``).
    """
    painter = style_named(style)
    if num_ids < 8:
        raise ValueError(f"SYSU synthetic data needs at least 8 ids; got {num_ids}")
    rng = np.random.default_rng([seed, 0])
    low_id_limit = int(round(0.625 * num_ids))
    num_test, num_val = num_ids // 4, num_ids // 8
    test_ids = sorted(int(x) for x in rng.choice(np.arange(1, low_id_limit + 1), num_test, replace=False))
    rest = [pid for pid in range(1, num_ids + 1) if pid not in test_ids]
    val_ids = sorted(int(x) for x in rng.choice(rest, num_val, replace=False))
    train_ids = [pid for pid in rest if pid not in val_ids]
    without_indoor_gallery = {test_ids[i] for i in rng.choice(num_test, int(round(0.4 * num_test)), replace=False)}
    cams_of = _cameras_per_id(rng, num_ids, low_id_limit, without_indoor_gallery)

    cells_per_cam = {c: low_id_limit if c in INDOOR_ONLY_LOW_IDS_CAMS else num_ids for c in range(1, 7)}
    rand_perm_cam = np.empty((6, 1), dtype=object)
    for cam in range(1, 7):
        camera = painter.sample_camera(seed, cam)
        cells = np.empty((cells_per_cam[cam], 1), dtype=object)
        for pid in range(1, cells_per_cam[cam] + 1):
            count = int(rng.integers(images_per_folder[0], images_per_folder[1] + 1)) if cam in cams_of[pid] else 0
            cells[pid - 1, 0] = np.stack(
                [rng.permutation(count) + 1 for _ in range(TRIALS)]).astype(np.uint8).reshape(TRIALS, count)
            for frame in range(1, count + 1):
                image_rng = np.random.default_rng([seed, 3, cam, pid, frame])
                image = painter.draw(seed, pid, camera, cam in IR_CAMS, image_rng, height, width)
                save_image(image, os.path.join(out_dir, f"cam{cam}", f"{pid:04d}", f"{frame:04d}.jpg"))
        rand_perm_cam[cam - 1, 0] = cells

    os.makedirs(os.path.join(out_dir, "exp"), exist_ok=True)
    for name, ids in (("train", train_ids), ("val", val_ids), ("test", test_ids)):
        with open(os.path.join(out_dir, "exp", f"{name}_id.txt"), "w") as handle:
            handle.write(",".join(str(pid) for pid in ids) + "\n")
    _save_mat(os.path.join(out_dir, "exp", "rand_perm_cam.mat"), {"rand_perm_cam": rand_perm_cam})
    return out_dir
