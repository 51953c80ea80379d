"""Ranking metrics of visible-infrared re-id: CMC, mAP and mINP under a protocol's ranking rule.

The rule (``src.datasets.ranking_rule``; each dataset names its own) says which gallery images
a query's ranking drops and whether the CMC counts distinct identities (in the kept ranking
only the first image of each identity takes a rank) or images. The built-in rules follow the
public reference code of the SYSU-MM01 / RegDB / LLCM protocols,
checked value for value against ``tests/fixtures/protocol_reference``.

In every rule mAP is the ordinary average precision and mINP = (number of true matches) /
(rank of the last one), both over the kept (not identity de-duplicated) ranking. Queries with
no true match left are skipped; averages run over the valid queries. Ranking uses a stable
sort, so exact ties break by gallery order.

Length of the CMC: ``min(max_rank, gallery size, most distinct identities any query has
left)``. This equals the reference's length whenever the reference runs (it has every
query's curve of the same length). Where queries keep different numbers of identities (the
reference then fails to stack the curves), a shorter curve is extended with its last value:
a query whose true identity was found stays found.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from src.datasets.ranking_rule import ranking_rule


def _as_vector(values, name, length):
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != length:
        raise ValueError(f"{name} must be a vector of length {length}, got shape {array.shape}")
    return array


def _chunk_statistics(distmat, q_pids, q_cams, g_pid_index, g_cams, id_order, id_starts, rule, q_index):
    """Per-query AP, INP, hit rank and identities left for one block of query rows.

    Returns a dict of (c,) arrays: ``valid``; ``ap`` and ``inp`` (float64, meaningful where
    valid); ``hit_rank`` (0-based rank of the first true match in the CMC's ranking: over
    identities or images, as the ``RankingRule`` counts); ``ids_left`` (distinct identities kept).
    """
    order = np.argsort(distmat[q_index], axis=1, kind="stable")
    sorted_pid_index = g_pid_index[order]
    query_pid_index = q_pids[q_index]
    matches = sorted_pid_index == query_pid_index[:, None]
    sorted_cams = None if g_cams is None else g_cams[order]
    query_cams = None if q_cams is None else q_cams[q_index]
    keep = rule.keep(sorted_pid_index, sorted_cams, query_pid_index, query_cams)
    kept_matches = matches & keep

    num_relevant = kept_matches.sum(axis=1)
    valid = num_relevant > 0
    kept_rank = np.cumsum(keep, axis=1)  # 1-based rank among kept images (at kept positions)
    hits_so_far = np.cumsum(kept_matches, axis=1)
    precision_at_hits = np.where(kept_matches, hits_so_far / np.maximum(kept_rank, 1), 0.0)
    safe_relevant = np.maximum(num_relevant, 1)
    ap = precision_at_hits.sum(axis=1) / safe_relevant
    last_hit_rank = np.where(kept_matches, kept_rank, 0).max(axis=1)
    inp = num_relevant / np.maximum(last_hit_rank, 1).astype(np.float64)

    num_rows, num_gallery = order.shape
    first_hit_position = np.where(valid, kept_matches.argmax(axis=1), num_gallery)
    if not rule.counts_identities:
        hit_rank = kept_rank[np.arange(num_rows), np.minimum(first_hit_position, num_gallery - 1)] - 1
        ids_left = np.full(num_rows, num_gallery)
    else:
        # Position of each gallery image in its row's ranking; dropped images move to the end.
        position = np.empty_like(order)
        np.put_along_axis(position, order, np.arange(num_gallery)[None, :], axis=1)
        kept_by_image = np.empty_like(keep)
        np.put_along_axis(kept_by_image, order, keep, axis=1)
        position = np.where(kept_by_image, position, num_gallery)
        # First kept position of each identity: minimum over its images (grouped by id_order).
        first_position = np.minimum.reduceat(position[:, id_order], id_starts, axis=1)
        ids_left = (first_position < num_gallery).sum(axis=1)
        hit_rank = (first_position < first_hit_position[:, None]).sum(axis=1)
    return {"valid": valid, "ap": ap, "inp": inp, "hit_rank": hit_rank, "ids_left": ids_left}


def kept_ranking(distances, q_pid, g_pids, q_cam=None, g_cams=None, *, rule):
    """Gallery indices of one query in rank order, without those the rule drops.

    Args:
        distances: (G,) distances of the query to the gallery.
        q_pid, q_cam: the query's identity and camera; g_pids, g_cams: (G,) of the gallery.
        rule: a RankingRule or the name of a registered one.
    Returns:
        (K,) int64 indices into the gallery, K <= G: the ranking AP is computed on (stable
        sort; not identity de-duplicated).
    """
    rule = ranking_rule(rule)
    order = np.argsort(np.asarray(distances), kind="stable")
    sorted_cams = np.asarray(g_cams)[order][None, :] if rule.needs_cameras else None
    keep = rule.keep(np.asarray(g_pids)[order][None, :], sorted_cams, np.array([q_pid]), np.array([q_cam]))
    return order[keep[0]]


def query_statistics(distmat, q_pids, g_pids, q_cams=None, g_cams=None, *, rule, chunk_size=256,
                     num_threads=None):
    """Per-query figures of a query x gallery distance matrix under a ranking rule.

    Arguments as ``evaluate``. Returns a dict of (Q,) arrays: ``valid`` (a true match is left
    in the gallery), ``ap`` and ``inp`` (meaningful where valid), ``hit_rank`` (0-based rank
    of the first true match in the CMC's ranking: over identities or images, as the rule
    counts) and ``ids_left`` (distinct identities kept).
    Raises ValueError for bad shapes, an unknown rule, missing cameras or non-finite distances.
    """
    rule = ranking_rule(rule)
    distmat = np.asarray(distmat)
    if distmat.ndim != 2 or 0 in distmat.shape:
        raise ValueError(f"distmat must be a non-empty (num_query, num_gallery) matrix, got shape {distmat.shape}")
    if not np.issubdtype(distmat.dtype, np.floating):
        distmat = distmat.astype(np.float64)
    if not np.isfinite(distmat).all():
        raise ValueError("distmat holds NaN or infinite distances")
    num_query, num_gallery = distmat.shape
    q_pids = _as_vector(q_pids, "q_pids", num_query)
    g_pids = _as_vector(g_pids, "g_pids", num_gallery)
    if rule.needs_cameras:
        if q_cams is None or g_cams is None:
            raise ValueError(f"the ranking rule {type(rule).__name__} needs q_cams and g_cams")
        q_cams = _as_vector(q_cams, "q_cams", num_query)
        g_cams = _as_vector(g_cams, "g_cams", num_gallery)
    else:
        q_cams = g_cams = None

    # Identities as small integers; queries whose identity is absent from the gallery get -1.
    gallery_ids, g_pid_index = np.unique(g_pids, return_inverse=True)
    lookup = np.searchsorted(gallery_ids, q_pids)
    lookup = np.minimum(lookup, len(gallery_ids) - 1)
    q_pid_index = np.where(gallery_ids[lookup] == q_pids, lookup, -1)
    id_order = np.argsort(g_pid_index, kind="stable")
    id_starts = np.flatnonzero(np.r_[True, np.diff(g_pid_index[id_order]) != 0])

    chunks = [np.arange(start, min(start + chunk_size, num_query)) for start in range(0, num_query, chunk_size)]
    threads = num_threads or min(4, os.cpu_count() or 1)

    def run(q_index):
        return _chunk_statistics(distmat, q_pid_index, q_cams, g_pid_index, g_cams, id_order, id_starts, rule, q_index)

    if threads > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:  # numpy's sort releases the GIL
            parts = list(pool.map(run, chunks))
    else:
        parts = [run(q_index) for q_index in chunks]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def evaluate(distmat, q_pids, g_pids, q_cams=None, g_cams=None, *, rule, max_rank=20,
             chunk_size=256, num_threads=None):
    """CMC, mAP and mINP of a query x gallery distance matrix (smaller = more similar).

    Args:
        distmat: (Q, G) distances, any float dtype; used as given (never recomputed).
        q_pids, g_pids: (Q,) and (G,) identities.
        q_cams, g_cams: (Q,) and (G,) camera numbers; required by rules that read cameras.
        rule: a RankingRule or the name of a registered one (a dataset's ``ranking_rule``).
        max_rank: longest CMC rank reported.
        chunk_size: query rows ranked at a time (bounds memory to a few (chunk, G) arrays).
        num_threads: threads ranking chunks in parallel (default: available cores, at most 4).
    Returns:
        dict with ``cmc`` ((L,) float32, entry r = fraction of valid queries whose true
        identity is within the first r+1; L as in the module docstring), ``mAP`` and ``mINP``
        (floats in [0, 1]) and ``num_valid_queries`` (int).
    Raises:
        ValueError: bad shapes, unknown rule, missing cameras, non-finite distances, or no
        query with a true match left in the gallery (nothing to average).
    """
    if int(max_rank) < 1:
        raise ValueError(f"max_rank must be at least 1, got {max_rank}")
    stats = query_statistics(distmat, q_pids, g_pids, q_cams, g_cams, rule=rule, chunk_size=chunk_size,
                             num_threads=num_threads)
    num_gallery = np.asarray(distmat).shape[1]
    valid = stats["valid"]
    num_valid = int(valid.sum())
    if num_valid == 0:
        raise ValueError("no query has a true match left in the gallery: CMC, mAP and mINP are undefined")
    length = int(min(max_rank, num_gallery, stats["ids_left"].max()))
    hit_counts = np.bincount(np.minimum(stats["hit_rank"][valid], length), minlength=length + 1)[:length]
    cmc = np.cumsum(hit_counts).astype(np.float32) / np.float32(num_valid)
    return {
        "cmc": cmc,
        "mAP": float(np.mean(stats["ap"][valid])),
        "mINP": float(np.mean(stats["inp"][valid])),
        "num_valid_queries": num_valid,
    }
