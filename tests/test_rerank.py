"""k-reciprocal re-ranking against a direct, loop-based implementation of the algorithm."""

import numpy as np
import pytest

from src.evaluation.rerank import k_reciprocal_rerank


def _reciprocal_set(rank, i, k):
    forward = rank[i, :k + 1]
    return np.array([j for j in forward if i in rank[j, :k + 1]], dtype=int)


def _brute_force_rerank(query, gallery, k1, k2, lambda_value):
    """Zhong et al.'s steps, one sample at a time, with dense matrices."""
    features = np.concatenate([query, gallery]).astype(np.float64)
    num, num_query = len(features), len(query)
    dist = np.array([[np.sum((a - b) ** 2) for b in features] for a in features])
    dist = dist / dist.max(axis=1, keepdims=True)
    rank = np.argsort(dist, axis=1, kind="stable")
    encoding = np.zeros((num, num))
    for i in range(num):
        reciprocal = _reciprocal_set(rank, i, k1)
        expanded = list(reciprocal)
        for candidate in reciprocal:
            candidate_set = _reciprocal_set(rank, candidate, int(np.around(k1 / 2.0)))
            if len(set(candidate_set) & set(reciprocal)) > 2.0 / 3.0 * len(candidate_set):
                expanded.extend(candidate_set)
        expanded = np.unique(expanded)
        weight = np.exp(-dist[i, expanded])
        encoding[i, expanded] = weight / weight.sum()
    if k2 != 1:
        encoding = np.array([encoding[rank[i, :k2]].mean(axis=0) for i in range(num)])
    result = np.zeros((num_query, num - num_query))
    for i in range(num_query):
        for j in range(num_query, num):
            shared = np.minimum(encoding[i], encoding[j]).sum()
            jaccard = 1.0 - shared / (2.0 - shared)
            result[i, j - num_query] = (1 - lambda_value) * jaccard + lambda_value * dist[i, j]
    return result


@pytest.mark.parametrize("k1,k2,lambda_value", [(20, 6, 0.3), (5, 1, 0.5), (4, 3, 0.0)])
def test_matches_brute_force(k1, k2, lambda_value):
    rng = np.random.default_rng(k1)
    # Clustered features so that neighbourhoods overlap and expansions happen.
    centres = rng.normal(size=(6, 8))
    query = centres[rng.integers(0, 6, 17)] + 0.6 * rng.normal(size=(17, 8))
    gallery = centres[rng.integers(0, 6, 29)] + 0.6 * rng.normal(size=(29, 8))
    expected = _brute_force_rerank(query, gallery, k1, k2, lambda_value)
    result = k_reciprocal_rerank(query, gallery, k1=k1, k2=k2, lambda_value=lambda_value, chunk_size=7)
    assert result.shape == (17, 29) and result.dtype == np.float32
    np.testing.assert_allclose(result, expected, atol=2e-5)


def test_lambda_one_is_the_scaled_original_distance():
    rng = np.random.default_rng(1)
    query, gallery = rng.normal(size=(5, 4)), rng.normal(size=(9, 4))
    features = np.concatenate([query, gallery])
    squared = ((features[:, None] - features[None]) ** 2).sum(-1)
    expected = (squared / squared.max(axis=1, keepdims=True))[:5, 5:]
    np.testing.assert_allclose(k_reciprocal_rerank(query, gallery, lambda_value=1.0), expected, atol=1e-5)


def test_rejects_bad_parameters():
    with pytest.raises(ValueError, match="k2"):
        k_reciprocal_rerank(np.zeros((2, 3)), np.zeros((2, 3)), k1=3, k2=5)
