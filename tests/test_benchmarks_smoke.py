"""Smoke runs of the benchmark scripts at toy size (ResNet-18, 32x16, 2 steps).

They check that each script runs end to end and reports what it promises: the fields of
every row, consistent figures, a step graph compiled once, parameter counts equal to
independent closed forms, and exported features equal to the graph-mode ones.
"""

import importlib.util
import io
import os
import sys

import mindspore as ms
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TOY = ["--depth", "18", "--height", "32", "--width", "16", "--steps", "2", "--warmup", "0"]
TRAIN_FIELDS = {"name", "depth", "batch", "size", "params_m", "compile_s", "ms_per_step", "max_ms_per_step",
                "images_per_s", "peak_rss_mb", "graphs_compiled_first", "recompiles", "last_loss",
                "onednn_max_cpu_isa", "load_before", "load_after"}
# ResNet-18 without its ImageNet classifier: torchvision's 11,689,512 less fc (512 x 1000 + 1000).
RESNET18_ENCODER = 11_689_512 - 513_000
SYSU_IDS = 395
# Branch heads on v (512-d): BN-neck scale (its shift is frozen) and a bias-free classifier.
HEADS = 512 + 512 * SYSU_IDS
# Gaussian bottleneck 512 -> 1024 -> 512 -> 2 x 256 (weights and biases) and its z classifier.
BOTTLENECK = (512 * 1024 + 1024) + (1024 * 512 + 512) + (512 * 512 + 512) + 256 * SYSU_IDS


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO_ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def restore_mode():
    mode = ms.get_context("mode")
    yield
    ms.set_context(mode=mode)


def check_train_row(row, batch_images):
    assert TRAIN_FIELDS <= set(row)
    assert row["depth"] == 18 and row["size"] == "32x16"
    assert row["ms_per_step"] > 0 and row["max_ms_per_step"] >= row["ms_per_step"]
    assert row["images_per_s"] == pytest.approx(batch_images / (row["ms_per_step"] / 1e3), rel=1e-6)
    assert row["compile_s"] > 0 and row["peak_rss_mb"] > 100
    assert row["graphs_compiled_first"] >= 1
    assert row["recompiles"] == 0


def test_bench_train_single_branch_in_a_subprocess(capsys):
    bench_train = load_script("bench_train")
    rows = bench_train.main(TOY + ["--configs", "single_branch", "--batch_ids", "2", "--per_modality", "2"])
    assert [row["name"] for row in rows] == ["single_branch"]
    check_train_row(rows[0], batch_images=8)
    assert rows[0]["onednn_max_cpu_isa"] == "AVX2"
    assert rows[0]["params_m"] == pytest.approx((RESNET18_ENCODER + HEADS) / 1e6, abs=1e-9)
    printed = capsys.readouterr().out
    assert "single_branch" in printed and "load average" in printed


def test_bench_train_full_against_no_bottleneck_prints_the_ratios(capsys):
    bench_train = load_script("bench_train")
    # One branch keeps the two compilations short; the rows still differ by one bottleneck.
    rows = bench_train.main(TOY + ["--configs", "full", "no_bottleneck", "--batch_ids", "2", "--per_modality", "1",
                                   "--in_process", "--model.branches", "[shared]"])
    assert [row["name"] for row in rows] == ["full", "no_bottleneck"]
    for row in rows:
        check_train_row(row, batch_images=4)
    full, base = rows
    assert base["params_m"] == pytest.approx((RESNET18_ENCODER + HEADS) / 1e6, abs=1e-9)
    assert full["params_m"] - base["params_m"] == pytest.approx(BOTTLENECK / 1e6, abs=1e-9)
    printed = capsys.readouterr().out
    ratio = full["ms_per_step"] / base["ms_per_step"]
    assert f"full / no_bottleneck time: {ratio:.3f}x" in printed
    assert f"{base['params_m']:.2f}M -> {full['params_m']:.2f}M" in printed


def test_bench_infer_graph_and_mindir_agree(capsys):
    bench_infer = load_script("bench_infer")
    rows, difference, peak_rss_mb = bench_infer.main(TOY + ["--batch", "4"])
    assert [row["name"] for row in rows] == ["graph (InferenceNetwork)", "MINDIR (GraphCell)"]
    for row in rows:
        assert row["encoders_per_image"] == 2  # default config: shared + visible-specific
        assert row["first_call_s"] > 0 and row["ms_per_batch"] > 0
        assert row["images_per_s"] == pytest.approx(4 / (row["ms_per_batch"] / 1e3), rel=1e-6)
        assert {"load_before", "load_after"} <= set(row)
    assert difference < 1e-4
    assert peak_rss_mb > 100
    assert "largest feature difference" in capsys.readouterr().out


def test_bench_train_serves_one_timed_step_per_request():
    bench_train = load_script("bench_train")
    args, overrides = bench_train.parse_args(TOY + ["--batch_ids", "2", "--per_modality", "1"])
    cfg = bench_train.load_config(bench_train.config_argv(args, overrides, "single_branch"))
    replies = io.StringIO()
    bench_train.serve(cfg, SYSU_IDS, commands=io.StringIO("step\nstep\nstop\nstep\n"), replies=replies)
    lines = replies.getvalue().splitlines()
    assert lines[0] == bench_train.READY_MARKER
    assert len(lines) == 3 and all(line.startswith(bench_train.STEP_MARKER) for line in lines[1:])
    assert all(float(line[len(bench_train.STEP_MARKER):]) > 0 for line in lines[1:])


