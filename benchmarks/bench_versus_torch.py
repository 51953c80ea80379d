"""One ResNet branch's training step, MindSpore against PyTorch eager, timed in alternation.

On a shared machine the speed of both frameworks drifts by 20-30% within minutes, so two
separate runs compare different conditions. Here both steps are kept warm in two worker
processes (bench_train.py's single_branch configuration, and bench_torch_reference.py run
by the PyTorch interpreter given) and stepped in turn, one step each per round, the first
mover alternating between rounds; each round gives one MindSpore / PyTorch time ratio under
the same conditions. Prints both medians, the median ratio and its interquartile range.

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
import subprocess
import sys

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
READY_MARKER = "BENCH_READY"
STEP_MARKER = "BENCH_STEP "


class Worker:
    """A serving benchmark process: ``step()`` asks for one training step and returns its seconds."""

    def __init__(self, name, command):
        self.name = name
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1)
        self._expect(READY_MARKER)

    def _expect(self, marker):
        for line in self.process.stdout:
            if line.startswith(marker):
                return line[len(marker):].strip()
        self.process.wait()
        raise RuntimeError(f"{self.name} worker stopped (exit code {self.process.returncode}) before "
                           f"{marker.strip()}:\n{self.process.stderr.read()[-3000:]}")

    def step(self):
        self.process.stdin.write("step\n")
        self.process.stdin.flush()
        return float(self._expect(STEP_MARKER))

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write("stop\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)


def quartiles(values):
    low, median, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, median, high


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
    workers = []
    try:
        workers = [Worker("MindSpore", mindspore_command), Worker("PyTorch", torch_command)]
        pairs = []
        for round_index in range(args.warmup + args.rounds):
            order = workers if round_index % 2 == 0 else workers[::-1]
            seconds = {worker.name: worker.step() for worker in order}
            if round_index >= args.warmup:
                pairs.append((seconds["MindSpore"], seconds["PyTorch"]))
    finally:
        for worker in workers:
            worker.close()

    mindspore_ms = statistics.median(pair[0] for pair in pairs) * 1e3
    torch_ms = statistics.median(pair[1] for pair in pairs) * 1e3
    ratio_quartiles = quartiles([mindspore / torch for mindspore, torch in pairs])
    print(f"MindSpore graph mode: {mindspore_ms:.0f} ms/step ({images / mindspore_ms * 1e3:.2f} images/s)")
    print(f"PyTorch eager:        {torch_ms:.0f} ms/step ({images / torch_ms * 1e3:.2f} images/s)")
    print(f"MindSpore / PyTorch time, per round: median {ratio_quartiles[1]:.3f}x "
          f"(interquartile {ratio_quartiles[0]:.3f}-{ratio_quartiles[2]:.3f}x, {len(pairs)} rounds)")
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return {"mindspore_ms": mindspore_ms, "torch_ms": torch_ms, "ratio": ratio_quartiles[1],
            "ratio_quartiles": ratio_quartiles, "pairs": pairs}


if __name__ == "__main__":
    main()
