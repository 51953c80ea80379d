"""Training-step speed and memory of the paper model against its baselines, on random inputs.

Configurations (each measured in its own subprocess, so peak RSS is per configuration and
the oneDNN ISA variable can differ between them; it must be set before MindSpore loads):
- full: the model of the config (default: three branches, Gaussian bottlenecks, all losses);
- no_bottleneck: the same three branches with no bottlenecks and VSD / VCD / VML off;
- single_branch: the shared branch alone, no bottleneck (a plain ResNet re-id baseline).

Per configuration: parameters (M), first-call time (graph compilation + one step), median
ms/step over ``--steps`` timed calls after ``--warmup`` untimed ones (each call timed up to
and including the host read of the loss), images/s (visible + infrared images per step),
peak RSS, the number of step graphs compiled after the first call (0: the step compiled once),
and the 1-minute load average before and after. Inputs are random tensors built before each
call, so only the step is timed, not the data pipeline.

    python benchmarks/bench_train.py [--config_path CFG] [--batch_ids P] [--per_modality K]
        [--height H] [--width W] [--steps N] [--warmup W] [--depth 50]
        [--configs full no_bottleneck single_branch] [--onednn_isa {AVX2,default}]
        [--compare_isa] [--paired] [--section.key value ...]

``--compare_isa`` runs the first configuration once with ONEDNN_MAX_CPU_ISA=AVX2 and once with
oneDNN's default (no cap) and prints both rows and the ISA oneDNN reports using in each.
``--paired`` steps warm workers of the configurations in alternation and prints per-round time
ratios (benchmarks/paired.py; benchmarks/README.md says why).
Other ``--section.key value`` options are configuration overrides (src.config).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, os.path.join(REPO_ROOT, "benchmarks"))

import src  # noqa: E402,F401  (sets ONEDNN_MAX_CPU_ISA=AVX2 unless already set, before mindspore loads)

import mindspore as ms  # noqa: E402
import numpy as np  # noqa: E402
from mindspore import nn  # noqa: E402

from paired import READY_MARKER, STEP_MARKER, alternate, ratio_quartiles  # noqa: E402
from src.config import load_config  # noqa: E402
from src.engine.context import seed_everything, setup_context  # noqa: E402
from src.engine.trainer import bottleneck_noise  # noqa: E402
from src.engine.train_step import NetworkWithObjective, TrainStep  # noqa: E402
from src.losses.objective import build_objective  # noqa: E402
from src.models.network import build_network  # noqa: E402
from src.models.resnet import DEPTHS  # noqa: E402

# L_ReID alone on v and z, for the rows without bottlenecks (the weights do not change a step's time).
NO_DISTILLATION = ["--loss.terms", "{cls: 1.0, metric: 1.0, dml: 8.0}", "--loss.cls_on", "[v, z]",
                   "--loss.metric_on", "[v, z]"]
# Configuration overrides applied on top of the user's configuration, per benchmark row.
CONFIGURATIONS = {
    "full": [],
    "no_bottleneck": ["--model.shared_bottleneck", "none", "--model.specific_bottleneck", "none"] + NO_DISTILLATION,
    "single_branch": ["--model.branches", "[shared]", "--model.shared_bottleneck", "none"] + NO_DISTILLATION,
}
# Values of ONEDNN_MAX_CPU_ISA per --onednn_isa choice; "ALL" is oneDNN's own default (no cap),
# the same as leaving the variable unset (which src/__init__.py would turn into AVX2).
ISA_SETTINGS = {"AVX2": "AVX2", "default": "ALL"}
ROW_MARKER = "BENCH_ROW "
SYSU_TRAINING_IDS = 395
# Paper Table 4 (one ResNet-50 branch at inference, as we read it): baseline 26.37M -> with
# the bottleneck 29.41M parameters, and 1.09x the baseline's training time.
PAPER_PARAMS_M = (26.37, 29.41)
PAPER_TIME_RATIO = 1.09


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config_path", default="", help="preset YAML (default: default_config.yaml alone)")
    parser.add_argument("--batch_ids", type=int, default=2, help="P: identities per batch")
    parser.add_argument("--per_modality", type=int, default=2, help="K: visible and infrared images per identity")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5, help="timed steps (the median is reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps after the first (compiling) call")
    parser.add_argument("--depth", type=int, choices=DEPTHS, default=None, help="ResNet depth (default: config)")
    parser.add_argument("--num_classes", type=int, default=SYSU_TRAINING_IDS, help="training identities")
    parser.add_argument("--configs", nargs="+", choices=tuple(CONFIGURATIONS), default=list(CONFIGURATIONS))
    parser.add_argument("--onednn_isa", choices=tuple(ISA_SETTINGS), default="AVX2",
                        help="ONEDNN_MAX_CPU_ISA for the measuring subprocesses (default: no cap)")
    parser.add_argument("--compare_isa", action="store_true",
                        help="measure the first of --configs with both ISA settings")
    parser.add_argument("--paired", action="store_true",
                        help="time the configurations in alternation (warm workers, one step each per round; "
                             "benchmarks/paired.py) and print per-round time ratios")
    parser.add_argument("--in_process", action="store_true",
                        help="measure in this process (no subprocess; peak RSS is then cumulative)")
    parser.add_argument("--worker", choices=tuple(CONFIGURATIONS), help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args, overrides = parser.parse_known_args(argv)
    if args.steps < 1 or args.warmup < 0:
        parser.error("--steps must be at least 1 and --warmup at least 0")
    return args, overrides


def config_argv(args, overrides, name):
    """load_config arguments for configuration ``name``: preset, sizes, user overrides, the row's own."""
    argv = ["--config_path", args.config_path] if args.config_path else []
    argv += ["--data.batch_ids", str(args.batch_ids), "--data.per_modality", str(args.per_modality),
             "--data.height", str(args.height), "--data.width", str(args.width), "--backbone.pretrained", "",
             "--graph_mode", "true"]
    if args.depth is not None:
        argv += ["--backbone.depth", str(args.depth)]
    return argv + list(overrides) + CONFIGURATIONS[name]


