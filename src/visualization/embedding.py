"""t-SNE maps of test features (paper Fig. 5 and 6): scikit-learn's t-SNE, matplotlib scatter plots (optional)."""

import math

import numpy as np

from src.datasets.records import INFRARED, VISIBLE
from src.visualization.extras import import_extra, pyplot

MARKERS = {VISIBLE: "o", INFRARED: "^"}


def tsne_2d(features, seed=0, perplexity=30.0):
    """(N, D) features -> (N, 2) t-SNE coordinates (PCA start; perplexity capped below N)."""
    manifold = import_extra("sklearn.manifold", "t-SNE")
    features = np.asarray(features, dtype=np.float32)
    perplexity = min(perplexity, max(1.0, (len(features) - 1) / 3.0))
    return manifold.TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)


def plot_embeddings(panels, out_path, columns=2, dpi=80):
    """Scatter plots of t-SNE maps, coloured by identity, one marker per modality; writes ``out_path``.

    Args:
        panels: list of (title, (N, 2) coordinates, (N,) identities, (N,) modalities).
    """
    plt = pyplot()
    rows = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.4 * rows), squeeze=False)
    colours = plt.get_cmap("tab20")
    for axis, (title, points, pids, modalities) in zip(axes.flat, panels):
        identity_index = {pid: index for index, pid in enumerate(sorted(set(pids)))}
        for modality, marker in MARKERS.items():
            rows_of = np.flatnonzero(np.asarray(modalities) == modality)
            if len(rows_of):
                axis.scatter(points[rows_of, 0], points[rows_of, 1], marker=marker, s=14, label=modality,
                             c=[colours(identity_index[pids[row]] % 20) for row in rows_of],
                             edgecolors="black" if modality == INFRARED else "none", linewidths=0.4)
        axis.set_title(title, fontsize=9)
        axis.set_xticks([])
        axis.set_yticks([])
        axis.legend(fontsize=7, loc="best")
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    figure.tight_layout()
    figure.savefig(out_path, dpi=dpi)
    plt.close(figure)
