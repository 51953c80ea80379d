"""Checkpoints written atomically: network-only files for evaluation and export, and a
resumable training state (network, objective, optimizer, schedule position).

Every file is written under a temporary name and renamed into place, so a crash while
writing leaves the previous checkpoint intact and loadable. The resumable state is a
``.ckpt`` holding every parameter of the train step (network, loss parameters, optimizer
moments and step counter) plus ``state.json``, written last, naming that file and the
position in training; a state file is only trusted once ``state.json`` points to it.
"""

import glob
import json
import os
import re

import mindspore as ms

from src.errors import MalformedInputError, MissingInputError
from src.utils.checkpoint_io import load_checkpoint

STATE_POINTER = "state.json"


def atomic_save_checkpoint(save_obj, path, append_dict=None):
    """``ms.save_checkpoint`` to a temporary name in the same folder, then rename to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        ms.save_checkpoint(save_obj, temporary, append_dict=append_dict)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def atomic_write_json(content, path):
    """Write JSON to a temporary name, flush it to disk, then rename to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


def _epoch_step_key(path):
    match = re.search(r"_e(\d+)_s(\d+)\.ckpt$", path)
    return (int(match.group(1)), int(match.group(2))) if match else (-1, -1)


class CheckpointManager:
    """Writes and finds checkpoints in one folder, keeping the most recent ``keep`` of each kind.

    Args:
        directory: the checkpoint folder (created on first write).
        keep: how many network checkpoints and how many training states to keep.
        enabled: False on ranks other than 0, which never write.
    """

    def __init__(self, directory, keep=3, enabled=True):
        self.directory = directory
        self.keep = keep
        self.enabled = enabled

    def save_network(self, network, epoch, step=0, name=None):
        """Network parameters only, as ``network_e{epoch}_s{step}.ckpt`` (or ``name``)."""
        if not self.enabled:
            return None
        path = os.path.join(self.directory, name or f"network_e{epoch:04d}_s{step:06d}.ckpt")
        atomic_save_checkpoint(network, path)
        if name is None:
            self._prune("network_e*_s*.ckpt")
        return path

    def save_state(self, train_step, position):
        """Everything needed to resume, at ``position`` = {"epoch", "step_in_epoch", "global_step", ...}.

        ``epoch`` is the epoch in progress and ``step_in_epoch`` the number of its steps done.
        """
        if not self.enabled:
            return None
        file_name = f"state_e{position['epoch']:04d}_s{position['step_in_epoch']:06d}.ckpt"
        atomic_save_checkpoint(train_step, os.path.join(self.directory, file_name))
        atomic_write_json(dict(position, checkpoint=file_name), os.path.join(self.directory, STATE_POINTER))
        self._prune("state_e*_s*.ckpt")
        return os.path.join(self.directory, file_name)

    def latest_state(self):
        """The position saved last (with its ``checkpoint`` file name), or None."""
        pointer = os.path.join(self.directory, STATE_POINTER)
        if not os.path.isfile(pointer):
            return None
        with open(pointer, encoding="utf-8") as handle:
            try:
                position = json.load(handle)
            except json.JSONDecodeError as error:
                raise MalformedInputError(f"{pointer} is not valid JSON ({error}); the run folder is damaged") from None
        if not isinstance(position, dict) or "checkpoint" not in position:
            raise MalformedInputError(f"{pointer} does not name a state checkpoint; the run folder is damaged")
        checkpoint = os.path.join(self.directory, position["checkpoint"])
        if not os.path.isfile(checkpoint):
            raise MissingInputError(f"{pointer} names {checkpoint}, which does not exist; the run folder is damaged")
        return position

    def restore_state(self, train_step, derived=()):
        """Load the latest state into ``train_step``; returns its position, or None if there is none.

        Every parameter of the train step must be in the file and every entry of the file
        must be a parameter of the train step, with the same shape: a state from a different
        configuration is refused, naming the keys that differ. Parameters named in
        ``derived`` are rebuilt from the config and neither compared nor loaded.
        """
        position = self.latest_state()
        if position is None:
            return None
        path = os.path.join(self.directory, position["checkpoint"])
        try:
            saved = load_checkpoint(path)
        except (OSError, ValueError, RuntimeError) as error:
            raise MalformedInputError(f"cannot read the training state {path}: {error}") from None
        saved = {name: value for name, value in saved.items() if name not in derived}
        own = {param.name: param for param in train_step.get_parameters() if param.name not in derived}
        missing = sorted(set(own) - set(saved))
        unexpected = sorted(set(saved) - set(own))
        mismatched = sorted(name for name in set(own) & set(saved)
                            if tuple(own[name].shape) != tuple(saved[name].shape))
        if missing or unexpected or mismatched:
            raise MalformedInputError(
                f"cannot resume from {path}: it does not fit this configuration "
                f"(missing: {missing[:5]}{'...' if len(missing) > 5 else ''}, "
                f"unexpected: {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}, "
                f"shape mismatch: {mismatched[:5]})")
        for name, param in own.items():
            param.set_data(saved[name].astype(param.dtype) if saved[name].dtype != param.dtype else saved[name])
        return position

    def _prune(self, pattern):
        paths = sorted(glob.glob(os.path.join(self.directory, pattern)), key=_epoch_step_key)
        for path in paths[:-self.keep]:
            os.remove(path)
