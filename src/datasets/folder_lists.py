"""Helpers shared by the dataset readers: required paths, id files, image folders and the seeded
one-image-per-folder gallery draw of the SYSU-MM01 and LLCM protocols."""

import os
import random

from src.errors import MalformedInputError, MissingInputError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def require_path(path, expected):
    """Raise MissingInputError (a FileNotFoundError) naming ``path`` and what was ``expected``
    there when it is absent."""
    if not os.path.exists(path):
        raise MissingInputError(f"{path} not found: expected {expected}")
    return path


def read_path_list(root, path, is_valid, expected):
    """Entries of a 'relative/path label' list file: (relative path, its '/' parts), in order.

    Every line must pass ``is_valid(parts)`` (else a ValueError naming the line and
    ``expected``) and name an existing image under ``root``. Blank lines are skipped; a list
    without entries is an error. The label column is not read: labels come from identities.
    """
    entries = []
    with open(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            relative = line.split()[0].replace("\\", "/")
            parts = relative.split("/")
            if not is_valid(parts):
                raise MalformedInputError(f"{path}, line {number}: expected {expected}; got {line.strip()!r}")
            require_path(os.path.join(root, relative), f"the image listed on line {number} of {path}")
            entries.append((relative, parts))
    if not entries:
        raise MalformedInputError(f"{path}: lists no images")
    return entries


def read_id_line(path):
    """Ids of an id file whose first line holds comma-separated integers (SYSU-MM01, LLCM)."""
    require_path(path, "an id file whose first line holds comma-separated ids")
    with open(path) as handle:
        first_line = handle.readline().strip()
    try:
        ids = [int(token) for token in first_line.split(",") if token.strip()]
    except ValueError:
        raise MalformedInputError(f"{path}: first line must hold comma-separated integer ids; "
                                  f"got {first_line[:80]!r}") from None
    if not ids:
        raise MalformedInputError(f"{path}: first line holds no ids")
    return ids


def list_images(folder):
    """Sorted image file names in ``folder`` (extensions in IMAGE_EXTENSIONS); [] when absent."""
    if not os.path.isdir(folder):
        return []
    return sorted(name for name in os.listdir(folder) if name.lower().endswith(IMAGE_EXTENSIONS))


def draw_one_per_folder(folders, trial):
    """One path per folder, drawn as the public SYSU-MM01 / LLCM evaluation code does.

    ``folders`` is the walk (ids x cameras, in protocol order) as a list of sorted path lists
    of the existing folders. The public code calls ``random.seed(trial)`` and then
    ``random.choice`` per folder; a private ``random.Random(trial)`` yields the identical
    stream without touching the global generator.
    """
    generator = random.Random(trial)
    return [generator.choice(paths) for paths in folders]
