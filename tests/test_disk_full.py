"""A full disk is an anticipated error: every failed write removes its temporary file and ends
with one ``error:`` line (exit 2) naming the file and the space left. The disk is filled by
injecting OSError(ENOSPC) into the writers, and once for real: a training on a small tmpfs that
fills up between two steps (skipped where mounting one needs privileges the test lacks).
"""

import errno
import fnmatch
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from mindspore.train import serialization

import eval as eval_entry
import export as export_entry
import train as train_entry
from src.datasets import cache
from src.datasets.cache import open_resized_cache
from src.config import load_config
from src.errors import one_line
from src.utils.safe_write import WriteFailedError, temporary_name, temporary_pattern, write_atomically
from conftest import REPO_ROOT
from test_errors import TINY_TRAINING, fails_with

NO_SPACE = OSError(errno.ENOSPC, "No space left on device")


def files_under(folder):
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, _, names in os.walk(folder) for name in names)


def fill_the_disk_at_write(monkeypatch, number):
    """Make MindSpore's serializer fail with ENOSPC in the ``number``-th checkpoint it writes
    (counting from 1), after some bytes, as a disk that fills up mid-file does."""
    original = serialization._exec_save
    count = [0]

    def exec_save(ckpt_file_name, data_list, *args, **kwargs):
        count[0] += 1
        if count[0] != number:
            return original(ckpt_file_name, data_list, *args, **kwargs)

        def failing_write(name, value, handle, *rest, **options):
            handle.write(b"\0" * 4096)
            raise NO_SPACE
        monkeypatch.setattr(serialization, "_write_parameter_data", failing_write)
        monkeypatch.setattr(serialization, "_write_parameter_bytes_data", failing_write)
        try:
            return original(ckpt_file_name, data_list, *args, **kwargs)
        finally:
            monkeypatch.undo()
            monkeypatch.setattr(serialization, "_exec_save", exec_save)
    monkeypatch.setattr(serialization, "_exec_save", exec_save)


def test_a_full_disk_while_a_state_is_written(capsys, synthetic_sysu, tmp_path, monkeypatch):
    """The second epoch's state fails: one line naming it, the space left and the first epoch's
    state, which --resume uses; no temporary file stays."""
    run = tmp_path / "run"
    # Writes per epoch: the network checkpoint, then the state; the 4th write is epoch 2's state.
    fill_the_disk_at_write(monkeypatch, 4)
    line = fails_with(capsys, train_entry, ["--data.data_path", synthetic_sysu, "--output_dir", run,
                                            "--data.cache_dir", tmp_path / "cache", *TINY_TRAINING,
                                            "--train.epochs", "3"],
                      f"cannot write {run / 'checkpoints' / 'state_e0002_s000000.ckpt'}: no space left on device",
                      "MB free on", f"the last complete state {run / 'checkpoints' / 'state_e0001_s000000.ckpt'} "
                                    f"(epoch 2, step 0)")
    assert files_under(run / "checkpoints") == ["network_e0001_s000000.ckpt", "network_e0002_s000000.ckpt",
                                                "state.json", "state_e0001_s000000.ckpt"]
    assert line.startswith(f"error: cannot write {run / 'checkpoints'}"), line  # no "[Errno 28]" before it
    assert "Errno" not in line
    assert line[len("error: "):] in (run / "train.log").read_text()


def test_save_features_on_a_full_disk_leaves_no_file(capsys, tiny_model, tmp_path, monkeypatch):
    def no_space(handle, **arrays):
        handle.write(b"PK partial")
        raise NO_SPACE
    monkeypatch.setattr(np, "savez", no_space)
    dump = tmp_path / "dumps" / "features.npz"
    fails_with(capsys, eval_entry, ["--config_path", tiny_model["config"], "--eval.checkpoint",
                                    tiny_model["checkpoint"], "--eval.trials", "1", "--save_features", dump,
                                    "--output_dir", tmp_path / "eval"],
               f"cannot write {dump}: no space left on device", "MB free on")
    assert os.listdir(tmp_path / "dumps") == []


def test_export_on_a_full_disk_leaves_no_file(capsys, tiny_model, tmp_path, monkeypatch):
    import mindspore as ms

    def no_space(cell, *inputs, file_name, file_format):
        with open(file_name + ".mindir", "wb") as handle:
            handle.write(b"partial graph")
        raise NO_SPACE
    monkeypatch.setattr(ms, "export", no_space)
    out = tmp_path / "export"
    fails_with(capsys, export_entry, ["--config_path", tiny_model["config"], "--export.checkpoint",
                                      tiny_model["checkpoint"], "--output_dir", out],
               f"cannot write {out / 'vireid_visible.mindir'}: no space left on device", "MB free on")
    assert os.listdir(out) == []


def test_an_image_cache_too_large_for_the_disk_fails_before_decoding(synthetic_sysu, tmp_path, monkeypatch):
    def no_space(descriptor, offset, length):
        raise NO_SPACE
    monkeypatch.setattr(os, "posix_fallocate", no_space)
    paths = ["cam1/0001/0001.jpg", "cam3/0001/0001.jpg"]
    with pytest.raises(cache.WriteFailedError, match=r"no space left on device \(.* MB free on .*\); the image cache "
                                                     r"needs 0\.0 MB there: .*data\.cache_dir"):
        open_resized_cache(synthetic_sysu, paths, 32, 16, str(tmp_path / "cache"), show_progress=False)
    assert [name for name in os.listdir(tmp_path / "cache") if not name.endswith("lock")] == []


