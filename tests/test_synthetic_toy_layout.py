"""A synthetic layout registered from one file outside ``src/`` (``toy_synthetic_layout.py``) is
taken up without editing anything else: by ``write_synthetic_dataset`` and the command line,
and by the conftest fixtures and the parametrised checks of ``test_synthetic.py``, which pass
for it and for the built-in layouts alike."""

import importlib
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from src.datasets.dataset import DATASETS, DirectionOptions, open_dataset
from src.datasets.synthetic.layout import SYNTHETIC_LAYOUTS, write_synthetic_dataset
from tools import synthetic_dataset

TESTS_DIR = os.path.join(REPO_ROOT, "tests")


@pytest.fixture
def toy_registered():
    """The toy layout module, its layout and reader registered for one test. (Its first import
    registers them; registering the same parts again, in a later test, is harmless.)"""
    toy = importlib.import_module("toy_synthetic_layout")
    SYNTHETIC_LAYOUTS.register(toy.TOY)(toy.write_synthetic_toy)
    DATASETS.register(toy.TOY)(toy.ToyOneCamera)
    yield toy
    SYNTHETIC_LAYOUTS.unregister(toy.TOY)
    DATASETS.unregister(toy.TOY)


def _files(root):
    """{path relative to ``root``: bytes} of every file under ``root``."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                files[os.path.relpath(os.path.join(folder, name), root)] = handle.read()
    return files


def test_write_synthetic_dataset_and_the_command_line_take_a_registered_layout(toy_registered, tmp_path, capsys):
    toy = toy_registered
    root = write_synthetic_dataset(toy.TOY, str(tmp_path / "api"), height=32, width=16, style="alternative")
    files = _files(root)
    assert len(files) == 6 * 2 * toy.IMAGES_PER_FOLDER  # num_ids=None: the writer's default, 6 ids
    reader = open_dataset(toy.TOY, root)
    assert reader.num_classes == 3
    lists = reader.test_lists(1, DirectionOptions("t2v"))
    assert {record.modality for record in lists.query} == {"infrared"}
    assert {record.pid for record in lists.gallery} == {2, 4, 6}

    synthetic_dataset.main(["--layout", toy.TOY, "--out", str(tmp_path / "cli"), "--height", "32", "--width", "16",
                            "--style", "alternative"])
    assert _files(str(tmp_path / "cli")) == files
    assert f"wrote synthetic {toy.TOY} dataset" in capsys.readouterr().out


def _pytest_with_toy_layout(arguments, tmp_path):
    """Run pytest in a child process that imports the toy layout module before collecting."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([TESTS_DIR, REPO_ROOT]))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "toy_synthetic_layout", "-p", "no:cacheprovider",
                           "--basetemp", str(tmp_path / "basetemp")] + arguments,
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def test_fixtures_and_parametrised_checks_take_a_registered_layout(tmp_path):
    fixtures = _pytest_with_toy_layout(["--fixtures", os.path.join(TESTS_DIR, "test_synthetic.py")], tmp_path)
    assert fixtures.returncode == 0, fixtures.stdout[-3000:] + fixtures.stderr[-3000:]
    assert re.search(r"^synthetic_toy_one_camera \[session scope\]", fixtures.stdout, re.MULTILINE), fixtures.stdout

    result = _pytest_with_toy_layout(["-v", os.path.join(TESTS_DIR, "test_synthetic.py")], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]  # the existing checks pass too
    toy_outcomes = re.findall(r"::(\w+)\[toy_one_camera-(\w+)\] (\w+)", result.stdout)
    assert sorted(toy_outcomes) == sorted((test, style, "PASSED")
                                          for test in ("test_deterministic_for_a_seed", "test_readers_open_every_style")
                                          for style in ("default", "alternative", "surveillance"))