def random_batch(rng, batch_ids, per_modality, height, width, num_classes):
    """(visible, infrared, labels) numpy arrays shaped as the training pipeline delivers them."""
    batch = batch_ids * per_modality
    labels = np.repeat(rng.choice(num_classes, batch_ids, replace=False), per_modality).astype(np.int32)
    visible = rng.standard_normal((batch, 3, height, width), dtype=np.float32)
    infrared = rng.standard_normal((batch, 3, height, width), dtype=np.float32)
    return visible, infrared, labels


def build_timed_step(cfg, num_classes):
    """The training step of ``cfg``'s network in this process.

    Returns ``(network, step, call)``; ``call(index)`` runs one step on new random host inputs
    (as in training, so a step that recompiled on new inputs would show) and returns
    ``(seconds, loss, finite)``, timed up to and including the host read of the loss.
    """
    setup_context(cfg.device_target, cfg.device_id, graph_mode=True)
    seed_everything(cfg.seed)
    network = build_network(cfg, num_classes)
    objective = build_objective(cfg, network, num_classes)
    parameters = network.trainable_params() + objective.trainable_params()
    optimizer = nn.Adam(parameters, learning_rate=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    step = TrainStep(NetworkWithObjective(network, objective), optimizer)
    step.set_train()
    rng = np.random.default_rng(cfg.seed)
    noise_shape = network.noise_shape(cfg.data.batch_ids * cfg.data.per_modality)

    def call(index):
        visible, infrared, labels = (ms.Tensor(array) for array in random_batch(
            rng, cfg.data.batch_ids, cfg.data.per_modality, cfg.data.height, cfg.data.width, num_classes))
        noise = ms.Tensor(bottleneck_noise(cfg.seed, 0, 0, index, noise_shape))
        start = time.perf_counter()
        total, _, finite = step(visible, infrared, labels, noise)
        loss = float(total.asnumpy())
        return time.perf_counter() - start, loss, bool(finite.asnumpy())

    return network, step, call


def measure(name, cfg, steps, warmup, num_classes):
    """Time the training step of ``cfg``'s network in this process; returns one row (dict)."""
    load_before = os.getloadavg()[0]
    network, step, call = build_timed_step(cfg, num_classes)
    batch = cfg.data.batch_ids * cfg.data.per_modality
    times = []
    # The phases (argument signatures) the step cell has compiled graphs for; growth after the
    # first call means recompilation.
    graphs_before = len(step.compile_cache)
    graphs_after_first = None
    for index in range(1 + warmup + steps):
        seconds, loss, finite = call(index)
        times.append(seconds)
        if index == 0:
            graphs_after_first = len(step.compile_cache)
        if not (np.isfinite(loss) and finite):
            raise RuntimeError(f"{name}: non-finite loss {loss} at call {index + 1}")
    graphs_after_all = len(step.compile_cache)
    timed = times[1 + warmup:]
    median = statistics.median(timed)
    return {
        "name": name,
        "depth": cfg.backbone.depth,
        "batch": f"{cfg.data.batch_ids}x{cfg.data.per_modality}x2",
        "size": f"{cfg.data.height}x{cfg.data.width}",
        "params_m": sum(p.size for p in network.trainable_params()) / 1e6,
        "compile_s": times[0],
        "ms_per_step": median * 1e3,
        "max_ms_per_step": max(timed) * 1e3,
        "images_per_s": 2 * batch / median,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "graphs_compiled_first": graphs_after_first - graphs_before,
        "recompiles": graphs_after_all - graphs_after_first,
        "last_loss": loss,
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", ""),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def serve(cfg, num_classes, commands=sys.stdin, replies=sys.stdout):
    """Serve as a paired-timing worker (benchmarks/paired.py): one training step per ``step``
    line read from ``commands``, answered by ``BENCH_STEP <seconds>``; stops at anything else."""
    _, _, call = build_timed_step(cfg, num_classes)
    print(READY_MARKER, file=replies, flush=True)
    for index, line in enumerate(commands):
        if line.strip() != "step":
            break
        seconds, loss, finite = call(index)
        if not (np.isfinite(loss) and finite):
            raise RuntimeError(f"non-finite loss {loss} at step {index + 1}")
        print(f"{STEP_MARKER}{seconds}", file=replies, flush=True)


def isa_in_use(isa_value):
    """The ISA oneDNN reports (ONEDNN_VERBOSE header) in a fresh process with ``isa_value``."""
    probe = ("import numpy as np, mindspore as ms; from mindspore import nn; "
             "nn.Conv2d(3, 4, 3)(ms.Tensor(np.ones((1, 3, 8, 8), np.float32))).asnumpy()")
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA=isa_value, ONEDNN_VERBOSE="1")
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if ",isa:" in line:
            return line.split(",isa:", 1)[1].strip()
    return "unknown (oneDNN printed no ISA line)"


def worker_command(args, overrides, name):
    """Command line of a worker process for configuration ``name`` (this script, ``--worker``)."""
    command = [sys.executable, os.path.abspath(__file__), "--worker", name,
               "--batch_ids", str(args.batch_ids), "--per_modality", str(args.per_modality),
               "--height", str(args.height), "--width", str(args.width), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--num_classes", str(args.num_classes)]
    if args.config_path:
        command += ["--config_path", args.config_path]
    if args.depth is not None:
        command += ["--depth", str(args.depth)]
    return command + list(overrides)


def run_subprocess(args, overrides, name, isa):
    """Measure configuration ``name`` in a fresh interpreter with ONEDNN_MAX_CPU_ISA for ``isa``."""
    command = worker_command(args, overrides, name)
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA=ISA_SETTINGS[isa])
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    rows = [json.loads(line[len(ROW_MARKER):]) for line in result.stdout.splitlines() if line.startswith(ROW_MARKER)]
    if result.returncode != 0 or len(rows) != 1:
        raise RuntimeError(f"benchmark of {name!r} (ONEDNN_MAX_CPU_ISA={ISA_SETTINGS[isa]}) failed with exit code "
                           f"{result.returncode}:\n{result.stderr[-3000:]}")
    return rows[0]


def format_rows(rows):
    header = (f"{'configuration':<15} {'depth':>5} {'batch':>7} {'size':>8} {'params M':>9} {'compile s':>9} "
              f"{'ms/step':>9} {'max ms':>9} {'images/s':>8} {'peak RSS MB':>11} {'recompiles':>10} "
              f"{'ISA var':>7} {'load':>9}")
    lines = [header]
    for row in rows:
        lines.append(f"{row['name']:<15} {row['depth']:>5} {row['batch']:>7} {row['size']:>8} "
                     f"{row['params_m']:>9.2f} {row['compile_s']:>9.1f} {row['ms_per_step']:>9.0f} "
                     f"{row['max_ms_per_step']:>9.0f} {row['images_per_s']:>8.2f} {row['peak_rss_mb']:>11.0f} "
                     f"{row['recompiles']:>10} {row['onednn_max_cpu_isa']:>7} "
                     f"{row['load_before']:>4.2f}/{row['load_after']:<4.2f}")
    return "\n".join(lines)


def ratios(rows):
    """Full / no-bottleneck ratios of time and parameters, when both rows are present."""
    by_name = {row["name"]: row for row in rows}
    if "full" not in by_name or "no_bottleneck" not in by_name:
        return {}
    full, base = by_name["full"], by_name["no_bottleneck"]
    return {"time_ratio": full["ms_per_step"] / base["ms_per_step"],
            "params_base_m": base["params_m"], "params_full_m": full["params_m"]}


def run_paired(args, overrides):
    """--paired: median ms/step per configuration over rounds of alternating steps, and the
    full / no_bottleneck per-round time ratios; returns ``{name: [seconds per round]}``."""
    if len(args.configs) < 2:
        raise SystemExit("--paired needs at least two --configs")
    commands = {name: worker_command(args, overrides, name) + ["--serve"] for name in args.configs}
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA=ISA_SETTINGS[args.onednn_isa])
    times = alternate(commands, max(args.warmup, 1), args.steps, env=env)
    images = 2 * args.batch_ids * args.per_modality
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"{name:<15} {median * 1e3:9.0f} ms/step {images / median:8.2f} images/s (median of {args.steps} rounds)")
    if "full" in times and "no_bottleneck" in times:
        low, median, high = ratio_quartiles(times["full"], times["no_bottleneck"])
        print(f"full / no_bottleneck time, per round: median {median:.3f}x (interquartile {low:.3f}-{high:.3f}x; "
              f"paper Table 4: {PAPER_TIME_RATIO}x)")
    print(f"1-minute load average at end {os.getloadavg()[0]:.2f}")
    return times


