"""search.py: the exported pair alone ranks a gallery as the evaluator does, and embeds a folder once."""

import os
import shutil

import numpy as np
import pytest
from PIL import Image

import eval as eval_entry
import search
from src.registry import declared_options
from src.datasets.dataset import open_dataset
from src.engine.mindir import mindir_input_size
from src.evaluation.distances import DISTANCES
from src.evaluation.features import FeatureTable
from src.evaluation.metrics import kept_ranking
from src.evaluation.protocol import query_gallery_distance


@pytest.fixture(scope="module")
def mindir_dump(tiny_model, tmp_path_factory):
    """Features eval.py computed with the tiny model's MINDIR pair (no flip), trial 0 of SYSU-MM01."""
    folder = tmp_path_factory.mktemp("search")
    dump = str(folder / "features.npz")
    assert eval_entry.main(["--config_path", tiny_model["config"], "--eval.checkpoint",
                            tiny_model["mindir_stem"] + "_infrared.mindir", "--eval.flip_tta", "false",
                            "--eval.trials", "1", "--save_features", dump, "--output_dir", str(folder / "eval")]) == 0
    return dump


def test_input_size_is_read_from_the_mindir(tiny_model):
    assert mindir_input_size(tiny_model["mindir_stem"] + "_visible.mindir") == (32, 16)


def test_search_ranks_as_the_evaluator_does(tiny_model, synthetic_sysu, mindir_dump):
    lists = open_dataset("sysu", synthetic_sysu).test_lists(0)
    queries = [lists.query[0], lists.query[-1]]
    args = search.parse_command_line(
        ["--model", tiny_model["mindir_stem"], "--modality", "infrared", "--flip_tta", "false", "--topk", "6",
         "--query"] + [os.path.join(synthetic_sysu, q.path) for q in queries]
        + ["--gallery_features", mindir_dump, "--gallery_root", synthetic_sysu])
    results = search.search(args)
    table = FeatureTable.load(mindir_dump)
    distances = query_gallery_distance(table.features_of(queries), table.features_of(lists.gallery))
    for query, row, (query_path, found) in zip(queries, distances, results):
        assert query_path == os.path.join(synthetic_sysu, query.path)
        expected = kept_ranking(row, query.pid, [g.pid for g in lists.gallery], rule="regdb")[:6]
        assert [path for path, _ in found] == [os.path.join(synthetic_sysu, lists.gallery[i].path) for i in expected]
        np.testing.assert_allclose([d for _, d in found], row[expected], atol=1e-5)


def test_gallery_folder_is_embedded_once(tiny_model, synthetic_sysu, mindir_dump, tmp_path, capsys):
    lists = open_dataset("sysu", synthetic_sysu).test_lists(0)
    gallery = tmp_path / "gallery"
    for record in lists.gallery[:5]:  # nested folders, as in the dataset
        os.makedirs(gallery / os.path.dirname(record.path), exist_ok=True)
        shutil.copy(os.path.join(synthetic_sysu, record.path), gallery / record.path)
    (gallery / "notes.txt").write_text("not an image")
    query = os.path.join(synthetic_sysu, lists.query[0].path)
    argv = ["--model", tiny_model["mindir_stem"] + "_visible.mindir", "--modality", "infrared", "--flip_tta",
            "false", "--query", query, "--gallery", str(gallery), "--topk", "10"]
    assert search.main(argv + ["--render", str(tmp_path / "found.png")]) == 0
    first = capsys.readouterr().out
    cache = gallery / ".search_tiny_visible.npz"
    assert "written to" in first and cache.is_file()
    cached = FeatureTable.load(str(cache))
    np.testing.assert_allclose(cached.features_of(lists.gallery[:5]), FeatureTable.load(mindir_dump).features_of(
        lists.gallery[:5]), atol=1e-5)
    assert search.main(argv) == 0
    second = capsys.readouterr().out
    assert "read from" in second
    listed = [line.split()[-1] for line in second.splitlines() if line.startswith("  ")]
    assert sorted(listed) == sorted(str(gallery / r.path) for r in lists.gallery[:5])  # topk 10 > 5 images
    assert [line for line in first.splitlines() if line.startswith("  ")] == \
        [line for line in second.splitlines() if line.startswith("  ")]
    with Image.open(tmp_path / "found.png") as picture:
        assert picture.width > 6 * 64 and picture.height > 128


def test_missing_query_is_reported(tiny_model, tmp_path, capsys):
    assert search.main(["--model", tiny_model["mindir_stem"], "--modality", "visible", "--query",
                        str(tmp_path / "none.jpg"), "--gallery", str(tmp_path)]) == 2
    assert "neither an image file nor a folder" in capsys.readouterr().err


def test_distances_and_devices_come_from_the_registries():
    """search.py offers exactly what eval.py offers: every registered distance (one registered
    by a user too) and the configuration's devices."""
    base = ["--model", "m", "--modality", "infrared", "--query", "q.jpg", "--gallery", "g"]
    assert search.parse_command_line(base + ["--distance", "inner_product"]).distance == "inner_product"
    DISTANCES.register("toy_manhattan")(lambda query, gallery, normalize: None)
    try:
        assert search.parse_command_line(base + ["--distance", "toy_manhattan"]).distance == "toy_manhattan"
    finally:
        DISTANCES.unregister("toy_manhattan")
    with pytest.raises(SystemExit):
        search.parse_command_line(base + ["--distance", "toy_manhattan"])
    for device in declared_options()["device_target"].choices:
        assert search.parse_command_line(base + ["--device_target", device]).device_target == device
