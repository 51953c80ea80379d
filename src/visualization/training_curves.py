"""Training curves from ``train_log.jsonl``: every loss component, the learning rate, validation
figures and the H(y|z) - H(y|v) estimate, for one run or several overlaid (matplotlib, optional)."""

import json
import math

import numpy as np

from src.visualization.extras import pyplot

# Step-record fields that are bookkeeping, not curves.
BOOKKEEPING = ("epoch", "step", "global_step", "images_per_second", "eta_seconds")
VALIDATION = ("val_rank1", "val_mAP")


def read_training_log(path):
    """{curve name: (steps, values)} of one ``train_log.jsonl``; steps are global training steps.

    Step records give ``loss``, each component and ``lr``; validation records (epochs) are
    placed at the epoch's last step; ``gap_<branch>`` records are the information-gap
    estimates (their ``ce_`` parts are left out). A step logged twice (a resumed run) keeps
    its last value.
    """
    with open(path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    steps_per_epoch = max((record["step"] for record in records if "loss" in record), default=1)
    points = {}
    for record in records:
        if "val_rank1" in record:
            step, names = record["epoch"] * steps_per_epoch, VALIDATION
        elif "global_step" in record:
            step = record["global_step"]
            names = [name for name in record if name not in BOOKKEEPING and not name.startswith("ce_")]
        else:
            continue
        for name in names:
            points.setdefault(name, {})[step] = float(record[name])
    return {name: (np.array(sorted(by_step)), np.array([by_step[s] for s in sorted(by_step)]))
            for name, by_step in points.items()}


def curve_order(names):
    """Panels in reading order: the total loss, components, lr, validation, information gaps."""
    def key(name):
        if name == "loss":
            return 0, name
        if name == "lr":
            return 2, name
        if name in VALIDATION:
            return 3, name
        if name.startswith("gap_"):
            return 4, name
        return 1, ""  # components keep the order the log gives them
    return sorted(dict.fromkeys(names), key=key)


def moving_average(values, window):
    """Trailing mean over ``window`` points (the first points average what exists so far)."""
    if window <= 1:
        return np.asarray(values, dtype=float)
    sums = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.maximum(np.arange(1, len(values) + 1) - window, 0)]) / counts


TITLES = {"loss": "total loss", "lr": "learning rate", "val_rank1": "validation Rank-1",
          "val_mAP": "validation mAP"}


def plot_curves(curves_by_run, out_path, smooth=1, columns=4, dpi=80):
    """One panel per curve, the runs overlaid; writes ``out_path`` (PNG). Returns the panel names.

    Args:
        curves_by_run: {run label: ``read_training_log`` result}.
        smooth: moving-average window in logged points (loss panels only).
    """
    plt = pyplot()
    names = curve_order([name for curves in curves_by_run.values() for name in curves])
    rows = math.ceil(len(names) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    for axis, name in zip(axes.flat, names):
        for label, curves in curves_by_run.items():
            if name in curves:
                steps, values = curves[name]
                if name not in VALIDATION and name != "lr" and not name.startswith("gap_"):
                    values = moving_average(values, smooth)
                axis.plot(steps, values, label=label, marker="o" if len(steps) < 20 else None, markersize=3)
        axis.set_title(TITLES.get(name, name.replace("gap_", "H(y|z) - H(y|v), ") if name.startswith("gap_")
                                  else name), fontsize=9)
        axis.tick_params(labelsize=7)
        axis.set_xlabel("step", fontsize=7)
    for axis in list(axes.flat)[len(names):]:
        axis.set_visible(False)
    if len(curves_by_run) > 1:
        axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out_path, dpi=dpi)
    plt.close(figure)
    return names
