"""Train and evaluate rows of the paper's Table 3 on one preset and budget, several seeds each,
and write the Table-3-shaped result.

    bash scripts/run_ablation.sh DATASET DATA_PATH [options] [--key value ...]
    python tools/run_ablation.py DATASET DATA_PATH [options] [--key value ...]

Options:
    --rows LIST        Table 3 rows, e.g. 6,9,12 or 1-12 (default: 1-12)
    --seeds N|LIST     N: seeds 1..N; a comma-separated list: those seeds ("7," is seed 7 alone) (default: 3)
    --preset FILE      the preset every row starts from (default: configs/demo.yaml)
    --output_root DIR  where the runs and the table go (default: runs/ablation_<DATASET>)
    --rows_dir DIR     the row definitions rowNN.yaml (default: configs/ablation)
    --key value        any config override, applied to every training and evaluation

Each row contributes only what distinguishes it, the ``model`` and ``loss`` sections of its
rowNN.yaml; they are applied on top of the preset (a ``row_preset.yaml`` in each run folder
says so), then the overrides. Every (row, seed) is trained by train.py in its own process, in
<output_root>/rowNN/seedS (log: train.log; console output: train_output.log), and its last
checkpoint evaluated by eval.py with the test feature v and, when every test branch has a
bottleneck, z (eval_v/, eval_z/, with eval.log and eval_output.log). A failed run is reported
and the others go on. Repeating the command reuses every finished training and evaluation
whose resolved configuration is unchanged and resumes unfinished trainings; an earlier training (finished or not) made with other settings stops the
command before anything runs (delete it or choose another --output_root).

Writes <output_root>/ablation_table.md and ablation_table.json (see tools/ablation_table.py),
and prints the Markdown: per row its Rank-1 and mAP of v and z as mean ± sample std over seeds
beside the paper's Table 3 (SYSU-MM01 all-search single-shot); then, for each of the pairs
12-6, 11-5, 10-4 and 12-9 whose two rows were run, the per-seed differences (paired by seed),
their mean with a 95% Student's t interval over the seeds, the paper's difference and a verdict
("holds", "opposite" or "within noise": where the interval lies with respect to 0 and the sign
of the paper's difference; "-" with fewer than 2 seeds), in one summary table and per pair.
Exit status: 0 when every run finished, 1 when some failed (the table is still written), 2 for
bad arguments or conflicting earlier runs.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import yaml  # noqa: E402

from src.config import REPO_ROOT, ConfigError, load_config, saved_as_today  # noqa: E402
from src.datasets.dataset import DATASETS, dataset_class  # noqa: E402
from src.retired_directions import results_as_now  # noqa: E402
from src.utils.progress import format_duration  # noqa: E402
from tools.ablation_table import build_table, markdown  # noqa: E402

ROW_NUMBERS = range(1, 13)
DEFAULT_SEEDS = 3
DEFAULT_PRESET = os.path.join(REPO_ROOT, "configs", "demo.yaml")
DEFAULT_ROWS_DIR = os.path.join(REPO_ROOT, "configs", "ablation")
ROW_SECTIONS = ("model", "loss")
OWN_OPTIONS = ("--rows", "--seeds", "--preset", "--output_root", "--rows_dir")
# Overrides the tool sets itself for every run, and what to use instead.
RESERVED_KEYS = {
    "config_path": "--preset", "seed": "--seeds", "output_dir": "--output_root",
    "data.dataset": "the DATASET argument", "data.data_path": "the DATA_PATH argument",
    "train.resume": "nothing (finished runs are reused, unfinished ones resumed)",
    "eval.checkpoint": "nothing (each run's last checkpoint is evaluated)",
    "eval.features": "eval.py directly", "model.test_feature": "nothing (v and z are both evaluated)",
}
# Settings that change what is evaluated but not what is trained.
EVALUATION_SECTIONS = ("eval", "export")
TABLE_NAME = "ablation_table"
LAST_CHECKPOINT = "checkpoints/network_last.ckpt"
SAVED_STATE = "checkpoints/state.json"


class UsageError(ValueError):
    """A bad command line; the message says what is wrong."""


def parse_list(text, what):
    """Integers of '6,9,12' or '1-12' (ranges inclusive), in order, without repeats."""
    numbers = []
    for part in filter(None, (item.strip() for item in text.split(","))):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise UsageError(f"{what} must be numbers separated by commas, or ranges like 1-12; got '{text}'")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        numbers += [number for number in range(first, last + 1) if number not in numbers]
    if not numbers:
        raise UsageError(f"{what} is empty")
    return numbers


def parse_seeds(text):
    """'3' -> [1, 2, 3]; '4,7' -> [4, 7]; '7,' -> [7]."""
    if "," in text or "-" in text:
        return parse_list(text, "--seeds")
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--seeds must be a count N >= 1 (seeds 1..N) or a list like 1,5,9; got '{text}'")
    return list(range(1, int(text) + 1))


def split_arguments(argv, own_options=OWN_OPTIONS, reserved_keys=RESERVED_KEYS, command="ablation"):
    """(DATASET, DATA_PATH, {own option: value}, [override tokens]) of the command line.

    ``own_options``: the command's own ``--name`` options; ``reserved_keys``: {config key:
    what to use instead} for the overrides the ``command`` sets itself.
    """
    if len(argv) < 2 or argv[0].startswith("-") or argv[1].startswith("-"):
        raise UsageError("DATASET and DATA_PATH come first")
    dataset, data_path, rest = argv[0], argv[1], argv[2:]
    own, overrides, index = {}, [], 0
    while index < len(rest):
        token = rest[index]
        name, equals, value = token.partition("=")
        if not token.startswith("--") or token == "--":
            raise UsageError(f"unexpected argument '{token}': options are written --key value")
        if not equals:
            if index + 1 >= len(rest):
                raise UsageError(f"option '{token}' needs a value")
            value = rest[index + 1]
        index += 1 if equals else 2
        if name in own_options:
            own[name] = value
            continue
        key = name[2:]
        if key in reserved_keys:
            raise UsageError(f"--{key} is set by the {command} for each run; use {reserved_keys[key]}")
        overrides += [name, value]
    return dataset, data_path, own, overrides


def check_dataset_and_data_path(dataset, data_path):
    """Raise UsageError for a dataset that no part registered or a DATA_PATH that is not a folder."""
    if dataset not in DATASETS.names():
        raise UsageError(f"DATASET must be one of {', '.join(DATASETS.names())} (got '{dataset}')")
    if not os.path.isdir(data_path):
        raise UsageError(f"DATA_PATH '{data_path}' is not a folder")


def read_row(rows_dir, number):
    """(description, {section: values}) of rowNN.yaml: its first comment line without the
    'Table 3, row NN:' prefix, and its ``model`` and ``loss`` sections."""
    path = os.path.join(rows_dir, f"row{number:02d}.yaml")
    if not os.path.isfile(path):
        raise UsageError(f"row {number}: {path} does not exist")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    comment = next((line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")), "")
    description = re.sub(r"^Table 3, row \d+:\s*", "", comment) or f"row {number}"
    try:
        content = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise UsageError(f"{path} is not valid YAML: {error}") from None
    return description, {section: content[section] for section in ROW_SECTIONS if content.get(section)}


def has_z(cfg):
    """Whether the network of ``cfg`` can be tested with z: src/models/network.py requires a
    bottleneck on every branch used at test time."""
    model = cfg["model"]
    bottleneck = {"shared": model["shared_bottleneck"], "specific": model["specific_bottleneck"]}
    tested = [branch for branch in model["branches"] if model["test_branches"] in ("all", branch)]
    return bool(tested) and all(bottleneck[branch] != "none" for branch in tested)


def training_settings(cfg):
    """The part of a resolved configuration that decides what a training produces (not the
    file it was read from: a rewritten row that resolves to the same settings trains the same)."""
    settings = {key: value for key, value in cfg.items() if key not in EVALUATION_SECTIONS + ("config_path",)}
    settings["train"] = {key: value for key, value in settings.get("train", {}).items() if key != "resume"}
    return settings


def differing_keys(old, new, prefix=""):
    """Dotted keys whose values differ between two nested dicts, as 'key (old -> new)'."""
    found = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, "absent"), new.get(key, "absent")
        if isinstance(before, dict) and isinstance(after, dict):
            found += differing_keys(before, after, f"{prefix}{key}.")
        elif before != after:
            found.append(f"{prefix}{key} ({before!r} -> {after!r})")
    return found


def read_text(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def read_yaml(path):
    return yaml.safe_load(read_text(path)) or {}


def read_saved_config(path):
    """A configuration a run saved, read as it meant then (``saved_as_today``)."""
    return saved_as_today(read_yaml(path), path)


def read_json(path):
    return json.loads(read_text(path))


class AblationRun:
    """One (row, seed): its folder, its training and evaluation command lines, its outcome."""

    def __init__(self, row, seed, folder):
        self.row, self.seed, self.folder = row, seed, folder
        self.settings = None  # the resolved training configuration, once known
        self.failure = None
        self.log = os.path.join(folder, "train_output.log")
        self.results = {}

    @property
    def name(self):
        return f"row {self.row:02d} seed {self.seed}"

    def record(self):
        """The run as ``tools.ablation_table.build_table`` takes it."""
        return {"seed": self.seed, "folder": self.folder, "status": "failed" if self.failure else "finished",
                "failure": self.failure, "log": self.log, "results": self.results}


class Ablation:
    """The planned runs of one command line and what they produced."""

    def __init__(self, dataset, data_path, rows, seeds, preset, output_root, rows_dir, overrides):
        self.dataset, self.data_path, self.preset = dataset, data_path, preset
        self.output_root, self.overrides = output_root, overrides
        self.seeds = seeds
        self.rows = []
        for number in rows:
            description, sections = read_row(rows_dir, number)
            self.rows.append({"row": number, "description": description, "sections": sections,
                              "runs": [AblationRun(number, seed, os.path.join(output_root, f"row{number:02d}",
                                                                               f"seed{seed}")) for seed in seeds]})
        self.runs = [run for row in self.rows for run in row["runs"]]

    def training_arguments(self, run, preset_path=None):
        """train.py's arguments for ``run``, its row preset read from ``preset_path`` (default: the
        run folder's row_preset.yaml)."""
        # train.py refuses --train.resume in a folder without a saved state.
        resume = ["--train.resume", "true"] if os.path.isfile(os.path.join(run.folder, SAVED_STATE)) else []
        preset_path = preset_path or os.path.join(run.folder, "row_preset.yaml")
        return ["--config_path", preset_path, "--data.dataset", self.dataset,
                "--data.data_path", self.data_path, "--data.cache_dir", os.path.join(self.output_root, "cache"),
                "--seed", str(run.seed), "--output_dir", run.folder, *resume, *self.overrides]

    @staticmethod
    def restart_flag(run):
        """["--overwrite"] for a training that stopped before saving any state: train.py refuses
        a folder holding a run, and there is nothing to resume (its settings were checked to match)."""
        started = os.path.isfile(os.path.join(run.folder, "config.yaml"))
        return ["--overwrite"] if started and not os.path.isfile(os.path.join(run.folder, SAVED_STATE)) else []

    def evaluation_arguments(self, run, feature):
        return ["--config_path", os.path.join(run.folder, "config.yaml"), *self.overrides,
                "--eval.checkpoint", os.path.join(run.folder, LAST_CHECKPOINT), "--model.test_feature", feature,
                "--output_dir", os.path.join(run.folder, f"eval_{feature}")]

    def row_preset(self, row):
        """Text of the preset with the row's sections on top (``base:`` chains presets)."""
        return (f"# Table 3 row {row['row']:02d} ({row['description']}) on {self.preset}; "
                f"written by tools/run_ablation.py\n"
                + yaml.safe_dump({"base": self.preset, **row["sections"]}, sort_keys=False))

    def resolved_training(self, run, text):
        """The training configuration (a dict) of ``run`` with the row preset ``text``, read from a
        temporary copy so that the run's folder is not touched."""
        with tempfile.TemporaryDirectory() as folder:
            preset_path = os.path.join(folder, "row_preset.yaml")
            with open(preset_path, "w", encoding="utf-8") as handle:
                handle.write(text)
            return load_config(self.training_arguments(run, preset_path)).to_dict()

    def check_earlier_runs(self):
        """Resolve each run's training configuration and write its row_preset.yaml; a row whose
        sections do not resolve fails alone. Returns the earlier trainings (finished or not)
        made with other settings, whose folders are left untouched. An earlier training with the
        same settings is reused whatever its row_preset.yaml said (a row reworded, a run saved
        with options retired since)."""
        conflicts = []
        for row in self.rows:
            text = self.row_preset(row)
            for run in row["runs"]:
                preset_path = os.path.join(run.folder, "row_preset.yaml")
                saved_path = os.path.join(run.folder, "config.yaml")
                try:
                    run.settings = self.resolved_training(run, text)
                except ConfigError as error:
                    run.failure = f"configuration: {error}"
                    run.log = preset_path
                else:
                    row["has_z"] = has_z(run.settings)
                    if os.path.isfile(saved_path):
                        changes = differing_keys(training_settings(read_saved_config(saved_path)),
                                                 training_settings(run.settings))
                        if changes:
                            conflicts.append(f"{run.folder} was trained with other settings: {'; '.join(changes[:5])}")
                            continue
                os.makedirs(run.folder, exist_ok=True)
                with open(preset_path, "w", encoding="utf-8") as handle:
                    handle.write(text)
            row.setdefault("has_z", False)
        return conflicts

    def run_all(self, log):
        """Train and evaluate every run not finished before, in order, reporting progress."""
        started = time.monotonic()
        planned = [(row, run) for row in self.rows for run in row["runs"]]
        for index, (row, run) in enumerate(planned, start=1):
            prefix = f"[{index}/{len(planned)}] {run.name}"
            if run.failure:
                log(f"{prefix}: skipped, {run.failure}")
                continue
            features = ("v", "z") if row["has_z"] else ("v",)
            trained_now = not os.path.isfile(os.path.join(run.folder, LAST_CHECKPOINT))
            if trained_now:
                log(f"{prefix}: training (log {run.log}; elapsed {format_duration(time.monotonic() - started)})")
                if not self._succeeds(["train.py", *self.training_arguments(run), *self.restart_flag(run)], run.log):
                    run.failure = f"training ({last_line(run.log)})"
                    log(f"{prefix}: training FAILED: {last_line(run.log)}")
                    continue
            else:
                log(f"{prefix}: training reused")
            for feature in features:
                self._evaluate(run, feature, trained_now, prefix, log)
            log(f"{prefix}: done (elapsed {format_duration(time.monotonic() - started)})")

    def _evaluate(self, run, feature, trained_now, prefix, log):
        arguments = self.evaluation_arguments(run, feature)
        folder = os.path.join(run.folder, f"eval_{feature}")
        results_path = os.path.join(folder, "eval_results.json")
        try:
            expected = load_config(arguments).to_dict()
        except ConfigError as error:
            run.failure = f"evaluation {feature} configuration: {error}"
            log(f"{prefix}: evaluation {feature} FAILED: {error}")
            return
        if not trained_now and os.path.isfile(results_path):
            saved = read_json(results_path)
            if saved_as_today(saved.get("config", {}), results_path) == expected:
                run.results[feature] = mean_figures(saved)
                log(f"{prefix}: evaluation {feature} reused")
                return
        os.makedirs(folder, exist_ok=True)
        eval_log = os.path.join(folder, "eval_output.log")
        log(f"{prefix}: evaluating {feature} (log {eval_log})")
        if self._succeeds(["eval.py", *arguments], eval_log) and os.path.isfile(results_path):
            run.results[feature] = mean_figures(read_json(results_path))
        else:
            run.failure = f"evaluation {feature} ({last_line(eval_log)})"
            run.log = eval_log
            log(f"{prefix}: evaluation {feature} FAILED: {last_line(eval_log)}")

    @staticmethod
    def _succeeds(command, log_path):
        """Run a repository script in its own Python process, its output into ``log_path``."""
        with open(log_path, "a", encoding="utf-8") as handle:
            return subprocess.run([sys.executable, *command], cwd=REPO_ROOT, stdout=handle,
                                  stderr=subprocess.STDOUT).returncode == 0

    def table(self):
        directions = sorted({direction for run in self.runs for figures in run.results.values()
                             for direction in figures}) or list(dataset_class(self.dataset).directions[:1])
        rows = [{"row": row["row"], "description": row["description"], "has_z": row["has_z"],
                 "runs": [run.record() for run in row["runs"]]} for row in self.rows]
        setup = {"dataset": self.dataset, "data_path": self.data_path, "preset": self.preset,
                 "overrides": self.overrides, "seeds": self.seeds, "output_root": self.output_root}
        return build_table(rows, directions, setup)