def main(argv=None):
    """Run the benchmark and print its table; returns the rows (dicts), and the ISA comparison."""
    args, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        cfg = load_config(config_argv(args, overrides, args.worker))
        if args.serve:
            serve(cfg, args.num_classes)
            return []
        row = measure(args.worker, cfg, args.steps, args.warmup, args.num_classes)
        print(ROW_MARKER + json.dumps(row), flush=True)
        return [row]

    print(f"{os.cpu_count()} CPU(s); 1-minute load average at start {os.getloadavg()[0]:.2f}; "
          f"{args.steps} timed steps after {args.warmup} warm-up steps; median reported", flush=True)
    if args.compare_isa:
        name = args.configs[0]
        rows = [run_subprocess(args, overrides, name, isa) for isa in ISA_SETTINGS]
        print(format_rows(rows))
        for isa, row in zip(ISA_SETTINGS, rows):
            print(f"ONEDNN_MAX_CPU_ISA={ISA_SETTINGS[isa]}: oneDNN uses {isa_in_use(ISA_SETTINGS[isa])}, "
                  f"{row['ms_per_step']:.0f} ms/step")
        print(f"default / AVX2 time: {rows[1]['ms_per_step'] / rows[0]['ms_per_step']:.2f}x")
        return rows

    if args.paired:
        return run_paired(args, overrides)
    if args.in_process:
        if os.environ.get("ONEDNN_MAX_CPU_ISA") != ISA_SETTINGS[args.onednn_isa]:
            raise SystemExit(f"--in_process measures under this process's ONEDNN_MAX_CPU_ISA "
                             f"({os.environ.get('ONEDNN_MAX_CPU_ISA')}); drop --in_process to use --onednn_isa")
        rows = [measure(name, load_config(config_argv(args, overrides, name)), args.steps, args.warmup,
                        args.num_classes) for name in args.configs]
    else:
        rows = [run_subprocess(args, overrides, name, args.onednn_isa) for name in args.configs]
    print(format_rows(rows))
    found = ratios(rows)
    if found:
        # Our counts are of the whole training network: three ResNet branches (E_S, E_V, E_I),
        # each with classifiers and, in "full", its own bottleneck and z classifier, so the
        # bottleneck adds three times what it adds to the paper's single-encoder count.
        print(f"full / no_bottleneck time: {found['time_ratio']:.3f}x (paper Table 4: {PAPER_TIME_RATIO}x)")
        print(f"parameters: {found['params_base_m']:.2f}M -> {found['params_full_m']:.2f}M for three branches "
              f"(+{found['params_full_m'] - found['params_base_m']:.2f}M); paper {PAPER_PARAMS_M[0]}M -> "
              f"{PAPER_PARAMS_M[1]}M (+{PAPER_PARAMS_M[1] - PAPER_PARAMS_M[0]:.2f}M) counts one branch")
    return rows


if __name__ == "__main__":
    main()
