"""Shared test set-up. Importing ``src`` first sets ONEDNN_MAX_CPU_ISA before MindSpore loads."""

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import src  # noqa: E402,F401  (sets the oneDNN ISA variable)

# Reference data from outside the project (the official SYSU-MM01 kit, the public code's metric cases).
FIXTURES_DIR = os.path.join(REPO_ROOT, "tests", "fixtures")


def compile_cache_env(folder):
    """Environment variables that make a MindSpore process load its compiled graphs from
    ``folder`` (and store them there when they are not yet in it).

    Only for the middle processes of a test whose processes all train one configuration: it
    saves each about 12 s of compiling. MindSpore reuses a cached graph even for another
    configuration (a run without VSD got the graph with it, measured), so the first process
    of such a test compiles for itself and writes the cache, and the last one compiles for
    itself again: a resume that built another graph would still end with other weights."""
    return {"MS_COMPILER_CACHE_ENABLE": "1", "MS_COMPILER_CACHE_PATH": str(folder)}


import pytest  # noqa: E402

from src.datasets.synthetic.layout import SYNTHETIC_LAYOUTS, write_synthetic_dataset  # noqa: E402


@pytest.fixture(scope="session")
def synthetic_tree(tmp_path_factory):
    """``synthetic_tree(layout, style="default")``: root of the demo-size synthetic tree of a
    registered layout in a style (seed 0, 64 x 32 images), each written once per session."""
    roots = {}

    def tree(layout, style="default"):
        if (layout, style) not in roots:
            roots[layout, style] = write_synthetic_dataset(
                layout, str(tmp_path_factory.mktemp(f"synthetic_{style}_{layout}")), seed=0, height=64, width=32,
                style=style)
        return roots[layout, style]
    return tree


def _default_style_tree_fixture(layout):
    @pytest.fixture(scope="session", name=f"synthetic_{layout}")
    def default_style_tree(synthetic_tree):
        """Root of the default-style demo tree of the layout this fixture is named after."""
        return synthetic_tree(layout)
    return default_style_tree


# synthetic_<layout> (synthetic_sysu: 40 ids, synthetic_regdb: 20 ids of 10 + 10 images,
# synthetic_llcm: 30 ids, ...): the default-style demo tree of every layout registered when
# the tests are collected, for the tests of that dataset's reader.
for _layout in SYNTHETIC_LAYOUTS.names():
    globals()[f"synthetic_{_layout}"] = _default_style_tree_fixture(_layout)


def hide_package(monkeypatch, package):
    """Makes ``importlib.import_module`` fail for ``package`` and its submodules, as if not installed."""
    import importlib
    real_import = importlib.import_module

    def without_package(name, *args):
        if name == package or name.startswith(package + "."):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args)
    monkeypatch.setattr(importlib, "import_module", without_package)


@pytest.fixture
def pynative_mode():
    """Run a test in PyNative mode, restoring the previous execution mode afterwards."""
    import mindspore as ms

    previous = ms.get_context("mode")
    ms.set_context(mode=ms.PYNATIVE_MODE)
    yield
    ms.set_context(mode=previous)


@pytest.fixture(autouse=True)
def restore_execution_mode():
    """Give every test the process's execution mode back as it found it.

    Several tests and every Trainer switch to graph mode; without this a test would run in
    whichever mode the tests before it left, and pass or fail with the selection and order.
    """
    import mindspore as ms

    previous = ms.get_context("mode")
    yield
    ms.set_context(mode=previous)


def pytest_addoption(parser):
    parser.addoption("--reverse-files", action="store_true",
                     help="run the test files in reverse order (tests within a file keep theirs): "
                          "shows whether a file depends on state that files before it leave behind")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--reverse-files"):
        return
    files = list(dict.fromkeys(item.path for item in items))
    rank = {path: index for index, path in enumerate(reversed(files))}
    items.sort(key=lambda item: rank[item.path])  # stable: keeps the order inside each file


@pytest.fixture(scope="session")
def tiny_model(synthetic_sysu, tmp_path_factory):
    """An untrained tiny network for the synthetic SYSU-MM01 tree: config, checkpoint and MINDIR pair.

    ResNet-10 (base width 8) shared branch, 32 x 16 inputs, v and z test feature. Returns a dict
    with ``config`` (the run's config.yaml), ``checkpoint`` (.ckpt), ``mindir_stem`` (export.py's
    NAME: NAME_visible.mindir / NAME_infrared.mindir) and ``folder``.
    """
    import mindspore as ms

    from src.config import load_config
    from src.engine.exporter import export_network
    from src.models.network import build_network

    folder = tmp_path_factory.mktemp("tiny_model")
    cfg = load_config(["--data.data_path", synthetic_sysu, "--output_dir", str(folder), "--backbone.depth", "10",
                       "--backbone.base_width", "8", "--model.branches", "[shared]", "--model.hidden_dims", "[16, 8]",
                       "--model.z_dim", "8", "--model.test_feature", "both", "--data.height", "32",
                       "--data.width", "16", "--data.num_workers", "1", "--eval.batch_size", "32"])
    config = str(folder / "config.yaml")
    cfg.save(config)
    mode = ms.get_context("mode")
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_seed(0)
    network = build_network(cfg, 6)
    network.set_train(False)
    checkpoint = str(folder / "network_last.ckpt")
    ms.save_checkpoint(network, checkpoint)
    stem = str(folder / "export" / "tiny")
    export_network(network, cfg.data.height, cfg.data.width, stem)
    ms.set_context(mode=mode)
    return {"config": config, "checkpoint": checkpoint, "mindir_stem": stem, "folder": str(folder)}
