"""HOG features of a dataset's test images: the non-learned floor any trained model should beat.

    python -m tools.hog_features --dataset sysu --data_path DIR --out hog.npz [--height 128 --width 64]
    python eval.py --features hog.npz --data.dataset sysu --data.data_path DIR

Writes the ``.npz`` that ``eval.py --features`` reads: ``paths`` (relative to the dataset
root) and ``features`` (one float32 row per path), plus ``settings`` (the HOG parameters as
JSON, for the record).

The descriptor is Dalal and Triggs' HOG, written here with numpy: each image is resized to
height x width (PIL bilinear, as the network's input pipeline does) and turned grey (ITU-R
601 luma, on a 0..1 scale); gradients are centred [-1, 0, 1] differences (the image is
edge-replicated by one pixel, so border pixels get the one-sided difference); each pixel
votes its gradient magnitude into 9 unsigned orientation bins over 0-180 degrees, split
linearly between the two nearest bin centres (centres at 0, 20, ..., 160 degrees, so a
horizontal gradient falls entirely into bin 0 and 170 degrees is shared by bins 8 and 0);
votes are summed over 8 x 8-pixel cells (no spatial interpolation between cells and no
Gaussian window over the block); blocks of 2 x 2 cells at a stride of one cell are L2-Hys
normalised (L2, clip at 0.2, L2 again). At 128 x 64 that is 15 x 7 blocks x 36 = 3,780
values per image.

Images covered: every image an evaluation of the dataset can request, taken from the
dataset reader's own test lists: the union over its test trials and every test setting its
options define (``every_test_record``). SYSU-MM01: both search modes, single- and multi-shot,
the AGW protocol's lists and, when its rand_perm_cam.mat is found (``<data_path>/exp/`` or
``--rand_perm_cam``), the official protocol's. Where each trial has its own training split
(RegDB): the test lists of ``--trial`` (with ``{trial}`` in ``--out``: one file per trial,
which eval.py evaluates trial by trial). LLCM: every image of test_vis/ and test_nir/ of the
test ids.
"""

import argparse
import dataclasses
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from src.datasets.image_io import CorruptImageError, map_images, read_resized  # noqa: E402
from src.datasets.dataset import DATASETS, dataset_class, open_dataset  # noqa: E402

CELL = 8  # pixels per cell side
BLOCK = 2  # cells per block side (blocks step by one cell)
BINS = 9  # unsigned orientation bins over 0-180 degrees
CLIP = 0.2  # L2-Hys clipping threshold
TRIAL_PLACEHOLDER = "{trial}"
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601
# Keeps an all-zero block (a flat image region) at zero instead of dividing by zero; small
# against any real block norm (grey levels are 0..1, a cell sums 64 pixels).
NORM_EPSILON = 1e-6


def grey(rgb):
    """Luma of uint8 RGB images: (..., H, W, 3) -> float32 (..., H, W), 0..1."""
    return (np.asarray(rgb, dtype=np.float32) / 255.0) @ LUMA_WEIGHTS


def centred_gradients(images):
    """Horizontal and vertical [-1, 0, 1] differences of (..., H, W) images, each (..., H, W).

    The image is edge-replicated by one pixel first, so a border pixel gets the one-sided
    difference with its inner neighbour.
    """
    pad = [(0, 0)] * (images.ndim - 2) + [(1, 1), (1, 1)]
    padded = np.pad(images, pad, mode="edge")
    gx = padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]
    gy = padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]
    return gx, gy


