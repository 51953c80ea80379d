"""Feature normalisation and query x gallery distances."""

import numpy as np

DISTANCES = ("cosine", "euclidean", "inner_product")


def l2_normalize(features, eps=1e-12):
    """Rows scaled to unit L2 norm. (N, D) -> (N, D) float32; all-zero rows stay zero."""
    features = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, eps)


def squared_euclidean(query, gallery):
    """(Q, D), (G, D) -> (Q, G) float32 squared Euclidean distances, clipped at 0."""
    query = np.asarray(query, dtype=np.float32)
    gallery = np.asarray(gallery, dtype=np.float32)
    squared = (query * query).sum(axis=1)[:, None] + (gallery * gallery).sum(axis=1)[None, :] - 2.0 * query @ gallery.T
    return np.maximum(squared, 0.0)


def pairwise_distance(query, gallery, distance="cosine", normalize=True):
    """Query x gallery distance matrix (smaller = more similar).

    Args:
        query: (Q, D) features; gallery: (G, D) features.
        distance: "cosine" (1 - cosine similarity, in [0, 2]; scale-free, so ``normalize``
            does not change it), "euclidean" (L2 distance of the features) or
            "inner_product" (-q.g, how the public reference test scripts rank; on the
            features as given when ``normalize`` is False).
        normalize: L2-normalise the features first (matters for "euclidean" and "inner_product").
    Returns:
        (Q, G) float32.
    """
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {', '.join(DISTANCES)}, got {distance!r}")
    query = np.asarray(query, dtype=np.float32)
    gallery = np.asarray(gallery, dtype=np.float32)
    if query.ndim != 2 or gallery.ndim != 2 or query.shape[1] != gallery.shape[1]:
        raise ValueError(f"query and gallery features must be (N, D) with the same D, "
                         f"got {query.shape} and {gallery.shape}")
    if distance == "cosine":
        return 1.0 - l2_normalize(query) @ l2_normalize(gallery).T
    if normalize:
        query, gallery = l2_normalize(query), l2_normalize(gallery)
    if distance == "inner_product":
        return -(query @ gallery.T)
    return np.sqrt(squared_euclidean(query, gallery))
