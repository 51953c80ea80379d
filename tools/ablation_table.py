"""The Table-3-shaped summary of an ablation study: each row's Rank-1 and mAP over seeds beside
the paper's own Table 3, and the paired differences the paper discusses, with 95% confidence
intervals over seeds and whether they agree with the paper's.

Works on plain dicts (what tools/run_ablation.py collects from the runs' eval_results.json),
so the arithmetic is checked without training anything. Figures are percentages.
"""

import math

import numpy as np
from scipy.stats import t as student_t

FEATURES = ("v", "z")
METRICS = {"rank1": "Rank-1", "mAP": "mAP"}
# (row, against): what each part of the method adds over the same branches and bottlenecks
# trained with L_ReID only, for all branches (12 - 6), the view-specific branches E_I/E_V
# (VSD: 11 - 5) and the shared branch E_S (VCD + VML: 10 - 4); and the full method against
# all branches trained as a conventional information bottleneck (12 - 9).
PAIRED_DIFFERENCES = ((12, 6), (11, 5), (10, 4), (12, 9))
# Level of the confidence intervals of the paired differences (Student's t over seeds).
CONFIDENCE = 0.95
# The paper's Table 3: Tian et al., "Farewell to Mutual Information: Variational Distillation
# for Cross-Modal Person Re-Identification", CVPR 2021, Table 3 (SYSU-MM01 all-search
# single-shot, %). Row: (v Rank-1, v mAP, z Rank-1, z mAP); None where the paper has "-"
# (rows 1-3 have no bottleneck, hence no z).
PAPER_TABLE_3 = {
    1: (44.95, 46.27, None, None),
    2: (47.25, 48.31, None, None),
    3: (48.82, 49.95, None, None),
    4: (47.20, 47.03, 38.33, 41.81),
    5: (53.27, 51.92, 41.15, 43.60),
    6: (54.85, 53.97, 42.04, 44.30),
    7: (8.55, 11.01, 24.34, 28.01),
    8: (7.76, 9.77, 28.69, 32.42),
    9: (8.79, 11.23, 30.43, 33.67),
    10: (49.22, 48.74, 41.48, 43.02),
    11: (59.62, 57.99, 50.11, 51.24),
    12: (60.02, 58.80, 50.62, 51.55),
}
PAPER_SETTING = "SYSU-MM01 all-search single-shot"


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


def confidence_interval(values, confidence=CONFIDENCE):
    """``spread`` of per-seed values plus a Student's t confidence interval for their mean.

    Returns:
        dict: what ``spread`` returns, and ``half_width`` = t_{(1+confidence)/2, n-1} * std /
        sqrt(n) and ``interval`` [mean - half_width, mean + half_width] (both None when n < 2).
    """
    summary = spread(values)
    summary["half_width"] = summary["interval"] = None
    if summary["n"] > 1:
        quantile = float(student_t.ppf((1 + confidence) / 2, summary["n"] - 1))
        summary["half_width"] = quantile * summary["std"] / math.sqrt(summary["n"])
        summary["interval"] = [summary["mean"] - summary["half_width"], summary["mean"] + summary["half_width"]]
    return summary


def paper_figures(row):
    """{feature: {metric: %} or None} of a row of the paper's Table 3; None for a row it lacks."""
    if row not in PAPER_TABLE_3:
        return None
    figures = dict(zip(((feature, metric) for feature in FEATURES for metric in METRICS), PAPER_TABLE_3[row]))
    return {feature: (None if any(figures[feature, metric] is None for metric in METRICS)
                      else {metric: figures[feature, metric] for metric in METRICS}) for feature in FEATURES}


def paper_difference(row, against):
    """{feature: {metric: row minus against in the paper's Table 3, rounded to its 2 decimals}
    or None where either row lacks the feature}."""
    mine, theirs = paper_figures(row) or {}, paper_figures(against) or {}
    return {feature: ({metric: round(mine[feature][metric] - theirs[feature][metric], 2) for metric in METRICS}
                      if mine.get(feature) and theirs.get(feature) else None) for feature in FEATURES}


def verdict(interval, paper):
    """Whether our confidence interval of a difference agrees with the paper's difference.

    "holds": the interval lies entirely on the paper's side of 0 (above 0 for a positive paper
    difference, below for a negative one); "opposite": entirely on the other side; "within
    noise": it contains 0; "-": no interval (n < 2), or no paper difference or one of 0.
    """
    if interval is None or paper is None or paper == 0:
        return "-"
    low, high = interval
    if low > 0 or high < 0:
        return "holds" if (low > 0) == (paper > 0) else "opposite"
    return "within noise"


def _figures(run, feature, direction):
    """{metric: percentage} of one run's feature and direction, or None when it has none."""
    return (run.get("results") or {}).get(feature, {}).get(direction)


