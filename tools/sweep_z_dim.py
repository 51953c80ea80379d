"""Accuracy against the bottleneck dimension (paper Fig. 4): train one preset at several
``model.z_dim`` values and plot Rank-1 and mAP of v and z against the dimension, the table beside;
with ``--train.gap_interval N`` (the demo preset probes every 36 steps) also H(y|z) - H(y|v)
over training per dimension (paper Fig. 7).

    python tools/sweep_z_dim.py DATASET DATA_PATH [options] [--key value ...]

Options:
    --z_dims LIST      the dimensions, e.g. 16,64,256,1024 (default: 32,64,128,256,512)
    --seeds N|LIST     N: seeds 1..N; a list: those seeds ("7," is seed 7 alone) (default: 1)
    --preset FILE      the preset every run starts from (default: configs/demo.yaml)
    --output_root DIR  where the runs, the tables and the plots go (default: runs/z_dim_<DATASET>)
    --key value        any config override, applied to every training and evaluation

Runs as tools/run_ablation.py does, with the same reuse of finished runs and resumption of
unfinished ones: each (dimension, seed) is trained by train.py in
<output_root>/z_dim_DDDD/seedS and evaluated by eval.py with the test feature v and z.
Writes in <output_root>:
    z_dim_sweep.json     per dimension the Rank-1 and mAP of v and z (mean and sample std over
                         seeds, in %, as the ablation table) and, when the runs logged the
                         H(y|z) - H(y|v) probe (train_log.jsonl, gap_<branch>), its curve: the
                         steps every finished seed probed, per branch and for the mean over
                         branches the mean and sample std over seeds at each step, in nats
    z_dim_sweep.md       the accuracy table and, with probes, the gap at the last common probe
    z_dim_sweep.png      accuracy against z_dim, the table beside
    z_dim_sweep_gap.png  with probes: the gap against the training step, one line per z_dim
                         (band: ± sample std over seeds), one panel per branch and one for the mean
The plots need requirements-extra.txt (matplotlib); without it the tables are still written and
the command says how to install it. Exit status: 0 when everything was made, 1 when a run
failed, 2 for bad arguments, conflicting earlier runs or a missing plotting library.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from src.config import REPO_ROOT, ConfigError, load_config  # noqa: E402
from src.visualization.extras import MissingExtraError, pyplot  # noqa: E402
from src.visualization.training_curves import read_training_log  # noqa: E402
from tools.ablation_table import spread  # noqa: E402
from tools.run_ablation import (DEFAULT_PRESET, RESERVED_KEYS, Ablation, AblationRun, UsageError,  # noqa: E402
                                check_dataset_and_data_path, parse_list, parse_seeds, prepare_study,
                                split_arguments)

DEFAULT_Z_DIMS = "32,64,128,256,512"
OWN_OPTIONS = ("--z_dims", "--seeds", "--preset", "--output_root")
RESERVED = {**RESERVED_KEYS, "model.z_dim": "--z_dims"}
RESULT_NAME = "z_dim_sweep"
METRICS = ("rank1", "mAP")
FEATURES = ("v", "z")
TRAINING_LOG = "train_log.jsonl"
GAP_PREFIX = "gap_"  # train_log.jsonl names the H(y|z) - H(y|v) of a branch gap_<branch>
MEAN_CURVE = "mean"  # the gap curve of the mean over branches


class SweepRun(AblationRun):
    """One (dimension, seed) of the sweep; ``row`` holds the dimension."""

    @property
    def name(self):
        return f"z_dim {self.row} seed {self.seed}"


class ZDimSweep(Ablation):
    """The runs of the sweep, planned, trained, evaluated and reused as an ablation's rows are."""

    def __init__(self, dataset, data_path, z_dims, seeds, preset, output_root, overrides):
        self.dataset, self.data_path, self.preset = dataset, data_path, preset
        self.output_root, self.overrides, self.seeds = output_root, overrides, seeds
        self.rows = [{"row": z_dim, "description": f"z_dim {z_dim}", "sections": {"model": {"z_dim": z_dim}},
                      "runs": [SweepRun(z_dim, seed, os.path.join(output_root, f"z_dim_{z_dim:04d}", f"seed{seed}"))
                               for seed in seeds]}
                     for z_dim in z_dims]
        self.runs = [run for row in self.rows for run in row["runs"]]

    def row_preset(self, row):
        return (f"# z_dim sweep: model.z_dim {row['row']} on {self.preset}; written by tools/sweep_z_dim.py\n"
                + yaml.safe_dump({"base": self.preset, **row["sections"]}, sort_keys=False))

    def summary(self):
        """{"setup", "rows": [{"z_dim", "n", "<feature>_<metric>_mean" / "_std" in %, "gap"}]}: the
        figures in the first query direction evaluated (the dataset's standard one unless eval.direction says otherwise),
        over the ``n`` finished seeds; "gap" is ``gap_over_seeds`` of their training logs."""
        rows = []
        for row in self.rows:
            finished = [run for run in row["runs"] if not run.failure and run.results]
            entry = {"z_dim": row["row"], "n": len(finished)}
            for feature in FEATURES:
                for metric in METRICS:
                    values = [next(iter(run.results[feature].values()))[metric] for run in finished
                              if feature in run.results]
                    figures = spread(values)
                    entry[f"{feature}_{metric}_mean"], entry[f"{feature}_{metric}_std"] = figures["mean"], figures["std"]
            entry["gap"] = gap_over_seeds([gap_curves(os.path.join(run.folder, TRAINING_LOG)) for run in finished])
            rows.append(entry)
        setup = {"dataset": self.dataset, "data_path": self.data_path, "preset": self.preset,
                 "overrides": self.overrides, "seeds": self.seeds, "output_root": self.output_root}
        return {"setup": setup, "rows": rows}


