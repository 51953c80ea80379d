"""Resuming a run from its folder: the command line it takes, and the changes it may make.

``train.py --resume RUN [--key value ...]`` reads ``RUN/config.yaml`` and continues from the
last saved state in ``RUN/checkpoints``. Only options that cannot change the result of the
training done so far may differ from the saved config (``RESUMABLE_KEYS``); anything else
(the model, the objective, the data, the schedule) is refused, naming the keys. A key
added to the defaults after a run was saved takes its default, except where the run's
config meant something else then (``legacy_options``).
"""

import os

import yaml

from src.config import ConfigError, load_config
from src.errors import MissingInputError

RUN_CONFIG = "config.yaml"
STATE_POINTER = os.path.join("checkpoints", "state.json")

# train.epochs: the schedule decays at fixed epochs, so more epochs leave the steps done unchanged.
RESUMABLE_KEYS = (
    "train.epochs", "train.log_interval", "train.checkpoint_interval", "train.state_interval",
    "train.keep_checkpoints", "train.val_interval", "train.max_nonfinite_steps", "train.save_initial",
    "data.cache_dir", "eval.batch_size", "device_id",
)
# Keys that name the run rather than describe it.
_IGNORED_KEYS = ("config_path", "output_dir", "train.resume")


def legacy_options(run_dir):
    """``--key value`` options that keep an older ``RUN/config.yaml`` meaning what it meant.

    Before ``loss.cib_weight`` existed, ``loss.beta`` also weighed the conventional IB's
    compression term: a saved config with ``loss.cib`` true but no ``loss.cib_weight`` was
    trained with cib_weight = beta, not with the new key's default.
    """
    try:
        with open(os.path.join(run_dir, RUN_CONFIG), encoding="utf-8") as handle:
            saved = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return []  # load_config reports the file itself
    loss = saved.get("loss") if isinstance(saved, dict) else None
    if isinstance(loss, dict) and loss.get("cib") is True and "cib_weight" not in loss and "beta" in loss:
        return ["--loss.cib_weight", str(loss["beta"])]
    return []


def resume_argv(argv):
    """``argv`` with ``--resume RUN`` replaced by the options that resume RUN, or unchanged.

    The run's saved config comes first, so the remaining ``--key value`` overrides apply on
    top of it (and are then checked by ``check_resume_changes``).
    """
    argv = list(argv)
    for index, token in enumerate(argv):
        if token == "--resume" or token.startswith("--resume="):
            if "=" in token:
                run_dir, rest = token.split("=", 1)[1], argv[index + 1:]
            elif index + 1 < len(argv):
                run_dir, rest = argv[index + 1], argv[index + 2:]
            else:
                raise ConfigError("option '--resume' needs a value: the run folder to continue")
            run_dir = os.path.abspath(run_dir)
            require_resumable(run_dir)
            return (["--config_path", os.path.join(run_dir, RUN_CONFIG)] + legacy_options(run_dir)
                    + argv[:index] + rest + ["--output_dir", run_dir, "--train.resume", "true"])
    return argv


def require_resumable(run_dir):
    """Raise MissingInputError unless ``run_dir`` holds a config and a saved training state."""
    if not os.path.isdir(run_dir):
        raise MissingInputError(f"cannot resume {run_dir}: no such run folder")
    for name, what in ((RUN_CONFIG, "config"), (STATE_POINTER, "saved training state")):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise MissingInputError(f"cannot resume {run_dir}: it holds no {what} ({name} is absent); "
                                    f"start a new run instead")


def _flat(tree, prefix=""):
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_resume_changes(cfg, run_dir):
    """[(key, saved value, new value)] of the allowed changes between ``RUN/config.yaml`` and ``cfg``.

    Raises ConfigError naming every other key that differs.
    """
    saved = _flat(load_config(["--config_path", os.path.join(run_dir, RUN_CONFIG)]
                              + legacy_options(run_dir)).to_dict())
    current = _flat(cfg.to_dict())
    changes = [(key, saved.get(key), current[key]) for key in current
               if key not in _IGNORED_KEYS and saved.get(key) != current[key]]
    refused = [change for change in changes if change[0] not in RESUMABLE_KEYS]
    if refused:
        listed = ", ".join(f"{key} ({old!r} -> {new!r})" for key, old, new in refused)
        raise ConfigError(f"cannot resume {run_dir} with changes that alter the training: {listed}; "
                          f"a resumed run may only change {', '.join(RESUMABLE_KEYS)}")
    return changes
