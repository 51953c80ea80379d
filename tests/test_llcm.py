"""LLCM reader: training records from the idx files, query and seeded single-shot gallery
re-derived as the public code draws them, and errors."""

import os
import random
import re
import shutil

import pytest

from src.config import ConfigError, load_config
from src.datasets.dataset import DirectionOptions, configured_test_options
from src.datasets.llcm import LLCM
from src.datasets.records import INFRARED, VISIBLE

CAMS = {"test_vis": [1, 2, 3, 4, 5, 6, 7, 8, 9], "test_nir": [1, 2, 4, 5, 6, 7, 8, 9]}


def _test_ids(root):
    with open(os.path.join(root, "idx", "test_id.txt")) as handle:
        return sorted(int(x) for x in handle.readline().split(","))


def _folder_paths(root, folder, cam, pid):
    directory = os.path.join(root, folder, "cam%d" % cam, "%04d" % pid)
    if not os.path.isdir(directory):
        return []
    return ["%s/cam%d/%04d/%s" % (folder, cam, pid, name) for name in sorted(os.listdir(directory))]


def test_train_records(synthetic_llcm):
    dataset = LLCM(synthetic_llcm)
    lines = []
    for name in ("train_vis.txt", "train_nir.txt"):
        with open(os.path.join(synthetic_llcm, "idx", name)) as handle:
            lines += [line.split() for line in handle if line.strip()]
    records = dataset.train_records()
    assert [r.path for r in records] == [path for path, _ in lines]
    assert [r.label for r in records] == [int(label) for _, label in lines]  # the writer's labels are id ranks
    assert dataset.num_classes == 20 and dataset.ranking_rule == "llcm" and dataset.test_trials == tuple(range(10))
    for r in records:
        assert r.cam == int(re.search(r"_c(\d\d)_", r.path).group(1)) and r.pid == int(r.path.split("/")[1])
        assert r.modality == (VISIBLE if r.path.startswith("vis/") else INFRARED)


@pytest.mark.parametrize("direction,query_folder,gallery_folder",
                         [("v2t", "test_vis", "test_nir"), ("t2v", "test_nir", "test_vis")])
def test_test_lists_match_public_draws(synthetic_llcm, direction, query_folder, gallery_folder):
    dataset = LLCM(synthetic_llcm)
    ids = _test_ids(synthetic_llcm)
    query = [p for pid in ids for cam in CAMS[query_folder]
             for p in _folder_paths(synthetic_llcm, query_folder, cam, pid)]
    for trial in (0, 5):
        random.seed(trial)
        gallery = []
        for pid in ids:
            for cam in CAMS[gallery_folder]:
                if os.path.isdir(os.path.join(synthetic_llcm, gallery_folder, "cam%d" % cam, "%04d" % pid)):
                    gallery.append(random.choice(_folder_paths(synthetic_llcm, gallery_folder, cam, pid)))
        lists = dataset.test_lists(trial, DirectionOptions(direction=direction))
        assert [r.path for r in lists.query] == query
        assert [r.path for r in lists.gallery] == gallery
        for r in lists.query + lists.gallery:
            folder, cam, pid, _ = r.path.split("/")
            assert (r.cam, r.pid, r.label) == (int(cam[3:]), int(pid), -1)
            assert r.modality == (VISIBLE if folder == "test_vis" else INFRARED)


def test_arguments_and_bad_trees(synthetic_llcm, tmp_path):
    dataset = LLCM(synthetic_llcm)
    with pytest.raises(ValueError, match="0..9"):
        dataset.test_lists(10)
    cfg = load_config(["--data.dataset", "llcm"])
    for key, value in (("mode", "indoor"), ("shots", 10), ("protocol", "official")):
        with pytest.raises(ConfigError, match=f"eval.{key} does not apply to llcm"):
            configured_test_options("llcm", dict(cfg.eval, **{key: value}))
    with pytest.raises(ValueError, match="direction"):
        DirectionOptions("x")
    with pytest.raises(FileNotFoundError, match="absent"):
        LLCM(str(tmp_path / "absent"))
    root = shutil.copytree(synthetic_llcm, str(tmp_path / "llcm"))
    pid = _test_ids(root)[0]
    for cam in CAMS["test_nir"]:
        shutil.rmtree(os.path.join(root, "test_nir", "cam%d" % cam, "%04d" % pid), ignore_errors=True)
    with pytest.raises(ValueError, match=f"test id {pid} has no infrared"):
        LLCM(root)
    os.remove(os.path.join(root, "idx", "test_id.txt"))
    with pytest.raises(FileNotFoundError, match="test_id.txt"):
        LLCM(root)
    os.remove(os.path.join(root, "idx", "train_nir.txt"))
    with pytest.raises(FileNotFoundError, match="train_nir.txt"):
        LLCM(root)
