"""A run folder belongs to one run: a second training there is refused with nothing written,
--overwrite deletes the earlier run first, pruning deletes only the run's own checkpoints, and
a training holds a lock that refuses a concurrent one, naming its PID."""

import os
import subprocess
import sys

import pytest

import train as train_entry
from conftest import REPO_ROOT
from src.engine.run_folder import delete_earlier_run
from test_errors import TINY_TRAINING, fails_with


def snapshot(folder):
    """{relative path: (size, mtime)} of every file under ``folder``."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = (os.path.getsize(path), os.stat(path).st_mtime_ns)
    return found


@pytest.fixture
def earlier_run(tmp_path):
    """A folder as a finished run leaves it (contents not read by the refusal)."""
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text("train:\n  epochs: 4\n")
    (run / "train.log").write_text("the earlier run's log\n")
    (run / "checkpoints" / "state.json").write_text("{}")
    (run / "checkpoints" / "network_e0004_s000000.ckpt").write_bytes(b"earlier weights")
    (run / "train.lock").write_text("4242\n")  # the earlier run's PID: it holds no lock
    (run / "eval_trained").mkdir()
    (run / "eval_trained" / "eval_results.json").write_text("{}")
    return run


def training(synthetic_sysu, run, tmp_path, *extra):
    return ["--data.data_path", synthetic_sysu, "--output_dir", run, "--data.cache_dir", tmp_path / "cache",
            *TINY_TRAINING, *extra]


def test_a_new_training_in_a_run_folder_is_refused_with_nothing_written(capsys, synthetic_sysu, tmp_path,
                                                                        earlier_run):
    before = snapshot(earlier_run)
    fails_with(capsys, train_entry, training(synthetic_sysu, earlier_run, tmp_path),
               f"{earlier_run} already holds a run (config.yaml, checkpoints/state.json)",
               f"--resume {earlier_run}", "a new --output_dir")
    assert snapshot(earlier_run) == before


def test_overwrite_deletes_the_earlier_run_and_pruning_keeps_foreign_files(synthetic_sysu, tmp_path, earlier_run):
    """The earlier run's checkpoint of a later epoch would sort after the new run's: pruning
    by name deleted the new run's own latest checkpoint. Other files in the folder stay."""
    foreign = earlier_run / "checkpoints" / "network_e0009_s000000.ckpt"
    assert train_entry.main([str(arg) for arg in training(synthetic_sysu, earlier_run, tmp_path, "--overwrite",
                                                          "--train.epochs", "2", "--train.keep_checkpoints", "1")]) == 0
    log = (earlier_run / "train.log").read_text()
    assert "the earlier run's log" not in log
    assert (f"--overwrite: deleted the earlier run's config.yaml, train.log, checkpoints in {earlier_run}; other files "
            f"there (eval_* folders, exports, logs of other tools) were left") in log
    assert sorted(os.listdir(earlier_run / "checkpoints")) == [
        "network_e0002_s000000.ckpt", "network_last.ckpt", "state.json", "state_e0002_s000000.ckpt"]
    assert (earlier_run / "eval_trained" / "eval_results.json").exists()  # not the run's: left alone

    # A file the run did not write, in a folder holding no run, is never pruned.
    foreign.write_bytes(b"someone else's weights")
    os.remove(earlier_run / "config.yaml")
    os.remove(earlier_run / "checkpoints" / "state.json")
    assert train_entry.main([str(arg) for arg in training(synthetic_sysu, earlier_run, tmp_path, "--train.epochs",
                                                          "2", "--train.keep_checkpoints", "1")]) == 0
    assert foreign.read_bytes() == b"someone else's weights"
    assert (earlier_run / "checkpoints" / "network_e0002_s000000.ckpt").exists()


def test_overwrite_and_resume_together_are_refused_before_mindspore_loads(capsys, earlier_run):
    fails_with(capsys, train_entry, ["--resume", earlier_run, "--overwrite"], "pass one of them")
    probe = ("import sys, train; status = train.main(['--resume', sys.argv[1], '--overwrite']); "
             "print(status, 'mindspore' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe, str(earlier_run)], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.split() == ["2", "False"], result.stdout + result.stderr


def test_overwrite_deletes_nothing_in_a_folder_holding_no_run(tmp_path):
    folder = tmp_path / "exports"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "network_e0001_s000000.ckpt").write_bytes(b"someone's weights")
    (folder / "train.log").write_text("someone's log\n")
    assert delete_earlier_run(str(folder)) == []
    assert (folder / "checkpoints" / "network_e0001_s000000.ckpt").exists() and (folder / "train.log").exists()


def test_pruning_never_deletes_the_file_just_written_nor_the_named_state(tmp_path):
    """A state saved at a lower position than one saved before (a stop during the end-of-epoch
    work, in the earlier loop) sorted first and was deleted at once with keep_checkpoints 1."""
    import mindspore as ms

    from src.engine.checkpoint import CheckpointManager
    manager = CheckpointManager(str(tmp_path / "checkpoints"), keep=1)
    cell = ms.nn.Dense(2, 2)
    manager.save_state(cell, {"epoch": 1, "step_in_epoch": 0, "global_step": 8})
    newest = manager.save_state(cell, {"epoch": 0, "step_in_epoch": 8, "global_step": 8})
    assert os.path.isfile(newest)
    assert manager.latest_state()["checkpoint"] == os.path.basename(newest)


