"""Evaluation runs: which trials, which features (saved file, checkpoint or MINDIR), the
protocol, and the files written. ``eval.py`` and the training demo call ``run_evaluation``.

Nothing is written to the output folder until the evaluation has finished: then the results,
the resolved config and the log (``eval.log``, appended) are written together.
"""

import json
import os

from src.datasets.dataset import configured_test_options, reader_from_config
from src.engine.builders import feature_extractor, image_extractor
from src.engine.mindir import mindir_pair
from src.evaluation.features import FeatureTable, RecordingFeatureSource
from src.evaluation.protocol import format_table, run_protocol
from src.models.network import build_network
from src.models.pretrained import checkpoint_num_classes, load_network_checkpoint
from src.options import Option, Options
from src.utils.run_log import attach_log_file, get_logger


EVALUATION_OPTIONS = Options(
    Option("eval.checkpoint", "", "network checkpoint, exported .mindir, or empty with eval.features"),
    Option("eval.features", "", ".npz of precomputed features (paths, features) to evaluate instead"),
    Option("eval.save_features", "",
           "also write the evaluated features to this .npz (eval.features reads it back; {trial}: one per RegDB trial)",
           ),
    Option("eval.trials", 10, "number of gallery trials to average", minimum=1, maximum=10),
    Option("eval.batch_size", 64, "feature extraction batch size", minimum=1),
    Option("eval.flip_tta", True, "average each feature with that of the mirrored image"),
    Option("eval.rerank", False, "k-reciprocal re-ranking (k1=20, k2=6, lambda=0.3)"),
    Option("eval.max_rank", 20, "longest CMC rank reported", minimum=1),
)

TRIAL_PLACEHOLDER = "{trial}"
RESULTS_FILE = "eval_results.json"
CONFIG_FILE = "eval_config.yaml"
LOG_FILE = "eval.log"


def resolve_trial_path(template, trial):
    """``template`` with ``{trial}`` replaced by the trial number."""
    return template.replace(TRIAL_PLACEHOLDER, str(trial))


def _log(line):
    get_logger().info(line)


def evaluation_trials(cfg, per_trial_models, log=_log):
    """Trial numbers to evaluate and a function trial -> dataset reader.

    A dataset whose trials each have their own training split (RegDB): trials
    1..eval.trials when every trial has its own model (``per_trial_models``), else the
    configured reader's own trial alone (a model is only tested on its own split). Other
    datasets: the first eval.trials trials of one reader.
    """
    reader = reader_from_config(cfg.data)
    if not reader.trial_has_own_training_split:
        return list(reader.test_trials[:cfg.eval.trials]), lambda trial: reader
    if per_trial_models:
        trials = list(reader.trials[:cfg.eval.trials])
    else:
        trials = list(reader.test_trials)
        if cfg.eval.trials > 1:
            log(f"{reader.title}: one model per trial and no '{TRIAL_PLACEHOLDER}' in the path, so only data.trial "
                f"{trials[0]} is evaluated (eval.trials {cfg.eval.trials} needs '{TRIAL_PLACEHOLDER}')")
    readers = {}

    def reader_for(trial):
        if trial not in readers:
            readers[trial] = reader.for_trial(trial)
        return readers[trial]
    return trials, reader_for


def run_evaluation(cfg, feature_source_for_trial, per_trial_models, log=_log):
    """Run the configured protocol on features from ``feature_source_for_trial``.

    Args:
        cfg: resolved configuration (``data.*``, ``eval.*``, ``output_dir``).
        feature_source_for_trial: callable trial -> object with ``features_of(records)``
            ((N, D) features in record order): a ``FeatureTable`` or an
            ``ImageFeatureExtractor``. Return the same object for every trial when one model
            serves all trials, so each image's features are computed once.
        per_trial_models: whether each trial has its own model (``{trial}`` in the path; for
            datasets whose trials each have their own training split).
        log: callable taking a line of progress.
    Returns:
        dict direction -> ``run_protocol`` result (the directions of
        ``configured_test_options``); also written to
        <output_dir>/eval_results.json with the resolved config in <output_dir>/eval_config.yaml
        and the log so far appended to <output_dir>/eval.log.
    """
    options_of_direction = configured_test_options(cfg.data.dataset, cfg.eval)
    trials, reader_for = evaluation_trials(cfg, per_trial_models, log)
    rule = reader_for(trials[0]).ranking_rule
    runs = {}
    for direction, options in options_of_direction.items():
        trial_lists = {trial: reader_for(trial).test_lists(trial, options) for trial in trials}
        runs[direction] = run_protocol(trial_lists, feature_source_for_trial, rule, distance=cfg.eval.distance,
                                       normalize=cfg.eval.normalize, rerank=cfg.eval.rerank,
                                       max_rank=cfg.eval.max_rank, log=log)
        log(format_table(runs[direction], title=f"{cfg.data.dataset} {direction} ({len(trials)} trials)"))
    os.makedirs(cfg.output_dir, exist_ok=True)
    attach_log_file(os.path.join(cfg.output_dir, LOG_FILE))
    cfg.save(os.path.join(cfg.output_dir, CONFIG_FILE))
    with open(os.path.join(cfg.output_dir, RESULTS_FILE), "w", encoding="utf-8") as handle:
        json.dump({"config": cfg.to_dict(), "results": runs}, handle, indent=1)
    log(f"results written to {os.path.join(cfg.output_dir, RESULTS_FILE)}")
    return runs


