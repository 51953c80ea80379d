"""Checkpoints written atomically: network-only files for evaluation and export, and a
resumable training state (network, objective, optimizer, schedule position).

Every file is written under a temporary name and renamed into place, so a crash while
writing leaves the previous checkpoint intact and loadable; a failed write (a full disk)
deletes what it had written and raises a WriteFailedError naming the file and the space
left, to which the trainer adds the state ``--resume`` would continue from (``resume_point``). The resumable state is a
``.ckpt`` holding every parameter of the train step (network, loss parameters, optimizer
moments and step counter) plus ``state.json``, written last, naming that file and the
position in training; a state file is only trusted once ``state.json`` points to it.
Pruning deletes only checkpoints this run wrote (state.json lists them for a resumed run),
never the file just written nor the state state.json names.
"""

import fnmatch
import glob
import json
import os
import re

import mindspore as ms

from src.errors import MalformedInputError, MissingInputError
from src.utils.checkpoint_io import load_checkpoint
from src.utils.safe_write import write_atomically, write_json_atomically

STATE_POINTER = "state.json"


def _serializer_temporary(temporary):
    """The name MindSpore's serializer writes ``temporary`` under first (``.ckpt`` -> ``.tmp``)."""
    return [os.path.splitext(temporary)[0] + ".tmp"]


def atomic_save_checkpoint(save_obj, path, append_dict=None):
    """``ms.save_checkpoint`` to a temporary name in the same folder, then rename to ``path``.

    Raises WriteFailedError (nothing left behind) when the file cannot be written.
    """
    return write_atomically(path, lambda temporary: ms.save_checkpoint(save_obj, temporary, append_dict=append_dict),
                            leftovers=_serializer_temporary)


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
        self.written = []  # the numbered checkpoints of this run, the only ones pruning may delete
        self._saved = None  # (epoch, step_in_epoch) of the state saved last by this process

    def adopt_existing(self, position):
        """Count the numbered checkpoints that the run's earlier sessions wrote as this run's,
        so that pruning may delete them: those ``position`` (the restored state.json) lists in
        ``run_files``; for a state saved before that list was kept, those numbered at or before
        the restored position. Any other file in the folder is never pruned."""
        names = position.get("run_files")
        if names is None:
            limit = (position["epoch"], position["step_in_epoch"])
            names = [os.path.basename(path) for pattern in ("network_e*_s*.ckpt", "state_e*_s*.ckpt")
                     for path in glob.glob(os.path.join(glob.escape(self.directory), pattern))
                     if _epoch_step_key(path) <= limit]
        for name in names:
            path = os.path.join(self.directory, os.path.basename(name))
            if os.path.isfile(path) and path not in self.written:
                self.written.append(path)

    def saved_position(self):
        """(epoch, step_in_epoch) of the state this process saved last, or None."""
        return self._saved

    def resume_point(self):
        """What ``--resume`` would continue from, as the end of a full-disk error line."""
        try:
            position = self.latest_state()
        except (MalformedInputError, MissingInputError) as error:
            return f"no complete state to resume from ({error})"
        if position is None:
            return "no state was saved before, so this run cannot be resumed: free space and start it again"
        state = os.path.join(self.directory, position["checkpoint"])
        return (f"--resume continues from the last complete state {state} (epoch {position['epoch'] + 1}, "
                f"step {position['step_in_epoch']}); free space first")

    def save_network(self, network, epoch, step=0, name=None):
        """Network parameters only, as ``network_e{epoch}_s{step}.ckpt`` (or ``name``)."""
        if not self.enabled:
            return None
        path = os.path.join(self.directory, name or f"network_e{epoch:04d}_s{step:06d}.ckpt")
        atomic_save_checkpoint(network, path)
        if name is None:
            self._prune(path, "network_e*_s*.ckpt")
        return path

    def save_state(self, train_step, position):
        """Everything needed to resume, at ``position`` = {"epoch", "step_in_epoch", "global_step", ...}.

        ``epoch`` is the epoch in progress and ``step_in_epoch`` the number of its steps done.
        """
        if not self.enabled:
            return None
        file_name = f"state_e{position['epoch']:04d}_s{position['step_in_epoch']:06d}.ckpt"
        path = os.path.join(self.directory, file_name)
        atomic_save_checkpoint(train_step, path)
        self._record(path)
        run_files = sorted(os.path.basename(written) for written in self.written)
        write_json_atomically(dict(position, checkpoint=file_name, run_files=run_files),
                              os.path.join(self.directory, STATE_POINTER))
        self._saved = (position["epoch"], position["step_in_epoch"])
        self._prune(path, "state_e*_s*.ckpt")
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

    def _record(self, path):
        if path not in self.written:
            self.written.append(path)

    def _named_state(self):
        """The state file state.json names (the one --resume uses), or None."""
        try:
            with open(os.path.join(self.directory, STATE_POINTER), encoding="utf-8") as handle:
                return os.path.join(self.directory, json.load(handle)["checkpoint"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _prune(self, new_path, pattern):
        """Record ``new_path`` as this run's, then delete all but the ``keep`` latest of its kind,
        never ``new_path`` itself nor the state state.json names (whatever their numbers)."""
        self._record(new_path)
        protected = {new_path, self._named_state()}
        own = sorted((path for path in self.written if fnmatch.fnmatch(os.path.basename(path), pattern)),
                     key=_epoch_step_key)
        for path in own[:-self.keep]:
            if path in protected:
                continue
            self.written.remove(path)
            if os.path.exists(path):
                os.remove(path)
