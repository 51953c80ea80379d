"""Paired timing: benchmark workers kept warm in their own processes and stepped in turn.

On a shared machine speed drifts by 10-30% within minutes, so configurations timed one after
the other compare different conditions. Stepping warm workers in alternation (one step each
per round, the first mover alternating) gives, per round, time ratios taken under the same
conditions. A worker is any process that prints ``BENCH_READY`` once set up, then answers
each ``step`` line on its stdin with ``BENCH_STEP <seconds>`` (bench_train.py ``--worker NAME
--serve``, bench_torch_reference.py ``--serve``), and exits on any other line.
"""

import statistics
import subprocess

READY_MARKER = "BENCH_READY"
STEP_MARKER = "BENCH_STEP "


class Worker:
    """A serving benchmark process: ``step()`` asks for one step and returns its seconds."""

    def __init__(self, name, command, env=None):
        self.name = name
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1, env=env)
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


def alternate(commands, warmup, rounds, env=None):
    """Start one worker per ``{name: command}``, step them in turn; returns ``{name: [seconds]}``
    over the ``rounds`` timed rounds (index i of every list is the same round)."""
    workers = []
    try:
        for name, command in commands.items():
            workers.append(Worker(name, command, env=env))
        times = {worker.name: [] for worker in workers}
        for round_index in range(warmup + rounds):
            order = workers if round_index % 2 == 0 else workers[::-1]
            for worker in order:
                seconds = worker.step()
                if round_index >= warmup:
                    times[worker.name].append(seconds)
        return times
    finally:
        for worker in workers:
            worker.close()


def ratio_quartiles(numerator, denominator):
    """(25th, 50th, 75th percentile) of the per-round ratios numerator[i] / denominator[i]."""
    ratios = [a / b for a, b in zip(numerator, denominator)]
    return tuple(statistics.quantiles(ratios, n=4, method="inclusive"))
