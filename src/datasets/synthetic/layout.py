"""The synthetic-layout contract, the layouts by name, and ``write_synthetic_dataset``.

A layout writes a synthetic dataset in the on-disk layout of one real dataset (folder tree,
file names, split and protocol files) and registers under that dataset's name, so that the
dataset's reader (``src.datasets.dataset.DATASETS``) opens what it writes. It decides which
identities each camera sees and where every file goes; a style (``style.py``) draws the
images. A layout is one file in ``layouts/`` (found there by the registry) or in a user's module,
registering its writer function::

    @SYNTHETIC_LAYOUTS.register("regdb")
    def write_synthetic_regdb(out_dir, num_ids=20, seed=0, height=128, width=64, style="default"): ...

``write_synthetic_dataset`` calls the writer with these keywords (``num_ids`` only when given:
the writer's default is the layout's demo size). The writer draws each image with
``style_named(style).draw(...)``, saves it with ``save_image``, returns ``out_dir``, and refuses
(ValueError) a number of identities its split cannot use. It may take options of its own
(keywords with defaults, e.g. images per folder).
"""

import os

from PIL import Image

from src.datasets.synthetic.style import style_named
from src.registry import Registry

SYNTHETIC_LAYOUTS = Registry("synthetic layout")
JPEG_QUALITY = 92


def save_image(array, path):
    """Save a (height, width, 3) uint8 image; the format follows the extension (JPEG at
    ``JPEG_QUALITY``), folders are created as needed."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.endswith(".jpg"):
        Image.fromarray(array).save(path, quality=JPEG_QUALITY)
    else:
        Image.fromarray(array).save(path)


def write_synthetic_dataset(layout, out_dir, num_ids=None, seed=0, height=128, width=64, style="default"):
    """Write a synthetic dataset of ``layout`` (a name in ``SYNTHETIC_LAYOUTS``); returns its root.

    ``num_ids=None`` takes the layout's demo size; ``height`` x ``width`` is the image size in
    pixels (at least 16 x 8); ``style`` is a name in ``STYLES`` (``style.py``). Refuses an
    ``out_dir`` that holds anything.
    """
    if layout not in SYNTHETIC_LAYOUTS:
        raise ValueError(f"unknown synthetic layout {layout!r}; expected one of "
                         f"{', '.join(SYNTHETIC_LAYOUTS.names())}")
    style_named(style)
    if height < 16 or width < 8:
        raise ValueError(f"synthetic images must be at least 16 x 8 pixels; got {height} x {width}")
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f"synthetic dataset folder {out_dir} exists and is not empty")
    size = {} if num_ids is None else {"num_ids": num_ids}  # None: the writer's own default
    return SYNTHETIC_LAYOUTS.get(layout)(out_dir, seed=seed, height=height, width=width, style=style, **size)
