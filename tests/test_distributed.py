"""Data-parallel training with msrun on 2 CPU workers: both ranks end with identical weights, and
a stop signal to one rank, or to the launcher, stops both at the same step with the state saved,
from which the launcher's --resume ends with the weights of the uninterrupted run, bit for bit."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import compile_cache_env
from distributed_worker import OPTIONS
from src.utils.checkpoint_io import load_checkpoint

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.path.join(REPO_ROOT, "scripts", "run_distribute_train_cpu.sh")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def this_interpreter_env(**extra):
    # msrun starts each worker with the "python" found on PATH: make it this interpreter
    return dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                PYTHON=sys.executable, **extra)


def worker_logs(log_dir):
    return "".join(open(os.path.join(log_dir, name)).read() for name in sorted(os.listdir(log_dir)))


@pytest.fixture(scope="module")
def uninterrupted(synthetic_sysu, tmp_path_factory):
    """The run folder of a 2-worker training of tests/distributed_worker.py, each rank's weights in it."""
    root = tmp_path_factory.mktemp("distributed")
    output_dir = root / "run"
    output_dir.mkdir()
    command = [sys.executable, "-m", "mindspore.parallel.cluster.run", "--worker_num=2", "--local_worker_num=2",
               f"--master_port={free_port()}", f"--log_dir={root / 'logs'}", "--join=True",
               os.path.join(REPO_ROOT, "tests", "distributed_worker.py"), synthetic_sysu, str(output_dir)]
    result = subprocess.run(command, cwd=REPO_ROOT, env=this_interpreter_env(), capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, worker_logs(root / "logs")[-6000:]
    return output_dir


def test_two_msrun_workers_stay_in_sync_and_only_rank0_writes(uninterrupted):
    rank0 = np.load(uninterrupted / "weights_rank0_of_2.npz")
    rank1 = np.load(uninterrupted / "weights_rank1_of_2.npz")
    assert rank0.files == rank1.files and len(rank0.files) > 10
    for name in rank0.files:
        np.testing.assert_array_equal(rank0[name], rank1[name], err_msg=name)
    # the ranks trained (weights moved away from a shared initialisation would also be equal,
    # so check that the run logged steps) and only rank 0 wrote the run folder's files
    assert os.path.isfile(uninterrupted / "train_log.jsonl")
    assert os.path.isfile(uninterrupted / "checkpoints" / "network_last.ckpt")
    log_lines = open(uninterrupted / "train_log.jsonl").read().splitlines()
    assert log_lines and all('"global_step"' in line for line in log_lines)


def last_logged_step(run):
    path = run / "train_log.jsonl"
    if not path.exists():
        return 0
    return max((json.loads(line).get("global_step", 0) for line in path.read_text().splitlines() if line.strip()),
               default=0)


def wait_for_step(launcher, run, step):
    deadline = time.monotonic() + 300
    while last_logged_step(run) < step:
        assert launcher.poll() is None, f"the launcher ended before step {step}: {launcher.stdout.read()[-4000:]}"
        assert time.monotonic() < deadline, f"step {step} not reached"
        time.sleep(0.05)


def worker_pids(run, device_id=None):
    """PIDs of the msrun workers training into ``run`` (on local device ``device_id``, or all)."""
    wanted = {f"RUN_DIR={run}", "MS_ROLE=MS_WORKER"} | ({f"DEVICE_ID={device_id}"} if device_id is not None else set())
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environment = set(handle.read().decode(errors="replace").split("\0"))
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                trains = b"train.py" in handle.read()
        except (OSError, ValueError, IndexError):
            continue
        if trains and wanted <= environment:
            parents[int(entry)] = parent
    # msrun's log tails and the workers' own children (data loading) inherit their environment
    return [pid for pid, parent in parents.items() if parent not in parents]


@pytest.fixture
def run(tmp_path):
    """The run folder of a launcher's training; whatever of it still runs at the end is killed."""
    folder = tmp_path / "run"
    yield folder
    for pid in worker_pids(folder):
        os.kill(pid, signal.SIGKILL)


def launch(run, *arguments, env=None):
    return subprocess.Popen(["bash", LAUNCHER, "2", *arguments], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env=this_interpreter_env(RUN_DIR=str(run), MASTER_PORT=str(free_port()), **(env or {})))


def stop_lines(run):
    """(epoch, step) of each "stopped by SIGTERM" line: rank 0's in train.log, the others' in msrun's logs."""
    main = re.findall(r"stopped by SIGTERM: state saved at epoch (\d+), step (\d+); resume with: "
                      + re.escape(f"bash scripts/run_distribute_train_cpu.sh 2 --resume {run}"),
                      (run / "train.log").read_text())
    others = re.findall(r"rank 1: stopped by SIGTERM at epoch (\d+), step (\d+); rank 0 saved the state",
                        worker_logs(run / "msrun_logs_node0"))
    return [tuple(map(int, found)) for found in main], [tuple(map(int, found)) for found in others]


def saved_position(run):
    position = json.loads((run / "checkpoints" / "state.json").read_text())
    return position["epoch"] + 1, position["step_in_epoch"]


def test_a_signal_stops_every_rank_at_one_step_and_resume_gives_the_uninterrupted_weights(
        synthetic_sysu, uninterrupted, run, tmp_path):
    cache = compile_cache_env(tmp_path / "compiled")  # the first launch writes it; the last one compiles anew
    # 1. SIGTERM to one worker alone: the other, which received nothing, stops at the same step
    launcher = launch(run, "sysu", synthetic_sysu, *OPTIONS, env=cache)
    wait_for_step(launcher, run, 5)
    one_worker = worker_pids(run, device_id=1)
    assert len(one_worker) == 1, one_worker
    os.kill(one_worker[0], signal.SIGTERM)
    output = launcher.communicate(timeout=300)[0]
    assert launcher.returncode != 0, output[-4000:]  # msrun reports a worker's non-zero exit as its failure
    main, others = stop_lines(run)
    assert len(main) == 1 and others == main, (main, others)
    assert saved_position(run) == main[0] and main[0] >= (1, 5)

    # 2. SIGTERM to the launcher, as a scheduler sends it: passed on to the workers, exit 143
    launcher = launch(run, "--resume", str(run), env=cache)
    wait_for_step(launcher, run, last_logged_step(run) + 3)
    launcher.send_signal(signal.SIGTERM)
    output = launcher.communicate(timeout=300)[0]
    assert launcher.returncode == 128 + signal.SIGTERM, output[-4000:]
    main, others = stop_lines(run)
    assert len(main) == 2 and others[-1] == main[-1], (main, others)
    assert saved_position(run) == main[-1] and main[-1] != main[0]
    assert not worker_pids(run)

    # 3. resumed to the end: the weights of the run that nothing stopped
    launcher = launch(run, "--resume", str(run))
    output = launcher.communicate(timeout=600)[0]
    assert launcher.returncode == 0, output[-4000:]
    assert (run / "train.log").read_text().count("resumed from state_e") == 2
    expected = load_checkpoint(str(uninterrupted / "checkpoints" / "network_last.ckpt"))
    actual = load_checkpoint(str(run / "checkpoints" / "network_last.ckpt"))
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name].asnumpy(), expected[name].asnumpy(), err_msg=name)
