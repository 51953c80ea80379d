"""Feature normalisation and query x gallery distances, each distance registered by name.

``eval.distance`` takes its allowed values from ``DISTANCES``. A distance is a function
``(query (Q, D), gallery (G, D), normalize) -> (Q, G)`` (smaller = more similar) whose inputs
are float32 with the same D.
"""

import numpy as np

from src.options import Option, Options
from src.registry import Registry, UnknownPartError


DISTANCE_OPTIONS = Options(
    Option("eval.distance", "cosine",
           "cosine, euclidean or inner_product (rank by -q.g, as the reference test scripts do)"),
    Option("eval.normalize", True, "L2-normalise features before computing distances (false: features as given)"),
)

DISTANCES = Registry("distance", config_keys=("eval.distance",))


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


@DISTANCES.register("cosine")
def cosine_distance(query, gallery, normalize):
    """1 - cosine similarity, in [0, 2]; scale-free, so ``normalize`` does not change it."""
    return 1.0 - l2_normalize(query) @ l2_normalize(gallery).T


@DISTANCES.register("euclidean")
def euclidean_distance(query, gallery, normalize):
    """L2 distance of the features (L2-normalised first when ``normalize``)."""
    if normalize:
        query, gallery = l2_normalize(query), l2_normalize(gallery)
    return np.sqrt(squared_euclidean(query, gallery))


@DISTANCES.register("inner_product")
def inner_product_distance(query, gallery, normalize):
    """-q.g, how the public reference test scripts rank (on the features as given unless ``normalize``)."""
    if normalize:
        query, gallery = l2_normalize(query), l2_normalize(gallery)
    return -(query @ gallery.T)


def pairwise_distance(query, gallery, distance="cosine", normalize=True):
    """Query x gallery distance matrix (smaller = more similar).

    Args:
        query: (Q, D) features; gallery: (G, D) features.
        distance: name of a registered distance: "cosine", "euclidean" or "inner_product"
            (see each function).
        normalize: L2-normalise the features first (matters for "euclidean" and "inner_product").
    Returns:
        (Q, G) float32.
    """
    try:
        distance_fn = DISTANCES.get(distance)
    except UnknownPartError as error:
        raise ValueError(str(error)) from None
    query = np.asarray(query, dtype=np.float32)
    gallery = np.asarray(gallery, dtype=np.float32)
    if query.ndim != 2 or gallery.ndim != 2 or query.shape[1] != gallery.shape[1]:
        raise ValueError(f"query and gallery features must be (N, D) with the same D, "
                         f"got {query.shape} and {gallery.shape}")
    return distance_fn(query, gallery, normalize)
