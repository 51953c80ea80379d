"""Small synthetic visible-infrared re-id datasets in the exact on-disk layouts of the real ones.

They let every part of the pipeline (readers, protocols, training, evaluation) run end to end
without the real data. Layouts (DESIGN.md section 3; naming checked against public code):

* ``sysu``: ``cam1..cam6/<4-digit id>/<4-digit frame>.jpg`` with frames 0001.. per folder,
  ``exp/{train,val,test}_id.txt`` (first line: comma-separated ids) and
  ``exp/rand_perm_cam.mat`` shaped like the official kit's (a 6 x 1 cell of per-id cells of
  10 x n uint8 permutations, 10 x 0 where a folder is absent). RGB cameras 1, 2, 4, 5; IR
  cameras 3, 6. As in the real data, cameras 1, 2 and 6 only see the lower ids (the kit's
  cells for them stop at 333 of 533), test ids come from those, and not every id is seen by
  every camera.
* ``regdb``: ``Visible/<id>/<sex>_<view>_v_<5-digit counter>_<id>.bmp`` and the same under
  ``Thermal/`` with ``_t_`` (the real naming, e.g. ``Thermal/1/male_front_t_00007_1.bmp``),
  10 + 10 images per id, and ``idx/{train,test}_{visible,thermal}_{k}.txt`` for k = 1..10,
  one ``relative/path label`` per line, each trial a seeded half / half split of the ids.
* ``llcm``: training images ``vis/<id>/<id>_c<cc>_s<session>_f<frame>_vis.jpg`` and
  ``nir/<id>/..._nir.jpg`` listed in ``idx/train_vis.txt`` / ``idx/train_nir.txt``
  (``path label`` lines), test images under ``test_vis/cam<N>/<id>/`` and
  ``test_nir/cam<N>/<id>/``, test ids in ``idx/test_id.txt`` (first line, comma-separated).
  The public LLCM evaluation code walks visible cameras 1..9 and infrared cameras 1, 2, 4..9,
  so no infrared images of camera 3 are written.

Images carry identity the way real ones do: every identity has a body shape and a texture
pattern seen in both modalities and clothing colours seen only in RGB. Infrared images are a
single intensity channel (body heat modulated by the same texture) saved as three equal
channels, with their own noise and contrast. Cameras differ in scale, position, background
and illumination. Everything is deterministic for a seed.

Command line::

    python -m src.datasets.synthetic --layout sysu --out data/synthetic_sysu [--ids 40]
"""

import argparse
import io
import os
from dataclasses import dataclass

import numpy as np
import scipy.io
from PIL import Image

SYSU_RGB_CAMS = (1, 2, 4, 5)
SYSU_IR_CAMS = (3, 6)
SYSU_INDOOR_ONLY_LOW_IDS_CAMS = (1, 2, 6)
SYSU_TRIALS = 10
SYSU_INDOOR_RGB_CAMS = (1, 2)
SYSU_CAMERA_PRESENCE = 0.7  # chance that a camera sees an id it may see
REGDB_TRIALS = 10
LLCM_VIS_CAMS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
LLCM_NIR_CAMS = (1, 2, 4, 5, 6, 7, 8, 9)
DEFAULT_NUM_IDS = {"sysu": 40, "regdb": 20, "llcm": 30}
LAYOUTS = tuple(DEFAULT_NUM_IDS)
MAT_HEADER_TEXT_BYTES = 116  # the descriptive text at the start of a MAT 5 file header


@dataclass(frozen=True)
class _Identity:
    """Appearance of one person, in person-relative coordinates (fractions of body height)."""

    torso_half_width: float
    leg_half_width: float
    leg_offset: float
    head_radius: float
    hip_level: float
    upper_angle: float
    upper_period: float
    upper_checker: bool
    lower_angle: float
    lower_period: float
    upper_colour: np.ndarray
    lower_colour: np.ndarray
    skin_colour: np.ndarray
    upper_heat: float
    lower_heat: float
    head_heat: float


@dataclass(frozen=True)
class _Camera:
    """Viewing conditions of one camera."""

    scale: float
    x_shift: float
    background_colour: np.ndarray
    background_heat: float
    gradient: float
    illumination: float
    ir_contrast: float
    ir_noise: float


