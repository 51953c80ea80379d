"""Data-parallel training with msrun on 2 CPU workers: both ranks end with identical weights."""

import os
import socket
import subprocess
import sys

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_msrun_workers_stay_in_sync_and_only_rank0_writes(synthetic_sysu, tmp_path):
    output_dir = tmp_path / "run"
    output_dir.mkdir()
    command = [sys.executable, "-m", "mindspore.parallel.cluster.run", "--worker_num=2", "--local_worker_num=2",
               f"--master_port={free_port()}", f"--log_dir={tmp_path / 'logs'}", "--join=True",
               os.path.join(REPO_ROOT, "tests", "distributed_worker.py"), synthetic_sysu, str(output_dir)]
    # msrun starts each worker with the "python" found on PATH: make it this interpreter
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    logs = "".join(open(tmp_path / "logs" / name).read()[-3000:] for name in sorted(os.listdir(tmp_path / "logs")))
    assert result.returncode == 0, logs
    rank0 = np.load(output_dir / "weights_rank0_of_2.npz")
    rank1 = np.load(output_dir / "weights_rank1_of_2.npz")
    assert rank0.files == rank1.files and len(rank0.files) > 10
    for name in rank0.files:
        np.testing.assert_array_equal(rank0[name], rank1[name], err_msg=name)
    # the ranks trained (weights moved away from a shared initialisation would also be equal,
    # so check that the run logged steps) and only rank 0 wrote the run folder's files
    assert os.path.isfile(output_dir / "train_log.jsonl")
    assert os.path.isfile(output_dir / "checkpoints" / "network_last.ckpt")
    log_lines = open(output_dir / "train_log.jsonl").read().splitlines()
    assert log_lines and all('"global_step"' in line for line in log_lines)
