"""Device, execution mode, seeds and (when launched by msrun) the communication group."""

import os
import random
from dataclasses import dataclass

import mindspore as ms
import numpy as np


@dataclass(frozen=True)
class RunContext:
    """Where this process sits: its rank among ``group_size`` data-parallel workers."""

    rank: int = 0
    group_size: int = 1

    @property
    def distributed(self):
        return self.group_size > 1

    @property
    def is_main(self):
        return self.rank == 0


def launched_by_msrun():
    """True inside a process that msrun started for a job of several workers.

    msrun runs the script in every worker (MS_ROLE=MS_WORKER) and once more as the cluster's
    scheduler (MS_ROLE=MS_SCHED); both must call ``init()``, which in the scheduler serves
    the cluster until the workers finish.
    """
    return (os.environ.get("MS_ROLE") in ("MS_WORKER", "MS_SCHED")
            and int(os.environ.get("MS_WORKER_NUM", "1")) > 1)


def setup_context(device_target="CPU", device_id=0, graph_mode=True):
    """Set the device and mode; join the communication group only when msrun started us.

    Returns:
        RunContext with this worker's rank and the number of workers.
    """
    ms.set_context(mode=ms.GRAPH_MODE if graph_mode else ms.PYNATIVE_MODE)
    if not launched_by_msrun():
        ms.set_device(device_target, device_id)
        return RunContext()
    from mindspore.communication import get_group_size, get_rank, init  # only needed when distributed
    ms.set_device(device_target)
    init()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True)
    return RunContext(rank=get_rank(), group_size=get_group_size())


def seed_everything(seed):
    """Seed MindSpore, numpy and Python's random module."""
    ms.set_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
