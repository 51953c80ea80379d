"""The machine's measured peak: float32 GFLOP/s of a large matrix product.

A matrix product in a tuned BLAS runs every core at close to the processor's fused
multiply-add limit, so the best of a few products of two n x n matrices (2 n^3 operations
each) stands for what convolutions could reach at best. Measured with numpy (OpenBLAS in the
numpy wheels) and, when importable, torch (its own BLAS); the higher is the peak. Any other
load on the machine lowers it: take it on an idle machine.

    python benchmarks/peak_flops.py [--size 4096] [--repeats 6]

prints one ``PEAK_GFLOPS <library> <value>`` line per library. With ``--serve`` it is a
paired-timing worker (benchmarks/paired.py) instead: one product per step, with the faster
library (torch when importable); bench_versus_torch.py steps it in turn with the contenders, so
that each round's peak is taken under the same load as the contenders' steps.
"""

import argparse
import sys
import time

import numpy as np

PEAK_MARKER = "PEAK_GFLOPS "


def _matmul_of(library):
    if library == "torch":
        import torch
        return torch.from_numpy, torch.matmul
    return np.asarray, np.matmul


def matrix_product_flops(size):
    """Operations of one product of two ``size`` x ``size`` matrices."""
    return 2 * size ** 3


def timed_product(library, size):
    """A function that runs one ``size`` x ``size`` float32 product with ``library`` and returns
    its seconds (the first, untimed product, thread start-up and first touch, is done here)."""
    convert, matmul = _matmul_of(library)
    rng = np.random.default_rng(0)
    left = convert(rng.standard_normal((size, size), dtype=np.float32))
    right = convert(rng.standard_normal((size, size), dtype=np.float32))
    matmul(left, right)

    def product():
        start = time.perf_counter()
        matmul(left, right)
        return time.perf_counter() - start
    return product


def measured_peak_gflops(library="numpy", size=4096, repeats=6):
    """Best float32 GFLOP/s of ``library``'s matrix product over ``repeats`` products of two
    ``size`` x ``size`` matrices."""
    product = timed_product(library, size)
    return matrix_product_flops(size) / min(product() for _ in range(repeats)) / 1e9


def serve(size, commands=sys.stdin, replies=sys.stdout):
    """Paired-timing worker: one product per ``step`` line, answered with its seconds."""
    from paired import READY_MARKER, STEP_MARKER

    product = timed_product(available_libraries()[-1], size)
    print(READY_MARKER, file=replies, flush=True)
    for line in commands:
        if line.strip() != "step":
            break
        print(f"{STEP_MARKER}{product()}", file=replies, flush=True)


def available_libraries():
    """numpy, and torch when this interpreter can import it."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return ["numpy"]
    return ["numpy", "torch"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--serve", action="store_true", help="serve as a paired-timing worker")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.size)
        return {}
    results = {}
    for library in available_libraries():
        results[library] = measured_peak_gflops(library, args.size, args.repeats)
        print(f"{PEAK_MARKER}{library} {results[library]:.1f}", flush=True)
    return results


if __name__ == "__main__":
    main()
