"""The ranked-list picture: layout, frame colours against hand-ranked lists, query selection, sources."""

import argparse
import os

import numpy as np
import pytest
from PIL import Image

from src.datasets.dataset import open_dataset
from src.evaluation.features import write_feature_file
from src.evaluation.metrics import kept_ranking
from src.visualization.ranked_lists import FRAME, GAP, MATCH_COLOUR, MISMATCH_COLOUR, QUERY_COLOUR, QUERY_GAP
from tools import ranked_list

TOPK, TILE_HEIGHT, TILE_WIDTH = 5, 24, 12


@pytest.fixture(scope="module")
def pid_features(synthetic_sysu, tmp_path_factory):
    """A features file where images of identities equal modulo 4 look alike (so lists mix true and false matches)."""
    reader = open_dataset("sysu", synthetic_sysu)
    records = {}
    for trial in range(2):
        lists = reader.test_lists(trial)
        records.update({r.path: r for r in lists.query + lists.gallery})
    records = list(records.values())
    rng = np.random.default_rng(0)
    features = np.eye(4, dtype=np.float32)[[r.pid % 4 for r in records]] + 0.3 * rng.random((len(records), 4))
    path = str(tmp_path_factory.mktemp("ranked") / "features.npz")
    write_feature_file(path, records, features, "made up")
    return path, {r.path: f for r, f in zip(records, features)}


def hand_ranked_pids(query, gallery, feature_of):
    """Gallery identities of ``query`` by cosine distance, cam2 dropped for a cam3 query (SYSU rule)."""
    q = feature_of[query.path] / np.linalg.norm(feature_of[query.path])
    scored = [(1.0 - float(q @ (feature_of[g.path] / np.linalg.norm(feature_of[g.path]))), position, g.pid)
              for position, g in enumerate(gallery) if not (query.cam == 3 and g.cam == 2)]
    return [pid for _, _, pid in sorted(scored)]


def test_frames_are_green_exactly_for_true_matches(pid_features, synthetic_sysu, tmp_path):
    features_path, feature_of = pid_features
    lists = open_dataset("sysu", synthetic_sysu).test_lists(1)
    cam3 = next(i for i, r in enumerate(lists.query) if r.cam == 3)
    cam6 = next(i for i, r in enumerate(lists.query) if r.cam == 6)
    out = str(tmp_path / "ranked.png")
    assert ranked_list.main(["--out", out, "--eval.features", features_path, "--data.data_path", synthetic_sysu,
                             "--trial", "1", "--queries", f"{cam3},{lists.query[cam6].path}", "--random", "0",
                             "--worst", "0", "--topk", str(TOPK), "--tile_height", str(TILE_HEIGHT),
                             "--tile_width", str(TILE_WIDTH)]) == 0
    sheet = np.asarray(Image.open(out).convert("RGB"))
    cell = TILE_WIDTH + 2 * FRAME
    assert sheet.shape[1] == GAP + (TOPK + 1) * (cell + GAP) + QUERY_GAP
    # Each row's query frame: a run of query-coloured pixels down the sheet's left frame edge.
    edge = np.flatnonzero((sheet[:, GAP] == QUERY_COLOUR).all(axis=1))
    frame_tops = edge[np.r_[True, np.diff(edge) > 1]]
    assert len(frame_tops) == 2
    greens = 0
    for frame_top, query in zip(frame_tops, (lists.query[cam3], lists.query[cam6])):
        expected = [pid == query.pid for pid in hand_ranked_pids(query, lists.gallery, feature_of)[:TOPK]]
        for column, is_match in enumerate(expected, start=1):
            left = GAP + column * (cell + GAP) + QUERY_GAP
            assert tuple(sheet[frame_top + 1, left + 1]) == (MATCH_COLOUR if is_match else MISMATCH_COLOUR)
            bottom_right = sheet[frame_top + TILE_HEIGHT + 2 * FRAME - 1, left + cell - 1]
            assert tuple(bottom_right) == tuple(sheet[frame_top, left])
            greens += is_match
    assert 0 < greens < 2 * TOPK  # the case mixes true and false matches


def test_kept_ranking_applies_each_rule():
    distances = np.array([0.1, 0.2, 0.2, 0.05, 0.3])
    pids, cams = np.array([1, 2, 1, 3, 1]), np.array([2, 1, 3, 2, 1])
    assert kept_ranking(distances, 1, pids, 3, cams, rule="sysu").tolist() == [1, 2, 4]  # cam2 gone, ties stable
    assert kept_ranking(distances, 1, pids, 6, cams, rule="sysu").tolist() == [3, 0, 1, 2, 4]
    assert kept_ranking(distances, 1, pids, 3, cams, rule="llcm").tolist() == [3, 0, 1, 4]  # same id and camera gone
    assert kept_ranking(distances, 1, pids, rule="regdb").tolist() == [3, 0, 1, 2, 4]


def test_query_selection_orders_chosen_random_and_worst():
    queries = [argparse.Namespace(path=f"q{i}.jpg") for i in range(6)]
    args = argparse.Namespace(queries="4,q1.jpg", random=2, worst=2, seed=3)
    ap = np.array([0.5, 0.1, 0.9, 0.0, 0.2, 0.3])
    valid = np.array([True, True, True, False, True, True])
    selection = ranked_list.query_selection(args, queries, ap, valid)
    assert selection[:2] == [("chosen", 4), ("chosen", 1)]
    random = [index for kind, index in selection if kind == "random"]
    assert len(set(random)) == 2 and random == sorted(random)
    assert [index for kind, index in selection if kind == "worst"] == [1, 4]  # query 3 has no true match
    with pytest.raises(ValueError, match="neither an index"):
        ranked_list.chosen_queries("9", queries)


def test_checkpoint_and_mindir_draw_the_same_picture(tiny_model, tmp_path):
    pictures = []
    for name, model in (("ckpt", tiny_model["checkpoint"]), ("mindir", tiny_model["mindir_stem"] + "_visible.mindir")):
        out = str(tmp_path / f"{name}.png")
        assert ranked_list.main(["--out", out, "--config_path", tiny_model["config"], "--eval.checkpoint", model,
                                 "--eval.flip_tta", "false", "--random", "2", "--worst", "1", "--topk", "3",
                                 "--tile_height", "32", "--tile_width", "16", "--colours", "64"]) == 0
        with Image.open(out) as image:
            assert image.mode == "P"
            pictures.append(np.asarray(image.convert("RGB")))
    assert pictures[0].shape[0] > 3 * (32 + 2 * FRAME)
    np.testing.assert_array_equal(pictures[0], pictures[1])
    assert os.path.getsize(tmp_path / "ckpt.png") < 150_000
