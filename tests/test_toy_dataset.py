"""A dataset defined in this one file, outside src/ (its reader, its test options, its ranking
rule), trains one step through train.py and is evaluated through eval.py: the contract of
``src.datasets.dataset`` and the registries are all a new dataset needs.

The toy tree (written to a tmp folder): ``<modality>/<pid>/<cam>_<n>.png``, visible camera 1
and 2, infrared camera 3. Its protocol: infrared queries against the visible images of the
test ids; trial t keeps the t-th visible image of each folder in the gallery. Its rule drops
the gallery images of camera 2 for every query and counts images, so its figures differ from
those of every built-in rule.
"""

import dataclasses
import json
import os

import numpy as np
import pytest
from PIL import Image

import eval as eval_entry
import train as train_entry
from src.datasets import records
from src.datasets.dataset import DATASETS, VIReIDDataset
from src.datasets.ranking_rule import RANKING_RULES, RankingRule
from src.datasets.records import INFRARED, VISIBLE, ImageRecord
from src.evaluation.features import FeatureTable
from src.evaluation.protocol import run_protocol

TRAIN_IDS = (1, 2, 3, 4)
TEST_IDS = (5, 6, 7)
CAMERAS = {VISIBLE: (1, 2), INFRARED: (3,)}
IMAGES_PER_FOLDER = 2
DROPPED_CAMERA = 2


@dataclasses.dataclass(frozen=True)
class ToyOptions:
    """``direction`` is read from eval.direction; ``query_cams`` has no eval key, so it keeps its default."""

    direction: str = "t2v"
    query_cams: tuple = (3,)

    def __post_init__(self):
        if self.direction != "t2v":
            raise ValueError(f"toy queries are infrared: direction must be 't2v'; got {self.direction!r}")

    @classmethod
    def variants(cls):
        return (cls(),)


class DropCameraTwoRule(RankingRule):
    """Every query drops the gallery images of camera 2; the CMC counts images."""

    counts_identities = False

    def keep(self, ranked_pids, ranked_cams, query_pids, query_cams):
        return ranked_cams != DROPPED_CAMERA


class ToyDataset(VIReIDDataset):
    title = "Toy"
    TestOptions = ToyOptions
    directions = ("t2v",)
    ranking_rule = "toy_drop_camera_two"
    trials = (0, 1)
    standard_num_classes = len(TRAIN_IDS)

    def __init__(self, root):
        self.root = root

    @property
    def num_classes(self):
        return len(TRAIN_IDS)

    def _records(self, pids, modality, label_of=None):
        return [ImageRecord(f"{modality}/{pid}/{cam}_{n}.png", pid, cam, modality,
                            label_of[pid] if label_of else -1)
                for pid in pids for cam in CAMERAS[modality] for n in range(IMAGES_PER_FOLDER)]

    def train_records(self):
        labels = {pid: label for label, pid in enumerate(TRAIN_IDS)}
        return self._records(TRAIN_IDS, VISIBLE, labels) + self._records(TRAIN_IDS, INFRARED, labels)

    def _test_lists(self, trial, options):
        query = [r for r in self._records(TEST_IDS, INFRARED) if r.cam in options.query_cams]
        gallery = [r for r in self._records(TEST_IDS, VISIBLE) if r.path.endswith(f"_{trial}.png")]
        return records.TestLists(query, gallery)  # (imported as a module: pytest would collect Test*)