def _identity(seed, pid):
    rng = np.random.default_rng([seed, 1, pid])
    return _Identity(
        torso_half_width=rng.uniform(0.10, 0.19),
        leg_half_width=rng.uniform(0.035, 0.07),
        leg_offset=rng.uniform(0.05, 0.10),
        head_radius=rng.uniform(0.06, 0.09),
        hip_level=rng.uniform(0.48, 0.60),
        upper_angle=rng.uniform(0.0, np.pi),
        upper_period=rng.uniform(0.06, 0.16),
        upper_checker=bool(rng.random() < 0.4),
        lower_angle=rng.uniform(0.0, np.pi),
        lower_period=rng.uniform(0.08, 0.25),
        upper_colour=rng.uniform(40, 230, size=3),
        lower_colour=rng.uniform(40, 230, size=3),
        skin_colour=rng.uniform(140, 220) * np.array([1.0, 0.8, 0.65]),
        upper_heat=rng.uniform(150, 230),
        lower_heat=rng.uniform(120, 210),
        head_heat=rng.uniform(200, 250),
    )


def _camera(seed, camera_key):
    rng = np.random.default_rng([seed, 2, camera_key])
    return _Camera(
        scale=rng.uniform(0.78, 0.97),
        x_shift=rng.uniform(-0.08, 0.08),
        background_colour=rng.uniform(30, 200, size=3),
        background_heat=rng.uniform(20, 90),
        gradient=rng.uniform(-0.4, 0.4),
        illumination=rng.uniform(0.7, 1.2),
        ir_contrast=rng.uniform(0.8, 1.2),
        ir_noise=rng.uniform(4.0, 10.0),
    )


def _stripes(u, v, angle, period):
    """Smooth stripes in [0, 1] along direction ``angle``, ``period`` in body heights."""
    return 0.5 + 0.5 * np.sin(2.0 * np.pi * (np.cos(angle) * u + np.sin(angle) * v) / period)


