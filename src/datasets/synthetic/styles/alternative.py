"""Alternative rendering style: drawn unlike the default one on purpose, to check generalisation.

HSV-drawn colours (saturated tops, muted bottoms, a palette of skin tones and hair colours)
mixed two per garment, and a per-camera white balance, exposure and gamma; textures of staggered
dots, zig-zags, bands of varying width or blocky plaid (kind, scale, orientation, phase per
garment); a tapered torso with arms and sleeves, trousers, shorts or a skirt, hair (sometimes
long), a bag with strap for 40 % of the ids, a smaller head range and a per-identity lean, with
per-image shear, leg spread and arm swing; cluttered backgrounds (random rectangles or smooth
noise, new for every image); infrared as a sigmoid of heat, white-hot on odd and black-hot on
even camera numbers, blurred, with column fixed-pattern noise, and garment textures shown
through emissivity with their own (signed) contrast. Heat is in [0, 1] (0 = coldest
background, 1 = skin) until the camera maps it to grey levels 0..255.
"""

from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from src.datasets.synthetic.drawing import hsv_colour, interpolation_matrix, paint, person_coordinates, to_uint8
from src.datasets.synthetic.style import STYLES, Style

TEXTURE_SCALES = {"dots": (0.05, 0.10), "zigzag": (0.07, 0.14), "bands": (0.14, 0.30), "plaid": (0.07, 0.14)}
TEXTURE_KINDS = tuple(TEXTURE_SCALES)
LOWER_KINDS = ("trousers", "shorts", "skirt")
SKIN_TONES = np.array([[236, 200, 172], [214, 170, 130], [178, 128, 92], [128, 86, 58], [86, 58, 42]], float)
HAIR_COLOURS = np.array([[20, 16, 14], [60, 38, 24], [120, 84, 48], [200, 170, 110], [150, 150, 150]], float)
SHOE_COLOUR = np.array([35.0, 32.0, 30.0])


@dataclass(frozen=True)
class _Texture:
    """A clothing pattern: ``kind`` from TEXTURE_KINDS, cell ``scale`` in body heights, the
    orientation ``angle``, a ``phase`` (2 fractions of a cell), a ``duty`` (share of a cell
    covered by the dot / stripe) and, for bands, the band ``widths`` (fractions of a cell)
    and their ``tones``."""

    kind: str
    scale: float
    angle: float
    phase: tuple
    duty: float
    widths: np.ndarray
    tones: np.ndarray


@dataclass(frozen=True)
class _Garment:
    """Texture, the two colours it mixes (RGB), its mean heat and how strongly the texture
    shows in infrared (signed emissivity contrast: negative = the RGB-bright part is cooler)."""

    texture: _Texture
    colour: np.ndarray
    second_colour: np.ndarray
    heat: float
    ir_contrast: float


@dataclass(frozen=True)
class _Identity:
    """Alternative-style person; lengths are fractions of body height, ``v`` runs down from the
    top of the head. ``bag_side`` is 0 (no bag), -1 or +1."""

    head_radius: float
    long_hair: bool
    hair_colour: np.ndarray
    skin_colour: np.ndarray
    skin_heat: float
    shoulder_half_width: float
    waist_half_width: float
    hip_level: float
    lean: float
    arm_half_width: float
    arm_length: float
    sleeve: float
    lower_kind: str
    hem_level: float
    skirt_flare: float
    leg_half_width: float
    leg_offset: float
    bag_side: int
    bag_size: tuple
    bag_level: float
    bag_colour: np.ndarray
    bag_heat: float
    upper: _Garment
    lower: _Garment


@dataclass(frozen=True)
class _Camera:
    """Alternative-style camera: placement, white balance and exposure (RGB), a cluttered
    background of ``background_kind`` ("blocks" or "noise") drawn from two colours and a heat
    range, and the infrared response: heat -> sigmoid(gain * (heat - midpoint)), white-hot
    (``polarity`` 1, odd camera keys) or black-hot (-1, even keys), spanning ``ir_range`` grey
    levels, Gaussian ``ir_blur`` (pixels at 128 rows), column fixed-pattern noise of
    ``column_noise`` grey levels drawn from ``pattern_key``, and temporal noise ``ir_noise``."""

    scale: float
    x_shift: float
    white_balance: np.ndarray
    exposure: float
    gamma: float
    rgb_noise: float
    background_kind: str
    background_colours: np.ndarray
    background_heat: tuple
    polarity: int
    ir_gain: float
    ir_midpoint: float
    ir_range: tuple
    ir_blur: float
    column_noise: float
    ir_noise: float
    pattern_key: tuple



