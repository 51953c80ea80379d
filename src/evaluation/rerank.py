"""k-reciprocal re-ranking (Zhong et al., CVPR 2017), vectorised and memory-bounded.

Query and gallery features form one set of N = Q + G samples. With d = squared Euclidean
distance scaled by each row's maximum:
1. R(i, k): the k-reciprocal neighbours of i (j among i's k+1 nearest and i among j's).
2. R*(i): R(i, k1) plus, for each c in R(i, k1) whose R(c, round(k1/2)) shares more than
   2/3 of its members with R(i, k1), the set R(c, round(k1/2)).
3. V(i, j) = exp(-d(i, j)) / sum over R*(i), zero outside R*(i); query expansion replaces
   V(i) by the mean of V over i's k2 nearest samples.
4. Jaccard distance(i, j) = 1 - m / (2 - m), m = sum_k min(V(i, k), V(j, k)); the result is
   (1 - lambda) * Jaccard + lambda * d over the query x gallery block.

Neighbour sets and V are sparse (about N x (k1 + expansions) entries), so memory grows with
N (plus the Q x G result) instead of N x N; distances are computed in row blocks, float32.
Ties in the neighbour order break by sample index (query samples first).
"""

import numpy as np
from scipy import sparse

from src.evaluation.distances import squared_euclidean


def _neighbour_matrix(nearest, count):
    """Sparse N x N booleans: (i, j) set when j is among the first ``count`` of i's neighbours."""
    num = nearest.shape[0]
    columns = nearest[:, :count]
    rows = np.repeat(np.arange(num), columns.shape[1])
    return sparse.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, columns.ravel())), shape=(num, num))


def _reciprocal(neighbours):
    """Keep (i, j) only where (j, i) is set too."""
    return neighbours.multiply(neighbours.T).tocsr()


def _pair_distances(features, squared_norms, rows, columns, row_max, block=200000):
    """Scaled squared distances d(rows[t], columns[t]) for index pairs, in blocks."""
    out = np.empty(rows.size, dtype=np.float32)
    for start in range(0, rows.size, block):
        r, c = rows[start:start + block], columns[start:start + block]
        dot = np.einsum("ij,ij->i", features[r], features[c])
        out[start:start + block] = np.maximum(squared_norms[r] + squared_norms[c] - 2.0 * dot, 0.0) / row_max[r]
    return out


def _sum_of_minima(query_rows, gallery_by_column, num_gallery):
    """(c, G) array: sum over k of min(V(i, k), V(j, k)) for query rows i and gallery rows j."""
    coo = query_rows.tocoo()
    starts = gallery_by_column.indptr[coo.col]
    counts = gallery_by_column.indptr[coo.col + 1] - starts
    total = int(counts.sum())
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
    gallery_index = gallery_by_column.indices[offsets]
    minima = np.minimum(np.repeat(coo.data, counts), gallery_by_column.data[offsets])
    cell = np.repeat(coo.row, counts).astype(np.int64) * num_gallery + gallery_index
    return np.bincount(cell, weights=minima, minlength=query_rows.shape[0] * num_gallery).reshape(-1, num_gallery)


def k_reciprocal_rerank(query_features, gallery_features, k1=20, k2=6, lambda_value=0.3, chunk_size=512):
    """Re-ranked query x gallery distances.

    Args:
        query_features: (Q, D); gallery_features: (G, D). Used as given: L2-normalise them
            first if the features are meant to be compared by angle.
        k1, k2: neighbourhood sizes (k2 <= k1 + 1); lambda_value: weight of the original distance.
        chunk_size: rows of the N x N distance computed at a time.
    Returns:
        (Q, G) float32 distances (smaller = more similar).
    """
    if k1 < 1 or k2 < 1 or k2 > k1 + 1:
        raise ValueError(f"need k1 >= 1 and 1 <= k2 <= k1 + 1, got k1={k1}, k2={k2}")
    if not 0.0 <= lambda_value <= 1.0:
        raise ValueError(f"lambda_value must be in [0, 1], got {lambda_value}")
    query = np.asarray(query_features, dtype=np.float32)
    gallery = np.asarray(gallery_features, dtype=np.float32)
    features = np.concatenate([query, gallery], axis=0)
    num_query, num = query.shape[0], features.shape[0]
    squared_norms = (features * features).sum(axis=1)
    width = min(k1 + 1, num)

    # One pass over the N x N distance: row maxima, nearest neighbours, query x gallery block.
    row_max = np.empty(num, dtype=np.float32)
    nearest = np.empty((num, width), dtype=np.int64)
    query_gallery = np.empty((num_query, num - num_query), dtype=np.float32)
    for start in range(0, num, chunk_size):
        block = squared_euclidean(features[start:start + chunk_size], features)
        row_max[start:start + block.shape[0]] = np.maximum(block.max(axis=1), np.finfo(np.float32).tiny)
        candidates = np.sort(np.argpartition(block, width - 1, axis=1)[:, :width], axis=1)
        by_distance = np.argsort(np.take_along_axis(block, candidates, axis=1), axis=1, kind="stable")
        nearest[start:start + block.shape[0]] = np.take_along_axis(candidates, by_distance, axis=1)
        if start < num_query:
            rows = slice(start, min(start + block.shape[0], num_query))
            query_gallery[rows] = block[: rows.stop - start, num_query:] / row_max[rows, None]

    reciprocal = _reciprocal(_neighbour_matrix(nearest, width))
    half = _reciprocal(_neighbour_matrix(nearest, min(int(np.around(k1 / 2.0)) + 1, num)))
    half_size = np.asarray(half.sum(axis=1)).ravel()
    overlap = (reciprocal @ half.T).multiply(reciprocal).tocoo()
    accepted = overlap.data > (2.0 / 3.0) * half_size[overlap.col]
    expanders = sparse.csr_matrix((np.ones(int(accepted.sum()), dtype=np.float32),
                                   (overlap.row[accepted], overlap.col[accepted])), shape=(num, num))
    expanded = ((reciprocal + expanders @ half) > 0).tocoo()

    weights = np.exp(-_pair_distances(features, squared_norms, expanded.row, expanded.col, row_max)).astype(np.float64)
    row_sums = np.bincount(expanded.row, weights=weights, minlength=num)
    encoding = sparse.csr_matrix((weights / row_sums[expanded.row], (expanded.row, expanded.col)), shape=(num, num))
    if k2 != 1:
        expansion_size = min(k2, num)
        encoding = (_neighbour_matrix(nearest, expansion_size) / expansion_size) @ encoding
    encoding = encoding.tocsr()

    num_gallery = num - num_query
    gallery_by_column = encoding[num_query:].tocsc()
    gallery_by_column.sort_indices()
    result = np.empty((num_query, num_gallery), dtype=np.float32)
    for start in range(0, num_query, 64):
        stop = min(start + 64, num_query)
        shared = _sum_of_minima(encoding[start:stop], gallery_by_column, num_gallery)
        jaccard = 1.0 - shared / (2.0 - shared)
        result[start:stop] = (1.0 - lambda_value) * jaccard + lambda_value * query_gallery[start:stop]
    return result
