"""Ranking metrics against the reference fixtures and against hand-worked cases."""

import json
import os

import numpy as np
import pytest

from conftest import FIXTURES_DIR
from src.evaluation.metrics import evaluate

FIXTURE_DIR = os.path.join(FIXTURES_DIR, "protocol_reference")


def _cases():
    with open(os.path.join(FIXTURE_DIR, "cases.json"), encoding="utf-8") as handle:
        return json.load(handle)["cases"]


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case["name"])
def test_matches_reference_fixture(case):
    arrays = np.load(os.path.join(FIXTURE_DIR, "cases.npz"))
    name = case["name"]
    cams = {}
    if case["rule"] == "sysu":
        cams = {"q_cams": arrays[f"{name}__q_camids"], "g_cams": arrays[f"{name}__g_camids"]}
    result = evaluate(arrays[f"{name}__distmat"], arrays[f"{name}__q_pids"], arrays[f"{name}__g_pids"],
                      rule=case["rule"], max_rank=20, **cams)
    expected_cmc = arrays[f"{name}__expected_cmc"]
    assert result["cmc"].dtype == np.float32
    np.testing.assert_array_equal(result["cmc"], expected_cmc)
    expected_map, expected_minp = arrays[f"{name}__expected_map_minp"]
    assert abs(result["mAP"] - expected_map) < 1e-12
    assert abs(result["mINP"] - expected_minp) < 1e-12
    assert result["num_valid_queries"] == case["valid_queries"]


def test_sysu_rule_by_hand():
    # Query 0 (cam3): the cam2 image is dropped; ranking 2(cam1), 1, 1 -> identity rank 2,
    # AP (1/2 + 2/3) / 2. Query 1 (cam6): nothing dropped; ranking 2, 2, 1, 1 -> identity
    # rank 2 (id 2 counted once), AP over images (1/3 + 2/4) / 2.
    distmat = np.array([[0.1, 0.2, 0.3, 0.4],
                        [0.1, 0.2, 0.3, 0.4]])
    g_pids = np.array([2, 2, 1, 1])
    g_cams = np.array([2, 1, 1, 4])
    result = evaluate(distmat, [1, 1], g_pids, [3, 6], g_cams, rule="sysu")
    np.testing.assert_array_equal(result["cmc"], np.float32([0.0, 1.0]))
    assert result["mAP"] == pytest.approx(((1 / 2 + 2 / 3) / 2 + (1 / 3 + 2 / 4) / 2) / 2, abs=1e-15)
    assert result["mINP"] == pytest.approx((2 / 3 + 2 / 4) / 2, abs=1e-15)


def test_llcm_rule_drops_same_id_same_camera_only():
    distmat = np.array([[0.1, 0.2, 0.3]])
    # The first image has the query's id and camera: dropped; the other camera-5 image is not.
    result = evaluate(distmat, [7], [7, 8, 7], [5], [5, 5, 1], rule="llcm")
    np.testing.assert_array_equal(result["cmc"], np.float32([0.0, 1.0]))
    assert result["mAP"] == pytest.approx(0.5)
    assert result["mINP"] == pytest.approx(0.5)


def test_regdb_plain_cmc_counts_images():
    distmat = np.array([[0.1, 0.2, 0.3, 0.4]])
    result = evaluate(distmat, [1], [2, 2, 1, 3], rule="regdb")
    np.testing.assert_array_equal(result["cmc"], np.float32([0, 0, 1, 1]))
    assert result["mAP"] == pytest.approx(1 / 3)


def test_ties_break_by_gallery_order():
    distmat = np.zeros((1, 3))
    assert evaluate(distmat, [1], [1, 2, 1], rule="regdb")["cmc"][0] == 1.0
    assert evaluate(distmat, [1], [2, 1, 1], rule="regdb")["cmc"][0] == 0.0


def test_uneven_identities_left_extend_with_last_value():
    # The cam3 query loses id 3's only image (cam2); the cam6 query keeps all three ids.
    distmat = np.array([[0.3, 0.1, 0.2], [0.3, 0.1, 0.2]])
    result = evaluate(distmat, [1, 1], [1, 2, 3], [3, 6], [1, 1, 2], rule="sysu")
    # Query 0 ranking: id 2, id 1 -> rank 2 (curve [0, 1], extended to [0, 1, 1]).
    # Query 1 ranking: id 2, id 3, id 1 -> rank 3.
    np.testing.assert_array_equal(result["cmc"], np.float32([0.0, 0.5, 1.0]))


def test_chunking_and_threads_do_not_change_results():
    rng = np.random.default_rng(0)
    distmat = rng.random((50, 40))
    q_pids, g_pids = rng.integers(0, 8, 50), rng.integers(0, 8, 40)
    q_cams, g_cams = rng.choice([3, 6], 50), rng.choice([1, 2, 4, 5], 40)
    whole = evaluate(distmat, q_pids, g_pids, q_cams, g_cams, rule="sysu", chunk_size=1000, num_threads=1)
    chunked = evaluate(distmat, q_pids, g_pids, q_cams, g_cams, rule="sysu", chunk_size=7, num_threads=3)
    np.testing.assert_array_equal(whole["cmc"], chunked["cmc"])
    assert whole["mAP"] == chunked["mAP"] and whole["mINP"] == chunked["mINP"]


def test_no_valid_query_is_a_clear_error():
    with pytest.raises(ValueError, match="no query has a true match"):
        evaluate(np.zeros((2, 2)), [1, 2], [3, 4], rule="regdb")


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="g_pids"):
        evaluate(np.zeros((2, 3)), [1, 2], [1, 2], rule="regdb")
    with pytest.raises(ValueError, match="needs q_cams"):
        evaluate(np.zeros((2, 2)), [1, 2], [1, 2], rule="sysu")
    with pytest.raises(ValueError, match="rule"):
        evaluate(np.zeros((2, 2)), [1, 2], [1, 2], rule="market")
    with pytest.raises(ValueError, match="NaN"):
        evaluate(np.full((1, 1), np.nan), [1], [1], rule="regdb")
