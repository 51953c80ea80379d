"""MindSpore against PyTorch eager and torch.compile, training steps and feature extraction, paired.

One ResNet-50 branch (last stride 1) in every contender. For each training batch size, the
MindSpore graph-mode step (bench_train.py's single_branch configuration: B / 2 visible + B / 2
infrared images through the shared branch), the PyTorch eager step and the torch.compile step
(bench_torch_reference.py, B images); for each feature-extraction batch size, MindSpore's
InferenceNetwork in graph mode and the exported MINDIR (what eval.py and search.py run;
bench_infer.py, one encoder: ``--model.branches [shared]``) against PyTorch eager and
torch.compile. Each comparison keeps its contenders warm in worker processes and steps them
in turn (benchmarks/paired.py), so every round gives time ratios under one machine load.

Every comparison also steps a peak worker in turn with the contenders: one float32 4096 x 4096
matrix product in the PyTorch interpreter's torch (benchmarks/peak_flops.py), the machine's
measured peak, taken round by round under the same load as the contenders. Prints, per
comparison: each contender's median time, images/s, achieved GFLOP/s (the convolutions'
arithmetic, benchmarks/resnet_flops.py) and its median per-round share of that round's peak;
then each MindSpore contender's per-round time ratio to eager and to compile (median and
interquartile range), and each ``--variant``'s ratio to the MINDIR contender.

    python benchmarks/bench_versus_torch.py --torch_python /tmp/torchvenv/bin/python
        [--train_batches 8 16] [--infer_batches 1 8 32] [--torch_modes eager compile]
        [--rounds 10] [--warmup 2] [--height 256] [--width 128] [--depth 50]
        [--variant "NAME=BENCH_INFER OPTIONS"] ...

``--variant "unfolded=--export.fold_batch_norm false"`` adds one more MINDIR worker with those
bench_infer.py options to every feature-extraction comparison (an A/B of one lever, paired
with everything else). ``--train_batches`` or ``--infer_batches`` with no value skips that part.
--depth other than 50 is for smoke tests of the protocol only (the PyTorch model is always a
ResNet-50, and the GFLOP/s are a ResNet-50's).
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCHMARKS)

from paired import alternate, ratio_quartiles  # noqa: E402
from peak_flops import matrix_product_flops  # noqa: E402
from resnet_flops import resnet50_forward_flops, resnet50_training_flops  # noqa: E402

TORCH_MODES = {"eager": "PyTorch eager", "compile": "torch.compile"}
MINDSPORE_GRAPH = "MindSpore graph"
MINDSPORE_MINDIR = "MindSpore MINDIR"
PEAK = "peak (matrix product)"
PEAK_SIZE = 4096


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--torch_python", required=True, help="a Python interpreter that can import torch")
    parser.add_argument("--train_batches", type=int, nargs="*", default=[8, 16],
                        help="training-step batch sizes (even: half visible, half infrared)")
    parser.add_argument("--infer_batches", type=int, nargs="*", default=[1, 8, 32], help="feature-extraction batch sizes")
    parser.add_argument("--torch_modes", nargs="+", choices=tuple(TORCH_MODES), default=list(TORCH_MODES))
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=OPTIONS",
                        help="one more MINDIR contender: bench_infer.py with these extra options")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds (one step of each contender)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument("--depth", type=int, choices=(18, 34, 50), default=50)
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.warmup < 1:
        parser.error("--rounds must be at least 2 and --warmup at least 1")
    if any(batch < 2 or batch % 2 for batch in args.train_batches):
        parser.error("--train_batches must be even (half visible, half infrared)")
    if any(batch < 1 for batch in args.infer_batches):
        parser.error("--infer_batches must be positive")
    if any("=" not in variant for variant in args.variant):
        parser.error("--variant takes NAME=OPTIONS")
    args.variant = [variant.split("=", 1) for variant in args.variant]
    return args


def peak_command(args):
    return [args.torch_python, os.path.join(BENCHMARKS, "peak_flops.py"), "--serve", "--size", str(PEAK_SIZE)]


def training_commands(args, batch):
    """{contender: worker command} for the training step on ``batch`` images."""
    sizes = ["--height", str(args.height), "--width", str(args.width)]
    commands = {MINDSPORE_GRAPH: [sys.executable, os.path.join(BENCHMARKS, "bench_train.py"), "--worker",
                                  "single_branch", "--serve", "--batch_ids", str(batch // 2), "--per_modality", "1",
                                  "--depth", str(args.depth)] + sizes}
    for mode in args.torch_modes:
        commands[TORCH_MODES[mode]] = torch_command(args, ["--serve", "train", "--batch", str(batch)], mode)
    return commands


def inference_commands(args, batch):
    """{contender: worker command} for feature extraction of ``batch`` images by one encoder."""
    def mindspore(route, extra=()):
        return [sys.executable, os.path.join(BENCHMARKS, "bench_infer.py"), "--serve", route, "--batch", str(batch),
                "--height", str(args.height), "--width", str(args.width), "--depth", str(args.depth),
                "--model.branches", "[shared]"] + list(extra)
    commands = {MINDSPORE_GRAPH: mindspore("graph"), MINDSPORE_MINDIR: mindspore("mindir")}
    for name, options in args.variant:
        commands[f"MINDIR {name}"] = mindspore("mindir", shlex.split(options))
    for mode in args.torch_modes:
        commands[TORCH_MODES[mode]] = torch_command(args, ["--serve", "infer", "--infer_batch", str(batch)], mode)
    return commands


def torch_command(args, serve_options, mode):
    command = [args.torch_python, os.path.join(BENCHMARKS, "bench_torch_reference.py"), "--height", str(args.height),
               "--width", str(args.width)] + serve_options
    return command + (["--compile"] if mode == "compile" else [])


def report(title, times, images, flops_per_image):
    """Print one comparison (``times`` includes the peak worker's); returns {"times": contenders'
    seconds per round, "peak_gflops": per round, "ratios": {(numerator, denominator): quartiles}}."""
    times = dict(times)
    peak = [matrix_product_flops(PEAK_SIZE) / seconds / 1e9 for seconds in times.pop(PEAK)]
    print(f"\n{title} (median of {len(peak)} paired rounds; load average now {os.getloadavg()[0]:.2f}; "
          f"peak {statistics.median(peak):.0f} GFLOP/s, best round {max(peak):.0f})")
    print(f"  {'contender':<26} {'ms':>8} {'images/s':>9} {'GFLOP/s':>8} {'of peak':>8}")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        achieved = [images * flops_per_image / second / 1e9 for second in seconds]
        share = statistics.median(rate / round_peak for rate, round_peak in zip(achieved, peak))
        print(f"  {name:<26} {median * 1e3:8.0f} {images / median:9.2f} {images * flops_per_image / median / 1e9:8.1f} "
              f"{share:8.0%}")
    references = [name for name in TORCH_MODES.values() if name in times]
    mindspore = [name for name in times if name not in references]
    pairs = [(name, reference) for name in mindspore for reference in references]
    pairs += [(name, MINDSPORE_MINDIR) for name in mindspore if name.startswith("MINDIR ")]
    ratios = {}
    for numerator, denominator in pairs:
        ratios[(numerator, denominator)] = low, median, high = ratio_quartiles(times[numerator], times[denominator])
        print(f"  {numerator} / {denominator} time, per round: median {median:.3f}x "
              f"(interquartile {low:.3f}-{high:.3f}x)")
    return {"times": times, "peak_gflops": peak, "ratios": ratios}


def main(argv=None):
    """Run every comparison; returns {(work, batch): report(...)}."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"{os.cpu_count()} CPU(s); load average at start {os.getloadavg()[0]:.2f}; ResNet-{args.depth} (last stride "
          f"1), {args.height}x{args.width}; {args.warmup} warm-up + {args.rounds} timed rounds per comparison",
          flush=True)
    results = {}
    work = [("training step", batch, training_commands(args, batch), resnet50_training_flops)
            for batch in args.train_batches]
    work += [("feature extraction", batch, inference_commands(args, batch), resnet50_forward_flops)
             for batch in args.infer_batches]
    for name, batch, commands, flops in work:
        times = alternate(dict(commands, **{PEAK: peak_command(args)}), args.warmup, args.rounds)
        results[(name, batch)] = report(f"{name}, batch {batch}", times, batch, flops(args.height, args.width))
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")
    return results


if __name__ == "__main__":
    main()