def _sample_texture(rng):
    kind = TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))]
    widths = rng.uniform(0.3, 1.0, size=int(rng.integers(2, 5)))
    return _Texture(
        kind=kind,
        scale=rng.uniform(*TEXTURE_SCALES[kind]),
        angle=rng.uniform(-0.25, 0.25) if kind == "bands" else rng.uniform(0.0, np.pi),
        phase=(rng.random(), rng.random()),
        duty=rng.uniform(0.3, 0.6),
        widths=widths / widths.sum(),
        tones=rng.uniform(0.0, 1.0, size=widths.size),
    )


def _sample_garment(rng, saturation, value, heat):
    colour = hsv_colour(rng, saturation, value)
    second = hsv_colour(rng, saturation, value)
    return _Garment(texture=_sample_texture(rng), colour=colour, second_colour=second,
                    heat=rng.uniform(*heat), ir_contrast=rng.choice([-1.0, 1.0]) * rng.uniform(0.15, 0.45))


def sample_identity(seed, pid):
    rng = np.random.default_rng([seed, 11, pid])
    hip_level = rng.uniform(0.45, 0.57)
    lower_kind = LOWER_KINDS[int(rng.choice(3, p=[0.55, 0.2, 0.25]))]
    shoulder = rng.uniform(0.09, 0.16)
    return _Identity(
        head_radius=rng.uniform(0.045, 0.072),
        long_hair=bool(rng.random() < 0.35),
        hair_colour=HAIR_COLOURS[int(rng.integers(len(HAIR_COLOURS)))] * rng.uniform(0.85, 1.15),
        skin_colour=SKIN_TONES[int(rng.integers(len(SKIN_TONES)))] * rng.uniform(0.9, 1.1, size=3),
        skin_heat=rng.uniform(0.85, 1.0),
        shoulder_half_width=shoulder,
        waist_half_width=shoulder * rng.uniform(0.7, 1.05),
        hip_level=hip_level,
        lean=rng.uniform(-0.06, 0.06),
        arm_half_width=rng.uniform(0.022, 0.036),
        arm_length=rng.uniform(0.24, 0.33),
        sleeve=rng.uniform(0.2, 1.0),
        lower_kind=lower_kind,
        hem_level=hip_level + rng.uniform(0.12, 0.28),
        skirt_flare=rng.uniform(0.15, 0.5),
        leg_half_width=rng.uniform(0.028, 0.055),
        leg_offset=rng.uniform(0.035, 0.075),
        bag_side=int(rng.choice([-1, 1])) if rng.random() < 0.4 else 0,
        bag_size=(rng.uniform(0.04, 0.08), rng.uniform(0.08, 0.16)),
        bag_level=hip_level + rng.uniform(-0.15, 0.02),
        bag_colour=hsv_colour(rng, (0.0, 0.6), (0.1, 0.7)),
        bag_heat=rng.uniform(0.25, 0.5),
        upper=_sample_garment(rng, (0.5, 1.0), (0.4, 0.95), (0.6, 0.8)),
        lower=_sample_garment(rng, (0.05, 0.45), (0.15, 0.8), (0.5, 0.75)),
    )


def sample_camera(seed, camera_key):
    rng = np.random.default_rng([seed, 12, camera_key])
    white_balance = np.exp(rng.normal(0.0, 0.12, size=3))
    background_heat = rng.uniform(0.1, 0.4)
    return _Camera(
        scale=rng.uniform(0.80, 0.95),
        x_shift=rng.uniform(-0.07, 0.07),
        white_balance=white_balance / white_balance.mean(),
        exposure=rng.uniform(0.75, 1.15),
        gamma=rng.uniform(0.8, 1.25),
        rgb_noise=rng.uniform(0.1, 0.4),
        background_kind="blocks" if rng.random() < 0.5 else "noise",
        background_colours=np.stack([hsv_colour(rng, (0.0, 0.5), (0.15, 0.85)) for _ in range(2)]),
        background_heat=(background_heat, background_heat + rng.uniform(0.05, 0.2)),
        polarity=-1 if camera_key % 2 == 0 else 1,  # black-hot on even keys: SYSU camera 6, RegDB, some LLCM cameras
        ir_gain=rng.uniform(4.0, 9.0),
        ir_midpoint=rng.uniform(0.4, 0.6),
        ir_range=(rng.uniform(5, 50), rng.uniform(200, 250)),
        ir_blur=rng.uniform(0.4, 1.2),
        column_noise=rng.uniform(2.0, 8.0),
        ir_noise=rng.uniform(2.0, 5.0),
        pattern_key=(seed, 13, camera_key),
    )


