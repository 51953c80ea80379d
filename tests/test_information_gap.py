"""The H(y|z) - H(y|v) estimate: closed forms, the probe batch, and its records in a tiny training."""

import json
import math
import os

import numpy as np
import pytest

from src.config import load_config
from src.datasets.records import INFRARED, VISIBLE, ImageRecord
from src.engine.information_gap import cross_entropy, information_gaps, probe_records
from src.engine.trainer import Trainer


def test_cross_entropy_closed_forms():
    assert math.isclose(cross_entropy([[0.0, 0.0]], [1]), math.log(2))
    # softmax([ln 3, 0]) = (3/4, 1/4)
    assert math.isclose(cross_entropy([[math.log(3), 0.0], [math.log(3), 0.0]], [0, 1]),
                        (math.log(4 / 3) + math.log(4)) / 2)
    assert math.isclose(cross_entropy([[1000.0, 0.0]], [0]), 0.0, abs_tol=1e-12)  # no overflow


def stream(v_logits, z_logits):
    """A bottlenecked stream whose other fields do not matter here."""
    filler = np.zeros((len(v_logits), 3))
    return (filler, np.array(v_logits), filler, filler, filler, np.array(z_logits))


def test_gaps_per_branch_pool_the_shared_modalities():
    uniform, confident = [[0.0, 0.0]], [[math.log(3), 0.0]]
    streams = (stream(uniform, confident), stream(confident, confident),  # shared: visible, infrared
               (np.zeros((1, 3)), np.array(uniform)),  # visible branch without bottleneck
               stream(confident, uniform))  # infrared branch
    figures = information_gaps(streams, ("shared_visible", "shared_infrared", "visible", "infrared"), np.array([0]))
    assert set(figures) == {f"{kind}_{branch}" for kind in ("gap", "ce_v", "ce_z") for branch in ("shared", "infrared")}
    ce_uniform, ce_confident = math.log(2), math.log(4 / 3)
    assert math.isclose(figures["ce_v_shared"], (ce_uniform + ce_confident) / 2)
    assert math.isclose(figures["ce_z_shared"], ce_confident)
    assert math.isclose(figures["gap_shared"], ce_confident - (ce_uniform + ce_confident) / 2)
    assert math.isclose(figures["gap_infrared"], ce_uniform - ce_confident)


def test_probe_records_align_identities_and_skip_incomplete_ones():
    records = [ImageRecord(f"cam{cam}/{pid:04d}/{frame}.jpg", pid, cam, VISIBLE if cam == 1 else INFRARED, pid)
               for pid in range(6) for cam in (1, 3) for frame in (2, 1) if not (pid == 4 and cam == 3)]
    visible, infrared = probe_records(records, 3, seed=5)
    assert [r.label for r in visible] == [r.label for r in infrared] == sorted(r.label for r in visible)
    assert len(visible) == 3 and 4 not in [r.label for r in visible]
    assert all(r.path.endswith("/1.jpg") for r in visible + infrared)
    assert probe_records(records, 3, seed=5) == (visible, infrared)
    assert len(probe_records(records, 50, seed=0)[0]) == 5


@pytest.mark.parametrize("graph_mode", ["false", "true"])
def test_training_logs_the_gap_every_interval(synthetic_sysu, tmp_path, graph_mode):
    cfg = load_config(["--data.data_path", synthetic_sysu, "--output_dir", str(tmp_path / "run"),
                       "--model.branches", "[shared]", "--backbone.depth", "10", "--backbone.base_width", "8",
                       "--data.height", "32", "--data.width", "16", "--data.batch_ids", "8",
                       "--data.per_modality", "1", "--model.hidden_dims", "[16, 8]", "--model.z_dim", "8",
                       "--data.num_workers", "1", "--train.epochs", "1", "--train.warmup_epochs", "0",
                       "--train.gap_interval", "2", "--train.gap_ids", "5", "--graph_mode", graph_mode])
    trainer = Trainer(cfg)
    trainer.run()
    with open(os.path.join(cfg.output_dir, "train_log.jsonl"), encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    gaps = [record for record in records if "gap_shared" in record]
    assert [record["global_step"] for record in gaps] == list(range(2, trainer.steps_per_epoch + 1, 2))
    assert trainer.gap_probe.labels.shape == (5,)
    for record in gaps:
        assert record["ce_v_shared"] > 0 and record["ce_z_shared"] > 0
        assert math.isclose(record["gap_shared"], record["ce_z_shared"] - record["ce_v_shared"], rel_tol=1e-9)
    if trainer.steps_per_epoch % 2 == 0:  # the last record was taken on the final network
        again = trainer.gap_probe(trainer.network)
        assert math.isclose(again["gap_shared"], gaps[-1]["gap_shared"], rel_tol=1e-5, abs_tol=1e-6)
