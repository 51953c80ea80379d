"""Device, execution mode, seeds and (when launched by msrun) the communication group."""

import os
import random
from dataclasses import dataclass

import mindspore as ms
import numpy as np

from src.options import Option, Options


RUNTIME_OPTIONS = Options(
    Option("device_target", "CPU", "where to run: CPU, GPU or Ascend", choices=("CPU", "GPU", "Ascend")),
    Option("device_id", 0, "device index for standalone GPU / Ascend runs", minimum=0),
    Option("graph_mode", True, "graph mode (fast) or PyNative (debuggable)"),
    Option("seed", 1, "seeds MindSpore, numpy, Python random and the sampler"),
)


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


class DeviceConflictError(RuntimeError):
    """A device was asked for after MindSpore's runtime had started on another one in this process."""


def device_name(device_target, device_id=None):
    """``"GPU:1"``, or ``"GPU"`` when no id was asked for (msrun negotiates it)."""
    return device_target if device_id is None else f"{device_target}:{device_id}"


def select_device(device_target, device_id=None):
    """Make ``device_target`` (and ``device_id`` unless None) this process's device; safe to repeat.

    MindSpore fixes the device when its runtime starts (the first kernel, or
    ``communication.init()``); from then on ``ms.set_device`` refuses any other device and,
    when no device had been set before the runtime started, even the one in force. So once
    the runtime runs, the request is only compared with the device in force: equal is a
    no-op, different raises DeviceConflictError.
    """
    in_force = ms.get_current_device()
    if not ms.hal.is_initialized(in_force.device_target):
        ms.set_device(device_target, device_id)
        return
    asked = (device_target, in_force.device_id if device_id is None else device_id)
    if asked != (in_force.device_target, in_force.device_id):
        wanted = device_name(device_target, device_id)
        raise DeviceConflictError(f"error: this process already runs MindSpore on {device_name(*in_force)} and "
                                  f"cannot switch to {wanted}; use a separate process for {wanted}")


def setup_context(device_target="CPU", device_id=0, graph_mode=True):
    """Set the device and mode; join the communication group only when msrun started us.

    Safe to call any number of times in one process, also after MindSpore kernels have run
    (evaluate, then train; several trainings): the device must stay the one in force (else
    DeviceConflictError), the mode is set anew each call.

    Returns:
        RunContext with this worker's rank and the number of workers.
    """
    ms.set_context(mode=ms.GRAPH_MODE if graph_mode else ms.PYNATIVE_MODE)
    if not launched_by_msrun():
        select_device(device_target, device_id)
        return RunContext()
    from mindspore.communication import GlobalComm, get_group_size, get_rank, init  # only needed when distributed
    select_device(device_target)  # msrun assigns each worker its device id
    if not GlobalComm.INITED:
        init()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True)
    return RunContext(rank=get_rank(), group_size=get_group_size())


def seed_everything(seed):
    """Seed MindSpore, numpy and Python's random module."""
    ms.set_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