def _texture(texture, u, v):
    """The pattern of ``texture`` at body coordinates (u, v), in [0, 1]."""
    cos, sin = np.cos(texture.angle), np.sin(texture.angle)
    a = (cos * u + sin * v) / texture.scale + texture.phase[0]
    b = (-sin * u + cos * v) / texture.scale + texture.phase[1]
    if texture.kind == "dots":  # staggered rows of round dots with soft edges
        da = a + 0.5 * np.floor(b) - np.floor(a + 0.5 * np.floor(b)) - 0.5
        db = b - np.floor(b) - 0.5
        radius = 0.5 * np.sqrt(texture.duty)
        return np.clip((radius - np.hypot(da, db)) / 0.08 + 0.5, 0.0, 1.0)
    if texture.kind == "zigzag":  # stripes bent into a triangle wave
        wave = 2.0 * np.abs(a - np.floor(a) - 0.5)
        bent = b + 0.8 * wave
        return (bent - np.floor(bent) < texture.duty).astype(np.float64)
    if texture.kind == "bands":  # repeating bands of different widths and tones
        position = b - np.floor(b)
        index = np.minimum(np.searchsorted(np.cumsum(texture.widths), position), texture.widths.size - 1)
        return texture.tones[index]
    # plaid: two sets of solid bars crossing, three tones
    return 0.5 * ((a - np.floor(a) < texture.duty).astype(np.float64)
                  + (b - np.floor(b) < 0.5 * texture.duty))



