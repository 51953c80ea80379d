"""Evaluate re-id features under a dataset's test protocol.

    python eval.py --eval.features FILE.npz --data.dataset sysu --data.data_path DIR \
        [--eval.mode all|indoor] [--eval.protocol agw|official] [--eval.shots 1|10] \
        [--eval.distance cosine|euclidean] [--eval.normalize true|false] [--eval.rerank true]

FILE.npz holds ``paths`` (image paths relative to data.data_path) and ``features`` (one row
per path). ``{trial}`` in the file name is replaced by the trial number: RegDB trial k is
evaluated with the features of the model trained on trial k (without ``{trial}`` only
data.trial is evaluated). eval.direction "both" runs v2t and t2v (RegDB, LLCM).
Short aliases: --features, --distance, --normalize, --rand_perm_cam, --rerank.
Writes <output_dir>/eval_config.yaml and <output_dir>/eval_results.json.
"""

import json
import os
import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import ConfigError, add_help, load_config

# DESIGN.md's option names -> the dotted config keys.
ALIASES = {
    "features": "eval.features",
    "distance": "eval.distance",
    "normalize": "eval.normalize",
    "rand_perm_cam": "eval.rand_perm_cam",
    "rerank": "eval.rerank",
}
TRIAL_PLACEHOLDER = "{trial}"
RESULTS_FILE = "eval_results.json"
CONFIG_FILE = "eval_config.yaml"


def expand_aliases(argv):
    """argv with ``--alias value`` / ``--alias=value`` rewritten to the dotted keys."""
    rewritten = []
    for token in argv:
        if token.startswith("--"):
            name, equals, value = token[2:].partition("=")
            if name in ALIASES:
                token = f"--{ALIASES[name]}{equals}{value}"
        rewritten.append(token)
    return rewritten


def resolve_trial_path(template, trial):
    """``template`` with ``{trial}`` replaced by the trial number."""
    return template.replace(TRIAL_PLACEHOLDER, str(trial))


def _directions(cfg):
    return ("v2t", "t2v") if cfg.eval.direction == "both" else (cfg.eval.direction,)


def evaluation_trials(cfg, per_trial_models, log=print):
    """Trial numbers to evaluate and a function trial -> dataset reader.

    RegDB: trials 1..eval.trials when every trial has its own model (``per_trial_models``),
    else data.trial alone (a model is only tested on its own split). SYSU-MM01 / LLCM: the
    first eval.trials gallery draws of one reader.
    """
    from src.datasets.registry import open_dataset

    if cfg.data.dataset == "regdb":
        if per_trial_models:
            trials = list(range(1, cfg.eval.trials + 1))
        else:
            trials = [cfg.data.trial]
            if cfg.eval.trials > 1:
                log(f"RegDB: one model per trial and no '{TRIAL_PLACEHOLDER}' in the path, so only data.trial "
                    f"{cfg.data.trial} is evaluated (eval.trials {cfg.eval.trials} needs '{TRIAL_PLACEHOLDER}')")
        readers = {}

        def reader_for(trial):
            if trial not in readers:
                readers[trial] = open_dataset("regdb", cfg.data.data_path, trial=trial)
            return readers[trial]
        return trials, reader_for
    reader = open_dataset(cfg.data.dataset, cfg.data.data_path, trial=cfg.data.trial)
    return list(reader.test_trials[:cfg.eval.trials]), lambda trial: reader


def run_evaluation(cfg, feature_source_for_trial, per_trial_models, log=print):
    """Run the configured protocol on features from ``feature_source_for_trial``.

    Args:
        cfg: resolved configuration (``data.*``, ``eval.*``, ``output_dir``).
        feature_source_for_trial: callable trial -> object with ``features_of(records)``
            ((N, D) features in record order): a ``FeatureTable`` or an
            ``ImageFeatureExtractor``. Return the same object for every trial when one model
            serves all trials, so each image's features are computed once.
        per_trial_models: whether each trial has its own model (RegDB ``{trial}`` paths).
        log: callable taking a line of progress.
    Returns:
        dict direction -> ``run_protocol`` result; also written to
        <output_dir>/eval_results.json with the resolved config in <output_dir>/eval_config.yaml.
    """
    from src.evaluation.protocol import format_table, run_protocol

    trials, reader_for = evaluation_trials(cfg, per_trial_models, log)
    rand_perm_cam = cfg.eval.rand_perm_cam or None
    runs = {}
    for direction in _directions(cfg):
        trial_lists = {trial: reader_for(trial).test_lists(trial, mode=cfg.eval.mode, protocol=cfg.eval.protocol,
                                                           shots=cfg.eval.shots, direction=direction,
                                                           rand_perm_cam=rand_perm_cam)
                       for trial in trials}
        rule = reader_for(trials[0]).evaluation_rule
        runs[direction] = run_protocol(trial_lists, feature_source_for_trial, rule, distance=cfg.eval.distance,
                                       normalize=cfg.eval.normalize, rerank=cfg.eval.rerank,
                                       max_rank=cfg.eval.max_rank, log=log)
        log(format_table(runs[direction], title=f"{cfg.data.dataset} {direction} ({len(trials)} trials)"))
    os.makedirs(cfg.output_dir, exist_ok=True)
    cfg.save(os.path.join(cfg.output_dir, CONFIG_FILE))
    with open(os.path.join(cfg.output_dir, RESULTS_FILE), "w", encoding="utf-8") as handle:
        json.dump({"config": cfg.to_dict(), "results": runs}, handle, indent=1)
    log(f"results written to {os.path.join(cfg.output_dir, RESULTS_FILE)}")
    return runs


def features_file_source(template):
    """trial -> ``FeatureTable`` of ``template`` (with ``{trial}`` filled in), each file read once."""
    from src.evaluation.features import FeatureTable

    tables = {}

    def source_for(trial):
        path = resolve_trial_path(template, trial)
        if path not in tables:
            tables[path] = FeatureTable.load(path)
        return tables[path]
    return source_for


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    add_help(__doc__, argv)
    try:
        cfg = load_config(expand_aliases(argv))
        if cfg.data.dataset == "sysu" and cfg.eval.direction != "v2t":
            raise ConfigError("SYSU-MM01 queries are infrared images: eval.direction does not apply (leave it v2t)")
        if not cfg.eval.features:
            raise ConfigError("set eval.features to a .npz of precomputed features (paths, features)")
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    template = cfg.eval.features
    run_evaluation(cfg, features_file_source(template), per_trial_models=TRIAL_PLACEHOLDER in template)
    return 0


if __name__ == "__main__":
    sys.exit(main())
