"""Evaluate a checkpoint, an exported MINDIR or saved features under a dataset's test protocol.

    python eval.py --eval.checkpoint RUN/checkpoints/network_last.ckpt --config_path RUN/config.yaml
    python eval.py --eval.features FILE.npz --data.dataset sysu --data.data_path DIR \
        [--eval.mode all|indoor] [--eval.protocol agw|official] [--eval.shots 1|10] \
        [--eval.distance cosine|euclidean|inner_product] [--eval.normalize true|false] [--eval.rerank true]

A checkpoint is evaluated with the network described by the config (pass the training run's
config.yaml); a MINDIR path names one of the pair export.py writes (NAME_visible.mindir,
NAME_infrared.mindir). FILE.npz holds ``paths`` (image paths relative to data.data_path) and ``features`` (one row
per path). ``{trial}`` in the file name is replaced by the trial number: where each trial has its
own training split (RegDB), trial k is evaluated with the checkpoint / features of the model
trained on trial k (without ``{trial}`` only data.trial is evaluated). eval.direction "standard"
evaluates the dataset's own direction (v2t, visible queries; SYSU-MM01: t2v, infrared queries, the
only one it tests), "both" each direction the dataset tests (RegDB, LLCM: v2t and t2v). Settings a
dataset does not read (eval.mode on RegDB) must keep their defaults.
``--eval.save_features OUT.npz`` also writes the features a checkpoint or MINDIR gave (the
format of ``--features``, plus each image's modality, pid, cam and the feature kind; RegDB:
put ``{trial}`` in OUT for one file per trial).
Short aliases: --features, --save_features, --distance, --normalize, --rand_perm_cam, --rerank.
Writes <output_dir>/eval_config.yaml, <output_dir>/eval_results.json and <output_dir>/eval.log (appended).
"""

import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import ConfigError, load_config, print_help_if_asked
from src.datasets.dataset import configured_test_options
from src.errors import report_and_exit_status, report_error
from src.utils.run_log import start_logging

# Short option names -> the dotted config keys.
ALIASES = {
    "features": "eval.features",
    "save_features": "eval.save_features",
    "distance": "eval.distance",
    "normalize": "eval.normalize",
    "rand_perm_cam": "eval.rand_perm_cam",
    "rerank": "eval.rerank",
}


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


def check_eval_options(cfg):
    """Raise ConfigError for settings that do not go together."""
    configured_test_options(cfg.data.dataset, cfg.eval)
    if not cfg.eval.features and not cfg.eval.checkpoint:
        raise ConfigError("set eval.features (a .npz of saved features: paths, features) or eval.checkpoint "
                          "(a network .ckpt or an exported .mindir)")
    if cfg.eval.save_features and cfg.eval.features:
        raise ConfigError("eval.save_features writes the features a checkpoint gives; with eval.features "
                          "they are already in a file")


def main(argv=None):
    """Exit status 0, or 2 after one ``error: ...`` line for a configuration error; other
    anticipated errors (src.errors) propagate, and become that line when run as a script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    print_help_if_asked(__doc__, argv, extra_options=[(f"--{alias}", f"same as --{key}")
                                                      for alias, key in ALIASES.items()])
    start_logging()
    try:
        cfg = load_config(expand_aliases(argv))
        check_eval_options(cfg)
    except ConfigError as error:
        return report_error(error)
    from src.engine.context import setup_context
    from src.engine.evaluator import evaluate_from_config
    if cfg.eval.checkpoint and not cfg.eval.features:
        setup_context(cfg.device_target, cfg.device_id, cfg.graph_mode)
    evaluate_from_config(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(report_and_exit_status(main))
