"""Accuracy against the bottleneck dimension (paper Fig. 4): train one preset at several
``model.z_dim`` values and plot Rank-1 and mAP of v and z against the dimension, the table beside.

    python tools/sweep_z_dim.py DATASET DATA_PATH [options] [--key value ...]

Options:
    --z_dims LIST      the dimensions, e.g. 16,64,256,1024 (default: 32,64,128,256,512)
    --seeds N|LIST     N: seeds 1..N; a list: those seeds ("7," is seed 7 alone) (default: 1)
    --preset FILE      the preset every run starts from (default: configs/demo.yaml)
    --output_root DIR  where the runs, the table and the plot go (default: runs/z_dim_<DATASET>)
    --key value        any config override, applied to every training and evaluation

Runs as tools/run_ablation.py does, with the same reuse of finished runs and resumption of
unfinished ones: each (dimension, seed) is trained by train.py in
<output_root>/z_dim_DDDD/seedS and evaluated by eval.py with the test feature v and z.
Writes <output_root>/z_dim_sweep.md, .json (mean and sample std over seeds, in %, as the ablation table) and
.png (needs requirements-extra.txt: matplotlib; without it the table is still written and the
command says how to install it). Exit status: 0 when everything was made, 1 when a run failed,
2 for bad arguments, conflicting earlier runs or a missing plotting library.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import yaml  # noqa: E402

from src.config import REPO_ROOT, ConfigError, load_config  # noqa: E402
from src.visualization.extras import MissingExtraError, pyplot  # noqa: E402
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
        """{"setup", "rows": [{"z_dim", "n", "<feature>_<metric>_mean" / "_std" in %}]}, in the first
        query direction evaluated (v2t unless eval.direction says otherwise)."""
        rows = []
        for row in self.rows:
            finished = [run.results for run in row["runs"] if not run.failure and run.results]
            entry = {"z_dim": row["row"], "n": len(finished)}
            for feature in FEATURES:
                for metric in METRICS:
                    values = [next(iter(results[feature].values()))[metric] for results in finished
                              if feature in results]
                    figures = spread(values)
                    entry[f"{feature}_{metric}_mean"], entry[f"{feature}_{metric}_std"] = figures["mean"], figures["std"]
            rows.append(entry)
        setup = {"dataset": self.dataset, "data_path": self.data_path, "preset": self.preset,
                 "overrides": self.overrides, "seeds": self.seeds, "output_root": self.output_root}
        return {"setup": setup, "rows": rows}


def figure_text(entry, feature, metric):
    mean, std = entry[f"{feature}_{metric}_mean"], entry[f"{feature}_{metric}_std"]
    if mean is None:
        return "-"
    return f"{mean:.2f}" if std is None else f"{mean:.2f} ± {std:.2f}"


def table_cells(summary):
    """(header, rows of text) of the sweep's table."""
    header = ["z_dim", "seeds"] + [f"{feature} {'Rank-1' if metric == 'rank1' else metric}"
                                   for feature in FEATURES for metric in METRICS]
    rows = [[str(entry["z_dim"]), str(entry["n"])] + [figure_text(entry, feature, metric)
                                                      for feature in FEATURES for metric in METRICS]
            for entry in summary["rows"]]
    return header, rows


def markdown(summary):
    header, rows = table_cells(summary)
    setup = summary["setup"]
    lines = [f"# Accuracy against model.z_dim ({setup['dataset']}, {setup['data_path']})", "",
             f"Preset {setup['preset']}; overrides {' '.join(setup['overrides']) or 'none'}; seeds "
             f"{', '.join(map(str, setup['seeds']))}. Mean ± sample std over seeds, %, first query direction.", "",
             "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
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
    except MissingExtraError as error:
        print(f"error: no plot: {error}", file=sys.stderr)
        return 2
    print(f"plot written to {base}.png")
    return 1 if any(run.failure for run in sweep.runs) else 0


if __name__ == "__main__":
    sys.exit(main())
