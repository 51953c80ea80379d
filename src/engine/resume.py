"""Resuming a run from its folder: the command line it takes, and the changes it may make.

``train.py --resume RUN [--key value ...]`` reads ``RUN/config.yaml`` and continues from the
last saved state in ``RUN/checkpoints``. Only options that cannot change the result of the
training done so far may differ from the saved config (``RESUMABLE_KEYS``); anything else
(the model, the objective, the data, the schedule) is refused, naming the keys. A key
added to the defaults after a run was saved takes its default; options that no longer exist
are read as they meant when the run was saved (``src.retired_options``: the loss flags
become the ``loss.terms`` of the same objective).
"""

import os

from src.config import ConfigError, flatten, load_config
from src.errors import MissingInputError
from src.options import Option, Options


RESUME_OPTIONS = Options(
    Option("train.resume", False, "continue <output_dir> from its last state (train.py --resume RUN sets this)"),
)

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
            return (["--config_path", os.path.join(run_dir, RUN_CONFIG)] + argv[:index] + rest
                    + ["--output_dir", run_dir, "--train.resume", "true"])
    return argv


def require_resumable(run_dir):
    """Raise MissingInputError unless ``run_dir`` holds a config and a saved training state."""
    if not os.path.isdir(run_dir):
        raise MissingInputError(f"cannot resume {run_dir}: no such run folder")
    for name, what in ((RUN_CONFIG, "config"), (STATE_POINTER, "saved training state")):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise MissingInputError(f"cannot resume {run_dir}: it holds no {what} ({name} is absent); "
                                    f"start a new run instead")


def _as_compared(value):
    """A mapping's (name, value) pairs in order (``loss.terms``: its order is the summation order), else ``value``."""
    return list(value.items()) if isinstance(value, dict) else value


def check_resume_changes(cfg, run_dir):
    """[(key, saved value, new value)] of the allowed changes between ``RUN/config.yaml`` and ``cfg``.

    Raises ConfigError naming every other key that differs.
    """
    saved = flatten(load_config(["--config_path", os.path.join(run_dir, RUN_CONFIG)]).to_dict())
    current = flatten(cfg.to_dict())
    changes = [(key, saved.get(key), current[key]) for key in current
               if key not in _IGNORED_KEYS and _as_compared(saved.get(key)) != _as_compared(current[key])]
    refused = [change for change in changes if change[0] not in RESUMABLE_KEYS]
    if refused:
        listed = ", ".join(f"{key} ({old!r} -> {new!r})" for key, old, new in refused)
        raise ConfigError(f"cannot resume {run_dir} with changes that alter the training: {listed}; "
                          f"a resumed run may only change {', '.join(RESUMABLE_KEYS)}")
    return changes
