"""Image transforms on whole batches in numpy.

Training batches arrive as uint8 (n, H, W, 3) already resized (by the cache or the reader)
and leave as float32 (n, 3, H, W) normalised with the ImageNet mean and std. Randomness
comes from a ``numpy.random.Generator`` that the caller seeds per (seed, epoch, step), so
a resumed run reproduces its augmentation exactly.
"""

import numpy as np

from src.options import Option, Options


AUGMENTATION_OPTIONS = Options(
    Option("data.flip_prob", 0.5, "probability of a horizontal flip in training", minimum=0.0, maximum=1.0),
    Option("data.pad", 0, "pixels of zero padding before a random crop back to size (0: off)", minimum=0),
    Option("data.random_erasing_prob", 0.0,
           "probability of random erasing in training (0: off)", minimum=0.0, maximum=1.0),
    Option("data.channel_exchange_prob", 0.0,
           "probability of replacing a visible image by one of its channels", minimum=0.0, maximum=1.0),
    Option("data.grayscale_prob", 0.0, "probability of turning a visible image grey", minimum=0.0, maximum=1.0),
    Option("data.intensity_remap_prob", 0.0,
           "probability of a random grey rendering (random channel mix, random tone curve), both modalities",
           minimum=0.0, maximum=1.0),
)

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

# Random erasing (Zhong et al., AAAI 2020): erased area fraction and aspect-ratio range, tries.
ERASE_AREA = (0.02, 0.4)
ERASE_MIN_ASPECT = 0.3
ERASE_ATTEMPTS = 100


def normalize(images):
    """uint8 (n, H, W, 3) -> float32 (n, 3, H, W): (x / 255 - mean) / std per channel."""
    scale = (1.0 / (255.0 * IMAGENET_STD)).astype(np.float32)
    shift = (IMAGENET_MEAN / IMAGENET_STD).astype(np.float32)
    out = images.astype(np.float32) * scale - shift
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def flip_horizontal(batch):
    """Mirrors a float (n, 3, H, W) batch left-right (flip test-time augmentation)."""
    return np.ascontiguousarray(batch[..., ::-1])


def random_flip(images, prob, rng):
    """Mirrors each uint8 (n, H, W, 3) image left-right with probability ``prob``."""
    flip = rng.random(len(images)) < prob
    return np.where(flip[:, None, None, None], images[:, :, ::-1], images)


def random_pad_crop(images, pad, rng):
    """Zero-pads each image by ``pad`` pixels per side and crops a random (H, W) window."""
    if pad <= 0:
        return images
    count, height, width = images.shape[:3]
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    tops = rng.integers(0, 2 * pad + 1, count)
    lefts = rng.integers(0, 2 * pad + 1, count)
    return np.stack([padded[i, top:top + height, left:left + width]
                     for i, (top, left) in enumerate(zip(tops, lefts))])


def to_grayscale(images):
    """uint8 (n, H, W, 3) -> grey replicated on 3 channels, with PIL's ``convert("L")`` weights."""
    weights = np.array([19595, 38470, 7471], dtype=np.uint32)  # 0.299, 0.587, 0.114 in 1/65536
    grey = ((images.astype(np.uint32) @ weights + 32768) >> 16).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def random_grayscale(images, prob, rng):
    """Turns each image grey with probability ``prob``."""
    chosen = rng.random(len(images)) < prob
    if not chosen.any():
        return images
    out = images.copy()
    out[chosen] = to_grayscale(images[chosen])
    return out


def random_channel_exchange(images, prob, rng):
    """With probability ``prob`` replaces an image by one of its channels (uniformly R, G or B)
    copied to all three, which brings visible images closer to single-channel infrared ones."""
    chosen = rng.random(len(images)) < prob
    channels = rng.integers(0, 3, len(images))
    if not chosen.any():
        return images
    out = images.copy()
    rows = np.flatnonzero(chosen)
    out[rows] = np.repeat(images[rows, :, :, channels[rows]][..., None], 3, axis=-1)
    return out


def random_intensity_remap(images, prob, rng, knots=4):
    """With probability ``prob`` replaces an image by a random grey rendering of it: a random
    convex mix of its channels (weights from a flat Dirichlet) passed through a random
    piecewise-linear curve with ``knots`` points evenly spaced over 0..255, each given a
    uniform random level. The curve need not be monotonic, so brightness, polarity and
    the contrast between regions change, while region boundaries and textures stay: what
    an infrared camera keeps of a visible scene, whatever its sensor's response."""
    chosen = np.flatnonzero(rng.random(len(images)) < prob)
    if not len(chosen):
        return images
    out = images.copy()
    inputs = np.linspace(0.0, 255.0, knots)
    for i in chosen:
        grey = images[i].astype(np.float32) @ rng.dirichlet(np.ones(3)).astype(np.float32)
        levels = np.interp(grey, inputs, rng.uniform(0.0, 255.0, knots))
        out[i] = np.round(levels).astype(np.uint8)[..., None]
    return out


def random_erasing(batch, prob, rng):
    """With probability ``prob`` sets a random rectangle of a normalised (n, 3, H, W) batch to
    0, the ImageNet mean colour, in place. Returns the batch."""
    count, _, height, width = batch.shape
    area = height * width
    for i in np.flatnonzero(rng.random(count) < prob):
        for _ in range(ERASE_ATTEMPTS):
            target = rng.uniform(*ERASE_AREA) * area
            aspect = rng.uniform(ERASE_MIN_ASPECT, 1.0 / ERASE_MIN_ASPECT)
            h = int(round(np.sqrt(target * aspect)))
            w = int(round(np.sqrt(target / aspect)))
            if 0 < h < height and 0 < w < width:
                top = rng.integers(0, height - h + 1)
                left = rng.integers(0, width - w + 1)
                batch[i, :, top:top + h, left:left + w] = 0.0
                break
    return batch


class TrainTransform:
    """Training augmentation of one modality's batch.

    Order: random horizontal flip, pad + random crop, then for visible images only channel
    exchange and random grayscale, then random intensity remapping (both modalities), then
    ImageNet normalisation, then random erasing.
    """

    def __init__(self, flip_prob=0.5, pad=0, random_erasing_prob=0.0, channel_exchange_prob=0.0,
                 grayscale_prob=0.0, intensity_remap_prob=0.0):
        for name, value in (("flip_prob", flip_prob), ("random_erasing_prob", random_erasing_prob),
                            ("channel_exchange_prob", channel_exchange_prob), ("grayscale_prob", grayscale_prob),
                            ("intensity_remap_prob", intensity_remap_prob)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
        if pad < 0:
            raise ValueError(f"pad must be >= 0 pixels, got {pad}")
        self.flip_prob = flip_prob
        self.pad = pad
        self.random_erasing_prob = random_erasing_prob
        self.channel_exchange_prob = channel_exchange_prob
        self.grayscale_prob = grayscale_prob
        self.intensity_remap_prob = intensity_remap_prob

    def __call__(self, images, visible, rng):
        """uint8 (n, H, W, 3) -> float32 (n, 3, H, W); ``visible`` enables the colour transforms."""
        images = random_flip(images, self.flip_prob, rng)
        images = random_pad_crop(images, self.pad, rng)
        if visible:
            images = random_channel_exchange(images, self.channel_exchange_prob, rng)
            images = random_grayscale(images, self.grayscale_prob, rng)
        images = random_intensity_remap(images, self.intensity_remap_prob, rng)
        return random_erasing(normalize(images), self.random_erasing_prob, rng)
