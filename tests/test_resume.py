"""Resuming by run folder: what is refused before anything is built or written, and which
changes are accepted. (The resumed training itself, through the launcher, is
tests/test_training.py::test_resumed_run_matches_an_uninterrupted_one.)"""

import os

import pytest

import train as train_entry
from src.config import ConfigError, load_config
from src.engine.resume import check_resume_changes, resume_argv
from test_errors import fails_with


@pytest.fixture
def run_folder(tmp_path, synthetic_sysu):
    """A run folder as training leaves it: its config and a state pointer (contents unread here)."""
    folder = tmp_path / "run"
    load_config(["--data.data_path", synthetic_sysu, "--output_dir", str(folder), "--train.epochs", "2",
                 "--loss.terms", "{cls, metric, dml, vsd, vcd, vml}"]).save(str(folder / "config.yaml"))
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "state.json").write_text("{}")
    return folder


def test_a_folder_without_saved_state_is_refused(capsys, run_folder):
    os.remove(run_folder / "checkpoints" / "state.json")
    before = sorted(os.listdir(run_folder))
    fails_with(capsys, train_entry, ["--resume", run_folder], f"cannot resume {run_folder}",
               "it holds no saved training state (checkpoints/state.json is absent)")
    assert sorted(os.listdir(run_folder)) == before


def test_a_missing_folder_is_refused(capsys, tmp_path):
    fails_with(capsys, train_entry, ["--resume", tmp_path / "never"], "no such run folder", tmp_path / "never")


def test_overrides_that_change_the_training_are_refused_by_name(capsys, run_folder):
    config_before = (run_folder / "config.yaml").read_text()
    line = fails_with(capsys, train_entry, ["--resume", run_folder, "--train.epochs", "5",
                                            "--loss.terms", "{cls, metric, dml, vsd, vcd}",
                                            "--data.height", "128"],
                      "cannot resume",
                      "loss.terms ({'cls': 1.0, 'metric': 1.0, 'dml': 8.0, 'vsd': 2.0, 'vcd': 2.0, 'vml': 2.0} -> "
                      "{'cls': 1.0, 'metric': 1.0, 'dml': 8.0, 'vsd': 2.0, 'vcd': 2.0})",
                      "data.height (256 -> 128)")
    assert "train.epochs (" not in line
    assert (run_folder / "config.yaml").read_text() == config_before


def test_accepted_changes_are_listed(run_folder):
    cfg = load_config(resume_argv(["--resume", str(run_folder), "--train.epochs", "5", "--train.log_interval", "3"]))
    assert cfg.output_dir == str(run_folder) and cfg.train.resume
    assert check_resume_changes(cfg, str(run_folder)) == [("train.epochs", 2, 5), ("train.log_interval", 10, 3)]


def test_the_loss_terms_in_another_order_are_a_change(run_folder):
    """The order of loss.terms is the order of the sum: float addition is not associative."""
    cfg = load_config(resume_argv(["--resume", str(run_folder), "--loss.terms", "{metric, cls, dml, vsd, vcd, vml}"]))
    assert cfg.loss.terms == load_config([]).loss.terms
    with pytest.raises(ConfigError, match=r"loss\.terms \("):
        check_resume_changes(cfg, str(run_folder))


def test_train_resume_in_a_folder_of_another_configuration_is_refused(run_folder, synthetic_sysu):
    """The older spelling (--train.resume true --output_dir RUN) is checked against RUN's config too."""
    cfg = load_config(["--data.data_path", synthetic_sysu, "--output_dir", str(run_folder), "--train.epochs", "2",
                       "--loss.terms", "{cls, metric, dml, vsd, vcd}", "--train.resume", "true"])
    with pytest.raises(ConfigError, match=r"loss\.terms"):
        check_resume_changes(cfg, str(run_folder))