def features_file_source(template):
    """trial -> ``FeatureTable`` of ``template`` (with ``{trial}`` filled in), each file read once."""
    tables = {}

    def source_for(trial):
        path = resolve_trial_path(template, trial)
        if path not in tables:
            tables[path] = FeatureTable.load(path)
        return tables[path]
    return source_for


def checkpoint_source(cfg, template):
    """trial -> feature extractor running the network of checkpoint ``template`` (``{trial}`` filled in).

    A ``.ckpt`` is loaded into a network built from ``cfg.model`` (its identity count read
    from the file); a ``.mindir`` names one of the pair that export.py writes
    (``NAME_visible.mindir`` and ``NAME_infrared.mindir``), and both are loaded.
    """
    extractors = {}

    def source_for(trial):
        path = resolve_trial_path(template, trial)
        if path not in extractors:
            if path.endswith(".mindir"):
                extractors[path] = image_extractor(cfg, mindir_pair(path))
            else:
                network = build_network(cfg, checkpoint_num_classes(path))
                _log(load_network_checkpoint(network, path).summary())
                extractors[path] = feature_extractor(cfg, network)
        return extractors[path]
    return source_for


def feature_kind(cfg, checkpoint):
    """Words for a features file saying which features it holds and where they came from."""
    if checkpoint.endswith(".mindir"):
        return f"the exported model's test feature ({os.path.basename(checkpoint)})"
    return f"{cfg.model.test_feature} of {cfg.model.test_branches} branches ({os.path.basename(checkpoint)})"


def recording_source(source_for_trial):
    """(trial -> RecordingFeatureSource, dict trial -> that recorder), one recorder per wrapped source."""
    recorders, used = {}, {}

    def source_for(trial):
        source = source_for_trial(trial)
        if id(source) not in recorders:
            recorders[id(source)] = RecordingFeatureSource(source)
        used[trial] = recorders[id(source)]
        return used[trial]
    return source_for, used


def save_recorded_features(template, recorders_of_trial, kind, log=_log):
    """Write each recorder's features to ``template`` (``{trial}`` filled in); returns the paths written.

    Trials that share a model share a recorder and, without ``{trial}``, one file.
    """
    written = {resolve_trial_path(template, trial): recorder for trial, recorder in recorders_of_trial.items()}
    for path, recorder in written.items():
        recorder.save(path, kind)
        log(f"features of {len(recorder.rows)} images written to {path}")
    return list(written)


def evaluate_from_config(cfg, log=_log):
    """Evaluate ``eval.features`` (saved features) or ``eval.checkpoint`` (.ckpt or .mindir) under the protocol.

    With ``eval.save_features`` the features that were evaluated are also written there
    (``write_feature_file``'s format, which ``eval.features`` reads back).
    """
    template = cfg.eval.features or cfg.eval.checkpoint
    if not template:
        raise ValueError("set eval.features (a .npz of saved features) or eval.checkpoint (.ckpt or .mindir)")
    if cfg.eval.features:
        return run_evaluation(cfg, features_file_source(template), per_trial_models=TRIAL_PLACEHOLDER in template,
                              log=log)
    if cfg.eval.save_features and TRIAL_PLACEHOLDER in template and TRIAL_PLACEHOLDER not in cfg.eval.save_features:
        raise ValueError(f"eval.save_features {cfg.eval.save_features}: each trial has its own model, so the file "
                         f"name needs '{TRIAL_PLACEHOLDER}' (one file per trial)")
    source = checkpoint_source(cfg, template)
    if cfg.eval.save_features:
        source, recorders = recording_source(source)
    runs = run_evaluation(cfg, source, per_trial_models=TRIAL_PLACEHOLDER in template, log=log)
    if cfg.eval.save_features:
        save_recorded_features(cfg.eval.save_features, recorders, feature_kind(cfg, template), log)
    return runs
