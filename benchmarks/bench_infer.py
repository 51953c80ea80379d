"""Feature-extraction speed: the inference network in graph mode and its exported MINDIR.

The network comes from the config (default: three ResNet-50 branches, so a visible image
goes through E_S and E_V) with the weights of ``--checkpoint``, or random ones without it.
Rows: ``InferenceNetwork`` called in graph mode, and the same cell exported to MINDIR
(dynamic batch) and run through ``nn.GraphCell(ms.load(path))``. Per row: first-call time
(compilation or loading + one batch), median ms/batch over ``--steps`` timed calls after
``--warmup`` untimed ones (each including the host read of the features), images/s; also
the largest difference between the two rows' features (they should agree), peak RSS and the
1-minute load average. The export folds the BatchNorms as export.py does (``--export.fold_batch_norm
false`` keeps them).

    python benchmarks/bench_infer.py [--config_path CFG] [--checkpoint CKPT] [--batch 32]
        [--height 256] [--width 128] [--steps 5] [--warmup 1] [--modality visible]
        [--depth 50] [--threads N] [--graph_kernel] [--section.key value ...]

``--serve graph`` or ``--serve mindir`` serves one of the two routes as a paired-timing worker
instead (benchmarks/paired.py; bench_versus_torch.py starts them). ``--threads N`` sets
MindSpore's CPU kernel threads (``mindspore.device_context.cpu.op_tuning.threads_num``; oneDNN
runs in the same pool); ``--graph_kernel`` turns on graph-kernel fusion
(``enable_graph_kernel``; on CPU its AKG compiler needs the ``decorator`` module, which
MindSpore 2.10 does not install).
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time

BENCHMARKS = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCHMARKS)
sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, BENCHMARKS)

import src  # noqa: E402,F401  (sets ONEDNN_MAX_CPU_ISA=AVX2 unless already set, before mindspore loads)

import mindspore as ms  # noqa: E402
import numpy as np  # noqa: E402
from mindspore import nn  # noqa: E402

from src.config import load_config  # noqa: E402
from src.datasets.records import INFRARED, VISIBLE  # noqa: E402
from src.engine.context import seed_everything, setup_context  # noqa: E402
from src.engine.exporter import export_network  # noqa: E402
from paired import READY_MARKER, STEP_MARKER  # noqa: E402
from src.models.network import InferenceNetwork, build_network  # noqa: E402
from src.models.pretrained import checkpoint_num_classes, load_network_checkpoint  # noqa: E402
from src.models.resnet import DEPTHS  # noqa: E402

SYSU_TRAINING_IDS = 395
ROUTES = ("graph", "mindir")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config_path", default="", help="preset YAML (default: default_config.yaml alone)")
    parser.add_argument("--checkpoint", default="", help="network checkpoint (default: random weights)")
    parser.add_argument("--batch", type=int, default=32, help="images per call")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5, help="timed calls (the median is reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls after the first one")
    parser.add_argument("--modality", choices=(VISIBLE, INFRARED), default=VISIBLE)
    parser.add_argument("--depth", type=int, choices=DEPTHS, default=None, help="ResNet depth (default: config)")
    parser.add_argument("--threads", type=int, default=0, help="MindSpore CPU kernel threads (0: MindSpore's default)")
    parser.add_argument("--graph_kernel", action="store_true", help="enable graph-kernel fusion")
    parser.add_argument("--serve", choices=ROUTES, help="serve this route as a paired-timing worker")
    args, overrides = parser.parse_known_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.batch < 1 or args.threads < 0:
        parser.error("--steps and --batch must be at least 1, --warmup and --threads at least 0")
    return args, overrides


def time_calls(cell, images, steps, warmup):
    """(first call s, median s per call over ``steps``, features of the last call)."""
    times = []
    features = None
    for _ in range(1 + warmup + steps):
        start = time.perf_counter()
        features = cell(images).asnumpy()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1 + warmup:]), features


def row(name, encoders, first_s, median_s, batch, load_before):
    return {"name": name, "encoders_per_image": encoders, "first_call_s": first_s, "ms_per_batch": median_s * 1e3,
            "images_per_s": batch / median_s, "load_before": load_before, "load_after": os.getloadavg()[0]}


def prepare(args, overrides):
    """(cfg, network in inference mode, its InferenceNetwork for ``args.modality``, random images)
    under the MindSpore settings ``args`` asks for."""
    cfg_argv = ["--config_path", args.config_path] if args.config_path else []
    cfg_argv += ["--data.height", str(args.height), "--data.width", str(args.width), "--backbone.pretrained", ""]
    if args.depth is not None:
        cfg_argv += ["--backbone.depth", str(args.depth)]
    cfg = load_config(cfg_argv + list(overrides))
    setup_context(cfg.device_target, cfg.device_id, graph_mode=True)
    if args.threads:
        ms.device_context.cpu.op_tuning.threads_num(args.threads)
    if args.graph_kernel:
        ms.set_context(enable_graph_kernel=True)
    seed_everything(cfg.seed)
    num_classes = checkpoint_num_classes(args.checkpoint) if args.checkpoint else SYSU_TRAINING_IDS
    network = build_network(cfg, num_classes)
    if args.checkpoint:
        print(load_network_checkpoint(network, args.checkpoint).summary())
    network.set_train(False)
    cell = InferenceNetwork(network, args.modality)
    images = ms.Tensor(np.random.default_rng(cfg.seed).standard_normal(
        (args.batch, 3, args.height, args.width), dtype=np.float32))
    return cfg, network, cell, images


def export_one(cfg, network, modality, folder):
    """Export ``network``'s ``modality`` route into ``folder`` as export.py would; returns the path."""
    return export_network(network, cfg.data.height, cfg.data.width, os.path.join(folder, "bench"),
                          modalities=(modality,), fold_batch_norm=cfg.export.fold_batch_norm)[modality]


