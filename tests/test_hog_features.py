"""The HOG floor tool: the descriptor against closed-form cases, and its features file through eval.py."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from src.datasets.dataset import open_dataset
from tools.hog_features import centred_gradients, evaluated_records, hog, l2_hys, orientation_votes

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def edge_image(size=16, direction="vertical"):
    """0 on one side of a straight edge through the middle, 1 on the other: (size, size) float32."""
    image = np.zeros((size, size), dtype=np.float32)
    if direction == "vertical":
        image[:, size // 2:] = 1.0
    else:
        image[size // 2:, :] = 1.0
    return image


def test_vertical_edge_votes_only_into_the_horizontal_gradient_bin():
    gx, gy = centred_gradients(edge_image())
    # Centred differences see the step in the two columns either side of it, at full height.
    np.testing.assert_array_equal(np.nonzero(gx.any(axis=0))[0], [7, 8])
    assert not gy.any()
    per_bin = orientation_votes(gx, gy).sum(axis=(0, 1))
    np.testing.assert_allclose(per_bin, [2 * 16] + [0] * 8)


def test_orientations_between_bin_centres_are_split_linearly():
    # Bin centres are 0, 20, ..., 160 degrees.
    votes = orientation_votes(np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0]))
    np.testing.assert_allclose(votes[0], np.eye(9)[4] * 0.5 + np.eye(9)[5] * 0.5, atol=1e-6)  # 90: 80 / 100
    np.testing.assert_allclose(votes[1], np.sqrt(2) * (0.75 * np.eye(9)[2] + 0.25 * np.eye(9)[3]), atol=1e-6)  # 45
    np.testing.assert_allclose(votes[2], 2 * np.eye(9)[0], atol=1e-6)  # 180 degrees is 0: unsigned
    # 170 degrees lies between the last centre (160) and 180 = bin 0.
    angle = np.radians(170.0)
    np.testing.assert_allclose(orientation_votes(np.cos(angle), np.sin(angle)), 0.5 * np.eye(9)[8] + 0.5 * np.eye(9)[0],
                               atol=1e-5)


def test_l2_hys_clips_at_0_2_and_renormalises():
    block = np.zeros(36)
    block[:2] = [10.0, 1.0]
    normalised = l2_hys(block)
    # L2: 10 / sqrt(101) = 0.995 is clipped to 0.2; 1 / sqrt(101) = 0.0995 stays; then L2 again.
    kept = 1.0 / np.sqrt(101.0)
    expected = np.array([0.2, kept]) / np.hypot(0.2, kept)
    np.testing.assert_allclose(normalised[:2], expected, rtol=1e-6)
    assert not normalised[2:].any()
    assert np.linalg.norm(normalised) == pytest.approx(1.0, abs=1e-6)


def test_descriptor_layout_and_block_norms():
    rng = np.random.default_rng(0)
    descriptor = hog(rng.random((2, 128, 64)))
    assert descriptor.shape == (2, 15 * 7 * 36) and descriptor.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(descriptor.reshape(2, 15 * 7, 36), axis=-1), 1.0, rtol=1e-5)
    assert descriptor.min() >= 0
    # A flat image has no gradient: every block stays zero instead of dividing by zero.
    assert not hog(np.full((16, 16), 0.5)).any()
    # The vertical edge's single block: its four cells hold equal bin-0 votes, so 0.5 each.
    np.testing.assert_allclose(hog(edge_image()).reshape(4, 9), 0.5 * np.eye(9)[[0, 0, 0, 0]], atol=1e-6)


def test_sizes_that_are_not_whole_cells_are_refused():
    with pytest.raises(ValueError, match="multiple of the 8-pixel cell"):
        hog(np.zeros((20, 16)))


def test_features_file_covers_every_protocol_and_ranks_far_above_chance(synthetic_sysu, tmp_path):
    features = tmp_path / "hog.npz"
    subprocess.run([sys.executable, "-m", "tools.hog_features", "--dataset", "sysu", "--data_path", synthetic_sysu,
                    "--out", str(features), "--height", "64", "--width", "32"], cwd=REPO_ROOT, check=True,
                   capture_output=True)
    with np.load(features) as content:
        paths, rows = content["paths"], content["features"]
    reader = open_dataset("sysu", synthetic_sysu)
    assert sorted(paths) == sorted(record.path for record in evaluated_records(reader))
    assert rows.shape == (len(paths), 7 * 3 * 36)
    for protocol, mode, shots in (("agw", "all", "1"), ("official", "indoor", "10")):
        output = tmp_path / f"eval_{protocol}"
        subprocess.run([sys.executable, "eval.py", "--features", str(features), "--data.dataset", "sysu",
                        "--data.data_path", synthetic_sysu, "--eval.protocol", protocol, "--eval.mode", mode,
                        "--eval.shots", shots, "--output_dir", str(output)], cwd=REPO_ROOT, check=True,
                       capture_output=True)
        mean = json.load(open(output / "eval_results.json"))["results"]["t2v"]["mean"]
        # Chance Rank-1 is about one over the number of test identities in the gallery.
        chance = 1.0 / len(reader.test_ids)
        assert mean["rank1"] > 3 * chance, (protocol, mean)


def test_bad_arguments_are_named(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tools.hog_features", "--dataset", "sysu", "--data_path",
                             str(tmp_path), "--out", str(tmp_path / "x.npz"), "--height", "100"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--height must be a multiple of 8" in result.stderr
    result = subprocess.run([sys.executable, "-m", "tools.hog_features", "--dataset", "sysu", "--data_path",
                             str(tmp_path / "absent"), "--out", str(tmp_path / "x.npz")], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.startswith("error:") and "absent" in result.stderr