def _clutter(camera, rng, height, width):
    """A background mixing map in [0, 1] (new for every image, of the camera's kind): smooth
    noise, or rectangles of random tones over a floor / wall split."""
    if camera.background_kind == "noise":
        grid = rng.random((height // 16 + 2, width // 16 + 2))
        return interpolation_matrix(height, grid.shape[0]) @ grid @ interpolation_matrix(width, grid.shape[1]).T
    mix = np.where(np.arange(height)[:, None] < rng.uniform(0.5, 0.8) * height, 0.3, 0.7) * np.ones((1, width))
    for _ in range(int(rng.integers(4, 9))):
        top, left = int(rng.integers(height)), int(rng.integers(width))
        mix[top:top + int(rng.integers(height // 10, height // 2)),
            left:left + int(rng.integers(width // 8, width // 2))] = rng.uniform(0.15, 0.85)
    return mix


def _body(identity, u, v, rng):
    """Region masks of one image, back to front, with per-image shear, leg spread and arm swing."""
    u = u - (identity.lean + rng.uniform(-0.035, 0.035)) * (v - 1.0)  # sheared about the soles
    spread, swing = rng.uniform(0.0, 0.1), rng.uniform(-0.05, 0.05)
    r = identity.head_radius
    neck, hip = 2.0 * r + 0.015, identity.hip_level
    leg_axis = identity.leg_offset + spread * np.maximum(v - hip, 0.0)
    legs = (np.abs(np.abs(u) - leg_axis) < identity.leg_half_width) & (v >= hip) & (v < 1.0)
    shoes = legs & (v >= 0.97)
    if identity.lower_kind == "skirt":
        lower = (np.abs(u) < identity.waist_half_width + identity.skirt_flare * (v - hip)) & (v >= hip) & (
            v < identity.hem_level)
    elif identity.lower_kind == "shorts":
        lower = (legs & (v < identity.hem_level)) | ((np.abs(u) < identity.waist_half_width) & (v >= hip)
                                                      & (v < hip + 0.04))
    else:
        lower = legs | ((np.abs(u) < identity.waist_half_width) & (v >= hip) & (v < hip + 0.04))
    width_at = identity.shoulder_half_width + (identity.waist_half_width - identity.shoulder_half_width) * (
        (v - neck) / (hip - neck))
    torso = (np.abs(u) < width_at) & (v >= neck) & (v < hip)
    arm_axis = identity.shoulder_half_width + identity.arm_half_width + 0.004 + np.sign(u) * swing * (v - neck)
    arms = (np.abs(np.abs(u) - arm_axis) < identity.arm_half_width) & (v >= neck + 0.01) & (
        v < neck + identity.arm_length)
    sleeves = arms & (v < neck + 0.01 + identity.sleeve * identity.arm_length)
    head = (u / (0.85 * r)) ** 2 + ((v - r - 0.005) / r) ** 2 < 1.0
    hair = head & (v < 0.005 + 0.6 * r)
    if identity.long_hair:
        hair = hair | ((np.abs(u) < 0.95 * r) & (v >= r) & (v < neck + 0.08) & ~head)
    regions = [("skin", legs), ("shoes", shoes), ("lower", lower), ("skin", arms), ("upper", sleeves),
               ("upper", torso), ("skin", head), ("hair", hair)]
    if identity.bag_side:
        side, (bag_half_width, bag_height) = identity.bag_side, identity.bag_size
        bag_x = side * (identity.shoulder_half_width + bag_half_width + 0.02)
        bag = (np.abs(u - bag_x) < bag_half_width) & (v >= identity.bag_level) & (v < identity.bag_level + bag_height)
        start, end = np.array([-side * 0.7 * identity.shoulder_half_width, neck]), np.array([bag_x, identity.bag_level])
        along = end - start
        across = np.abs((u - start[0]) * along[1] - (v - start[1]) * along[0]) / np.hypot(*along)
        strap = (across < 0.012) & (v >= neck) & (v < identity.bag_level)
        regions += [("bag", bag), ("bag", strap)]
    return regions, u, v


def render(identity, camera, infrared, rng, height, width):
    """Draw one alternative-style image (the arguments and result: ``Style``)."""
    _, u, v = person_coordinates(camera, rng, height, width)
    regions, u, v = _body(identity, u, v, rng)
    upper_pattern = _texture(identity.upper.texture, u, v)
    lower_pattern = _texture(identity.lower.texture, u, v)
    background = _clutter(camera, rng, height, width)
    if infrared:
        def garment_heat(garment, pattern):
            return garment.heat * (1.0 + garment.ir_contrast * (pattern - 0.5))

        value = {"skin": identity.skin_heat, "shoes": 0.45, "hair": identity.skin_heat - 0.2,
                 "bag": identity.bag_heat, "upper": garment_heat(identity.upper, upper_pattern),
                 "lower": garment_heat(identity.lower, lower_pattern)}
        low, high = camera.background_heat
        heat = paint(low + (high - low) * background, [(mask, value[name]) for name, mask in regions])
        response = 1.0 / (1.0 + np.exp(-camera.ir_gain * (np.array([0.0, 1.0]) - camera.ir_midpoint)))
        level = 1.0 / (1.0 + np.exp(-camera.ir_gain * (heat - camera.ir_midpoint)))
        level = (level - response[0]) / (response[1] - response[0])
        if camera.polarity < 0:
            level = 1.0 - level
        image = camera.ir_range[0] + (camera.ir_range[1] - camera.ir_range[0]) * level
        image = scipy.ndimage.gaussian_filter(image, camera.ir_blur * height / 128.0, mode="nearest")
        columns = np.random.default_rng(camera.pattern_key + (width,)).normal(0.0, camera.column_noise, size=width)
        image = image + columns[None, :] + rng.normal(0.0, camera.ir_noise, size=image.shape)
    else:
        def garment_colour(garment, pattern):
            pattern = pattern[:, :, None]
            return garment.colour * (1.0 - pattern) + garment.second_colour * pattern

        value = {"skin": identity.skin_colour, "shoes": SHOE_COLOUR, "hair": identity.hair_colour,
                 "bag": identity.bag_colour, "upper": garment_colour(identity.upper, upper_pattern),
                 "lower": garment_colour(identity.lower, lower_pattern)}
        colours = camera.background_colours
        image = paint(colours[0] + (colours[1] - colours[0]) * background[:, :, None],
                      [(mask, value[name]) for name, mask in regions])
        image = image * camera.white_balance * camera.exposure * rng.uniform(0.9, 1.1)
        image = 255.0 * (np.clip(image, 0.0, 255.0) / 255.0) ** camera.gamma
        image = image + rng.normal(0.0, 1.0, size=image.shape) * np.sqrt(4.0 + camera.rgb_noise * image)
    return to_uint8(image)


STYLES.register("alternative")(Style(sample_identity, sample_camera, render))