def orientation_votes(gx, gy, bins=BINS):
    """Each pixel's gradient magnitude split between its two nearest unsigned-orientation bins.

    Bin k is centred at k * 180 / bins degrees; an orientation between two centres gives each
    a share proportional to its closeness (bins wrap: 170 degrees is shared by the last bin
    and bin 0 when bins = 9).

    Args:
        gx, gy: (..., H, W) horizontal and vertical gradients.
    Returns:
        float32 (..., H, W, bins) votes; they sum to the magnitude sqrt(gx^2 + gy^2) per pixel.
    """
    magnitude = np.hypot(gx, gy)
    degrees = np.degrees(np.arctan2(gy, gx)) % 180.0
    position = degrees / (180.0 / bins)
    lower = np.floor(position)
    upper_share = position - lower
    lower = lower.astype(np.int64) % bins  # float rounding can give exactly 180 degrees: that is bin 0
    upper = (lower + 1) % bins
    votes = np.zeros(magnitude.shape + (bins,), dtype=np.float32)
    # With bins >= 2 the two indices of a pixel differ, so the second write keeps the first.
    np.put_along_axis(votes, lower[..., None], (magnitude * (1.0 - upper_share))[..., None], axis=-1)
    np.put_along_axis(votes, upper[..., None], (magnitude * upper_share)[..., None], axis=-1)
    return votes


