"""A run folder belongs to one run.

A new training into a folder that already holds a run (its ``config.yaml`` or saved state)
is refused: the two runs' configs, logs and checkpoints would mix, and the earlier run could
no longer be resumed or evaluated with its own config. The ways on are ``--resume RUN`` (the
same run) or a new ``--output_dir``; ``--overwrite`` deletes the earlier run's files first.
"""

import glob
import os
import shutil

from src.config import ConfigError
from src.engine.resume import RUN_CONFIG, STATE_POINTER
from src.errors import AnticipatedError
from src.options import Option, Options
from src.utils.safe_write import temporary_pattern


RUN_FOLDER_OPTIONS = Options(
    Option("output_dir", "runs/default", "run directory: resolved config, logs, checkpoints, results"),
)

# What train.py writes into a run folder (train.lock aside): all that --overwrite deletes.
# Anything else there (a launcher's msrun logs, the demo's HOG features, eval.py's folders)
# was written by someone else and is left.
RUN_FILES = (RUN_CONFIG, "train.log", "train_log.jsonl", "checkpoints")


class RunFolderTakenError(AnticipatedError):
    """The output folder holds another run."""


def run_marks(run_dir):
    """The files that show ``run_dir`` holds a run (config.yaml, checkpoints/state.json) that exist."""
    return [name for name in (RUN_CONFIG, STATE_POINTER) if os.path.isfile(os.path.join(run_dir, name))]


def check_run_folder(run_dir, resume, overwrite):
    """Refuse a new run (neither ``resume`` nor ``overwrite``) in a folder that holds one."""
    if resume and overwrite:
        raise ConfigError("--overwrite deletes the run that --resume would continue: pass one of them")
    marks = run_marks(run_dir)
    if marks and not resume and not overwrite:
        raise RunFolderTakenError(
            f"{run_dir} already holds a run ({', '.join(marks)}): continue it with --resume {run_dir}, or train "
            f"into a new --output_dir (--overwrite deletes that run first)")


def delete_earlier_run(run_dir):
    """Delete the files of RUN_FILES in ``run_dir`` if it holds a run (``run_marks``); returns
    their names (none when it holds no run: files there then are not a run's).

    Deleted rather than moved aside: a run's states are its largest files (several GB for
    a paper-size run), and a copy kept in the folder would go on filling the disk unnoticed.
    """
    deleted = []
    if not run_marks(run_dir):
        return deleted
    for name in RUN_FILES:
        path = os.path.join(run_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)
        else:
            continue
        deleted.append(name)
    return deleted


def delete_save_leftovers(checkpoint_dir):
    """Delete the temporary files of saves killed in ``checkpoint_dir`` (call it holding the
    run folder's lock: no other process writes there then); returns their names."""
    deleted = []
    for path in sorted(glob.glob(temporary_pattern(os.path.join(checkpoint_dir, "*")))):
        if os.path.isfile(path) or os.path.islink(path):
            os.remove(path)
            deleted.append(os.path.basename(path))
    return deleted
