"""Evaluation time at realistic sizes, with random 2048-d features.

- SYSU-MM01 all-search, 96 ids, 3,803 infrared queries: single-shot (~301 gallery images
  per trial) and multi-shot (~3,010) over 10 trials, through the protocol driver (feature
  lookup, distances, metrics).
- RegDB, 2,060 x 2,060, one trial: cosine distance, and with k-reciprocal re-ranking.

    python benchmarks/bench_eval.py [--dims 2048] [--trials 10] [--skip-rerank]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from src.datasets.records import INFRARED, VISIBLE, ImageRecord, TestLists  # noqa: E402
from src.evaluation.distances import pairwise_distance  # noqa: E402
from src.evaluation.features import FeatureTable  # noqa: E402
from src.evaluation.metrics import evaluate  # noqa: E402
from src.evaluation.protocol import query_gallery_distance, run_protocol  # noqa: E402

SYSU_TEST_IDS = 96
SYSU_QUERIES = 3803
SYSU_GALLERY_CAMS = (1, 2, 4, 5)


def sysu_like_trials(num_trials, shots, rng):
    """Query records and per-trial galleries shaped like SYSU-MM01 all-search."""
    query_pids = np.sort(rng.integers(1, SYSU_TEST_IDS + 1, SYSU_QUERIES))
    query = [ImageRecord(f"q/{index}.jpg", int(pid), int(rng.choice([3, 6])), INFRARED)
             for index, pid in enumerate(query_pids)]
    # About 78% of id-camera folders exist (3,010 / (96 x 4 x 10) in the real test set).
    folders = [(pid, cam) for pid in range(1, SYSU_TEST_IDS + 1) for cam in SYSU_GALLERY_CAMS if rng.random() < 0.784]
    trials = {}
    for trial in range(num_trials):
        gallery = [ImageRecord(f"g/{pid}_{cam}_{int(pick)}.jpg", pid, cam, VISIBLE)
                   for pid, cam in folders for pick in rng.choice(20, shots, replace=False)]
        trials[trial] = TestLists(query, gallery)
    return trials


def time_sysu(num_trials, shots, dims, rng):
    trials = sysu_like_trials(num_trials, shots, rng)
    paths = sorted({record.path for lists in trials.values() for record in lists.query + lists.gallery})
    table = FeatureTable(paths, rng.normal(size=(len(paths), dims)).astype(np.float32))
    start = time.perf_counter()
    run_protocol(trials, lambda trial: table, "sysu")
    elapsed = time.perf_counter() - start
    gallery = np.mean([len(lists.gallery) for lists in trials.values()])
    print(f"SYSU all-search {'single' if shots == 1 else 'multi'}-shot: {SYSU_QUERIES} x {gallery:.0f}, "
          f"{num_trials} trials, {dims}-d: {elapsed:.2f} s total ({elapsed / num_trials:.3f} s per trial)")


def time_regdb(dims, rerank, rng):
    num = 2060
    pids = np.repeat(np.arange(206), 10)
    query = rng.normal(size=(num, dims)).astype(np.float32)
    gallery = rng.normal(size=(num, dims)).astype(np.float32)
    start = time.perf_counter()
    distmat = query_gallery_distance(query, gallery, "cosine", True, rerank=rerank)
    after_distance = time.perf_counter()
    evaluate(distmat, pids, pids, rule="regdb")
    done = time.perf_counter()
    print(f"RegDB {num} x {num}, {dims}-d, {'re-ranked' if rerank else 'cosine'}: distance "
          f"{after_distance - start:.2f} s, metrics {done - after_distance:.2f} s, total {done - start:.2f} s")


def time_metrics_only(rng):
    distmat = pairwise_distance(rng.normal(size=(SYSU_QUERIES, 64)), rng.normal(size=(3010, 64)))
    q_pids, g_pids = rng.integers(0, 96, SYSU_QUERIES), rng.integers(0, 96, 3010)
    q_cams, g_cams = rng.choice([3, 6], SYSU_QUERIES), rng.choice(SYSU_GALLERY_CAMS, 3010)
    for threads in (1, 2):
        start = time.perf_counter()
        evaluate(distmat, q_pids, g_pids, q_cams, g_cams, rule="sysu", num_threads=threads)
        print(f"metrics only, SYSU rule, {SYSU_QUERIES} x 3010, {threads} thread(s): "
              f"{time.perf_counter() - start:.2f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", type=int, default=2048)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--skip-rerank", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    time_metrics_only(rng)
    time_sysu(args.trials, 1, args.dims, rng)
    time_sysu(args.trials, 10, args.dims, rng)
    time_regdb(args.dims, False, rng)
    if not args.skip_rerank:
        time_regdb(args.dims, True, rng)


if __name__ == "__main__":
    main()