def gap_curves(log_path):
    """{branch: {global step: H(y|z) - H(y|v) in nats}} of one run's train_log.jsonl; a step
    logged twice (a resumed run) keeps its last record. {} without probes or without the log."""
    if not os.path.isfile(log_path):
        return {}
    return {name[len(GAP_PREFIX):]: dict(zip(steps.tolist(), values.tolist()))
            for name, (steps, values) in read_training_log(log_path).items() if name.startswith(GAP_PREFIX)}


def seed_statistics(values):
    """{"mean": [one per step], "std": [sample std (ddof 1), one per step] or None with one seed}
    of ``values`` (seeds, steps)."""
    return {"mean": values.mean(axis=0).tolist(),
            "std": values.std(axis=0, ddof=1).tolist() if len(values) > 1 else None}


def gap_over_seeds(curves_by_seed):
    """The ``gap`` entry of one z_dim from the ``gap_curves`` of its finished seeds.

    Returns:
        None when the seeds share no probed step (no probes, no finished seed); else {"steps":
        [global steps every seed probed, ascending], "curves": {<branch>: ``seed_statistics``,
        ..., "mean": ``seed_statistics`` of each seed's mean over branches}}, in nats, for the
        branches every seed probed, in the order of the log.
    """
    if not curves_by_seed:
        return None
    branches = [branch for branch in curves_by_seed[0] if all(branch in curves for curves in curves_by_seed)]
    probed = [set(curves[branch]) for curves in curves_by_seed for branch in branches]
    steps = sorted(set.intersection(*probed)) if probed else []
    if not steps:
        return None
    # gaps[seed, branch, step], nats
    gaps = np.array([[[curves[branch][step] for step in steps] for branch in branches] for curves in curves_by_seed])
    curves = {branch: seed_statistics(gaps[:, index]) for index, branch in enumerate(branches)}
    curves[MEAN_CURVE] = seed_statistics(gaps.mean(axis=1))
    return {"steps": steps, "curves": curves}


def has_gap(summary):
    """Whether some z_dim has a gap curve (its runs were trained with train.gap_interval)."""
    return any(entry["gap"] for entry in summary["rows"])


