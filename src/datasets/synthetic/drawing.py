"""Pixel helpers that several rendering styles share.

They work on float images, (height, width, 3) colour or (height, width) heat or grey levels,
until ``to_uint8`` rounds one to 0..255. Person coordinates are in body heights.
"""

import colorsys

import numpy as np


def person_coordinates(camera, rng, height, width):
    """Pixel rows ``ys`` and person-relative coordinates ``u`` (across, 0 = body axis) and ``v``
    (down, 0 = top of the head, 1 = soles) of every pixel, with per-image jitter of size and
    position. ``camera`` needs ``scale`` (body height / image height) and ``x_shift``."""
    body_height = height * camera.scale * rng.uniform(0.96, 1.04)
    top = (height - body_height) / 2.0 + rng.uniform(-2.0, 2.0)
    centre_x = width * (0.5 + camera.x_shift) + rng.uniform(-2.0, 2.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    return ys, (xs - centre_x) / body_height, (ys - top) / body_height


def paint(background, layers):
    """Paint ``(mask, value)`` layers over ``background`` in order (later ones in front).
    Masks are 2-D; for a colour image they cover all three channels."""
    image = background
    for mask, value in layers:
        image = np.where(mask[:, :, None] if image.ndim == 3 else mask, value, image)
    return image


def to_uint8(image):
    """Round and clip to uint8; a 2-D (infrared) image becomes three equal channels."""
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def hsv_colour(rng, saturation, value):
    """An RGB colour (0..255) of random hue with saturation and value drawn from the ranges."""
    return 255.0 * np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(*saturation), rng.uniform(*value)))


def interpolation_matrix(size_out, size_in):
    """(size_out, size_in) matrix of linear interpolation from a coarse grid to pixels."""
    position = np.linspace(0.0, size_in - 1.0, size_out)
    lower = np.minimum(position.astype(int), size_in - 2)
    weight = position - lower
    matrix = np.zeros((size_out, size_in))
    matrix[np.arange(size_out), lower] = 1.0 - weight
    matrix[np.arange(size_out), lower + 1] = weight
    return matrix