def serve(args, overrides, commands=sys.stdin, replies=sys.stdout):
    """Serve route ``args.serve`` as a paired-timing worker (benchmarks/paired.py): one batch of
    features, read back to the host, per ``step`` line of ``commands``; stops at anything else."""
    cfg, network, cell, images = prepare(args, overrides)
    with tempfile.TemporaryDirectory() as folder:
        if args.serve == "mindir":
            cell = nn.GraphCell(ms.load(export_one(cfg, network, args.modality, folder)))
        cell(images).asnumpy()  # compiles
        print(READY_MARKER, file=replies, flush=True)
        for line in commands:
            if line.strip() != "step":
                break
            start = time.perf_counter()
            cell(images).asnumpy()
            print(f"{STEP_MARKER}{time.perf_counter() - start}", file=replies, flush=True)


def main(argv=None):
    """Run the benchmark and print its table; returns (rows, max feature difference, peak RSS MB)."""
    args, overrides = parse_args(sys.argv[1:] if argv is None else argv)
    if args.serve:
        serve(args, overrides)
        return None
    cfg, network, cell, images = prepare(args, overrides)
    encoders = len(network.test_branch_list(args.modality))

    print(f"{os.cpu_count()} CPU(s); 1-minute load average at start {os.getloadavg()[0]:.2f}; ResNet-{cfg.backbone.depth}, "
          f"{args.modality} route ({encoders} encoder(s) per image), batch {args.batch}, {args.height}x{args.width}, "
          f"{'checkpoint ' + args.checkpoint if args.checkpoint else 'random weights'}; median of {args.steps}",
          flush=True)
    rows = []
    load_before = os.getloadavg()[0]
    first, median, graph_features = time_calls(cell, images, args.steps, args.warmup)
    rows.append(row("graph (InferenceNetwork)", encoders, first, median, args.batch, load_before))
    with tempfile.TemporaryDirectory() as folder:
        path = export_one(cfg, network, args.modality, folder)
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        exported = nn.GraphCell(ms.load(path))
        load_s = time.perf_counter() - start
        first, median, mindir_features = time_calls(exported, images, args.steps, args.warmup)
        rows.append(row("MINDIR (GraphCell)", encoders, load_s + first, median, args.batch, load_before))
    difference = float(np.abs(graph_features - mindir_features).max())
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"{'route':<26} {'encoders':>8} {'first call s':>12} {'ms/batch':>9} {'images/s':>9} {'load':>9}")
    for entry in rows:
        print(f"{entry['name']:<26} {entry['encoders_per_image']:>8} {entry['first_call_s']:>12.1f} "
              f"{entry['ms_per_batch']:>9.0f} {entry['images_per_s']:>9.2f} "
              f"{entry['load_before']:>4.2f}/{entry['load_after']:<4.2f}")
    print(f"largest feature difference graph vs MINDIR: {difference:.2e}; peak RSS {peak_rss_mb:.0f} MB")
    return rows, difference, peak_rss_mb


if __name__ == "__main__":
    main()