def write_toy_tree(root):
    """Small images whose colour and brightness follow the identity (infrared: grey)."""
    rng = np.random.default_rng(0)
    for modality in (VISIBLE, INFRARED):
        for pid in TRAIN_IDS + TEST_IDS:
            tone = rng.integers(0, 256, 3)
            for cam in CAMERAS[modality]:
                folder = os.path.join(root, modality, str(pid))
                os.makedirs(folder, exist_ok=True)
                for n in range(IMAGES_PER_FOLDER):
                    noise = rng.integers(-20, 21, (32, 16, 3))
                    pixels = np.clip(tone + noise, 0, 255).astype(np.uint8)
                    if modality == INFRARED:
                        pixels = np.repeat(pixels.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
                    Image.fromarray(pixels).save(os.path.join(folder, f"{cam}_{n}.png"))
    return str(root)


@pytest.fixture
def toy_registered():
    """The toy dataset and its rule, registered for one test (then removed again)."""
    DATASETS.register("toy")(ToyDataset)
    RANKING_RULES.register("toy_drop_camera_two")(DropCameraTwoRule)
    yield
    DATASETS.unregister("toy")
    RANKING_RULES.unregister("toy_drop_camera_two")


def test_toy_dataset_trains_one_step_and_evaluates(toy_registered, tmp_path):
    root = write_toy_tree(tmp_path / "toy")
    run = tmp_path / "run"
    assert train_entry.main([
        "--data.dataset", "toy", "--data.data_path", root, "--output_dir", str(run), "--backbone.depth", "10",
        "--backbone.base_width", "8", "--model.branches", "[shared]", "--model.hidden_dims", "[16, 8]",
        "--model.z_dim", "8", "--data.height", "32", "--data.width", "16", "--data.batch_ids", "2",
        "--data.per_modality", "2", "--data.steps_per_epoch", "1", "--data.num_workers", "1",
        "--train.epochs", "1", "--train.warmup_epochs", "0", "--eval.direction", "t2v",
        "--graph_mode", "false"]) == 0  # PyNative: one step does not pay for compiling graphs
    with open(run / "train_log.jsonl") as handle:
        steps = [json.loads(line) for line in handle if "loss" in json.loads(line)]
    assert [entry["global_step"] for entry in steps] == [1]

    features = tmp_path / "features.npz"
    assert eval_entry.main(["--config_path", str(run / "config.yaml"), "--eval.checkpoint",
                            str(run / "checkpoints" / "network_last.ckpt"), "--eval.trials", "2",
                            "--eval.save_features", str(features), "--output_dir", str(tmp_path / "eval")]) == 0
    with open(tmp_path / "eval" / "eval_results.json") as handle:
        results = json.load(handle)["results"]
    assert list(results) == ["t2v"]
    trials = results["t2v"]["trials"]
    assert [(entry["trial"], entry["num_query"], entry["num_gallery"]) for entry in trials] == \
        [(0, 6, 6), (1, 6, 6)]
    # The figures are the toy rule's: recomputed from the saved features with that rule object,
    # and different from those of keeping every image.
    reader = ToyDataset(root)
    trial_lists = {trial: reader.test_lists(trial, ToyOptions()) for trial in reader.trials}
    table = FeatureTable.load(str(features))
    expected = run_protocol(trial_lists, lambda trial: table, DropCameraTwoRule())
    assert results["t2v"]["mean"] == pytest.approx(expected["mean"])
    assert [entry["cmc"] for entry in trials] == [entry["cmc"] for entry in expected["trials"]]
    keep_all = run_protocol(trial_lists, lambda trial: table, "regdb")
    assert results["t2v"]["mean"]["mAP"] != pytest.approx(keep_all["mean"]["mAP"])


def test_toy_options_come_from_the_eval_section(toy_registered, tmp_path, capsys):
    common = ["--data.dataset", "toy", "--data.data_path", str(tmp_path), "--eval.features", str(tmp_path / "f.npz")]
    assert eval_entry.main(common + ["--eval.direction", "v2t"]) == 2
    assert "Toy does not test eval.direction 'v2t'" in capsys.readouterr().err
    assert eval_entry.main(common + ["--eval.direction", "t2v", "--eval.mode", "indoor"]) == 2
    assert "eval.mode does not apply to toy: leave it at 'all'; got 'indoor'" in capsys.readouterr().err