def test_the_error_line_is_the_message_alone_and_never_wrapped_twice(tmp_path):
    def inner(temporary):
        write_atomically(str(tmp_path / "inner.txt"), lambda name: (_ for _ in ()).throw(NO_SPACE))
    with pytest.raises(WriteFailedError) as caught:
        write_atomically(str(tmp_path / "outer.txt"), inner)
    line = one_line(caught.value)
    assert line.startswith(f"cannot write {tmp_path / 'inner.txt'}: no space left on device ("), line
    assert "MB free on" in line and "Errno" not in line and "outer" not in line
    assert caught.value.errno == errno.ENOSPC and caught.value.no_space
    extended = caught.value.extended("more")
    assert one_line(extended) == line + "; more" and extended.errno == errno.ENOSPC


def test_a_folder_that_cannot_be_created_is_a_write_failure(tmp_path, monkeypatch):
    def no_space(*args, **kwargs):
        raise NO_SPACE
    monkeypatch.setattr(os, "makedirs", no_space)
    with pytest.raises(WriteFailedError, match=r"^cannot write .*new.txt: no space left on device"):
        write_atomically(str(tmp_path / "sub" / "new.txt"), lambda name: None)


def test_config_save_is_atomic_and_guarded(tmp_path, monkeypatch):
    cfg = load_config([])
    path = tmp_path / "run" / "config.yaml"
    cfg.save(str(path))
    before = path.read_text()

    def half_written(data, stream, **kwargs):
        stream.write("train:\n")
        raise NO_SPACE
    monkeypatch.setattr(yaml, "safe_dump", half_written)
    with pytest.raises(WriteFailedError, match=r"^cannot write .*config.yaml: no space left on device"):
        cfg.save(str(path))
    assert path.read_text() == before
    assert os.listdir(path.parent) == ["config.yaml"]


def test_the_cache_space_hint_only_for_a_full_disk(synthetic_sysu, tmp_path, monkeypatch):
    def denied(descriptor, offset, length):
        raise OSError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(os, "posix_fallocate", denied)
    with pytest.raises(cache.WriteFailedError) as caught:
        open_resized_cache(synthetic_sysu, ["cam1/0001/0001.jpg"], 32, 16, str(tmp_path / "cache"),
                           show_progress=False)
    assert "Permission denied" in str(caught.value) and "needs" not in str(caught.value)


def test_temporary_pattern_matches_every_process_temporary(tmp_path):
    path = str(tmp_path / "state_e0001_s000000.ckpt")
    assert fnmatch.fnmatch(temporary_name(path), temporary_pattern(path))
    assert fnmatch.fnmatch(temporary_name(path).replace(str(os.getpid()), "1"), temporary_pattern(path))
    assert not fnmatch.fnmatch(path, temporary_pattern(path))


@pytest.fixture
def small_filesystem(tmp_path):
    """A 64 MB tmpfs mounted for the test (needs root, or CAP_SYS_ADMIN), unmounted after it."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_real_disk_that_fills_up_between_two_steps(synthetic_sysu, small_filesystem, tmp_path):
    """Once the first state is on disk, a file takes every byte left: the next write (a line
    of the step log) fails; one error line, exit 2, every log file whole, and once space is
    freed --resume finishes the run."""
    run = small_filesystem / "run"
    options = ["--data.data_path", synthetic_sysu, "--output_dir", str(run), "--data.cache_dir",
               str(tmp_path / "cache"), *TINY_TRAINING, "--train.epochs", "3", "--train.log_interval", "1"]
    process = subprocess.Popen([sys.executable, os.path.join(REPO_ROOT, "train.py"), *options], cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (run / "checkpoints" / "state.json").exists():
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "no state saved"
        time.sleep(0.02)
    filler = small_filesystem / "filler"
    descriptor = os.open(filler, os.O_CREAT | os.O_WRONLY)
    try:
        os.posix_fallocate(descriptor, 0, os.statvfs(small_filesystem).f_bavail * os.statvfs(small_filesystem).f_frsize)
    finally:
        os.close(descriptor)
    errors = process.communicate(timeout=300)[1]
    assert process.returncode == 2, errors[-3000:]
    lines = [line for line in errors.splitlines() if line.strip() and not line.startswith("[WARNING]")]
    assert "Traceback" not in errors and len([line for line in lines if line.startswith("error:")]) == 1, lines
    state = json.loads((run / "checkpoints" / "state.json").read_text())["checkpoint"]
    assert lines[-1].startswith(f"error: cannot write {run}"), lines[-1]
    assert "no space left on device (0.0 MB free on" in lines[-1]
    assert lines[-1].endswith(f"--resume continues from the last complete state {run / 'checkpoints' / state} "
                              f"(epoch 2, step 0); free space first"), lines[-1]
    assert not [name for name in os.listdir(run / "checkpoints") if name.startswith(".tmp")]
    for line in (run / "train_log.jsonl").read_text().splitlines():
        json.loads(line)  # whole records only
    assert (run / "train.log").read_text().endswith("\n")

    filler.unlink()
    resumed = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "train.py"), "--resume", str(run)],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed from {state}: epoch 2, step 0" in (run / "train.log").read_text()
    assert (run / "checkpoints" / "network_last.ckpt").exists()
