"""Writing a file whole or not at all, and saying why a write failed.

Every output that matters (checkpoints, training states, features, exported graphs, the
image cache) is written under a temporary name in its own folder and renamed into place.
When the write fails (a full disk above all: a scheduler's job folder or a small quota
fills up after hours of training), the temporary file is deleted, so that it does not go on
filling the disk, and the failure becomes an ``AnticipatedError`` naming the file and the
space left: one ``error:`` line, not a traceback from inside a serializer.
"""

import errno
import glob
import json
import os
import shutil

from src.errors import AnticipatedError

# Failures the user fixes by freeing space; others (read-only, permissions) keep their own reason.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class WriteFailedError(AnticipatedError, OSError):
    """A file could not be written; nothing of it is left behind.

    Built from the message alone, so that the ``error:`` line is that message (an OSError
    built as ``(errno, text)`` prints ``[Errno 28] text``); ``errno`` is set apart.
    """

    def __init__(self, message, code=None):
        super().__init__(message)
        self.errno = code

    @property
    def no_space(self):
        """True when freeing space is the fix (ENOSPC, EDQUOT)."""
        return self.errno in _NO_SPACE

    def extended(self, text):
        """The same failure with ``; text`` appended to its message."""
        return WriteFailedError(f"{self}; {text}", self.errno)


def free_space_text(path):
    """'1.2 MB free on <folder>' for the filesystem holding ``path`` (its nearest existing folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return f"free space on {folder} unknown"
    return f"{free / 1e6:.1f} MB free on {folder}"


def write_failure(path, error):
    """The WriteFailedError for an OSError raised while writing ``path``."""
    reason = "no space left on device" if error.errno in _NO_SPACE else (error.strerror or str(error))
    return WriteFailedError(f"cannot write {path}: {reason} ({free_space_text(path)})", error.errno)


def temporary_name(path):
    """The name ``path`` is written under before the rename: hidden, in the same folder (one filesystem)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".tmp-{os.getpid()}-{name}")


def temporary_pattern(path):
    """The glob pattern of ``temporary_name(path)`` for any process (``path`` may end in ``*``)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(glob.escape(folder), f".tmp-*-{name}")


def write_atomically(path, write, leftovers=None):
    """Call ``write(temporary)`` and rename the temporary file to ``path``; returns ``path``.

    Whatever ``write`` raises, the temporary file and ``leftovers(temporary)`` (names a
    writer makes of its own, e.g. MindSpore's ``.tmp`` beside a ``.ckpt``) are deleted; an
    OSError (creating the folder included) becomes a WriteFailedError, never wrapped twice.
    """
    temporary = temporary_name(path)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write(temporary)
        os.replace(temporary, path)
    except WriteFailedError:
        raise
    except OSError as error:
        raise write_failure(path, error) from error
    finally:
        for name in (temporary, *(leftovers(temporary) if leftovers else ())):
            if os.path.lexists(name):
                os.remove(name)
    return path


def _dump_json(content, path):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())


def write_json_atomically(content, path):
    """Write ``content`` as JSON under a temporary name, flush it to disk, then rename it to ``path``."""
    return write_atomically(path, lambda temporary: _dump_json(content, temporary))