def gap_curve_names(summary):
    """The gap curves of the sweep: the branches in the order logged, then the mean."""
    names = dict.fromkeys(name for entry in summary["rows"] if entry["gap"] for name in entry["gap"]["curves"])
    return sorted(names, key=lambda name: name == MEAN_CURVE)


def gap_curve_label(name):
    """The heading of a gap curve in the table and the plot."""
    return "mean over branches" if name == MEAN_CURVE else name


def figure_text(mean, std):
    """'mean ± std' with two decimals; 'mean' without a std; '-' without a figure."""
    if mean is None:
        return "-"
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def table_cells(summary):
    """(header, rows of text) of the sweep's accuracy table."""
    header = ["z_dim", "seeds"] + [f"{feature} {'Rank-1' if metric == 'rank1' else metric}"
                                   for feature in FEATURES for metric in METRICS]
    rows = [[str(entry["z_dim"]), str(entry["n"])]
            + [figure_text(entry[f"{feature}_{metric}_mean"], entry[f"{feature}_{metric}_std"])
               for feature in FEATURES for metric in METRICS]
            for entry in summary["rows"]]
    return header, rows


def last_probe_text(curve):
    """``figure_text`` of a gap curve's last step; '-' without the curve."""
    if curve is None:
        return "-"
    return figure_text(curve["mean"][-1], curve["std"][-1] if curve["std"] else None)


def gap_table_cells(summary):
    """(header, rows of text) of the gap table: per z_dim the last step every seed probed and the
    gap there, nats, per curve ('-' for a z_dim without probes)."""
    names = gap_curve_names(summary)
    header = ["z_dim", "step"] + [gap_curve_label(name) for name in names]
    rows = []
    for entry in summary["rows"]:
        gap = entry["gap"]
        if gap is None:
            rows.append([str(entry["z_dim"])] + ["-"] * (len(header) - 1))
        else:
            rows.append([str(entry["z_dim"]), str(gap["steps"][-1])]
                        + [last_probe_text(gap["curves"].get(name)) for name in names])
    return header, rows


