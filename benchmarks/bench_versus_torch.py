"""One ResNet branch's training step, MindSpore against PyTorch eager, timed in alternation.

Both steps are kept warm in worker processes (bench_train.py's single_branch configuration,
and bench_torch_reference.py run by the PyTorch interpreter given) and stepped in turn
(benchmarks/paired.py), so that each round gives one MindSpore / PyTorch time ratio under the
same machine load. Prints both medians, the median ratio and its interquartile range.

    python benchmarks/bench_versus_torch.py --torch_python /tmp/torchvenv/bin/python
        [--batch_ids 4] [--per_modality 1] [--height 256] [--width 128] [--rounds 15]
        [--warmup 3] [--depth 50]

The MindSpore step sees 2 x batch_ids x per_modality images (visible + infrared through the
shared branch), the PyTorch step the same number; --depth other than 50 needs a matching
PyTorch model and is for smoke tests of the protocol only (the reference is ResNet-50).
"""

import argparse
import os
import statistics
import sys

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCHMARKS)

from paired import alternate, ratio_quartiles  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--torch_python", required=True, help="a Python interpreter that can import torch")
    parser.add_argument("--batch_ids", type=int, default=4)
    parser.add_argument("--per_modality", type=int, default=1)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (one step of each framework)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first (MindSpore compiles in the first)")
    parser.add_argument("--depth", type=int, choices=(18, 34, 50), default=50)
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.warmup < 1:
        parser.error("--rounds must be at least 2 and --warmup at least 1")
    return args


def main(argv=None):
    """Run the comparison; returns {"mindspore_ms", "torch_ms", "ratio", "ratio_quartiles", "pairs"}."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    images = 2 * args.batch_ids * args.per_modality
    sizes = ["--height", str(args.height), "--width", str(args.width)]
    mindspore_command = [sys.executable, os.path.join(BENCHMARKS, "bench_train.py"), "--worker", "single_branch",
                         "--serve", "--batch_ids", str(args.batch_ids), "--per_modality", str(args.per_modality),
                         "--depth", str(args.depth)] + sizes
    torch_command = [args.torch_python, os.path.join(BENCHMARKS, "bench_torch_reference.py"), "--serve",
                     "--batch", str(images)] + sizes
    print(f"{os.cpu_count()} CPU(s); load average at start {os.getloadavg()[0]:.2f}; {images} images per step, "
          f"{args.height}x{args.width}; {args.warmup} warm-up + {args.rounds} timed rounds", flush=True)
    times = alternate({"MindSpore": mindspore_command, "PyTorch": torch_command}, args.warmup, args.rounds)
    mindspore_ms = statistics.median(times["MindSpore"]) * 1e3
    torch_ms = statistics.median(times["PyTorch"]) * 1e3
    quartiles = ratio_quartiles(times["MindSpore"], times["PyTorch"])
    print(f"MindSpore graph mode: {mindspore_ms:.0f} ms/step ({images / mindspore_ms * 1e3:.2f} images/s)")
    print(f"PyTorch eager:        {torch_ms:.0f} ms/step ({images / torch_ms * 1e3:.2f} images/s)")
    print(f"MindSpore / PyTorch time, per round: median {quartiles[1]:.3f}x "
          f"(interquartile {quartiles[0]:.3f}-{quartiles[2]:.3f}x, {args.rounds} rounds)")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return {"mindspore_ms": mindspore_ms, "torch_ms": torch_ms, "ratio": quartiles[1],
            "ratio_quartiles": quartiles, "pairs": list(zip(times["MindSpore"], times["PyTorch"]))}


if __name__ == "__main__":
    main()