def mean_figures(eval_results):
    """{direction: {"rank1", "mAP"} in %} of an eval_results.json (the mean over its trials), under
    today's names of the directions (``results_as_now``)."""
    return {direction: {metric: 100.0 * run["mean"][metric] for metric in ("rank1", "mAP")}
            for direction, run in results_as_now(eval_results).items()}


def last_line(log_path):
    """The last non-empty line of a log (what a failing script said last), '|' escaped for Markdown."""
    if not os.path.isfile(log_path):
        return "no log"
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    return (lines[-1] if lines else "empty log").replace("|", "\\|")


def parse_command_line(argv):
    """The Ablation of a command line; raises UsageError."""
    dataset, data_path, own, overrides = split_arguments(argv)
    check_dataset_and_data_path(dataset, data_path)
    rows = parse_list(own.get("--rows", "1-12"), "--rows")
    outside = [row for row in rows if row not in ROW_NUMBERS]
    if outside:
        raise UsageError(f"--rows must lie in 1..12 (Table 3); got {outside}")
    seeds = parse_seeds(own.get("--seeds", str(DEFAULT_SEEDS)))
    preset = os.path.abspath(own.get("--preset", DEFAULT_PRESET))
    if not os.path.isfile(preset):
        raise UsageError(f"--preset {preset} does not exist")
    rows_dir = os.path.abspath(own.get("--rows_dir", DEFAULT_ROWS_DIR))
    output_root = os.path.abspath(own.get("--output_root", os.path.join(REPO_ROOT, "runs", f"ablation_{dataset}")))
    try:
        load_config(["--config_path", preset, "--data.dataset", dataset, *overrides])
    except ConfigError as error:
        raise UsageError(f"config error: {error}") from None
    return Ablation(dataset, os.path.abspath(data_path), rows, seeds, preset, output_root, rows_dir, overrides)


