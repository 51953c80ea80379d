"""Launch scripts: valid bash, and each refuses bad arguments with its usage line."""

import glob
import os
import subprocess

import pytest

SCRIPTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")
LAUNCHERS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SCRIPTS_DIR, "run_*.sh")))


def run_script(name, *args):
    return subprocess.run(["bash", os.path.join(SCRIPTS_DIR, name), *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("name", LAUNCHERS + ["common.sh", "launch_train.sh"])
def test_script_is_valid_bash(name):
    assert subprocess.run(["bash", "-n", os.path.join(SCRIPTS_DIR, name)]).returncode == 0


# Launchers whose arguments are all optional: run without any, they start their work.
WITHOUT_REQUIRED_ARGUMENTS = ("run_demo.sh", "run_study.sh")


@pytest.mark.parametrize("name", [n for n in LAUNCHERS if n not in WITHOUT_REQUIRED_ARGUMENTS])
def test_missing_arguments_print_usage(name):
    result = run_script(name)
    assert result.returncode == 2
    assert f"usage: bash scripts/{name}" in result.stderr


def test_bad_values_are_named(tmp_path):
    result = run_script("run_standalone_train_cpu.sh", "market", str(tmp_path))
    assert result.returncode == 2 and "DATASET must be one of llcm, regdb, sysu (got 'market')" in result.stderr
    result = run_script("run_distribute_train_gpu.sh", "two", "sysu", str(tmp_path))
    assert result.returncode == 2 and "N must be a positive number of devices" in result.stderr
    result = run_script("run_eval.sh", "sysu", str(tmp_path / "missing"), "x.ckpt")
    assert result.returncode == 2 and "is not a folder" in result.stderr
    result = run_script("run_eval.sh", "sysu", str(tmp_path), str(tmp_path / "none.ckpt"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = run_script("run_regdb_trials.sh", "TPU", str(tmp_path))
    assert result.returncode == 2 and "DEVICE must be CPU, GPU or Ascend" in result.stderr
    result = run_script("run_ablation.sh", "market", str(tmp_path))
    assert result.returncode == 2 and "DATASET must be one of llcm, regdb, sysu (got 'market')" in result.stderr
    result = run_script("run_pretrain.sh", str(tmp_path / "encoder.pth"))
    assert result.returncode == 2 and "OUT.ckpt must end in .ckpt" in result.stderr
    assert not os.listdir(tmp_path)
    result = run_script("run_ablation.sh", "sysu", str(tmp_path), "--rows", "0")
    assert result.returncode == 2 and "--rows must lie in 1..12" in result.stderr


@pytest.mark.parametrize("environment, message", [
    ({"NNODES": "0"}, "NNODES must be a positive number of servers (got '0')"),
    ({"NNODES": "2", "NODE_RANK": "2", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "9000"},
     "NODE_RANK must be this server's index, 0..1 (got '2')"),
    ({"NNODES": "2", "NODE_RANK": "1", "MASTER_PORT": "9000"},
     "MASTER_ADDR must name the server with NODE_RANK 0 when NNODES is 2"),
    ({"NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "10.0.0.1"}, "MASTER_PORT must be set"),
    ({"MASTER_PORT": "80"}, "MASTER_PORT must be a port number in 1024..65535 (got '80')"),
])
def test_multi_server_settings_are_checked(environment, message, tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("NNODES", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT")}
    result = subprocess.run(["bash", os.path.join(SCRIPTS_DIR, "run_distribute_train_cpu.sh"), "2", "sysu",
                             str(tmp_path)], capture_output=True, text=True, timeout=60, env={**env, **environment})
    assert result.returncode == 2 and f"error: {message}" in result.stderr


def test_resume_needs_a_run_folder_with_a_state(tmp_path):
    result = run_script("run_standalone_train_cpu.sh", "--resume", str(tmp_path))
    assert result.returncode == 2 and "does not exist" in result.stderr and "state.json" in result.stderr
