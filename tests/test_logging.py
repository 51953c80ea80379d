"""The entry points log through Python's logging to the console and to a file in the output
folder, appended across runs."""

import numpy as np

import eval as eval_entry
from src.datasets.dataset import open_dataset
from src.engine.logger import TrainingLogger
from src.utils.run_log import attach_log_file, get_logger, start_logging
from test_protocol import _all_test_records, _identity_features, _save_features


def test_eval_logs_to_the_console_and_appends_to_eval_log(synthetic_sysu, tmp_path, capsys):
    records = _all_test_records(open_dataset("sysu", synthetic_sysu), range(1))
    features = _save_features(tmp_path / "f.npz", records, _identity_features)
    argv = ["--features", features, "--data.data_path", synthetic_sysu, "--eval.trials", "1",
            "--output_dir", str(tmp_path / "out")]
    for _ in range(2):
        assert eval_entry.main(argv) == 0
    console = capsys.readouterr().out
    with open(tmp_path / "out" / "eval.log") as handle:
        logged = handle.read()
    table_line = next(line for line in console.splitlines() if line.startswith("  mean"))
    assert logged.count(table_line) == 2  # both runs, each line once
    assert logged.count("results written to") == 2


def test_lines_logged_before_the_file_is_attached_are_kept(tmp_path, capsys):
    start_logging()
    get_logger().info("checked the inputs")
    get_logger().warning("something doubtful")
    assert not (tmp_path / "run").exists()
    attach_log_file(str(tmp_path / "run" / "x.log"))
    get_logger().info("after")
    lines = (tmp_path / "run" / "x.log").read_text().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "INFO checked the inputs", "WARNING something doubtful", "INFO after"]
    assert capsys.readouterr().out.splitlines() == ["checked the inputs", "WARNING: something doubtful", "after"]


def test_throughput_is_measured_from_start(tmp_path, monkeypatch):
    clock = iter([100.0, 160.0, 162.0])  # start() at 100 s; lines at 160 s (step 1) and 162 s (step 5)
    monkeypatch.setattr("src.engine.logger.time.perf_counter", lambda: next(clock))
    logger = TrainingLogger(str(tmp_path), total_steps=10, images_per_step=8, enabled=False)
    logger.start(global_step=1)
    slow = logger.log_step(0, 1, 1, 10, 1, 1e-3, {"loss": 1.0})
    fast = logger.log_step(0, 1, 5, 10, 5, 1e-3, {"loss": 1.0})
    assert slow["images_per_second"] == 0.0 and np.isnan(slow["eta_seconds"])
    assert fast["images_per_second"] == 4 / 2.0 * 8 and fast["eta_seconds"] == (10 - 5) / 2.0


def test_a_second_run_in_one_process_logs_to_its_own_file_only(tmp_path):
    start_logging(to_console=False)
    attach_log_file(str(tmp_path / "first.log"))
    get_logger().info("first run")
    attach_log_file(str(tmp_path / "second.log"))
    get_logger().info("second run")
    assert "second run" not in (tmp_path / "first.log").read_text()
    assert "first run" not in (tmp_path / "second.log").read_text()