def cell_histograms(votes, cell=CELL):
    """Votes summed over cell x cell pixels: (..., H, W, bins) -> (..., H / cell, W / cell, bins)."""
    *lead, height, width, bins = votes.shape
    if height % cell or width % cell:
        raise ValueError(f"image size {height} x {width} must be a multiple of the {cell}-pixel cell")
    cells = votes.reshape(*lead, height // cell, cell, width // cell, cell, bins)
    return cells.sum(axis=(-4, -2))


def overlapping_blocks(histograms, block=BLOCK):
    """Blocks of block x block cells at a stride of one cell, each flattened row-major.

    (..., Hc, Wc, bins) -> (..., Hc - block + 1, Wc - block + 1, block * block * bins).
    """
    rows, cols = histograms.shape[-3] - block + 1, histograms.shape[-2] - block + 1
    if rows < 1 or cols < 1:
        raise ValueError(f"{histograms.shape[-3]} x {histograms.shape[-2]} cells hold no {block} x {block} block")
    parts = [histograms[..., i:i + rows, j:j + cols, :] for i in range(block) for j in range(block)]
    return np.concatenate(parts, axis=-1)


def l2_hys(blocks, clip=CLIP):
    """L2-Hys normalisation of the last axis: L2-normalise, clip at ``clip``, L2-normalise again."""
    def l2(values):
        return values / np.sqrt(np.sum(values * values, axis=-1, keepdims=True) + NORM_EPSILON ** 2)
    return l2(np.minimum(l2(blocks), clip))


def hog(images, cell=CELL, block=BLOCK, bins=BINS, clip=CLIP):
    """HOG descriptors of grey images.

    Args:
        images: float (..., H, W) grey images; H and W multiples of ``cell``.
        cell: cell size in pixels.
        block: block size in cells (stride one cell).
        bins: unsigned orientation bins over 0-180 degrees.
        clip: L2-Hys clipping threshold.
    Returns:
        float32 (..., (H/cell - block + 1) * (W/cell - block + 1) * block^2 * bins), ordered
        block row, block column, cell within the block (row-major), orientation bin.
    """
    images = np.asarray(images, dtype=np.float32)
    gx, gy = centred_gradients(images)
    blocks = overlapping_blocks(cell_histograms(orientation_votes(gx, gy, bins), cell), block)
    normalised = l2_hys(blocks, clip)
    return normalised.reshape(*images.shape[:-2], -1).astype(np.float32)


def with_overrides(options, overrides):
    """``options`` with the fields named in ``overrides`` replaced, where it has them and accepts
    the values (the official protocol takes a rand_perm_cam, the AGW one does not)."""
    given = {name: value for name, value in overrides.items()
             if name in {field.name for field in dataclasses.fields(options)}}
    try:
        return dataclasses.replace(options, **given)
    except ValueError:
        return options


def evaluated_records(reader, overrides=None):
    """Every test record any evaluation of ``reader`` can request, once each, in first-seen order:
    its test trials, every test setting, with the option values ``overrides`` where they apply."""
    variants = [with_overrides(options, overrides or {}) for options in reader.TestOptions.variants()]
    records = {}
    for trial in reader.test_trials:
        for record in reader.every_test_record(trial, variants):
            records.setdefault(record.path, record)
    return list(records.values())


def hog_of_files(root, paths, height, width, num_workers=2):
    """(N, D) float32 HOG descriptors of the images at ``root``/``paths``, in order.

    Raises CorruptImageError naming every unreadable file.
    """
    def describe(full_path):
        return hog(grey(read_resized(full_path, height, width)))

    rows, unreadable = [None] * len(paths), {}
    for index, descriptor, reason in map_images(root, paths, describe, num_workers, "HOG features"):
        if reason is not None:
            unreadable[paths[index]] = reason
        rows[index] = descriptor
    if unreadable:
        raise CorruptImageError(unreadable)
    return np.stack(rows)


def write_features(out_path, paths, features, settings):
    """Save ``paths`` and ``features`` (the eval.py --features format) and the HOG ``settings``."""
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    np.savez(out_path, paths=np.array(paths), features=features, settings=np.array(json.dumps(settings)))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Write HOG features of a dataset's test images for eval.py --features.",
        epilog="With '{trial}' in --out, a dataset whose trials each have their own training split (RegDB) "
               "gets one file per trial.")
    parser.add_argument("--dataset", required=True, choices=DATASETS.names())
    parser.add_argument("--data_path", required=True, help="dataset root in its original layout")
    parser.add_argument("--out", required=True, help="output .npz file")
    parser.add_argument("--height", type=int, default=128, help="resize height in pixels (multiple of 8)")
    parser.add_argument("--width", type=int, default=64, help="resize width in pixels (multiple of 8)")
    parser.add_argument("--trial", type=int, default=1,
                        help="the training / test split whose test lists are covered (RegDB: 1..10)")
    parser.add_argument("--rand_perm_cam", default=None,
                        help="SYSU-MM01 official protocol's mat, if not in <data_path>/exp/")
    parser.add_argument("--num_workers", type=int, default=2, help="image decoding threads")
    args = parser.parse_args(argv)
    for name in ("height", "width"):
        size = getattr(args, name)
        if size < CELL * BLOCK or size % CELL:
            parser.error(f"--{name} must be a multiple of {CELL} and at least {CELL * BLOCK}; got {size}")
    if not args.out.endswith(".npz"):
        parser.error(f"--out must name a .npz file; got {args.out}")
    dataset = dataset_class(args.dataset)
    overrides = {"rand_perm_cam": args.rand_perm_cam} if args.rand_perm_cam else {}
    if overrides and not any(with_overrides(options, overrides) != options for options in dataset.TestOptions.variants()):
        parser.error(f"--rand_perm_cam does not apply to {args.dataset}")
    if args.rand_perm_cam and not os.path.isfile(args.rand_perm_cam):
        parser.error(f"--rand_perm_cam {args.rand_perm_cam} does not exist")
    if not dataset.trial_has_own_training_split and (TRIAL_PLACEHOLDER in args.out or args.trial != 1):
        parser.error(f"--trial and '{{trial}}' in --out do not apply to {args.dataset} (one training split)")

    if dataset.trial_has_own_training_split and TRIAL_PLACEHOLDER in args.out:
        trials = list(dataset.trials)
    else:
        trials = [args.trial]
    settings = {"descriptor": "HOG", "height": args.height, "width": args.width, "cell": CELL, "block": BLOCK,
                "bins": BINS, "clip": CLIP, "orientation_votes": "split linearly between the two nearest bins"}
    for trial in trials:
        out_path = args.out.replace(TRIAL_PLACEHOLDER, str(trial))
        try:
            reader = open_dataset(args.dataset, args.data_path, trial=trial)
            records = evaluated_records(reader, overrides)
            paths = [record.path for record in records]
            features = hog_of_files(args.data_path, paths, args.height, args.width, args.num_workers)
        except (ValueError, FileNotFoundError) as error:
            raise SystemExit(f"error: {error}")
        write_features(out_path, paths, features,
                       dict(settings, trial=trial) if dataset.trial_has_own_training_split else settings)
        print(f"wrote HOG features of {len(paths)} images ({features.shape[1]} values each) to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
