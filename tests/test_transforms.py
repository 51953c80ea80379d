"""Batch transforms in numpy: normalisation, flips, crops, colour transforms, erasing."""

import numpy as np
import pytest
from PIL import Image

from src.datasets.transforms import (IMAGENET_MEAN, IMAGENET_STD, TrainTransform, flip_horizontal, normalize,
                                     random_channel_exchange, random_erasing, random_flip, random_grayscale,
                                     random_intensity_remap, random_pad_crop, to_grayscale)


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(6, 10, 7, 3), dtype=np.uint8)


def test_normalize_closed_form_and_layout(images):
    out = normalize(images)
    assert out.shape == (6, 3, 10, 7) and out.dtype == np.float32
    n, y, x = 4, 3, 5
    for channel in range(3):
        expected = (images[n, y, x, channel] / 255.0 - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel]
        assert out[n, channel, y, x] == pytest.approx(expected, abs=1e-5)


def test_flips(images):
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(random_flip(images, 1.0, rng), images[:, :, ::-1])
    np.testing.assert_array_equal(random_flip(images, 0.0, rng), images)
    half = random_flip(images, 0.5, np.random.default_rng(3))
    flipped = [np.array_equal(a, b[:, ::-1]) for a, b in zip(half, images)]
    kept = [np.array_equal(a, b) for a, b in zip(half, images)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    batch = normalize(images)
    np.testing.assert_array_equal(flip_horizontal(batch)[..., 0], batch[..., -1])


def test_pad_crop_is_a_window_of_the_zero_padded_image(images):
    out = random_pad_crop(images, 2, np.random.default_rng(4))
    assert out.shape == images.shape
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    for crop, source in zip(out, padded):
        windows = [(top, left) for top in range(5) for left in range(5)
                   if np.array_equal(source[top:top + 10, left:left + 7], crop)]
        assert windows
    np.testing.assert_array_equal(random_pad_crop(images, 0, np.random.default_rng(4)), images)


def test_grayscale_matches_pil(images):
    grey = to_grayscale(images)
    for image, result in zip(images, grey):
        expected = np.asarray(Image.fromarray(image).convert("L"))
        for channel in range(3):
            np.testing.assert_array_equal(result[..., channel], expected)
    np.testing.assert_array_equal(random_grayscale(images, 1.0, np.random.default_rng(0)), grey)
    np.testing.assert_array_equal(random_grayscale(images, 0.0, np.random.default_rng(0)), images)


def test_channel_exchange_copies_one_channel(images):
    out = random_channel_exchange(images, 1.0, np.random.default_rng(5))
    for result, source in zip(out, images):
        assert any(all(np.array_equal(result[..., c], source[..., k]) for c in range(3)) for k in range(3))


def test_intensity_remap_is_a_grey_piecewise_linear_tone_curve():
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None, None], 3, axis=-1)
    ramps = np.repeat(ramp, 40, axis=0)
    out = random_intensity_remap(ramps, 1.0, np.random.default_rng(7), knots=4)
    assert out.shape == ramps.shape and out.dtype == np.uint8
    assert (out == out[..., :1]).all(), "the result is grey"
    curves = out[:, :, 0, 0].astype(np.int64)
    for curve in curves:
        for start, stop in ((0, 85), (85, 170), (170, 255)):
            segment = curve[start:stop + 1]
            expected = np.round(np.linspace(segment[0], segment[-1], len(segment)))
            assert np.abs(segment - expected).max() <= 1, "linear between evenly spaced knots"
    slopes = curves[:, -1] - curves[:, 0]
    assert (slopes > 0).any() and (slopes < 0).any(), "both polarities are drawn"


def test_intensity_remap_depends_on_the_colour_only(images):
    colours = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200]], dtype=np.uint8)
    pattern = colours[np.random.default_rng(8).integers(0, 3, size=(6, 10, 7))]
    out = random_intensity_remap(pattern, 1.0, np.random.default_rng(9))
    for result, source in zip(out, pattern):
        for colour in colours:
            assert len(np.unique(result[(source == colour).all(axis=-1)])) <= 1
    np.testing.assert_array_equal(random_intensity_remap(images, 0.0, np.random.default_rng(0)), images)
    half = random_intensity_remap(images, 0.5, np.random.default_rng(10))
    changed = [not np.array_equal(a, b) for a, b in zip(half, images)]
    assert any(changed) and not all(changed)


def test_random_erasing_sets_one_rectangle_to_the_mean_colour():
    batch = np.full((8, 3, 40, 20), 1.5, dtype=np.float32)
    random_erasing(batch, 1.0, np.random.default_rng(6))
    for image in batch:
        erased = np.argwhere((image == 0.0).all(axis=0))
        assert len(erased), "probability 1 must erase"
        (top, left), (bottom, right) = erased.min(axis=0), erased.max(axis=0)
        rectangle = image[:, top:bottom + 1, left:right + 1]
        assert (rectangle == 0.0).all()
        assert (image == 0.0).sum() == rectangle.size, "only the rectangle is erased"
        assert 0.01 <= rectangle[0].size / 800 <= 0.45
    untouched = np.full((2, 3, 8, 4), 1.5, dtype=np.float32)
    np.testing.assert_array_equal(random_erasing(untouched, 0.0, np.random.default_rng(0)), 1.5)


def test_train_transform_colour_changes_only_visible(images):
    transform = TrainTransform(flip_prob=0.0, grayscale_prob=1.0)
    visible = transform(images, True, np.random.default_rng(0))
    infrared = transform(images, False, np.random.default_rng(0))
    np.testing.assert_allclose(visible, normalize(to_grayscale(images)), atol=1e-6)
    np.testing.assert_allclose(infrared, normalize(images), atol=1e-6)
    with pytest.raises(ValueError, match="grayscale_prob"):
        TrainTransform(grayscale_prob=1.5)


@pytest.mark.parametrize("name", ["flip_prob", "random_erasing_prob", "channel_exchange_prob", "grayscale_prob",
                                  "intensity_remap_prob"])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_train_transform_refuses_probabilities_outside_0_1(name, value):
    with pytest.raises(ValueError, match=f"{name} must be a probability in \\[0, 1\\], got {value}"):
        TrainTransform(**{name: value})
    TrainTransform(**{name: 1.0})
