"""One tiny CPU training stopped three times at seeded random steps, by SIGINT, SIGTERM and
SIGKILL in turn, and resumed with --resume after each, ends with the weights of an
uninterrupted run, bit for bit; its log shows each stop and each resume.

The steps are seeded; a signal is sent once train_log.jsonl shows the chosen step, so the
process may have gone on a step or two by the time it arrives. The test therefore asserts on
what the run recorded: the position in state.json, the same position in the stop line, and
the resume line naming that state (tests/test_stop_signals.py stops at an exact step, in
process)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from conftest import REPO_ROOT, compile_cache_env
from src.config import load_config
from src.engine.trainer import Trainer
from src.utils.checkpoint_io import load_checkpoint
from test_errors import TINY_TRAINING

# Ctrl-C: once MindSpore's runtime has started, its own SIGINT handler sends SIGTERM to the
# process, which stops at a step boundary as SIGTERM does (143); a SIGINT that reaches Python
# first is a KeyboardInterrupt, which the loop catches to save the state (130). Either is right.
FAULTS = ((signal.SIGINT, (130, 143)), (signal.SIGTERM, (143,)), (signal.SIGKILL, (-signal.SIGKILL,)))


def training_options(data_path, run, cache):
    # 3 epochs of 8 steps; a state every epoch, so that SIGKILL loses at most one epoch
    return ["--data.data_path", data_path, "--output_dir", str(run), "--data.cache_dir", str(cache), *TINY_TRAINING,
            "--train.epochs", "3", "--train.log_interval", "1", "--train.state_interval", "1"]


def weights(path):
    return {name: value.asnumpy() for name, value in load_checkpoint(str(path)).items()}


def last_logged_step(run):
    path = run / "train_log.jsonl"
    if not path.exists():
        return 0
    steps = [json.loads(line).get("global_step", 0) for line in path.read_text().splitlines() if line.strip()]
    return max(steps, default=0)


def saved_position(run):
    return json.loads((run / "checkpoints" / "state.json").read_text())


def start_training(*arguments, env=None):
    # SIGINT at its default, as in a terminal (a shell's background job would start with it ignored)
    return subprocess.Popen([sys.executable, os.path.join(REPO_ROOT, "train.py"), *arguments], cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(env or {})),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def stop_at(process, run, step, signum):
    """Send ``signum`` once the run has logged ``step``; returns the exit status."""
    deadline = time.monotonic() + 120
    while last_logged_step(run) < step:
        assert process.poll() is None, f"ended before step {step}: {process.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, f"step {step} not reached"
        time.sleep(0.005)
    process.send_signal(signum)
    process.wait(timeout=120)
    return process.returncode


def test_three_faults_and_resumes_give_the_uninterrupted_weights(synthetic_sysu, tmp_path):
    options = training_options(synthetic_sysu, tmp_path / "cut", tmp_path / "cache")
    reference = Trainer(load_config(training_options(synthetic_sysu, tmp_path / "full", tmp_path / "cache")))
    reference.run()
    steps_per_epoch = reference.steps_per_epoch
    assert steps_per_epoch * 3 >= 18  # room for three stops a few steps apart

    rng = np.random.default_rng(25)
    run = tmp_path / "cut"
    cache = compile_cache_env(tmp_path / "compiled")  # the first process writes it; the last one compiles anew
    process = start_training(*options, env=cache)
    resumed_from = 0
    resume_lines = []
    for signum, statuses in FAULTS:
        step = resumed_from + int(rng.integers(2, 5))
        status = stop_at(process, run, step, signum)
        assert status in statuses, (signum, status, process.stderr.read()[-2000:])
        logged = last_logged_step(run)
        position = saved_position(run)
        resumed_from = position["global_step"]
        assert resumed_from == position["epoch"] * steps_per_epoch + position["step_in_epoch"]
        if signum == signal.SIGKILL:  # the last periodic state (an epoch's start) or the earlier stop's
            assert resumed_from <= logged
        else:  # the state of the step it stopped at, which the stop line names
            assert step <= resumed_from <= logged + 1
            assert (f"state saved at epoch {position['epoch'] + 1}, step {position['step_in_epoch']}; resume with: "
                    f"python train.py --resume {run}") in (run / "train.log").read_text()
        resume_lines.append(f"resumed from {position['checkpoint']}: epoch {position['epoch'] + 1}, "
                            f"step {position['step_in_epoch']}")
        process = start_training("--resume", str(run), env=None if signum == signal.SIGKILL else cache)
    assert process.wait(timeout=120) == 0, process.stderr.read()[-2000:]

    log = (run / "train.log").read_text()
    assert log.count("state saved at epoch") == 2  # SIGINT's and SIGTERM's
    for line in resume_lines:
        assert line in log, line
    assert log.count("resumed from state_e") == 3
    expected, actual = weights(tmp_path / "full" / "checkpoints" / "network_last.ckpt"), weights(
        run / "checkpoints" / "network_last.ckpt")
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)
