"""Cost of the gradient finiteness check in a training step: ``AllFinite`` against ``ms.amp.all_finite``.

``TrainStep`` applies an update only when every gradient is finite. MindSpore's
``ms.amp.all_finite`` runs an IsFinite and a ReduceAll per gradient; ``AllFinite``
(src/engine/train_step.py) a multiply and an L2Loss. Two training steps of the same model,
one per check, are built in this process, kept warm and stepped in turn, one step each per
round (the paired design of benchmarks/paired.py, in one process); a third step whose check
reads only the loss shows what any gradient check costs. Prints the median ms/step of each
and the median per-round ratio to the first check (``ms.amp.all_finite``) with its
interquartile range.

    python benchmarks/bench_finite_check.py [--config_path configs/demo.yaml] [--batch_ids 8]
        [--per_modality 2] [--height 96] [--width 48] [--rounds 20] [--warmup 3]
        [--checks ms.amp.all_finite AllFinite "loss only"] [--section.key value ...]
"""

import argparse
import os
import statistics
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))

import src  # noqa: E402,F401  (sets ONEDNN_MAX_CPU_ISA before mindspore loads)

import mindspore as ms  # noqa: E402
from mindspore import nn, ops  # noqa: E402

from bench_train import build_timed_step, config_argv  # noqa: E402
from paired import ratio_quartiles  # noqa: E402
from src.config import load_config  # noqa: E402
from src.engine.train_step import AllFinite  # noqa: E402


class AmpAllFinite(nn.Cell):
    def construct(self, tensors):
        return ms.amp.all_finite(tensors)


class NoGradientCheck(nn.Cell):
    """Always true: the step then checks the loss alone."""

    def construct(self, tensors):
        return ops.isfinite(ms.Tensor(0.0, ms.float32))


CHECKS = {"ms.amp.all_finite": AmpAllFinite, "AllFinite": AllFinite, "loss only": NoGradientCheck}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config_path", default=os.path.join(REPO_ROOT, "configs", "demo.yaml"))
    parser.add_argument("--batch_ids", type=int, default=8)
    parser.add_argument("--per_modality", type=int, default=2)
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--width", type=int, default=48)
    parser.add_argument("--num_classes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds (one step of each check per round)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds after the compiling one")
    parser.add_argument("--checks", nargs="+", choices=tuple(CHECKS), default=list(CHECKS),
                        help="checks to compare (ratios are to the first)")
    args, overrides = parser.parse_known_args(argv)
    if args.rounds < 2 or args.warmup < 0:  # the interquartile range needs two rounds
        parser.error("--rounds must be at least 2 and --warmup at least 0")
    return args, overrides


def main(argv=None):
    args, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    # bench_train's configuration arguments, with its "full" row (no extra overrides).
    args.depth = None
    cfg = load_config(config_argv(args, overrides, "full"))
    calls = {}
    for name in args.checks:
        _, step, call = build_timed_step(cfg, args.num_classes)
        step.all_finite = CHECKS[name]()
        calls[name] = call
    times = {name: [] for name in calls}
    for round_index in range(1 + args.warmup + args.rounds):
        # Alternate who moves first, so neither check always follows the same one.
        order = list(calls) if round_index % 2 == 0 else list(reversed(calls))
        for name in order:
            seconds, loss, finite = calls[name](round_index)
            if not finite:
                raise RuntimeError(f"{name}: non-finite step (loss {loss}) at round {round_index + 1}")
            if round_index > args.warmup:
                times[name].append(seconds)
    print(f"{cfg.data.batch_ids}x{cfg.data.per_modality}x2 images of {cfg.data.height}x{cfg.data.width}, "
          f"{args.rounds} paired rounds, 1-minute load average {os.getloadavg()[0]:.2f}")
    baseline = times[args.checks[0]]
    for name, series in times.items():
        low, median, high = ratio_quartiles(series, baseline)
        print(f"{name:<18} {statistics.median(series) * 1e3:7.1f} ms/step   per round / {args.checks[0]} "
              f"{median:.3f}x (interquartile {low:.3f}-{high:.3f}x)")
    return times


if __name__ == "__main__":
    main()
