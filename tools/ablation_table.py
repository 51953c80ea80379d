"""The Table-3-shaped summary of an ablation study: each row's Rank-1 and mAP over seeds, and
the full method's paired differences against the rows it is meant to beat.

Works on plain dicts (what tools/run_ablation.py collects from the runs' eval_results.json),
so the arithmetic is checked without training anything. Figures are percentages.
"""

import numpy as np

FEATURES = ("v", "z")
METRICS = {"rank1": "Rank-1", "mAP": "mAP"}
# (row, against): the full method (row 12) against its own branches and bottlenecks trained
# with L_ReID only (row 6) and trained as a conventional information bottleneck (row 9).
PAIRED_DIFFERENCES = ((12, 6), (12, 9))


def spread(values):
    """Summary of per-seed percentages.

    Returns:
        dict: ``values`` (as given), ``n``, ``mean`` (None when n = 0) and ``std``, the sample
        standard deviation (ddof 1, the spread one expects from another seed; None when n < 2).
    """
    values = [float(value) for value in values]
    return {"values": values, "n": len(values),
            "mean": float(np.mean(values)) if values else None,
            "std": float(np.std(values, ddof=1)) if len(values) > 1 else None}


def _figures(run, feature, direction):
    """{metric: percentage} of one run's feature and direction, or None when it has none."""
    return (run.get("results") or {}).get(feature, {}).get(direction)


def row_summary(row, direction):
    """Mean and spread over the seeds of one row (the ``rows`` entries of ``build_table``)."""
    summary = {"row": row["row"], "description": row["description"], "n": 0}
    for feature in FEATURES:
        if feature == "z" and not row["has_z"]:
            summary[feature] = None
            continue
        figures = [_figures(run, feature, direction) for run in row["runs"]]
        figures = [entry for entry in figures if entry is not None]
        summary[feature] = {metric: spread([entry[metric] for entry in figures]) for metric in METRICS}
    summary["n"] = summary["v"]["rank1"]["n"]
    return summary


def paired_difference(row, against, direction):
    """Per-seed differences ``row`` minus ``against`` (same seed on both sides) and their spread.

    A seed enters a feature's difference only when both rows have that feature's result for it;
    z is compared only when both rows have a bottleneck.
    """
    other = {run["seed"]: run for run in against["runs"]}
    features = [feature for feature in FEATURES if feature == "v" or (row["has_z"] and against["has_z"])]
    per_seed, collected = [], {feature: {metric: [] for metric in METRICS} for feature in features}
    for run in row["runs"]:
        if run["seed"] not in other:
            continue
        entry = {"seed": run["seed"]}
        for feature in FEATURES:
            mine, theirs = _figures(run, feature, direction), _figures(other[run["seed"]], feature, direction)
            if feature not in features or mine is None or theirs is None:
                entry[feature] = None
                continue
            entry[feature] = {metric: mine[metric] - theirs[metric] for metric in METRICS}
            for metric in METRICS:
                collected[feature][metric].append(entry[feature][metric])
        per_seed.append(entry)
    summary = {feature: ({metric: spread(collected[feature][metric]) for metric in METRICS}
                         if feature in features else None) for feature in FEATURES}
    return {"row": row["row"], "against": against["row"], "per_seed": per_seed, "mean": summary}


def build_table(rows, directions, setup):
    """The whole table as a JSON-ready dict.

    Args:
        rows: one dict per Table 3 row: ``row`` (number), ``description``, ``has_z`` and
            ``runs``, one per seed: ``seed``, ``folder``, ``status`` ("finished" or "failed"),
            ``failure`` (what failed, or None) and ``results`` {feature: {direction:
            {"rank1", "mAP"} in %}}.
        directions: query directions evaluated ("v2t"; RegDB / LLCM may add "t2v").
        setup: what was run (dataset, preset, overrides, seeds), stored as given.
    Returns:
        dict: ``setup``, ``rows`` (as given), ``summary`` {direction: [row_summary ...]},
        ``differences`` {direction: [paired_difference ...]} for the pairs in
        PAIRED_DIFFERENCES whose rows were run.
    """
    by_number = {row["row"]: row for row in rows}
    pairs = [(a, b) for a, b in PAIRED_DIFFERENCES if a in by_number and b in by_number]
    return {
        "setup": setup,
        "rows": rows,
        "summary": {direction: [row_summary(row, direction) for row in rows] for direction in directions},
        "differences": {direction: [paired_difference(by_number[a], by_number[b], direction) for a, b in pairs]
                        for direction in directions},
    }


def _cell(summary, row_n, signed=False):
    """'mean ± std' of a spread; '-' without values; the count when it differs from the row's."""
    if summary is None or summary["n"] == 0:
        return "-"
    sign = "+" if signed else ""
    text = f"{summary['mean']:{sign}.2f}"
    if summary["std"] is not None:
        text += f" ± {summary['std']:.2f}"
    if summary["n"] != row_n:
        text += f" (n={summary['n']})"
    return text


def _value(figures, metric):
    return "-" if figures is None else f"{figures[metric]:+.2f}"


def _columns():
    return [f"{feature} {label}" for feature in FEATURES for label in METRICS.values()]


def markdown(table):
    """The table as Markdown: the summary per direction, the paired differences, the failed runs."""
    setup = table["setup"]
    lines = [f"# Table 3 ablation: {setup['dataset']}, preset {setup['preset']}", "",
             f"Seeds {', '.join(map(str, setup['seeds']))}; overrides: "
             f"{'`' + ' '.join(setup['overrides']) + '`' if setup['overrides'] else 'none'}. "
             "Rank-1 and mAP in %, mean ± sample standard deviation over the seeds whose runs finished (n); "
             "'-': no such feature (no bottleneck) or no finished run.", ""]
    for direction, summaries in table["summary"].items():
        lines += [f"## {direction}", "", "| row | description | n | " + " | ".join(_columns()) + " |",
                  "| --- | --- | --- |" + " --- |" * len(_columns())]
        for summary in summaries:
            cells = [_cell(summary[feature][metric] if summary[feature] else None, summary["n"])
                     for feature in FEATURES for metric in METRICS]
            lines.append(f"| {summary['row']:02d} | {summary['description']} | {summary['n']} | "
                         + " | ".join(cells) + " |")
        lines.append("")
        for difference in table["differences"][direction]:
            lines += [f"### Row {difference['row']:02d} minus row {difference['against']:02d}, per seed ({direction})",
                      "", "| seed | " + " | ".join(_columns()) + " |", "| --- |" + " --- |" * len(_columns())]
            for entry in difference["per_seed"]:
                lines.append(f"| {entry['seed']} | " + " | ".join(_value(entry[feature], metric) for feature in FEATURES
                                                                  for metric in METRICS) + " |")
            mean = difference["mean"]
            count = mean["v"]["rank1"]["n"]
            lines.append("| mean | " + " | ".join(_cell(mean[feature][metric] if mean[feature] else None, count,
                                                         signed=True)
                                                   for feature in FEATURES for metric in METRICS) + " |")
            lines.append("")
    failed = [(row, run) for row in table["rows"] for run in row["runs"] if run["status"] == "failed"]
    if failed:
        lines += ["## Failed runs", "", "| row | seed | what failed | log |", "| --- | --- | --- | --- |"]
        lines += [f"| {row['row']:02d} | {run['seed']} | {run['failure']} | {run['log']} |" for row, run in failed]
        lines.append("")
    return "\n".join(lines)
