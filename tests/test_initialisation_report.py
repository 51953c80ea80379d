"""What the trainer says at the start about the encoders' initial weights and the objective.

A paper preset without ImageNet weights must warn; loaded ImageNet weights are reported
per encoder; the objective's weighted terms are listed, with the terms of loss.terms that the
network leaves out. Only the Trainer is built (no training step runs).
"""

import os

import mindspore as ms

from src.config import REPO_ROOT, load_config
from src.engine.trainer import Trainer
from src.models.resnet import ResNetEncoder

SYSU_PRESET = os.path.join(REPO_ROOT, "configs", "sysu.yaml")


def _trainer_output(capsys, data_path, output_dir, *extra):
    """Everything the Trainer prints while it is built from a shrunk sysu.yaml."""
    cfg = load_config([
        "--config_path", SYSU_PRESET, "--data.data_path", data_path, "--output_dir", str(output_dir),
        "--backbone.depth", "10", "--data.height", "32", "--data.width", "16", "--data.batch_ids", "4",
        "--model.hidden_dims", "[16, 8]", "--model.z_dim", "8", "--data.num_workers", "1",
        "--graph_mode", "false", *extra])
    capsys.readouterr()
    Trainer(cfg)
    return capsys.readouterr().out


def test_paper_preset_without_imagenet_weights_warns(pynative_mode, synthetic_sysu, tmp_path, capsys):
    assert load_config(["--config_path", SYSU_PRESET]).paper_preset
    output = _trainer_output(capsys, synthetic_sysu, tmp_path / "run")
    warnings = [line for line in output.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1
    assert "paper_preset" in warnings[0] and "ImageNet" in warnings[0] and "not comparable" in warnings[0]


def test_run_declared_not_to_be_the_papers_does_not_warn(pynative_mode, synthetic_sysu, tmp_path, capsys):
    output = _trainer_output(capsys, synthetic_sysu, tmp_path / "run", "--paper_preset", "false")
    assert "WARNING" not in output
    assert "encoders initialised at random" in output


def test_loaded_imagenet_weights_are_reported_per_encoder(pynative_mode, synthetic_sysu, tmp_path, capsys):
    encoder = ResNetEncoder(10)
    path = str(tmp_path / "resnet10_weights.ckpt")
    ms.save_checkpoint([{"name": name, "data": parameter} for name, parameter in encoder.parameters_and_names()],
                       path)
    expected_count = len(list(encoder.get_parameters()))
    output = _trainer_output(capsys, synthetic_sysu, tmp_path / "run", "--backbone.pretrained", path)
    assert "WARNING" not in output
    reports = [line for line in output.splitlines() if line.startswith("pretrained weights for the")]
    assert [line.split()[4] for line in reports] == ["shared", "visible", "infrared"]
    for line in reports:
        assert f"{path}: loaded {expected_count} parameters, missing 0" in line


def test_the_objective_and_the_terms_left_out_are_reported(pynative_mode, synthetic_sysu, tmp_path, capsys):
    output = _trainer_output(capsys, synthetic_sysu, tmp_path / "run", "--model.branches", "[shared]",
                             "--loss.terms", "{vcd, cls, metric: 0.5, dml, vsd, vml}")
    reported = [line for line in output.splitlines() if "objective: " in line]
    assert len(reported) == 1
    assert reported[0].endswith("objective: 2 vcd + 1 cls + 0.5 metric + 2 vml; "
                                "not applicable to this network, left out: dml, vsd")