def test_resume_prunes_only_the_run_s_files_and_deletes_killed_saves(synthetic_sysu, tmp_path):
    """A foreign checkpoint numbered after the run's is neither adopted nor pruned (it used to
    be kept while the run's own newest checkpoint was deleted); a killed save's temporaries are
    deleted once the lock is held; the lock is released at the end of run()."""
    from src.config import load_config
    from src.engine.run_lock import RunFolderLock
    from src.engine.trainer import Trainer
    run = tmp_path / "run"
    options = [str(arg) for arg in training(synthetic_sysu, run, tmp_path, "--train.keep_checkpoints", "1",
                                            "--train.state_interval", "1")]
    trainer = Trainer(load_config(options))
    trainer.run()
    assert not trainer.lock.held
    RunFolderLock(str(run)).acquire()  # free: another process could take it now
    checkpoints = run / "checkpoints"
    # numbered after the run's, and between its states (which adopting every numbered file would prune)
    foreign = [checkpoints / "network_e0009_s000000.ckpt", checkpoints / "state_e0009_s000000.ckpt",
               checkpoints / "network_e0001_s000004.ckpt"]
    for path in foreign:
        path.write_bytes(b"not this run's")
    killed = [checkpoints / ".tmp-999999-state_e0002_s000000.ckpt", checkpoints / ".tmp-999999-state_e0002_s000000.tmp"]
    for path in killed:
        path.write_bytes(b"half a state")
    assert train_entry.main(["--resume", str(run), "--train.epochs", "2"]) == 0
    assert all(path.read_bytes() == b"not this run's" for path in foreign)
    assert sorted(os.listdir(checkpoints)) == sorted(
        ["network_e0002_s000000.ckpt", "network_last.ckpt", "state.json", "state_e0002_s000000.ckpt"]
        + [path.name for path in foreign])
    assert (f"deleted what a killed save left in {run / 'checkpoints'}: .tmp-999999-state_e0002_s000000.ckpt, "
            f".tmp-999999-state_e0002_s000000.tmp") in (run / "train.log").read_text()


def demo(run_dir, tmp_path):
    """scripts/run_demo.sh with a PYTHON that only records its arguments; returns (status, stderr, calls)."""
    calls = tmp_path / "calls.txt"
    stub = tmp_path / "python"
    stub.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n")
    stub.chmod(0o755)
    result = subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "run_demo.sh"), str(run_dir)], cwd=REPO_ROOT,
                            env=dict(os.environ, PYTHON=str(stub), DEMO_DATA=str(tmp_path / "data")),
                            capture_output=True, text=True, timeout=60)
    called = calls.read_text().splitlines() if calls.exists() else []
    return result.returncode, result.stderr, [line for line in called if line.startswith("train.py")]


def test_the_demo_overwrites_only_a_demo_run(tmp_path):
    run = tmp_path / "demo_run"
    status, _, trainings = demo(run, tmp_path)  # a fresh folder
    assert status == 0 and len(trainings) == 1 and "--overwrite" not in trainings[0]

    (run / "config.yaml").write_text(f"config_path: {REPO_ROOT}/configs/demo.yaml\ntrain:\n  epochs: 4\n")
    (tmp_path / "calls.txt").unlink()
    status, _, trainings = demo(run, tmp_path)
    assert status == 0 and len(trainings) == 1 and trainings[0].endswith("--overwrite")

    other = tmp_path / "sysu_run"
    other.mkdir()
    (other / "config.yaml").write_text(f"config_path: {REPO_ROOT}/configs/sysu.yaml\n")
    (tmp_path / "calls.txt").unlink()
    status, stderr, trainings = demo(other, tmp_path)
    assert status == 2 and not (tmp_path / "calls.txt").exists()
    assert stderr.strip().splitlines() == [f"error: {other} already holds a run that is not a demo run (its "
                                           f"config.yaml was not made from configs/demo.yaml): give the demo another "
                                           f"folder (bash scripts/run_demo.sh NEW_RUN_DIR)"]
    assert sorted(os.listdir(other)) == ["config.yaml"]


HOLD_THE_LOCK = """
import sys, time
from src.engine.run_lock import RunFolderLock
lock = RunFolderLock(sys.argv[1])  # held while the object lives
lock.claim() if sys.argv[2] == "claim" else lock.acquire(create=False)
print("locked", flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("resume, how", [(False, "claim"), (True, "claim"), (False, "acquire")])
def test_a_folder_in_use_is_refused_naming_the_holder(capsys, synthetic_sysu, tmp_path, earlier_run, resume, how):
    """The lock is checked before the folder: a training into a folder that is training is refused
    as such (not as a folder holding a run), naming the holder's PID, even before the holder has
    written it into train.lock ("acquire": the file still holds the earlier run's 4242)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(earlier_run), how], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(earlier_run)
        argv = ["--resume", earlier_run] if resume else training(synthetic_sysu, earlier_run, tmp_path)
        fails_with(capsys, train_entry, argv, f"{earlier_run} is in use: another training (PID {holder.pid})",
                   "train.lock")
        assert snapshot(earlier_run) == before
    finally:
        holder.kill()
        holder.wait()
