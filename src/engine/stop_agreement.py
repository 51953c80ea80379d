"""The ranks of a distributed run agree, at each step boundary, whether a stop signal ends it.

A scheduler may signal one worker, or all of them a few steps apart. Each rank's handler only
records what it received (src/engine/stop_signals.py); at every step boundary the ranks sum,
over all of them, which stop signals each has received, so that every rank reads the same
answer at the same step and they all stop there. A rank that stopped alone would leave the
others waiting for it in the next step's gradient all-reduce.

Only rank 0 writes the state; ``wait_for_all_ranks`` then holds the other ranks until it is
on disk, because msrun kills every worker as soon as one of them exits with a non-zero status.
A single-process run asks nothing of anyone: ``signal()`` is ``stop_requested()``.
"""

import mindspore as ms
import numpy as np
from mindspore import nn, ops

from src.engine.stop_signals import STOP_SIGNALS, stop_requested


class _SumOverRanks(nn.Cell):
    """(K,) float32 -> (K,) float32, the sum over the ranks (SUM: the reduction every backend has)."""

    def __init__(self):
        super().__init__()
        self.all_reduce = ops.AllReduce()

    def construct(self, values):
        return self.all_reduce(values)


class StopAgreement:
    """Args: ``distributed``: whether this process is one rank of several (collectives needed)."""

    def __init__(self, distributed):
        self.sum_over_ranks = _SumOverRanks() if distributed else None

    def signal(self):
        """The stop signal that every rank acts on at this step boundary (SIGTERM before SIGHUP
        when ranks received different ones), or None. Every rank must call it at the same
        boundaries."""
        local = stop_requested()
        if self.sum_over_ranks is None:
            return local
        received = np.array([float(local == number) for number in STOP_SIGNALS], dtype=np.float32)
        counts = self.sum_over_ranks(ms.Tensor(received)).asnumpy()
        return next((number for number, count in zip(STOP_SIGNALS, counts) if count > 0), None)

    def wait_for_all_ranks(self):
        """Return once every rank has called this (a barrier; nothing to wait for in one process)."""
        if self.sum_over_ranks is not None:
            self.sum_over_ranks(ms.Tensor(np.zeros(len(STOP_SIGNALS), dtype=np.float32))).asnumpy()
