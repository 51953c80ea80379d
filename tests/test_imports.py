"""User parts through ``imports``: a dataset, a backbone and a loss term, each one file outside
``src/`` (``tests/toy_synthetic_layout.py``, ``toy_backbone.py``, ``toy_loss_term.py``), train
one step with nothing in the repository edited; and the configuration loads without MindSpore."""

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import REPO_ROOT
from src.config import ConfigError, load_config, print_help_if_asked
from src.models.backbone import BACKBONES
from test_synthetic_toy_layout import toy_registered  # noqa: F401  (the fixture)

TESTS_DIR = os.path.join(REPO_ROOT, "tests")
PART_FILES = [os.path.join(TESTS_DIR, name) for name in ("toy_synthetic_layout.py", "toy_backbone.py",
                                                         "toy_loss_term.py")]


def test_a_dataset_a_backbone_and_a_term_from_imports_train_one_step(toy_registered, tmp_path):
    # The data is written here (the layout registered for this test alone), the training imports
    # the three files in a process of its own.
    data = toy_registered.write_synthetic_toy(str(tmp_path / "toy_data"), num_ids=8, height=32, width=16)
    run = tmp_path / "run"
    relative = [os.path.relpath(path, REPO_ROOT) for path in PART_FILES]
    command = [sys.executable, "train.py", "--imports", f"[{', '.join(relative)}]",
               "--data.dataset", "toy_one_camera", "--data.data_path", data, "--output_dir", str(run),
               "--backbone.name", "toy_convs", "--backbone.toy_width", "5",
               "--loss.terms", "{cls: 1.0, metric: 1.0, toy_square: 0.5}",
               "--data.height", "32", "--data.width", "16", "--data.batch_ids", "4", "--data.per_modality", "2",
               "--data.steps_per_epoch", "1", "--train.epochs", "1", "--train.warmup_epochs", "0",
               "--train.log_interval", "1", "--model.hidden_dims", "[8]", "--model.z_dim", "4",
               "--data.num_workers", "1"]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(run / "train_log.jsonl") as handle:
        steps = [record for record in map(json.loads, handle) if "loss" in record]
    assert len(steps) == 1 and steps[0]["toy_square"] > 0
    with open(run / "config.yaml") as handle:
        saved = yaml.safe_load(handle)
    # Saved with absolute paths, so that --resume and eval.py import the same files from anywhere.
    assert saved["imports"] == PART_FILES
    assert saved["backbone"]["toy_width"] == 5
    assert (run / "checkpoints" / "network_last.ckpt").is_file()


@pytest.fixture
def imported_in_this_test():
    """Forgets, after the test, the modules that ``imports`` loaded in it and the backbone they
    registered, so that other tests see the registries as they were."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("imported_"):
            del sys.modules[name]
    if "toy_convs" in BACKBONES.names():
        BACKBONES.unregister("toy_convs")


@pytest.mark.usefixtures("imported_in_this_test")
def test_the_help_page_lists_the_options_of_imported_parts(capsys):
    with pytest.raises(SystemExit) as stopped:
        print_help_if_asked("Train.", ["--imports", f"[{PART_FILES[1]}]", "--help"])
    page = capsys.readouterr().out
    assert stopped.value.code == 0
    assert page.endswith("[options of the imported parts]\n  --backbone.toy_width 6\n"
                         "      toy_convs: channels of both convolutions (at least 1)\n")


@pytest.mark.usefixtures("imported_in_this_test")
def test_a_parts_own_option_exists_only_with_its_import_and_is_checked():
    with pytest.raises(ConfigError, match="unknown config key 'backbone.toy_width'"):
        load_config(["--backbone.toy_width", "5"])
    with pytest.raises(ConfigError, match="'backbone.toy_width' must be at least 1; got 0"):
        load_config(["--imports", f"[{PART_FILES[1]}]", "--backbone.name", "toy_convs", "--backbone.toy_width", "0"])


def test_imports_that_cannot_be_found_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="'imports' names 'no_such_parts_module', which cannot be imported"):
        load_config(["--imports", "[no_such_parts_module]"])
    with pytest.raises(ConfigError, match="'imports' names '.*missing.py', which is not a file"):
        load_config(["--imports", f"[{tmp_path / 'missing.py'}]"])


def test_loading_and_checking_every_preset_imports_no_mindspore():
    # The entry points' own imports too: --help and every config error come before MindSpore.
    presets = sorted(glob.glob(os.path.join(REPO_ROOT, "configs", "**", "*.yaml"), recursive=True))
    code = ("import sys, train, eval, export; from src.config import load_config, help_text; "
            f"[load_config(['--config_path', path]) for path in {presets!r}]; help_text('', 'train.py'); "
            "print(sorted(name for name in sys.modules if name.split('.')[0] == 'mindspore'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert len(presets) >= 18
    assert result.stdout.strip() == "[]"