def row_summary(row, direction):
    """Mean and spread over the seeds of one row (the ``rows`` entries of ``build_table``), and
    the paper's figures for that row (``paper``, see ``paper_figures``)."""
    summary = {"row": row["row"], "description": row["description"], "n": 0}
    for feature in FEATURES:
        if feature == "z" and not row["has_z"]:
            summary[feature] = None
            continue
        figures = [_figures(run, feature, direction) for run in row["runs"]]
        figures = [entry for entry in figures if entry is not None]
        summary[feature] = {metric: spread([entry[metric] for entry in figures]) for metric in METRICS}
    summary["n"] = summary["v"]["rank1"]["n"]
    summary["paper"] = paper_figures(row["row"])
    return summary


def paired_difference(row, against, direction):
    """Per-seed differences ``row`` minus ``against`` (paired by seed), their mean with a 95%
    Student's t interval over seeds, the paper's difference and whether ours agrees with it.

    A seed enters a feature's difference only when both rows have that feature's result for it;
    z is compared only when both rows have a bottleneck.

    Returns:
        dict: ``row``, ``against``, ``per_seed`` [{"seed", feature: {metric: difference} or
        None}], ``mean`` {feature: {metric: ``confidence_interval`` of the per-seed
        differences} or None}, ``paper`` (``paper_difference``) and ``verdict`` {feature:
        {metric: ``verdict``} or None}.
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
    summary = {feature: ({metric: confidence_interval(collected[feature][metric]) for metric in METRICS}
                         if feature in features else None) for feature in FEATURES}
    paper = paper_difference(row["row"], against["row"])
    verdicts = {feature: ({metric: verdict(summary[feature][metric]["interval"],
                                           (paper[feature] or {}).get(metric)) for metric in METRICS}
                          if summary[feature] else None) for feature in FEATURES}
    return {"row": row["row"], "against": against["row"], "per_seed": per_seed, "mean": summary,
            "paper": paper, "verdict": verdicts}


def build_table(rows, directions, setup):
    """The whole table as a JSON-ready dict.

    Args:
        rows: one dict per Table 3 row: ``row`` (number), ``description``, ``has_z`` and
            ``runs``, one per seed: ``seed``, ``folder``, ``status`` ("finished" or "failed"),
            ``failure`` (what failed, or None) and ``results`` {feature: {direction:
            {"rank1", "mAP"} in %}}.
        directions: query directions evaluated (SYSU-MM01 "t2v"; RegDB / LLCM "v2t" and / or "t2v").
        setup: what was run (dataset, preset, overrides, seeds), stored as given.
    Returns:
        dict: ``setup``, ``rows`` (as given), ``summary`` {direction: [row_summary ...]} (with the
        paper's figures of each row), ``differences`` {direction: [paired_difference ...]} for
        the pairs in PAIRED_DIFFERENCES whose two rows were both run, ``confidence`` (the level
        of their intervals) and ``paper_setting`` (what the paper's figures measure).
    """
    by_number = {row["row"]: row for row in rows}
    pairs = [(a, b) for a, b in PAIRED_DIFFERENCES if a in by_number and b in by_number]
    return {
        "setup": setup,
        "rows": rows,
        "summary": {direction: [row_summary(row, direction) for row in rows] for direction in directions},
        "differences": {direction: [paired_difference(by_number[a], by_number[b], direction) for a, b in pairs]
                        for direction in directions},
        "confidence": CONFIDENCE,
        "paper_setting": f"the paper's Table 3, {PAPER_SETTING}, %",
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


def _interval_cell(summary, count=None):
    """'+mean [+low, +high]' of a ``confidence_interval``; '-' without values; the count when it
    differs from ``count`` (or always, without an interval)."""
    if summary is None or summary["n"] == 0:
        return "-"
    text = f"{summary['mean']:+.2f}"
    if summary["interval"] is not None:
        low, high = summary["interval"]
        text += f" [{low:+.2f}, {high:+.2f}]"
    if summary["n"] != count or summary["interval"] is None:
        text += f" (n={summary['n']})"
    return text


def _value(figures, metric):
    return "-" if figures is None else f"{figures[metric]:+.2f}"


def _paper_value(figures, metric, signed=False):
    return "-" if figures is None else f"{figures[metric]:{'+' if signed else ''}.2f}"


def _columns():
    return [f"{feature} {label}" for feature in FEATURES for label in METRICS.values()]


def _pair_name(difference):
    return f"{difference['row']:02d} - {difference['against']:02d}"


def _summary_lines(summaries):
    """The rows' table, each figure of ours beside the paper's."""
    header = [text for feature in FEATURES for metric, label in METRICS.items()
              for text in (f"{feature} {label}", f"paper {feature} {label}")]
    lines = ["| row | description | n | " + " | ".join(header) + " |", "| --- | --- | --- |" + " --- |" * len(header)]
    for summary in summaries:
        paper = summary.get("paper") or {}
        cells = [text for feature in FEATURES for metric in METRICS
                 for text in (_cell(summary[feature][metric] if summary[feature] else None, summary["n"]),
                              _paper_value(paper.get(feature), metric))]
        lines.append(f"| {summary['row']:02d} | {summary['description']} | {summary['n']} | "
                     + " | ".join(cells) + " |")
    return lines + [""]


def _pairs_lines(differences, direction, confidence):
    """The compact table of the paired differences: one line per pair and feature."""
    level = f"{100 * confidence:g}%"
    header = [f"{label}: {text}" for label in METRICS.values()
              for text in (f"ours, mean [{level} CI]", "paper", "verdict")]
    lines = [f"### Paired differences ({direction})", "",
             f"Row minus row: ours is the mean over seeds of the per-seed difference (paired by seed) with, "
             f"in brackets, a {level} Student's t interval over the n seeds (mean ± t({(1 + confidence) / 2:g}, "
             "n-1) · s / √n, "
             "s the sample standard deviation of the per-seed differences); paper: the same difference in "
             f"the paper's Table 3. Verdict: 'holds' when the interval lies entirely on the paper's side of 0, "
             "'opposite' when entirely on the other side, 'within noise' when it contains 0, '-' when n < 2.",
             "", "| pair | feature | n | " + " | ".join(header) + " |",
             "| --- | --- | --- |" + " --- |" * len(header)]
    for difference in differences:
        for feature in FEATURES:
            mean, paper = difference["mean"][feature], difference["paper"][feature]
            count = mean["rank1"]["n"] if mean else 0
            cells = [text for metric in METRICS for text in (
                _interval_cell(mean[metric] if mean else None, count), _paper_value(paper, metric, signed=True),
                difference["verdict"][feature][metric] if difference["verdict"][feature] else "-")]
            lines.append(f"| {_pair_name(difference)} | {feature} | {count} | " + " | ".join(cells) + " |")
    return lines + [""]


def _per_seed_lines(difference, direction, confidence):
    """One pair's per-seed differences, their mean with its interval, and the paper's difference."""
    mean = difference["mean"]
    count = mean["v"]["rank1"]["n"]
    level = f"{100 * confidence:g}%"
    lines = [f"### Row {difference['row']:02d} minus row {difference['against']:02d}, per seed ({direction})",
             "", "| seed | " + " | ".join(_columns()) + " |", "| --- |" + " --- |" * len(_columns())]
    for entry in difference["per_seed"]:
        lines.append(f"| {entry['seed']} | " + " | ".join(_value(entry[feature], metric) for feature in FEATURES
                                                          for metric in METRICS) + " |")
    lines.append(f"| mean [{level} CI] | " + " | ".join(_interval_cell(mean[feature][metric] if mean[feature] else None,
                                                                      count)
                                                       for feature in FEATURES for metric in METRICS) + " |")
    lines.append("| paper | " + " | ".join(_paper_value(difference["paper"][feature], metric, signed=True)
                                         for feature in FEATURES for metric in METRICS) + " |")
    lines += ["", f"Mean [{level} CI]: mean of the per-seed differences, paired by seed, and in brackets their "
                  f"{level} t interval over the n = {count} seeds (none when n < 2; (n=...): a feature with another "
                  "count). Paper: the same difference in the paper's Table 3.", ""]
    return lines


def markdown(table):
    """The table as Markdown: per direction the rows beside the paper's Table 3, the paired
    differences with their confidence intervals and verdicts, each pair per seed; the failed runs."""
    setup = table["setup"]
    confidence = table.get("confidence", CONFIDENCE)
    lines = [f"# Table 3 ablation: {setup['dataset']}, preset {setup['preset']}", "",
             f"Seeds {', '.join(map(str, setup['seeds']))}; overrides: "
             f"{'`' + ' '.join(setup['overrides']) + '`' if setup['overrides'] else 'none'}. "
             "Rank-1 and mAP in %, mean ± sample standard deviation over the seeds whose runs finished (n); "
             "'-': no such feature (no bottleneck) or no finished run. "
             f"'paper': the paper's Table 3 ({PAPER_SETTING}, its data and budget, not this run's), "
             "for reference.", ""]
    for direction, summaries in table["summary"].items():
        lines += [f"## {direction}", ""] + _summary_lines(summaries)
        differences = table["differences"][direction]
        if differences:
            lines += _pairs_lines(differences, direction, confidence)
        for difference in differences:
            lines += _per_seed_lines(difference, direction, confidence)
    failed = [(row, run) for row in table["rows"] for run in row["runs"] if run["status"] == "failed"]
    if failed:
        lines += ["## Failed runs", "", "| row | seed | what failed | log |", "| --- | --- | --- | --- |"]
        lines += [f"| {row['row']:02d} | {run['seed']} | {run['failure']} | {run['log']} |" for row, run in failed]
        lines.append("")
    return "\n".join(lines)
