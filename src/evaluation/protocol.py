"""The evaluation protocol driver: features once, every trial ranked, the spread reported.

Features are requested once per feature source for the union of the images its trials use
(queries and every trial's gallery), so each image is extracted (or looked up) once and
reused across trials. Where each trial has its own training split (RegDB), trial k is evaluated
with the model of trial k: there each trial has its own source (``feature_source_for_trial``).

Recommended settings (docs/evaluation.md): the SYSU-MM01 official kit ranks by Euclidean
distance on the features as given (``distance="euclidean", normalize=False``); the AGW-family
code bases and RegDB / LLCM results in the literature use L2-normalised features
(``distance="cosine"``, which equals normalised Euclidean in ranking). Re-ranking replaces the
distance by Zhong et al.'s on the (optionally normalised) features' squared Euclidean distance.
"""

import numpy as np

from src.evaluation.distances import l2_normalize, pairwise_distance
from src.evaluation.metrics import evaluate
from src.evaluation.rerank import k_reciprocal_rerank

RANKS = (1, 5, 10, 20)


def query_gallery_distance(query, gallery, distance="cosine", normalize=True, rerank=False):
    """(Q, G) distances: plain ``pairwise_distance``, or k-reciprocal re-ranked.

    With ``rerank`` the features are L2-normalised when ``normalize`` is set and ``distance``
    is not used (re-ranking is defined on squared Euclidean distances).
    """
    if rerank:
        if normalize:
            query, gallery = l2_normalize(query), l2_normalize(gallery)
        return k_reciprocal_rerank(query, gallery)
    return pairwise_distance(query, gallery, distance=distance, normalize=normalize)


def _headline(result, max_rank):
    """Rank-k accuracies (k in RANKS up to max_rank), mAP and mINP of one trial."""
    cmc = result["cmc"]
    figures = {}
    for rank in RANKS:
        if rank <= max_rank:
            # A curve shorter than ``rank`` ended because the gallery ran out of identities:
            # every valid query had been matched by then, so the last value carries on.
            figures[f"rank{rank}"] = float(cmc[min(rank, len(cmc)) - 1])
    figures["mAP"] = result["mAP"]
    figures["mINP"] = result["mINP"]
    return figures


def _unique_records(records):
    seen = {}
    for record in records:
        seen.setdefault(record.path, record)
    return list(seen.values())


def run_protocol(trial_lists, feature_source_for_trial, rule, distance="cosine", normalize=True, rerank=False,
                 max_rank=20, log=None):
    """Evaluate every trial and summarise them.

    Args:
        trial_lists: dict trial number -> TestLists (query and gallery ImageRecords).
        feature_source_for_trial: callable trial -> object with ``features_of(records)``
            returning (N, D) features in record order (e.g. ``FeatureTable``,
            ``ImageFeatureExtractor``). Trials given the same object share its features.
        rule: the RankingRule, or its registered name (the reader's ``ranking_rule``).
        distance, normalize, rerank: see ``query_gallery_distance``.
        max_rank: longest CMC rank.
        log: optional callable taking a progress line.
    Returns:
        dict: ``trials`` (one dict per trial: trial, num_query, num_gallery,
        num_valid_queries, rank1/5/10/20, mAP, mINP as fractions, cmc list), ``mean`` and
        ``std`` (population standard deviation over trials) of the headline figures.
    """
    if not trial_lists:
        raise ValueError("no trials to evaluate")
    sources, trials_of_source = {}, {}
    for trial in trial_lists:
        source = feature_source_for_trial(trial)
        sources[id(source)] = source
        trials_of_source.setdefault(id(source), []).append(trial)

    features_of_trial = {}
    for key, trials in trials_of_source.items():
        records = _unique_records(record for trial in trials
                                  for record in trial_lists[trial].query + trial_lists[trial].gallery)
        if log:
            log(f"features of {len(records)} images for trial(s) {', '.join(map(str, trials))}")
        features = np.asarray(sources[key].features_of(records), dtype=np.float32)
        row_of = {record.path: row for row, record in enumerate(records)}
        for trial in trials:
            features_of_trial[trial] = (features, row_of)

    per_trial = []
    for trial, lists in trial_lists.items():
        if not lists.query or not lists.gallery:
            raise ValueError(f"trial {trial} has {len(lists.query)} queries and {len(lists.gallery)} gallery images")
        features, row_of = features_of_trial[trial]
        query = features[[row_of[record.path] for record in lists.query]]
        gallery = features[[row_of[record.path] for record in lists.gallery]]
        distmat = query_gallery_distance(query, gallery, distance, normalize, rerank)
        result = evaluate(distmat, np.array([r.pid for r in lists.query]), np.array([r.pid for r in lists.gallery]),
                          np.array([r.cam for r in lists.query]), np.array([r.cam for r in lists.gallery]),
                          rule=rule, max_rank=max_rank)
        entry = {"trial": trial, "num_query": len(lists.query), "num_gallery": len(lists.gallery),
                 "num_valid_queries": result["num_valid_queries"]}
        entry.update(_headline(result, max_rank))
        entry["cmc"] = [float(value) for value in result["cmc"]]
        per_trial.append(entry)
        if log:
            log(f"trial {trial}: Rank-1 {100 * entry['rank1']:.2f}  mAP {100 * entry['mAP']:.2f}  "
                f"mINP {100 * entry['mINP']:.2f}")

    names = [name for name in per_trial[0] if name.startswith("rank") or name in ("mAP", "mINP")]
    return {
        "trials": per_trial,
        "mean": {name: float(np.mean([entry[name] for entry in per_trial])) for name in names},
        "std": {name: float(np.std([entry[name] for entry in per_trial])) for name in names},
    }


def format_table(results, title=""):
    """Text table of a ``run_protocol`` result: one row per trial, then mean and std, in %."""
    names = list(results["mean"])
    header = f"{'trial':>6} " + " ".join(f"{name:>8}" for name in names)
    lines = [title] if title else []
    lines += [header, "-" * len(header)]
    for entry in results["trials"]:
        lines.append(f"{entry['trial']:>6} " + " ".join(f"{100 * entry[name]:8.2f}" for name in names))
    lines.append("-" * len(header))
    lines.append(f"{'mean':>6} " + " ".join(f"{100 * results['mean'][name]:8.2f}" for name in names))
    lines.append(f"{'std':>6} " + " ".join(f"{100 * results['std'][name]:8.2f}" for name in names))
    return "\n".join(lines)
