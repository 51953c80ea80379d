"""Dataset readers by name: the one place that maps ``data.dataset`` to a reader class."""

from src.datasets.llcm import LLCM
from src.datasets.regdb import RegDB
from src.datasets.sysu import SYSUMM01

DATASET_NAMES = ("sysu", "regdb", "llcm")


def open_dataset(name, root, trial=1):
    """Reader of dataset ``name`` ("sysu", "regdb" or "llcm") at ``root``.

    ``trial`` (1..10) picks RegDB's training / test split; the other datasets ignore it.
    Every reader offers ``train_records()``, ``num_classes``, ``evaluation_rule``,
    ``test_trials`` and ``test_lists(trial, mode, protocol, shots, direction, rand_perm_cam)``.
    """
    if name == "sysu":
        return SYSUMM01(root)
    if name == "regdb":
        return RegDB(root, trial=trial)
    if name == "llcm":
        return LLCM(root)
    raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASET_NAMES)}")