def markdown_table(header, rows):
    """Lines of a Markdown table."""
    return (["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
            + ["| " + " | ".join(row) + " |" for row in rows])


def markdown(summary):
    """The accuracy table and, when the runs probed it, the gap table."""
    setup = summary["setup"]
    lines = [f"# Accuracy against model.z_dim ({setup['dataset']}, {setup['data_path']})", "",
             f"Preset {setup['preset']}; overrides {' '.join(setup['overrides']) or 'none'}; seeds "
             f"{', '.join(map(str, setup['seeds']))}. Mean ± sample std over seeds, %, first query direction.", ""]
    lines += markdown_table(*table_cells(summary))
    if has_gap(summary):
        lines += ["", "## H(y|z) - H(y|v) at the last probe (nats)", "",
                  "The z-head's minus the v-head's cross-entropy on the fixed training probe batch "
                  "(train.gap_interval), per bottlenecked branch and its mean over branches, at the last "
                  "step every finished seed probed. Mean ± sample std over seeds.", ""]
        lines += markdown_table(*gap_table_cells(summary))
    return "\n".join(lines) + "\n"


def plot(summary, out_path, dpi=80):
    """Rank-1 and mAP of v and z against z_dim (log2 axis, error bars = sample std over seeds; none for one seed), the table beside."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.4), gridspec_kw={"width_ratios": [1, 1, 1.5]})
    dims = [entry["z_dim"] for entry in summary["rows"]]
    for axis, metric in zip(axes[:2], METRICS):
        for feature, marker in zip(FEATURES, ("o", "s")):
            means = [entry[f"{feature}_{metric}_mean"] for entry in summary["rows"]]
            stds = [entry[f"{feature}_{metric}_std"] for entry in summary["rows"]]
            shown = [index for index, mean in enumerate(means) if mean is not None]
            axis.errorbar([dims[i] for i in shown], [means[i] for i in shown], yerr=[stds[i] or 0.0 for i in shown],
                          marker=marker, capsize=3, label=feature)
        axis.set_xscale("log", base=2)
        axis.set_xticks(dims, [str(dim) for dim in dims])
        axis.set_xlabel("z_dim")
        axis.set_title("Rank-1 (%)" if metric == "rank1" else "mAP (%)")
        axis.legend()
    header, rows = table_cells(summary)
    axes[2].axis("off")
    table = axes[2].table(cellText=rows, colLabels=header, loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    save_figure(plt, figure, out_path, dpi)


def plot_gap(summary, out_path, dpi=80):
    """H(y|z) - H(y|v) (nats) against the training step: one panel per branch and one for the mean
    over branches, one line per z_dim with probes, the band ± the sample std over seeds (none for one seed)."""
    plt = pyplot()
    names = gap_curve_names(summary)
    figure, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.2), squeeze=False, sharey=True)
    for axis, name in zip(axes[0], names):
        for entry in summary["rows"]:
            gap = entry["gap"]
            if gap is None or name not in gap["curves"]:
                continue
            curve = gap["curves"][name]
            steps, mean = gap["steps"], np.array(curve["mean"])
            line, = axis.plot(steps, mean, marker="o" if len(steps) < 20 else None, markersize=3,
                              label=f"z_dim {entry['z_dim']}")
            if curve["std"] is not None:
                std = np.array(curve["std"])
                axis.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.2, linewidth=0)
        axis.set_title(f"H(y|z) - H(y|v), {gap_curve_label(name)}", fontsize=9)
        axis.set_xlabel("training step")
    axes[0][0].set_ylabel("nats")
    axes[0][0].legend(fontsize=7)
    save_figure(plt, figure, out_path, dpi)


def save_figure(plt, figure, out_path, dpi):
    """Lay ``figure`` out, write it to ``out_path`` (PNG) and release it."""
    figure.tight_layout()
    figure.savefig(out_path, dpi=dpi)
    plt.close(figure)


def parse_command_line(argv):
    """The ZDimSweep of a command line; raises UsageError."""
    dataset, data_path, own, overrides = split_arguments(argv, OWN_OPTIONS, RESERVED, command="z_dim sweep")
    check_dataset_and_data_path(dataset, data_path)
    z_dims = sorted(parse_list(own.get("--z_dims", DEFAULT_Z_DIMS), "--z_dims"))
    if min(z_dims) < 1:
        raise UsageError("--z_dims must be positive")
    seeds = parse_seeds(own.get("--seeds", "1"))
    preset = os.path.abspath(own.get("--preset", DEFAULT_PRESET))
    if not os.path.isfile(preset):
        raise UsageError(f"--preset {preset} does not exist")
    output_root = os.path.abspath(own.get("--output_root", os.path.join(REPO_ROOT, "runs", f"z_dim_{dataset}")))
    try:
        cfg = load_config(["--config_path", preset, "--data.dataset", dataset, *overrides])
    except ConfigError as error:
        raise UsageError(f"config error: {error}") from None
    if "none" in (cfg.model.shared_bottleneck, cfg.model.specific_bottleneck):
        raise UsageError("the preset has a branch without bottleneck: z_dim changes nothing there")
    return ZDimSweep(dataset, os.path.abspath(data_path), z_dims, seeds, preset, output_root, overrides)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    sweep, status = prepare_study(argv, __doc__, parse_command_line, "z_dim sweep:")
    if sweep is None:
        return status
    sweep.run_all(log=lambda line: print(line, flush=True))
    summary = sweep.summary()
    base = os.path.join(sweep.output_root, RESULT_NAME)
    with open(base + ".json", "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1)
    with open(base + ".md", "w", encoding="utf-8") as handle:
        handle.write(markdown(summary))
    print(markdown(summary))
    print(f"table written to {base}.md and {base}.json")
    try:
        plot(summary, base + ".png")
        print(f"plot written to {base}.png")
        if has_gap(summary):
            plot_gap(summary, base + "_gap.png")
            print(f"gap plot written to {base}_gap.png")
    except MissingExtraError as error:
        print(f"error: no plot: {error}", file=sys.stderr)
        return 2
    return 1 if any(run.failure for run in sweep.runs) else 0


if __name__ == "__main__":
    sys.exit(main())