def test_a_paired_worker_that_cannot_start_is_named_with_its_exit_code():
    paired = load_script("paired")
    with pytest.raises(RuntimeError, match=r"PyTorch worker stopped \(exit code 3\) before BENCH_READY"):
        paired.Worker("PyTorch", [sys.executable, "-c", "import sys; sys.exit(3)"])


def test_bench_train_paired_alternates_warm_workers(capsys):
    bench_train = load_script("bench_train")
    times = bench_train.main(TOY + ["--configs", "full", "no_bottleneck", "--batch_ids", "2", "--per_modality", "1",
                                    "--model.branches", "[shared]", "--paired", "--steps", "3", "--warmup", "1"])
    assert sorted(times) == ["full", "no_bottleneck"]
    assert all(len(seconds) == 3 and min(seconds) > 0 for seconds in times.values())
    printed = capsys.readouterr().out
    assert "full / no_bottleneck time, per round: median" in printed


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch (see bench_torch_reference.py)")
def test_bench_versus_torch_pairs_every_round():
    bench_versus_torch = load_script("bench_versus_torch")
    result = bench_versus_torch.main(["--torch_python", sys.executable, "--depth", "18", "--height", "32",
                                      "--width", "16", "--rounds", "3", "--warmup", "1", "--train_batches", "4",
                                      "--infer_batches", "2", "--torch_modes", "eager"])
    training, extraction = result[("training step", 4)], result[("feature extraction", 2)]
    assert sorted(training["times"]) == ["MindSpore graph", "PyTorch eager"]
    assert sorted(extraction["times"]) == ["MindSpore MINDIR", "MindSpore graph", "PyTorch eager"]
    assert all(len(seconds) == 3 and min(seconds) > 0 for seconds in extraction["times"].values())
    assert set(extraction["ratios"]) == {("MindSpore graph", "PyTorch eager"), ("MindSpore MINDIR", "PyTorch eager")}


@pytest.mark.parametrize("route", ["graph", "mindir"])
def test_bench_infer_serves_one_timed_batch_per_request(route):
    bench_infer = load_script("bench_infer")
    args, overrides = bench_infer.parse_args(TOY + ["--batch", "2", "--serve", route, "--model.branches", "[shared]"])
    replies = io.StringIO()
    bench_infer.serve(args, overrides, commands=io.StringIO("step\nstep\nstop\nstep\n"), replies=replies)
    lines = replies.getvalue().splitlines()
    assert lines[0] == bench_infer.READY_MARKER
    assert len(lines) == 3 and all(float(line[len(bench_infer.STEP_MARKER):]) > 0 for line in lines[1:])


def test_resnet50_arithmetic_matches_the_published_count():
    flops = load_script("resnet_flops")
    # torchvision's ResNet-50 at 224 x 224: 4.09 G multiply-adds, of which the 2048 -> 1000 classifier 2.05 M
    multiply_adds = flops.resnet50_forward_flops(224, 224, last_stride=2) / 2 + 2048 * 1000
    assert multiply_adds == pytest.approx(4.09e9, rel=2e-3)
    assert flops.resnet50_training_flops(256, 128) == 3 * flops.resnet50_forward_flops(256, 128)
    # Last stride 1 keeps layer4's output at 16 x 8 = 128 positions instead of 8 x 4 = 32: every layer4
    # convolution but the first block's input 1x1 (computed at 16 x 8 either way) runs at 96 more positions.
    per_position = (512 * 512 * 9 + 512 * 2048 + 1024 * 2048) + 2 * (2048 * 512 + 512 * 512 * 9 + 512 * 2048)
    extra = flops.resnet50_forward_flops(256, 128, last_stride=1) - flops.resnet50_forward_flops(256, 128, last_stride=2)
    assert extra == 2 * 96 * per_position


def test_peak_flops_measures_a_positive_rate(capsys):
    peak = load_script("peak_flops")
    results = peak.main(["--size", "256", "--repeats", "2"])
    assert "numpy" in results and all(value > 0 for value in results.values())
    assert f"{peak.PEAK_MARKER}numpy" in capsys.readouterr().out


def test_bench_finite_check_times_each_check_in_every_round(capsys):
    bench = load_script("bench_finite_check")
    # One plain branch: the smallest step graph, as compiling it twice is most of the cost.
    times = bench.main(["--config_path", "", "--height", "32", "--width", "16", "--batch_ids", "2", "--per_modality", "1",
                        "--rounds", "2", "--warmup", "0", "--num_classes", "10", "--backbone.depth", "18",
                        "--checks", "ms.amp.all_finite", "AllFinite", "--model.branches", "[shared]",
                        "--model.shared_bottleneck", "none", "--loss.terms", "{cls, metric}"])
    assert list(times) == ["ms.amp.all_finite", "AllFinite"]
    assert all(len(series) == 2 and min(series) > 0 for series in times.values())
    out = capsys.readouterr().out
    assert "2 paired rounds" in out
    assert "ms.amp.all_finite" in out and "per round / ms.amp.all_finite 1.000x" in out


@pytest.mark.parametrize("option", [["--rounds", "1"], ["--warmup", "-1"]])
def test_bench_finite_check_refuses_one_round_or_negative_warmup(option, capsys):
    bench = load_script("bench_finite_check")
    with pytest.raises(SystemExit):
        bench.parse_args(option)
    assert "--rounds must be at least 2 and --warmup at least 0" in capsys.readouterr().err
