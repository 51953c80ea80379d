"""SYSU-MM01's query direction before datasets declared theirs, and how what was saved then is read.

Up to commit abe5095 (2026-12-04) the direction of a result was ``eval.direction`` itself, "v2t"
by default, and SYSU-MM01, whose test options have no direction, had to keep that default. So
every SYSU-MM01 configuration saved then holds ``eval.direction: v2t`` and every SYSU-MM01 result
is stored under "v2t", although its queries are infrared images searched in the visible gallery:
"t2v", the one direction SYSU-MM01 now declares (``src.datasets.dataset``), which refuses "v2t".
A configuration saved then is read with ``eval.direction: standard`` (what it meant: the
dataset's own), and its results under "t2v". Nothing else changed meaning: RegDB's and LLCM's
"v2t" still is v2t.
"""

DATASET = "sysu"
STORED_AS = "v2t"
DIRECTION = "t2v"


def _dataset(content):
    data = content.get("data")
    return data.get("dataset") if isinstance(data, dict) else None


def eval_direction_as_now(content):
    """``content`` (a preset's or a saved configuration's nested mapping), with the
    ``eval.direction`` "v2t" of a SYSU-MM01 configuration read as "standard"."""
    section = content.get("eval")
    if _dataset(content) != DATASET or not isinstance(section, dict) or section.get("direction") != STORED_AS:
        return content
    return {**content, "eval": {**section, "direction": "standard"}}


def results_as_now(eval_results):
    """The ``results`` of an eval_results.json ({direction: figures}), a SYSU-MM01 result stored
    under "v2t" given under "t2v"; every other result as stored."""
    results = eval_results["results"]
    if _dataset(eval_results.get("config", {})) != DATASET:
        return results
    return {DIRECTION if direction == STORED_AS else direction: figures for direction, figures in results.items()}