def write_table(ablation):
    """Write <output_root>/ablation_table.{md,json}; returns the Markdown path."""
    table = ablation.table()
    os.makedirs(ablation.output_root, exist_ok=True)
    base = os.path.join(ablation.output_root, TABLE_NAME)
    with open(base + ".json", "w", encoding="utf-8") as handle:
        json.dump(table, handle, indent=1)
    with open(base + ".md", "w", encoding="utf-8") as handle:
        handle.write(markdown(table))
    return base + ".md"


def prepare_study(argv, usage, parse, label):
    """The front of a study command (this one, tools/sweep_z_dim.py): usage on -h, parsing,
    the check of earlier runs and the opening line. Returns (study, None) to go on, or
    (None, exit status) after printing why not."""
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return None, 0 if argv else 2
    try:
        study = parse(argv)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return None, 2
    conflicts = study.check_earlier_runs()
    if conflicts:
        print("error: earlier runs in " + study.output_root + " do not match this command; delete them or "
              "choose another --output_root:\n  " + "\n  ".join(conflicts), file=sys.stderr)
        return None, 2
    print(f"{label} {', '.join(str(row['row']) for row in study.rows)} x seeds "
          f"{', '.join(map(str, study.seeds))} = {len(study.runs)} runs in {study.output_root}")
    return study, None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ablation, status = prepare_study(argv, __doc__, parse_command_line, "ablation: rows")
    if ablation is None:
        return status
    try:
        ablation.run_all(log=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print(f"interrupted; the same command continues where this stopped. Table of what finished: "
              f"{write_table(ablation)}", file=sys.stderr)
        return 130
    path = write_table(ablation)
    print(open(path, encoding="utf-8").read())
    failed = [run.name for run in ablation.runs if run.failure]
    print(f"table written to {path} and {path[:-3]}.json" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
