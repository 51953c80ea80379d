"""A run folder belongs to one run: a second training there is refused with nothing written,
--overwrite deletes the earlier run first, pruning deletes only the run's own checkpoints, and
a training holds a lock that refuses a concurrent one, naming its PID."""

import os
import subprocess
import sys

import pytest

import train as train_entry
from conftest import REPO_ROOT
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
    assert "the earlier run's log" not in log and "--overwrite: deleted the earlier run's config.yaml, train.log, " \
                                                "checkpoints in" in log
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


def test_overwrite_and_resume_together_are_refused(capsys, earlier_run):
    fails_with(capsys, train_entry, ["--resume", earlier_run, "--overwrite"], "pass one of them")


HOLD_THE_LOCK = """
import sys, time
from src.engine.run_lock import RunFolderLock
lock = RunFolderLock(sys.argv[1])  # held while the object lives
lock.acquire()
print("locked", flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("resume", [False, True])
def test_a_folder_in_use_is_refused_naming_the_holder(capsys, synthetic_sysu, tmp_path, earlier_run, resume):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(earlier_run)], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(earlier_run)
        argv = ["--resume", earlier_run] if resume else training(synthetic_sysu, earlier_run, tmp_path, "--overwrite")
        fails_with(capsys, train_entry, argv, f"{earlier_run} is in use: another training (PID {holder.pid})",
                   "train.lock")
        assert snapshot(earlier_run) == before
    finally:
        holder.kill()
        holder.wait()
