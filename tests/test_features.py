"""Feature sources: flip test-time augmentation, saved-feature lookup, distances."""

import numpy as np
import pytest

from src.datasets.dataset import open_dataset
from src.datasets.records import INFRARED, VISIBLE, ImageRecord
from src.evaluation.distances import l2_normalize, pairwise_distance
from src.evaluation.features import FeatureTable, ImageFeatureExtractor, extract_features, mirror


def _left_half_minus_right_half(batch):
    """Not mirror-symmetric: mirroring swaps the halves and flips the sign of the first column."""
    width = batch.shape[-1]
    left = batch[..., : width // 2].mean(axis=(1, 2, 3))
    right = batch[..., width // 2:].mean(axis=(1, 2, 3))
    return np.stack([left - right, left + right], axis=1)


def test_flip_tta_averages_the_mirrored_feature():
    rng = np.random.default_rng(0)
    batches = [rng.random((3, 3, 4, 6), dtype=np.float32), rng.random((2, 3, 4, 6), dtype=np.float32)]
    plain = extract_features(batches, _left_half_minus_right_half, flip=False)
    flipped = extract_features(batches, _left_half_minus_right_half, flip=True)
    images = np.concatenate(batches)
    np.testing.assert_allclose(plain, _left_half_minus_right_half(images), rtol=1e-6)
    # Averaging a feature with its mirror cancels the antisymmetric part exactly.
    np.testing.assert_allclose(flipped[:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(flipped[:, 1], plain[:, 1], rtol=1e-6)
    np.testing.assert_array_equal(mirror(images)[..., 0], images[..., -1])


def test_extract_features_checks_the_feature_shape():
    with pytest.raises(ValueError, match="feature function"):
        extract_features([np.zeros((2, 3, 4, 4), np.float32)], lambda batch: np.zeros(2))


def test_feature_table_looks_up_rows_by_path(tmp_path):
    file_path = tmp_path / "features.npz"
    np.savez(file_path, paths=np.array(["cam1/0001/0001.jpg", "./cam3/0001/0002.jpg"]),
             features=np.array([[1.0, 0.0], [0.0, 2.0]]))
    table = FeatureTable.load(str(file_path))
    records = [ImageRecord("cam3/0001/0002.jpg", 1, 3, INFRARED), ImageRecord("cam1/0001/0001.jpg", 1, 1, VISIBLE)]
    np.testing.assert_array_equal(table.features_of(records), [[0.0, 2.0], [1.0, 0.0]])


def test_feature_table_names_missing_paths(tmp_path):
    table = FeatureTable(["a.jpg"], np.zeros((1, 2)), origin="my.npz")
    records = [ImageRecord(f"missing_{i}.jpg", 1, 1, VISIBLE) for i in range(7)] + [ImageRecord("a.jpg", 1, 1, VISIBLE)]
    with pytest.raises(KeyError, match=r"my.npz has no features for 7 of the 8 .*missing_0.jpg"):
        table.features_of(records)


def test_feature_table_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        FeatureTable.load(str(tmp_path / "nothing.npz"))
    np.savez(tmp_path / "bad.npz", feats=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="missing paths, features"):
        FeatureTable.load(str(tmp_path / "bad.npz"))
    with pytest.raises(ValueError, match="more than once"):
        FeatureTable(["a.jpg", "a.jpg"], np.zeros((2, 2)))


def test_distances_against_closed_forms():
    query = np.array([[3.0, 4.0], [1.0, 0.0]])
    gallery = np.array([[6.0, 8.0], [0.0, 2.0]])
    np.testing.assert_allclose(pairwise_distance(query, gallery, "euclidean", normalize=False),
                               [[5.0, np.hypot(3, 2)], [np.hypot(5, 8), np.sqrt(5)]], rtol=1e-6)
    np.testing.assert_allclose(pairwise_distance(query, gallery, "euclidean", normalize=True),
                               [[0.0, np.hypot(0.6, 0.2)], [np.hypot(0.4, 0.8), np.sqrt(2)]], atol=1e-6)
    np.testing.assert_allclose(pairwise_distance(query, gallery, "cosine"), [[0.0, 0.2], [0.4, 1.0]], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(l2_normalize(query), axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="distance"):
        pairwise_distance(query, gallery, "manhattan")


def test_image_extractor_routes_each_modality(synthetic_sysu):
    lists = open_dataset("sysu", synthetic_sysu).test_lists(0)
    records = lists.query[:3] + lists.gallery[:4] + lists.query[3:5]
    functions = {VISIBLE: lambda batch: np.full((len(batch), 2), 1.0, np.float32),
                 INFRARED: lambda batch: np.stack([batch.mean(axis=(1, 2, 3)), np.zeros(len(batch))], 1)}
    extractor = ImageFeatureExtractor(synthetic_sysu, functions, height=16, width=8, batch_size=2, flip=False)
    features = extractor.features_of(records)
    assert features.shape == (9, 2)
    is_visible = np.array([record.modality == VISIBLE for record in records])
    np.testing.assert_array_equal(features[is_visible], 1.0)
    assert np.all(features[~is_visible, 1] == 0.0) and np.all(features[~is_visible, 0] != 1.0)


def test_inner_product_ranks_by_the_features_as_given():
    """-q.g, as the reference test scripts rank; unnormalised, a long gallery vector wins over an
    aligned one, which cosine and normalised features would rank first."""
    query = np.array([[1.0, 0.0], [0.0, 2.0]])
    gallery = np.array([[3.0, 0.0], [1.0, 1.0], [0.0, 1.0], [4.0, 4.0]])
    distance = pairwise_distance(query, gallery, "inner_product", normalize=False)
    np.testing.assert_allclose(distance, [[-3.0, -1.0, 0.0, -4.0], [0.0, -2.0, -2.0, -8.0]])
    assert np.argsort(distance, axis=1, kind="stable").tolist() == [[3, 0, 1, 2], [3, 1, 2, 0]]
    normalised = pairwise_distance(query, gallery, "inner_product", normalize=True)
    np.testing.assert_allclose(normalised, pairwise_distance(query, gallery, "cosine") - 1.0, atol=1e-6)
    assert np.argsort(normalised, axis=1, kind="stable").tolist() == [[0, 1, 3, 2], [2, 1, 3, 0]]
