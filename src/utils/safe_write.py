"""Writing a file whole or not at all, and saying why a write failed.

Every output that matters (checkpoints, training states, features, exported graphs, the
image cache) is written under a temporary name in its own folder and renamed into place.
When the write fails (a full disk above all: a scheduler's job folder or a small quota
fills up after hours of training), the temporary file is deleted, so that it does not go on
filling the disk, and the failure becomes an ``AnticipatedError`` naming the file and the
space left: one ``error:`` line, not a traceback from inside a serializer.
"""

import errno
import os
import shutil

from src.errors import AnticipatedError

# Failures the user fixes by freeing space; others (read-only, permissions) keep their own reason.
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class WriteFailedError(AnticipatedError, OSError):
    """A file could not be written; nothing of it is left behind."""


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
    return WriteFailedError(error.errno, f"cannot write {path}: {reason} ({free_space_text(path)})")


def temporary_name(path):
    """The name ``path`` is written under before the rename: hidden, in the same folder (one filesystem)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".tmp-{os.getpid()}-{name}")


def write_atomically(path, write, leftovers=()):
    """Call ``write(temporary)`` and rename the temporary file to ``path``; returns ``path``.

    Whatever ``write`` raises, the temporary file and ``leftovers(temporary)`` (names a
    writer makes of its own, e.g. MindSpore's ``.tmp`` beside a ``.ckpt``) are deleted; an
    OSError becomes a WriteFailedError.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = temporary_name(path)
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise write_failure(path, error) from error
    finally:
        for name in (temporary, *(leftovers(temporary) if callable(leftovers) else leftovers)):
            if os.path.lexists(name):
                os.remove(name)
    return path
