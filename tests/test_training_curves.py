"""Training curves: what is read from train_log.jsonl, smoothing, and the plot command with and without matplotlib."""

import json

import numpy as np
import pytest
from conftest import hide_package

from src.visualization.training_curves import curve_order, moving_average, read_training_log
from tools import plot_training


def write_log(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return str(path)


def step(global_step, loss, lr=1e-3):
    return {"epoch": (global_step - 1) // 2, "step": (global_step - 1) % 2 + 1, "global_step": global_step, "lr": lr,
            "images_per_second": 5.0, "eta_seconds": 1.0, "loss": loss, "cls": loss - 1, "vsd": 0.5}


def test_log_records_become_curves_at_global_steps(tmp_path):
    log = write_log(tmp_path / "train_log.jsonl", [
        step(1, 9.0), step(2, 8.0),
        {"epoch": 1, "val_rank1": 0.25, "val_mAP": 0.3},
        {"epoch": 1, "global_step": 2, "gap_shared": 0.4, "ce_v_shared": 1.0, "ce_z_shared": 1.4},
        step(3, 7.0), step(3, 6.5),  # a resumed run logs step 3 again: the last value counts
        step(4, 6.0, lr=1e-4),
        {"epoch": 2, "val_rank1": 0.5, "val_mAP": 0.6}])
    curves = read_training_log(log)
    assert set(curves) == {"loss", "cls", "vsd", "lr", "val_rank1", "val_mAP", "gap_shared"}
    np.testing.assert_array_equal(curves["loss"][0], [1, 2, 3, 4])
    np.testing.assert_array_equal(curves["loss"][1], [9.0, 8.0, 6.5, 6.0])
    np.testing.assert_array_equal(curves["val_rank1"][0], [2, 4])  # end of epochs 1 and 2 (2 steps each)
    np.testing.assert_array_equal(curves["gap_shared"][1], [0.4])
    np.testing.assert_array_equal(curves["lr"][1], [1e-3, 1e-3, 1e-3, 1e-4])
    assert curve_order(["vsd", "gap_shared", "lr", "val_rank1", "loss", "cls"]) == \
        ["loss", "vsd", "cls", "lr", "val_rank1", "gap_shared"]


def test_moving_average_closed_form():
    np.testing.assert_allclose(moving_average([2.0, 4.0, 6.0, 8.0], 2), [2.0, 3.0, 5.0, 7.0])
    np.testing.assert_allclose(moving_average([2.0, 4.0, 6.0], 1), [2.0, 4.0, 6.0])


def test_plot_command_draws_every_curve(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    runs = []
    for name, offset in (("a", 0.0), ("b", 1.0)):
        (tmp_path / name).mkdir()
        write_log(tmp_path / name / "train_log.jsonl", [step(s, 9.0 - s + offset) for s in range(1, 5)])
        runs.append(str(tmp_path / name))
    out = tmp_path / "curves.png"
    assert plot_training.main(runs + ["--out", str(out), "--smooth", "2"]) == 0
    assert "wrote 4 panels (loss, cls, vsd, lr) of 2 run(s)" in capsys.readouterr().out
    assert out.stat().st_size > 5000


def test_plot_command_says_how_to_install_matplotlib(tmp_path, monkeypatch, capsys):
    hide_package(monkeypatch, "matplotlib")
    (tmp_path / "run").mkdir()
    write_log(tmp_path / "run" / "train_log.jsonl", [step(1, 9.0)])
    assert plot_training.main([str(tmp_path / "run"), "--out", str(tmp_path / "x.png")]) == 2
    assert "pip install -r requirements-extra.txt" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
