"""The lock a training holds on its run folder, so that two processes never train into one folder.

An ``fcntl`` lock on ``RUN/train.lock``: the kernel drops it when the process ends, however
it ends (kill -9 included), so a lock is never stale. A refusal names the holder's PID as the
kernel reports it (``/proc/locks``), else as the holder wrote it into the file when it claimed
the folder; the file stays after the run and means nothing unlocked. Readers (eval.py,
export.py) take no lock.

A training takes the lock before it looks at the folder, if ``train.lock`` is there, without
writing anything (``acquire(create=False)``): a second training into a folder that is training
is refused by the lock, naming the PID, rather than as a folder holding a run. It creates the
file (or writes its PID into it) only once its configuration and inputs have been checked
(``claim()``).
"""

import fcntl
import os
import re

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
            holder = _kernel_holder(handle.fileno()) or handle.read().strip() or "unknown"
            handle.close()
            raise RunFolderLockedError(
                f"{self.run_dir} is in use: another training (PID {holder}) holds {self.path}; wait for it to "
                f"end or stop it, or train into another --output_dir") from None
        self._handle = handle

    def claim(self):
        """Take the lock (creating its file) if not yet held, and write this process's PID into it."""
        self.acquire(create=True)
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(f"{os.getpid()}\n")
        self._handle.flush()

    def release(self):
        """Drop the lock (the file stays)."""
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def _kernel_holder(descriptor):
    """The PID holding an flock on the file open as ``descriptor``, from /proc/locks (Linux), or None."""
    status = os.fstat(descriptor)
    device = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii") as handle:
            for line in handle:
                match = re.match(r"\s*\d+:\s+FLOCK\s+\S+\s+WRITE\s+(\d+)\s+(\S+)\s", line)
                if match and match.group(2) == device:
                    return match.group(1)
    except OSError:
        return None
    return None
