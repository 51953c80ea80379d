"""Decoding and resizing of dataset images, with one clear error per unreadable file."""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from src.errors import MalformedInputError
from src.utils.progress import Progress

# Images handled per task given to a thread: large enough to amortise scheduling.
_CHUNK = 64
# What PIL raises for missing, truncated or malformed files.
_READ_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


class CorruptImageError(MalformedInputError):
    """One or more images could not be read or decoded.

    Attributes:
        reasons: {path: why it failed}.
    """

    def __init__(self, reasons, hint=""):
        self.reasons = dict(reasons)
        listed = "; ".join(f"{path} ({why})" for path, why in self.reasons.items())
        count = len(self.reasons)
        message = f"{count} unreadable image{'s' if count > 1 else ''}: {listed}"
        super().__init__(message + (f". {hint}" if hint else ""))


def _describe(error):
    return str(error) or type(error).__name__


def read_resized(path, height, width):
    """Decodes an image file and resizes it like torchvision's ``Resize((height, width))`` on PIL.

    That is PIL's bilinear filter, which is antialiased when shrinking.

    Returns:
        uint8 array of shape (height, width, 3), RGB (grey and infrared files are replicated).
    Raises:
        CorruptImageError naming ``path`` if the file is missing, truncated or not an image.
    """
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if image.size != (width, height):
                image = image.resize((width, height), Image.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except _READ_ERRORS as error:
        raise CorruptImageError({path: _describe(error)}) from None


def check_image(path):
    """Decodes an image file fully, without converting it. Raises CorruptImageError naming ``path``."""
    try:
        with Image.open(path) as image:
            image.load()
    except _READ_ERRORS as error:
        raise CorruptImageError({path: _describe(error)}) from None


def map_images(root, paths, read_one, num_workers=1, progress_description=None):
    """Applies ``read_one(full path)`` to many images with threads (PIL releases the GIL).

    Args:
        root: dataset root; ``paths`` are relative to it.
        paths: relative paths.
        read_one: function of the full path; raises CorruptImageError for a bad file.
        num_workers: threads.
        progress_description: if given, a progress bar with this title is shown on stderr.
    Yields:
        (index, result or None, reason or None) per path, in order; reason is set when
        the file could not be read.
    """

    def run_chunk(start):
        chunk = []
        for index in range(start, min(start + _CHUNK, len(paths))):
            try:
                chunk.append((index, read_one(os.path.join(root, paths[index])), None))
            except CorruptImageError as error:
                chunk.append((index, None, next(iter(error.reasons.values()))))
        return chunk

    progress = Progress(len(paths), progress_description) if progress_description else None
    with ThreadPoolExecutor(max_workers=max(1, num_workers)) as executor:
        for chunk in executor.map(run_chunk, range(0, len(paths), _CHUNK)):
            yield from chunk
            if progress is not None:
                progress.update(len(chunk))
    if progress is not None:
        progress.close()


def find_unreadable(root, paths, num_workers=1, progress_description=None):
    """Decodes every image once (the check an uncached run makes before training).

    Returns:
        {relative path: reason} of the files that could not be decoded.
    """
    return {paths[index]: reason
            for index, _, reason in map_images(root, paths, check_image, num_workers, progress_description)
            if reason is not None}


class ResizedImageReader:
    """Uncached image source: decodes and resizes the requested images on every read.

    Same interface as ``ResizedImageCache`` (src/datasets/cache.py).
    """

    def __init__(self, root, paths, height, width):
        self.root = root
        self.paths = list(paths)
        self.height = height
        self.width = width

    def __len__(self):
        return len(self.paths)

    def read(self, indices):
        """Returns uint8 (n, height, width, 3) for the given image indices."""
        out = np.empty((len(indices), self.height, self.width, 3), dtype=np.uint8)
        for row, index in enumerate(indices):
            out[row] = read_resized(os.path.join(self.root, self.paths[index]), self.height, self.width)
        return out
