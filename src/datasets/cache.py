"""Cache of resized images: decode and resize every file once, then read a memory-mapped array.

A cache is two files in the cache folder:
- ``<list>_<H>x<W>_<state>.npy``: uint8 array (N, H, W, 3), row i = image ``paths[i]``;
- ``<list>_<H>x<W>_<state>.json``: its index (size, image count, unreadable files).
``<list>`` hashes the dataset root, the relative paths in order and the size, so different
lists (training set, each test gallery) have their own cache; ``<state>`` also hashes each
file's byte size and modification time, so editing, replacing or touching a source file
gives a new state: the cache is rebuilt and the outdated one for the same list deleted.

Building is atomic: the array is written under a temporary name and renamed, then the
index is written the same way; a cache counts only when its index exists and matches, so a
crash while building never leaves a cache that looks valid. The array's full size is
reserved on disk before any image is decoded, so a disk too small for it fails at once, with
one ``error:`` line and nothing left behind (a memory-mapped file on a full disk would
instead be killed by SIGBUS halfway through). A lock file serialises processes building the
same list (e.g. the ranks of a distributed run).
"""

import fcntl
import glob
import hashlib
import json
import os

import numpy as np

from src.datasets.image_io import map_images, read_resized
from src.utils.safe_write import WriteFailedError, temporary_pattern, write_atomically, write_json_atomically

# Bump when the cached content changes meaning (e.g. a different resize filter).
CACHE_FORMAT = 1


def _digest(value):
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()[:16]


def _file_state(full_path):
    try:
        stat = os.stat(full_path)
    except OSError:
        return [-1, -1]
    return [stat.st_size, stat.st_mtime_ns]


def _cache_names(root, paths, height, width):
    """Returns (list prefix, full base name without extension) of the cache for these images."""
    root = os.path.abspath(root)
    list_id = _digest([CACHE_FORMAT, root, height, width, list(paths)])
    state = _digest([[path, *_file_state(os.path.join(root, path))] for path in paths])
    prefix = f"{list_id}_{height}x{width}_"
    return prefix, prefix + state


class ResizedImageCache:
    """A built cache: reads rows of the memory-mapped array.

    Attributes:
        paths: relative paths, row order.
        unreadable: {relative path: reason} for files that could not be decoded (their rows
            are zeros); the caller decides whether that is an error.
        npy_path: the array file.
    Pickles without the open memory map (worker processes reopen it).
    """

    def __init__(self, npy_path, paths, height, width, unreadable):
        self.npy_path = npy_path
        self.paths = list(paths)
        self.height = height
        self.width = width
        self.unreadable = dict(unreadable)
        self._images = None

    def __len__(self):
        return len(self.paths)

    @property
    def images(self):
        """uint8 (N, H, W, 3) memory map."""
        if self._images is None:
            self._images = np.load(self.npy_path, mmap_mode="r")
        return self._images

    def read(self, indices):
        """Returns uint8 (n, H, W, 3) for the given row indices (a copy, not a view)."""
        return np.asarray(self.images[np.asarray(indices, dtype=np.int64)])

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_images"] = None
        return state


def open_resized_cache(root, paths, height, width, cache_dir, num_workers=1, show_progress=True):
    """Returns the cache of ``paths`` resized to (height, width), building it if needed.

    Args:
        root: dataset root; ``paths`` are relative to it.
        paths: relative image paths; row i of the cache is ``paths[i]``.
        height, width: target size in pixels (PIL bilinear, see ``read_resized``).
        cache_dir: folder of the cache files (created if missing).
        num_workers: decoding threads while building.
        show_progress: show a progress bar on stderr while building.
    Returns:
        ResizedImageCache. Unreadable files do not stop the build; they are listed in
        ``unreadable`` (and in the index, so a reused cache reports them too).
    """
    paths = list(paths)
    os.makedirs(cache_dir, exist_ok=True)
    prefix, base = _cache_names(root, paths, height, width)
    base_path = os.path.join(cache_dir, base)
    cache = _load(base_path, paths, height, width)
    if cache is not None:
        return cache
    with open(os.path.join(cache_dir, prefix + "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = _load(base_path, paths, height, width)
        if cache is None:
            _remove_other_states(cache_dir, prefix)
            _build(root, paths, height, width, base_path, num_workers, show_progress)
            cache = _load(base_path, paths, height, width)
        fcntl.flock(lock, fcntl.LOCK_UN)
    if cache is None:
        raise RuntimeError(f"the image cache {base_path}.npy was built but does not read back; "
                           f"delete {cache_dir} and retry")
    return cache


def _load(base_path, paths, height, width):
    try:
        with open(base_path + ".json") as file:
            index = json.load(file)
        header = np.load(base_path + ".npy", mmap_mode="r")
    except (OSError, ValueError):
        return None
    if (index.get("format") != CACHE_FORMAT or index.get("count") != len(paths)
            or header.shape != (len(paths), height, width, 3) or header.dtype != np.uint8):
        return None
    return ResizedImageCache(base_path + ".npy", paths, height, width, index.get("unreadable", {}))


def _remove_other_states(cache_dir, prefix):
    """Deletes outdated caches and leftovers of interrupted builds of the same list (under the lock)."""
    for pattern in (os.path.join(glob.escape(cache_dir), glob.escape(prefix) + "*"),
                    temporary_pattern(os.path.join(cache_dir, glob.escape(prefix) + "*"))):
        for path in glob.glob(pattern):
            if not path.endswith("lock"):
                os.remove(path)


def _write_array(root, paths, height, width, num_workers, show_progress, temporary):
    """Decode and resize every image into the .npy ``temporary``; returns {path: reason} of the unreadable."""
    images = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.uint8, shape=(len(paths), height, width, 3))
    with open(temporary, "r+b") as handle:
        os.posix_fallocate(handle.fileno(), 0, os.path.getsize(temporary))
    unreadable = {}
    description = f"caching {len(paths)} images at {height}x{width}" if show_progress else None
    for index, image, reason in map_images(root, paths, lambda path: read_resized(path, height, width),
                                           num_workers, description):
        if reason is None:
            images[index] = image
        else:
            images[index] = 0
            unreadable[paths[index]] = reason
    images.flush()
    del images
    return unreadable


def _build(root, paths, height, width, base_path, num_workers, show_progress):
    unreadable = {}

    def write_array(temporary):
        unreadable.update(_write_array(root, paths, height, width, num_workers, show_progress, temporary))
    try:
        write_atomically(base_path + ".npy", write_array)
    except WriteFailedError as error:
        if not error.no_space:
            raise
        size = len(paths) * height * width * 3 / 1e6
        raise error.extended(f"the image cache needs {size:.1f} MB there: free space, "
                             f"or set data.cache_dir to another folder") from error
    index = {"format": CACHE_FORMAT, "count": len(paths), "height": height, "width": width,
             "root": os.path.abspath(root), "unreadable": unreadable}
    write_json_atomically(index, base_path + ".json")
