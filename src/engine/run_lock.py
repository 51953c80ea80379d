"""The lock a training holds on its run folder, so that two processes never train into one folder.

An ``fcntl`` lock on ``RUN/train.lock``: the kernel drops it when the process ends, however
it ends (kill -9 included), so a lock is never stale. The file holds the holder's PID, to name
it in the refusal; it stays after the run and means nothing unlocked. Readers (eval.py,
export.py) take no lock.
"""

import fcntl
import os

from src.errors import AnticipatedError

LOCK_FILE = "train.lock"


class RunFolderLockedError(AnticipatedError):
    """Another process is training into the run folder."""


class RunFolderLock:
    """The lock on ``run_dir``; held from ``acquire()`` until the process ends."""

    def __init__(self, run_dir):
        self.run_dir = os.path.abspath(run_dir)
        self.path = os.path.join(self.run_dir, LOCK_FILE)
        self._handle = None

    @property
    def held(self):
        return self._handle is not None

    def acquire(self, create=True):
        """Take the lock, or raise RunFolderLockedError naming the holder's PID.

        With ``create`` False nothing is written: the lock is taken only if its file exists
        (a folder without it has no holder), so a run can be refused before it writes anything.
        """
        if self.held or (not create and not os.path.isfile(self.path)):
            return
        handle = open(self.path, "a+" if create else "r+", encoding="ascii")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunFolderLockedError(
                f"{self.run_dir} is in use: another training (PID {holder}) holds {self.path}; wait for it to "
                f"end or stop it, or train into another --output_dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
