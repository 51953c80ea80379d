"""Device and mode set-up repeated in one process, before and after MindSpore's runtime starts."""

import os
import subprocess
import sys

import mindspore as ms
import numpy as np
import pytest

from src.engine.context import DeviceConflictError, RunContext, setup_context

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Run in a new interpreter: only there is it certain that no kernel has run yet.
FRESH_PROCESS = """
import sys
sys.path.insert(0, {root!r})
import src
import mindspore as ms, numpy as np
from src.engine.context import setup_context
setup_context("CPU", 0, graph_mode=True)
setup_context("CPU", 0, graph_mode=False)
assert ms.get_context("mode") == ms.PYNATIVE_MODE
assert not ms.hal.is_initialized("CPU")
print((ms.Tensor(np.ones(2, np.float32)) * 2).asnumpy().tolist())
assert ms.hal.is_initialized("CPU")
assert setup_context("CPU", 0, graph_mode=True).group_size == 1
assert ms.get_context("mode") == ms.GRAPH_MODE
print(tuple(ms.get_current_device()))
"""


def run_a_kernel():
    """Start MindSpore's runtime in this process, as any earlier MindSpore work would."""
    assert (ms.Tensor(np.ones(2, np.float32)) + 1).asnumpy().tolist() == [2.0, 2.0]


def test_setup_twice_before_and_once_after_the_first_kernel_in_a_fresh_process():
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS.format(root=REPO_ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[-3:] == ["[2.0, 2.0]", "('CPU', 0)", ""]


def test_setup_after_kernels_keeps_the_device_and_sets_the_mode():
    run_a_kernel()
    device = tuple(ms.get_current_device())
    assert setup_context(*device, graph_mode=False) == RunContext()
    assert ms.get_context("mode") == ms.PYNATIVE_MODE
    assert setup_context(*device, graph_mode=True) == RunContext()
    assert ms.get_context("mode") == ms.GRAPH_MODE
    assert tuple(ms.get_current_device()) == device
    run_a_kernel()


@pytest.mark.parametrize("change", ["target", "id"])
def test_a_different_device_after_the_runtime_started_is_refused_in_one_line(change):
    run_a_kernel()
    target, device_id = ms.get_current_device()
    asked = ("GPU" if target != "GPU" else "CPU", device_id) if change == "target" else (target, device_id + 1)
    with pytest.raises(DeviceConflictError) as refused:
        setup_context(*asked)
    message = str(refused.value)
    assert message.startswith("error: ") and "\n" not in message
    assert f"{target}:{device_id}" in message and f"{asked[0]}:{asked[1]}" in message
    assert tuple(ms.get_current_device()) == (target, device_id)
    run_a_kernel()
