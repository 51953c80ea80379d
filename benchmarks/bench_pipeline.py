"""Training input pipeline throughput (images/s), cached and uncached, with 1 and 2 workers.

Writes a synthetic SYSU-MM01 tree at a realistic image size (288 x 144 JPEGs) unless
``--root`` names an existing SYSU-MM01 tree, then times the cache build and
``--steps`` training steps of P x (K visible + K infrared) images each at 256 x 128.

    python benchmarks/bench_pipeline.py [--root DIR] [--ids 60] [--steps 20]
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import src  # noqa: E402,F401  (before mindspore: sets the oneDNN ISA variable)
from src.datasets.cache import open_resized_cache  # noqa: E402
from src.datasets.dataset import open_dataset  # noqa: E402
from src.datasets.pipeline import available_workers, build_train_dataset, training_iterator  # noqa: E402
from src.datasets.synthetic.layout import write_synthetic_dataset  # noqa: E402


def time_steps(root, records, args, cache_dir, workers):
    """Seconds for ``args.steps`` steps after one warm-up step, and images per step."""
    dataset, _ = build_train_dataset(root, records, args.height, args.width, args.batch_ids, args.per_modality,
                                     seed=1, epoch_definition="images", num_workers=workers, cache_dir=cache_dir,
                                     flip_prob=0.5, pad=args.pad, random_erasing_prob=args.random_erasing_prob,
                                     num_epochs=1000)
    iterator = training_iterator(dataset, output_numpy=True)
    visible, infrared, _ = next(iterator)
    images_per_step = len(visible) + len(infrared)
    started = time.perf_counter()
    for _ in range(args.steps):
        next(iterator)
    return time.perf_counter() - started, images_per_step


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="", help="existing SYSU-MM01 tree (default: write a synthetic one)")
    parser.add_argument("--ids", type=int, default=60, help="identities of the synthetic dataset")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--batch_ids", type=int, default=16)
    parser.add_argument("--per_modality", type=int, default=2)
    parser.add_argument("--pad", type=int, default=10)
    parser.add_argument("--random_erasing_prob", type=float, default=0.5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = args.root
        if not root:
            started = time.perf_counter()
            root = write_synthetic_dataset("sysu", os.path.join(scratch, "sysu"), num_ids=args.ids, seed=0,
                                           height=288, width=144)
            print(f"wrote a synthetic SYSU-MM01 ({args.ids} ids, 288x144 JPEGs) in "
                  f"{time.perf_counter() - started:.1f} s")
        records = open_dataset("sysu", root).train_records()
        print(f"{len(records)} training images; cores available: {available_workers(10 ** 6)}; "
              f"batch {args.batch_ids} ids x ({args.per_modality} + {args.per_modality}) images at "
              f"{args.height}x{args.width}, flip, pad {args.pad}, random erasing {args.random_erasing_prob}")
        cache_dir = os.path.join(scratch, "cache")
        for workers in (1, 2):
            folder = f"{cache_dir}_{workers}"
            started = time.perf_counter()
            open_resized_cache(root, [r.path for r in records], args.height, args.width, folder,
                               num_workers=available_workers(workers), show_progress=False)
            seconds = time.perf_counter() - started
            print(f"cache build, {workers} thread(s): {len(records) / seconds:8.1f} images/s")
        for cached in (False, True):
            for workers in (1, 2):
                seconds, images_per_step = time_steps(root, records, args, f"{cache_dir}_1" if cached else None,
                                                      workers)
                print(f"{'cached  ' if cached else 'uncached'} {workers} worker(s): "
                      f"{args.steps * images_per_step / seconds:8.1f} images/s "
                      f"({seconds / args.steps * 1000:.0f} ms/step)")


if __name__ == "__main__":
    main()