def render_person(identity, camera, infrared, rng, height, width):
    """Draw one image of ``identity`` seen by ``camera``.

    Returns a uint8 array of shape (height, width, 3); for ``infrared`` the three channels
    are equal. ``rng`` (numpy Generator) supplies the per-image pose jitter and noise.
    """
    body_height = height * camera.scale * rng.uniform(0.96, 1.04)
    top = (height - body_height) / 2.0 + rng.uniform(-2.0, 2.0)
    centre_x = width * (0.5 + camera.x_shift) + rng.uniform(-2.0, 2.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    v = (ys - top) / body_height
    u = (xs - centre_x) / body_height

    neck = 2.0 * identity.head_radius + 0.02
    head = (u ** 2 + (v - identity.head_radius - 0.01) ** 2) < identity.head_radius ** 2
    torso = (np.abs(u) < identity.torso_half_width) & (v >= neck) & (v < identity.hip_level)
    legs = ((np.abs(np.abs(u) - identity.leg_offset) < identity.leg_half_width)
            & (v >= identity.hip_level) & (v < 1.0))

    upper_pattern = _stripes(u, v, identity.upper_angle, identity.upper_period)
    if identity.upper_checker:
        upper_pattern = upper_pattern * _stripes(u, v, identity.upper_angle + np.pi / 2,
                                                 identity.upper_period)
    lower_pattern = _stripes(u, v, identity.lower_angle, identity.lower_period)
    shade = 1.0 + camera.gradient * (ys / height - 0.5)

    if infrared:
        image = np.full((height, width), camera.background_heat) * shade
        image = np.where(torso, identity.upper_heat * (0.45 + 0.55 * upper_pattern), image)
        image = np.where(legs, identity.lower_heat * (0.55 + 0.45 * lower_pattern), image)
        image = np.where(head, identity.head_heat, image)
        image = image.mean() + camera.ir_contrast * (image - image.mean())
        image = image + rng.normal(0.0, camera.ir_noise, size=image.shape)
        image = np.repeat(image[:, :, None], 3, axis=2)
    else:
        image = camera.background_colour[None, None, :] * shade[:, :, None]
        image = np.where(torso[:, :, None],
                         identity.upper_colour * (0.35 + 0.65 * upper_pattern[:, :, None]), image)
        image = np.where(legs[:, :, None],
                         identity.lower_colour * (0.45 + 0.55 * lower_pattern[:, :, None]), image)
        image = np.where(head[:, :, None], identity.skin_colour, image)
        image = image * camera.illumination + rng.normal(0.0, 5.0, size=image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _save(array, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.endswith(".jpg"):
        Image.fromarray(array).save(path, quality=92)
    else:
        Image.fromarray(array).save(path)


def _save_mat(path, variables):
    """savemat with a fixed header text: scipy's carries the creation time, which would make
    the file differ between two runs with the same seed."""
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables)
    content = bytearray(buffer.getvalue())
    content[:MAT_HEADER_TEXT_BYTES] = b"MATLAB 5.0 MAT-file, written by src.datasets.synthetic".ljust(
        MAT_HEADER_TEXT_BYTES)
    with open(path, "wb") as handle:
        handle.write(bytes(content))


def _sysu_cameras_per_id(rng, num_ids, low_id_limit, without_indoor_gallery):
    """Cameras that see each id; every id gets at least one RGB and one IR camera. Ids in
    ``without_indoor_gallery`` are not seen by the indoor RGB cameras 1 and 2 (as about 40 %
    of the real test ids), so their queries have no match in indoor search."""
    cams_of = {}
    for pid in range(1, num_ids + 1):
        allowed = [c for c in range(1, 7)
                   if (pid <= low_id_limit or c not in SYSU_INDOOR_ONLY_LOW_IDS_CAMS)
                   and not (pid in without_indoor_gallery and c in SYSU_INDOOR_RGB_CAMS)]
        while True:
            cams = [c for c in allowed if rng.random() < SYSU_CAMERA_PRESENCE]
            rgb = [c for c in cams if c in SYSU_RGB_CAMS]
            ir = [c for c in cams if c in SYSU_IR_CAMS]
            if rgb and ir:
                cams_of[pid] = cams
                break
    return cams_of


def write_synthetic_sysu(out_dir, num_ids=40, seed=0, height=128, width=64, images_per_folder=(2, 6)):
    """Write a SYSU-MM01-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids; a quarter are test ids (all below the camera-1/2/6 limit, like the
    real split), an eighth validation, the rest training. Every id has visible and infrared
    images; 40 % of the test ids have no indoor (camera 1 / 2) images, as in the real data.
    ``images_per_folder`` is an inclusive (min, max) image count per folder.
    """
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
    cams_of = _sysu_cameras_per_id(rng, num_ids, low_id_limit, without_indoor_gallery)

    cells_per_cam = {c: low_id_limit if c in SYSU_INDOOR_ONLY_LOW_IDS_CAMS else num_ids for c in range(1, 7)}
    rand_perm_cam = np.empty((6, 1), dtype=object)
    for cam in range(1, 7):
        camera = _camera(seed, cam)
        cells = np.empty((cells_per_cam[cam], 1), dtype=object)
        for pid in range(1, cells_per_cam[cam] + 1):
            count = int(rng.integers(images_per_folder[0], images_per_folder[1] + 1)) if cam in cams_of[pid] else 0
            cells[pid - 1, 0] = np.stack(
                [rng.permutation(count) + 1 for _ in range(SYSU_TRIALS)]).astype(np.uint8).reshape(SYSU_TRIALS, count)
            for frame in range(1, count + 1):
                image_rng = np.random.default_rng([seed, 3, cam, pid, frame])
                image = render_person(_identity(seed, pid), camera, cam in SYSU_IR_CAMS, image_rng, height, width)
                _save(image, os.path.join(out_dir, f"cam{cam}", f"{pid:04d}", f"{frame:04d}.jpg"))
        rand_perm_cam[cam - 1, 0] = cells

    os.makedirs(os.path.join(out_dir, "exp"), exist_ok=True)
    for name, ids in (("train", train_ids), ("val", val_ids), ("test", test_ids)):
        with open(os.path.join(out_dir, "exp", f"{name}_id.txt"), "w") as handle:
            handle.write(",".join(str(pid) for pid in ids) + "\n")
    _save_mat(os.path.join(out_dir, "exp", "rand_perm_cam.mat"), {"rand_perm_cam": rand_perm_cam})
    return out_dir


def write_synthetic_regdb(out_dir, num_ids=20, seed=0, height=128, width=64, images_per_modality=10):
    """Write a RegDB-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids (even), each with ``images_per_modality`` visible and thermal images
    (one camera per modality). Trial k's idx files split the ids half / half by a seeded
    permutation; labels are the rank of the id within the trial's half.
    """
    if num_ids < 4 or num_ids % 2:
        raise ValueError(f"RegDB synthetic data needs an even number of ids >= 4; got {num_ids}")
    rng = np.random.default_rng([seed, 0])
    cameras = {"Visible": _camera(seed, 101), "Thermal": _camera(seed, 102)}
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
                image = render_person(_identity(seed, pid), cameras[folder], folder == "Thermal",
                                      image_rng, height, width)
                _save(image, os.path.join(out_dir, relative))
                paths.append(relative)
            paths_of[folder][pid] = paths

    os.makedirs(os.path.join(out_dir, "idx"), exist_ok=True)
    for trial in range(1, REGDB_TRIALS + 1):
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


def write_synthetic_llcm(out_dir, num_ids=30, seed=0, height=128, width=64, images_per_folder=(2, 4)):
    """Write an LLCM-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids; a third are test ids. Each id is seen by 2..4 visible and 2..4
    infrared cameras; training images go to ``vis/`` and ``nir/`` (listed in the idx files
    with labels = rank of the id among training ids), test images to ``test_vis/cam<N>/``
    and ``test_nir/cam<N>/``.
    """
    if num_ids < 6:
        raise ValueError(f"LLCM synthetic data needs at least 6 ids; got {num_ids}")
    rng = np.random.default_rng([seed, 0])
    test_ids = sorted(int(x) for x in rng.choice(np.arange(1, num_ids + 1), num_ids // 3, replace=False))
    train_ids = [pid for pid in range(1, num_ids + 1) if pid not in test_ids]
    train_lines = {"vis": [], "nir": []}
    for pid in range(1, num_ids + 1):
        for modality, cams in (("vis", LLCM_VIS_CAMS), ("nir", LLCM_NIR_CAMS)):
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
                    camera = _camera(seed, 200 + cam + 10 * (modality == "nir"))
                    image = render_person(_identity(seed, pid), camera, modality == "nir", image_rng, height, width)
                    _save(image, os.path.join(out_dir, relative))

    os.makedirs(os.path.join(out_dir, "idx"), exist_ok=True)
    for modality, lines in train_lines.items():
        with open(os.path.join(out_dir, "idx", f"train_{modality}.txt"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "idx", "test_id.txt"), "w") as handle:
        handle.write(",".join(str(pid) for pid in test_ids) + "\n")
    return out_dir


def write_synthetic_dataset(layout, out_dir, num_ids=None, seed=0, height=128, width=64):
    """Write a synthetic dataset of ``layout`` ("sysu", "regdb" or "llcm"); returns its root.

    ``num_ids=None`` takes the layout's demo size (SYSU 40, RegDB 20, LLCM 30 ids).
    """
    writers = {"sysu": write_synthetic_sysu, "regdb": write_synthetic_regdb, "llcm": write_synthetic_llcm}
    if layout not in writers:
        raise ValueError(f"unknown synthetic layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if height < 16 or width < 8:
        raise ValueError(f"synthetic images must be at least 16 x 8 pixels; got {height} x {width}")
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f"synthetic dataset folder {out_dir} exists and is not empty")
    num_ids = DEFAULT_NUM_IDS[layout] if num_ids is None else num_ids
    return writers[layout](out_dir, num_ids=num_ids, seed=seed, height=height, width=width)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write a small synthetic visible-infrared re-id dataset.")
    parser.add_argument("--layout", required=True, choices=LAYOUTS)
    parser.add_argument("--out", required=True, help="output folder (must be absent or empty)")
    parser.add_argument("--ids", type=int, default=None, help="number of identities (default: layout's demo size)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=64)
    args = parser.parse_args(argv)
    root = write_synthetic_dataset(args.layout, args.out, num_ids=args.ids, seed=args.seed,
                                   height=args.height, width=args.width)
    print(f"wrote synthetic {args.layout} dataset to {root}")


if __name__ == "__main__":
    main()
