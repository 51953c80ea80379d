"""Surveillance rendering style: one that pretraining never sees (not in ``styles.mixed.MIXED_OF``).

It measures how a pretrained encoder transfers; drawn unlike both the default and the
alternative style, the way real surveillance footage differs. People are assembled from
superellipses: a coat or jacket (sometimes worn open over a warmer inner layer, hip or knee
length), hood, cap or hair, walking stride, and a backpack, suitcase or handbag for 60 % of the
ids; garments carry vertical pinstripes, a colour ramp, a two-tone split, a colour-block yoke,
reflective bands, a diagonal sash or trouser side stripes, and a patch (disc, square, triangle
or bar) at a fixed chest place. Cameras are fixed: each has its own oblique viewpoint
(horizontal squeeze, a height that magnifies the head and foreshortens the legs, a slight
roll), a static scene (wall with fixtures over a floor tiled in perspective, sometimes a pole
in front of the person's side), images that sometimes cut the feet off, and an on-screen
display box. RGB: sodium-orange, bluish LED, fluorescent or neutral lighting, dim cameras with
strong noise, motion blur or defocus, low resolution upscaled, blocky JPEG. Infrared: cold
clothing against warm skin (patterns shown through emissivity; reflective bands bright), a hot
halo (bloom) around the body, vignetting, row banding, noise, and automatic gain stretching
each image, to a narrow grey range on low-contrast cameras. Heat is in [0, 1] as in the
alternative style. Harder than both other styles (HOG floor: docs/experiments.md).
"""

import colorsys
import io
from dataclasses import dataclass

import numpy as np
import scipy.ndimage
from PIL import Image

from src.datasets.synthetic.drawing import hsv_colour, interpolation_matrix, paint, to_uint8
from src.datasets.synthetic.style import STYLES, Style

COAT_KINDS = ("pinstripes", "gradient", "split", "yoke", "bands", "sash")
INNER_KINDS = ("plain", "pinstripes", "gradient", "yoke")
LOWER_KINDS = ("plain", "pinstripes", "gradient", "side_stripe")
HEADWEAR = ("hair", "cap", "hood")
PATCH_SHAPES = ("none", "disc", "square", "triangle", "bar")
CARRIED = ("none", "backpack", "suitcase", "handbag")
# Range of a garment's ``level`` by pattern kind (see _Garment).
LEVELS = {"gradient": (0.6, 1.8), "split": (-0.05, 0.05), "yoke": (0.2, 0.45), "bands": (0.35, 0.6),
          "side_stripe": (0.45, 0.75), "sash": (0.5, 1.1)}
# Everyday clothing: black, charcoal, navy, grey, beige, olive, brown, burgundy, off-white,
# red, mustard, teal, denim.
FABRICS = np.array([[28, 28, 32], [62, 63, 68], [34, 42, 74], [120, 120, 124], [192, 178, 150],
                    [86, 94, 60], [98, 66, 44], [114, 36, 46], [228, 228, 220], [178, 42, 38],
                    [216, 180, 54], [42, 112, 120], [72, 98, 152]], float)
# Lighting of a camera: neutral, sodium-vapour orange, bluish LED, greenish fluorescent.
LIGHTS = np.array([[1.0, 1.0, 1.0], [1.32, 0.9, 0.42], [0.8, 0.96, 1.3], [0.92, 1.08, 0.94]])


@dataclass(frozen=True)
class _Garment:
    """A garment: pattern ``kind``, the two colours it mixes (RGB, (2, 3)), ``spacing`` and
    ``duty`` of pinstripes / bands, a ``phase``, a ``level`` (place of a split, yoke, band or
    side stripe, slope of a sash, or the exponent of a ramp), its mean ``heat`` and signed ``emissivity``
    contrast (how the pattern shows in infrared)."""

    kind: str
    colours: np.ndarray
    spacing: float
    duty: float
    phase: float
    level: float
    heat: float
    emissivity: float


@dataclass(frozen=True)
class _Identity:
    """Surveillance-style person; lengths in body heights, ``v`` down from the top of the head.
    Body parts are superellipses (``exponent`` of the coat's); ``carried_side`` is -1 or +1."""

    head_height: float
    head_aspect: float
    headwear: str
    hair_colour: np.ndarray
    skin_colour: np.ndarray
    skin_heat: float
    shoulder_half_width: float
    exponent: float
    flare: float
    hip_level: float
    hem_level: float
    open_half_width: float
    arm_half_width: float
    arm_length: float
    arm_splay: float
    leg_half_width: float
    leg_gap: float
    leg_taper: float
    coat: _Garment
    inner: _Garment
    lower: _Garment
    shoe_colour: np.ndarray
    patch_shape: str
    patch_centre: tuple
    patch_size: float
    patch_colour: np.ndarray
    patch_heat: float
    carried: str
    carried_side: int
    carried_size: tuple
    carried_colour: np.ndarray
    carried_heat: float


@dataclass(frozen=True)
class _Camera:
    """A fixed surveillance camera. Viewpoint: ``scale``, ``x_shift``, horizontal ``squeeze``
    (oblique view), ``elevation`` (a high camera: the head magnified, the legs foreshortened),
    ``roll`` (radians) and the chance ``crop_chance`` that an image cuts the feet off. Static
    scene: wall over a perspective-tiled floor from ``horizon`` (fraction of the height) with
    vanishing point ``vanish_x``, rectangles ``fixtures`` (top, bottom, left, right fractions)
    and a pole in front (``pole``: centre and half width as fractions of the width, half width
    0 = none). Both modalities: resolution divided by ``low_res``, JPEG ``jpeg_quality`` (0 =
    none), the on-screen display box ``osd`` with its fixed characters ``osd_ticks``. RGB:
    ``light`` colour, ``brightness``, top-down ``falloff``, ``blur_kind`` ("motion" or
    "defocus") of ``blur`` pixels at 128 rows, noise ``rgb_noise``. Infrared: ``bloom`` strength
    and radius (pixels at 128 rows), ``vignette``, ``ir_blur``, ``ir_noise`` and fixed row
    banding ``row_noise`` (heat units, drawn from ``banding_key``), and the grey range
    ``ir_range`` that the automatic gain stretches each image to (narrow on low-contrast
    cameras)."""

    scale: float
    x_shift: float
    squeeze: float
    elevation: float
    roll: float
    crop_chance: float
    horizon: float
    vanish_x: float
    tile_size: tuple
    tile_contrast: float
    wall_colour: np.ndarray
    floor_colour: np.ndarray
    wall_heat: float
    floor_heat: float
    fixtures: np.ndarray
    fixture_colours: np.ndarray
    fixture_heat: np.ndarray
    pole: tuple
    pole_colour: np.ndarray
    pole_heat: float
    light: np.ndarray
    brightness: float
    falloff: float
    blur_kind: str
    blur: float
    low_res: float
    jpeg_quality: int
    rgb_noise: float
    bloom: float
    bloom_radius: float
    vignette: float
    ir_blur: float
    ir_noise: float
    row_noise: float
    ir_range: tuple
    banding_key: tuple
    osd: bool
    osd_ticks: tuple


def _sample_fabric(rng):
    return FABRICS[int(rng.integers(len(FABRICS)))] * rng.uniform(0.88, 1.12, size=3)


def _sample_garment(rng, kinds, heat):
    kind = kinds[int(rng.integers(len(kinds)))]
    first = _sample_fabric(rng)
    if kind == "pinstripes":  # thin light or dark lines on the cloth
        second = first * rng.uniform(0.3, 0.55) if first.mean() > 140 else np.minimum(first + rng.uniform(70, 130), 255)
    elif kind == "gradient":  # faded or dip-dyed: one colour darkening along the garment
        second = first * rng.uniform(0.25, 0.55)
    elif kind == "bands":  # reflective silver bands
        second = np.full(3, rng.uniform(185, 225))
    else:  # a second fabric that stands out from the first in brightness
        candidates = [_sample_fabric(rng) for _ in range(6)]
        second = max(candidates, key=lambda colour: abs(colour.mean() - first.mean()))
    level = rng.uniform(*LEVELS[kind]) if kind in LEVELS else 0.0
    if kind == "sash":  # falling to the left or to the right
        level *= rng.choice([-1.0, 1.0])
    emissivity = rng.choice([-1.0, 1.0]) * rng.uniform(0.4, 0.8)
    if kind == "bands":  # retro-reflective: bright under the infrared illuminator
        emissivity = rng.uniform(0.7, 1.0)
    return _Garment(kind=kind, colours=np.stack([first, second]), spacing=rng.uniform(0.05, 0.09),
                    duty=rng.uniform(0.08, 0.16) if kind in ("bands", "side_stripe", "sash")
                    else rng.uniform(0.3, 0.45),
                    phase=rng.random(), level=level, heat=rng.uniform(*heat), emissivity=emissivity)


def sample_identity(seed, pid):
    rng = np.random.default_rng([seed, 30, pid])
    hip_level = rng.uniform(0.47, 0.56)
    shoulder = rng.uniform(0.10, 0.165)
    coat = _sample_garment(rng, COAT_KINDS, (0.3, 0.5))  # outer layer: cold
    open_front = rng.random() < 0.45
    patch_shape = PATCH_SHAPES[int(rng.choice(len(PATCH_SHAPES), p=[0.2, 0.2, 0.2, 0.2, 0.2]))]
    # patches on the left or right chest, or in the middle when the coat is closed
    patch_side = int(rng.choice([-1, 1])) if open_front else int(rng.choice([-1, 0, 1]))
    carried = CARRIED[int(rng.choice(len(CARRIED), p=[0.4, 0.25, 0.15, 0.2]))]
    skin_value = rng.uniform(0.3, 0.95)
    return _Identity(
        head_height=rng.uniform(0.055, 0.075),
        head_aspect=rng.uniform(0.72, 0.95),
        headwear=HEADWEAR[int(rng.choice(3, p=[0.55, 0.2, 0.25]))],
        hair_colour=hsv_colour(rng, (0.2, 0.6), (0.05, 0.6)),
        skin_colour=255.0 * np.array(colorsys.hsv_to_rgb(rng.uniform(0.04, 0.1), rng.uniform(0.25, 0.55), skin_value)),
        skin_heat=rng.uniform(0.85, 1.0),
        shoulder_half_width=shoulder,
        exponent=rng.uniform(3.0, 7.0),
        flare=rng.uniform(-0.15, 0.35),
        hip_level=hip_level,
        hem_level=hip_level + (rng.uniform(0.12, 0.3) if rng.random() < 0.35 else rng.uniform(-0.02, 0.05)),
        open_half_width=rng.uniform(0.02, 0.05) if open_front else 0.0,
        arm_half_width=rng.uniform(0.022, 0.034),
        arm_length=rng.uniform(0.3, 0.37),
        arm_splay=rng.uniform(0.05, 0.2),
        leg_half_width=rng.uniform(0.032, 0.056),
        leg_gap=rng.uniform(0.035, 0.065),
        leg_taper=rng.uniform(0.0, 0.45),
        coat=coat,
        inner=_sample_garment(rng, INNER_KINDS, (0.6, 0.8)),  # warm under the coat
        lower=_sample_garment(rng, LOWER_KINDS, (0.42, 0.62)),
        shoe_colour=hsv_colour(rng, (0.0, 0.4), (0.08, 0.9)),
        patch_shape=patch_shape,
        patch_centre=(patch_side * shoulder * rng.uniform(0.4, 0.55), rng.uniform(0.2, 0.4)),
        patch_size=rng.uniform(0.03, 0.055),
        patch_colour=hsv_colour(rng, (0.0, 1.0), (0.75, 1.0)),
        patch_heat=np.clip(coat.heat + rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.4), 0.05, 1.0),
        carried=carried,
        carried_side=int(rng.choice([-1, 1])),
        carried_size=(rng.uniform(0.75, 1.25), rng.uniform(0.75, 1.25)),
        carried_colour=_sample_fabric(rng),
        carried_heat=rng.uniform(0.2, 0.4),
    )


def sample_camera(seed, camera_key):
    rng = np.random.default_rng([seed, 31, camera_key])
    low_contrast = rng.random() < 0.4
    lit = rng.random() < 0.6  # the rest are dim, and noisier
    fixtures = []
    for _ in range(int(rng.integers(2, 5))):
        top, left = rng.uniform(0.0, 0.5), rng.uniform(-0.1, 0.9)
        fixtures.append((top, top + rng.uniform(0.08, 0.4), left, left + rng.uniform(0.1, 0.4)))
    has_pole = rng.random() < 0.3
    return _Camera(
        scale=rng.uniform(0.74, 0.92),
        x_shift=rng.uniform(-0.06, 0.06),
        squeeze=rng.uniform(0.75, 1.0),
        elevation=rng.uniform(0.0, 0.5),
        roll=rng.uniform(-0.04, 0.04),
        crop_chance=rng.uniform(0.0, 0.35),
        horizon=rng.uniform(0.4, 0.7),
        vanish_x=rng.uniform(0.1, 0.9),
        tile_size=(rng.uniform(0.3, 0.9), rng.uniform(1.0, 3.0)),
        tile_contrast=rng.uniform(0.0, 0.15),
        wall_colour=hsv_colour(rng, (0.0, 0.35), (0.3, 0.9)),
        floor_colour=hsv_colour(rng, (0.0, 0.3), (0.2, 0.7)),
        wall_heat=rng.uniform(0.25, 0.45),
        floor_heat=rng.uniform(0.2, 0.4),
        fixtures=np.array(fixtures),
        fixture_colours=np.stack([hsv_colour(rng, (0.0, 0.6), (0.1, 1.0)) for _ in fixtures]),
        fixture_heat=rng.uniform(0.1, 0.8, size=len(fixtures)),
        pole=(rng.choice([-1.0, 1.0]) * rng.uniform(0.22, 0.4) + 0.5, rng.uniform(0.025, 0.06) if has_pole else 0.0),
        pole_colour=hsv_colour(rng, (0.0, 0.5), (0.1, 0.8)),
        pole_heat=rng.uniform(0.15, 0.55),
        light=LIGHTS[int(rng.integers(len(LIGHTS)))],
        brightness=rng.uniform(0.85, 1.15) if lit else rng.uniform(0.5, 0.7),
        falloff=rng.uniform(0.0, 0.5),
        blur_kind="motion" if rng.random() < 0.5 else "defocus",
        blur=rng.uniform(0.8, 3.5),
        low_res=rng.uniform(1.0, 2.0),
        jpeg_quality=int(rng.integers(15, 45)) if rng.random() < 0.6 else 0,
        rgb_noise=rng.uniform(3.0, 6.0) if lit else rng.uniform(6.0, 9.0),
        bloom=rng.uniform(0.2, 0.6),
        bloom_radius=rng.uniform(2.0, 5.0),
        vignette=rng.uniform(0.15, 0.5),
        ir_blur=rng.uniform(0.5, 1.5),
        ir_noise=rng.uniform(0.008, 0.025),
        row_noise=rng.uniform(0.003, 0.012),
        ir_range=(rng.uniform(70, 100), rng.uniform(150, 185)) if low_contrast else (rng.uniform(5, 30),
                                                                                      rng.uniform(215, 250)),
        banding_key=(seed, 32, camera_key),
        osd=bool(rng.random() < 0.5),
        osd_ticks=tuple(int(x) for x in rng.integers(0, 2, size=12)),
    )


def _superellipse(x, y, exponent=2.0):
    """Inside of the superellipse |x|^n + |y|^n < 1 (x, y already divided by the half axes)."""
    return np.abs(x) ** exponent + np.abs(y) ** exponent < 1.0


def _limb(u, v, joint, angle, length, half_width, taper=0.0, exponent=5.0):
    """A limb hanging from ``joint`` (u, v) at ``angle`` (radians, 0 = straight down, > 0
    towards +u), as a superellipse capsule narrowing by ``taper`` towards its end. Returns the
    mask, the position along the limb (0 at the joint) and across it (in half widths)."""
    du, dv = u - joint[0], v - joint[1]
    along = du * np.sin(angle) + dv * np.cos(angle)
    half = half_width * (1.0 - taper * np.clip(along / length, 0.0, 1.0))
    across = (du * np.cos(angle) - dv * np.sin(angle)) / half
    return _superellipse(across, (along - length / 2.0) / (length / 2.0), exponent), along, across


def _coordinates(camera, rng, height, width):
    """Person coordinates ``u`` (across) and ``v`` (down, 0 = top of the head, 1 = soles) of every
    pixel, seen by ``camera``: rolled, squeezed and foreshortened from above; sometimes cropped
    so that the feet leave the image. Returns ys, xs (pixel grids), u, v."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    k = camera.elevation

    def projected(v):  # where body height v lands, as a fraction of the body's image height
        return v * (1.0 + k) / (1.0 + k * v)

    if rng.random() < camera.crop_chance:  # the image ends between the knees and the ankles
        bottom = projected(rng.uniform(0.8, 0.93))
        body_height = height / bottom * rng.uniform(0.94, 1.0)
        top = height - bottom * body_height
    else:
        body_height = height * camera.scale * rng.uniform(0.96, 1.04)
        top = (height - body_height) / 2.0 + rng.uniform(-0.02, 0.02) * height
    centre_x = width * (0.5 + camera.x_shift + rng.uniform(-0.035, 0.035))
    x, p = (xs - centre_x) / body_height, (ys - top) / body_height - 0.5
    cos, sin = np.cos(camera.roll), np.sin(camera.roll)
    x, p = x * cos + p * sin, 0.5 + p * cos - x * sin
    v = p / np.maximum(1.0 + k - k * p, 0.2)
    u = x * (1.0 + k * v) / (1.0 + k / 2.0) / camera.squeeze
    return ys, xs, u, v


def _pattern(garment, across, along):
    """Mix in [0, 1] between the garment's two colours. ``across`` is u (for side stripes the
    signed position across the leg, in half widths) and ``along`` the position down the
    garment (0 at its top, 1 at its bottom), so splits, yokes and bands sit at fixed places."""
    along = np.clip(along, 0.0, 1.0)
    if garment.kind == "pinstripes":
        return (np.mod(across / garment.spacing + garment.phase, 1.0) < garment.duty).astype(np.float64)
    if garment.kind == "gradient":
        return along ** garment.level
    if garment.kind == "split":
        return (across > garment.level).astype(np.float64)
    if garment.kind == "yoke":
        return (along < garment.level).astype(np.float64)
    if garment.kind == "bands":
        return ((np.abs(along - garment.level) < garment.duty / 2.0)
                | (np.abs(along - garment.level - 0.3) < garment.duty / 2.0)).astype(np.float64)
    if garment.kind == "sash":  # one broad diagonal band, shoulder to hip (level: its slope)
        return (np.abs(across - garment.level * 0.25 * (along - 0.5)) < 0.4 * garment.duty).astype(np.float64)
    if garment.kind == "side_stripe":
        return (np.abs(np.abs(across) - garment.level) < garment.duty).astype(np.float64)
    return np.zeros_like(across)


def _body(identity, u, v, rng):
    """Region masks of one image, back to front, and the pattern of each garment, with a
    per-image stride and arm swing. Returns ([(name, mask)], {garment: pattern})."""
    r = identity.head_height
    neck, hip, hem = 2.0 * r + 0.01, identity.hip_level, identity.hem_level
    shoulder = identity.shoulder_half_width
    stride, phase = rng.uniform(0.0, 0.12), rng.uniform(-0.5, 0.5)
    regions, leg_across = [], np.zeros_like(u)
    side = identity.carried_side

    if identity.carried == "backpack":  # sticks out behind the shoulders on one side
        size_u, size_v = identity.carried_size
        pack = _superellipse((u - side * 0.5 * shoulder) / (0.85 * shoulder * size_u),
                             (v - neck - 0.16) / (0.13 * size_v), 4.0)
        regions.append(("carried", pack))

    legs, shoes = np.zeros(u.shape, bool), np.zeros(u.shape, bool)
    length = 0.985 - hip
    for leg_side in (-1, 1):
        leg, along, across = _limb(u, v, (leg_side * identity.leg_gap, hip), stride * (0.5 * leg_side + phase),
                                   length, identity.leg_half_width, identity.leg_taper, 6.0)
        shoe_half = identity.leg_half_width * (1.0 - identity.leg_taper) * 1.25
        shoes |= _superellipse(across * (1.0 - identity.leg_taper) * identity.leg_half_width / shoe_half,
                               (along - length) / 0.025, 3.0)
        leg_across = np.where(leg, leg_side * across, leg_across)
        legs |= leg
    pelvis = _superellipse(u / (identity.leg_gap + identity.leg_half_width), (v - hip - 0.02) / 0.05, 4.0)
    regions += [("lower", legs | pelvis), ("shoes", shoes & ~legs)]

    centre, half_length = (neck + hem) / 2.0, (hem - neck) / 2.0 + 0.012
    t = (v - centre) / half_length
    coat = _superellipse(u / (shoulder * (1.0 + identity.flare * t)), t, identity.exponent)
    regions.append(("coat", coat))
    opening = coat & (np.abs(u) < identity.open_half_width * (0.6 + 0.6 * (t + 1.0)))
    neckline = coat & (np.abs(u) < 0.035 * (1.0 - (v - neck) / 0.07)) & (v < neck + 0.07)
    regions += [("inner", (opening | neckline) & (v < hip)), ("lower", opening & (v >= hip) & (legs | pelvis))]

    if identity.patch_shape != "none":
        du, dv = u - identity.patch_centre[0], v - (neck + identity.patch_centre[1] * (hip - neck))
        size = identity.patch_size
        shape = {"disc": np.hypot(du, dv) < size,
                 "square": np.maximum(np.abs(du), np.abs(dv)) < 0.85 * size,
                 "triangle": (dv < size) & (np.abs(du) < (dv + size) / 2.0),
                 "bar": (np.abs(du) < 1.6 * size) & (np.abs(dv) < 0.4 * size)}[identity.patch_shape]
        regions.append(("patch", shape & coat & ~opening))

    if identity.carried == "backpack":
        straps = coat & (np.abs(np.abs(u) - 0.55 * shoulder) < 0.012) & (v < neck + 0.2)
        regions.append(("strap", straps))

    swing = -0.5 * stride * phase
    hands = {}
    sleeves, skin = np.zeros(u.shape, bool), np.zeros(u.shape, bool)
    for arm_side in (-1, 1):
        joint = (arm_side * (shoulder - 0.6 * identity.arm_half_width), neck + 0.035)
        angle = arm_side * identity.arm_splay + swing
        arm, _, _ = _limb(u, v, joint, angle, identity.arm_length, identity.arm_half_width, 0.15, 4.0)
        hand_u = joint[0] + (identity.arm_length + 0.015) * np.sin(angle)
        hand_v = joint[1] + (identity.arm_length + 0.015) * np.cos(angle)
        hands[arm_side] = (hand_u, hand_v)
        sleeves |= arm
        skin |= np.hypot(u - hand_u, v - hand_v) < 1.1 * identity.arm_half_width
    regions.append(("coat", sleeves))

    hand_u, hand_v = hands[side]
    size_u, size_v = identity.carried_size
    if identity.carried == "suitcase":  # stands on the floor, held by a long handle
        half_u, half_v = 0.07 * size_u, 0.11 * size_v
        box_u = hand_u + side * (half_u * 0.4)
        case = _superellipse((u - box_u) / half_u, (v - (1.0 - half_v)) / half_v, 8.0)
        handle = (np.abs(u - hand_u) < 0.008) & (v > hand_v) & (v < 1.0 - 2.0 * half_v)
        regions += [("carried", case), ("strap", handle)]
    elif identity.carried == "handbag":
        half_u, half_v = 0.045 * size_u, 0.038 * size_v
        bag = _superellipse((u - hand_u) / half_u, (v - hand_v - half_v - 0.005) / half_v, 2.5)
        regions.append(("carried", bag))
    regions.append(("skin", skin))

    head = _superellipse(u / (identity.head_aspect * r), (v - r - 0.004) / r)
    if identity.headwear == "hood":
        hood = _superellipse(u / (1.3 * identity.head_aspect * r), (v - r - 0.01) / (1.25 * r))
        face = _superellipse(u / (0.75 * identity.head_aspect * r), (v - 1.15 * r) / (0.72 * r))
        regions += [("coat", hood), ("skin", face)]
    else:
        regions.append(("skin", head))
        if identity.headwear == "cap":
            crown = head & (v < 0.75 * r)
            brim = (np.abs(u - 0.4 * identity.head_aspect * r) < 1.25 * identity.head_aspect * r) & (
                np.abs(v - 0.7 * r) < 0.012)
            regions.append(("cap", crown | brim))
        else:
            regions.append(("hair", head & (v < 0.7 * r)))

    patterns = {"coat": _pattern(identity.coat, u, (v - neck) / (hem - neck + 1e-6)),
                "inner": _pattern(identity.inner, u, (v - neck) / (hip - neck)),
                "lower": _pattern(identity.lower, leg_across if identity.lower.kind == "side_stripe" else u,
                                  (v - hip) / (1.0 - hip))}
    return regions, patterns


def _scene(camera, infrared, height, width):
    """The camera's static scene: a wall with fixtures over a floor tiled in perspective."""
    fy = (np.arange(height)[:, None] + 0.5) / height * np.ones((1, width))
    fx = (np.arange(width)[None, :] + 0.5) / width * np.ones((height, 1))
    depth = np.maximum(fy - camera.horizon, 1e-3)
    tiles = (np.floor((fx - camera.vanish_x) / depth / camera.tile_size[0])
             + np.floor(1.0 / depth / camera.tile_size[1])) % 2
    floor = fy > camera.horizon
    tone = np.where(floor, 1.0 + camera.tile_contrast * (tiles - 0.5), 1.0 - 0.2 * (camera.horizon - fy))
    if infrared:
        scene = np.where(floor, camera.floor_heat, camera.wall_heat) * tone
        values = camera.fixture_heat
    else:
        scene = np.where(floor[:, :, None], camera.floor_colour, camera.wall_colour) * tone[:, :, None]
        values = camera.fixture_colours
    for (top, bottom, left, right), value in zip(camera.fixtures, values):
        inside = (fy >= top) & (fy < min(bottom, camera.horizon)) & (fx >= left) & (fx < right)
        scene = paint(scene, [(inside, value)])
    return scene


def _resample(image, factor):
    """Down to 1 / ``factor`` of the size (box filter) and back up (linear): low resolution."""
    height, width = image.shape[:2]
    small_h, small_w = max(4, int(round(height / factor))), max(4, int(round(width / factor)))
    if factor <= 1.05 or small_h >= height:
        return image

    def box(size_out, size_in):
        edges = np.linspace(0.0, size_in, size_out + 1)
        pixel = np.arange(size_in)
        cover = np.clip(np.minimum(edges[1:, None], pixel[None] + 1.0) - np.maximum(edges[:-1, None], pixel[None]),
                        0.0, None)
        return cover / cover.sum(axis=1, keepdims=True)

    down_h, down_w = box(small_h, height), box(small_w, width)
    up_h, up_w = interpolation_matrix(height, small_h), interpolation_matrix(width, small_w)
    return np.einsum("ij,jk...->ik...", up_h @ down_h, np.einsum("jk...,lk->jl...", image, up_w @ down_w))


def _jpeg(image, quality):
    """Blocky compression artefacts: a round trip through an in-memory JPEG of ``quality``."""
    if not quality:
        return image
    pixels = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())), dtype=np.float64)


def _osd(image, camera, rng, height, width, level):
    """The on-screen display box (camera name and time) in the top-left corner."""
    if not camera.osd:
        return image
    rows, cols = max(2, int(round(0.06 * height))), max(6, int(round(0.5 * width)))
    ticks = np.array(camera.osd_ticks[:-3] + tuple(int(x) for x in rng.integers(0, 2, size=3)), bool)
    text = ticks[np.minimum((np.arange(cols) * ticks.size) // cols, ticks.size - 1)]
    box = np.zeros((height, width), bool)
    box[1:1 + rows, 1:1 + cols] = True
    characters = np.zeros((height, width), bool)
    characters[1:1 + rows, 1:1 + cols] = text[None, :]
    return paint(image, [(box, level), (characters & box, 0.25 * level)])


def render(identity, camera, infrared, rng, height, width):
    """Draw one surveillance-style image (the arguments and result: ``Style``)."""
    ys, xs, u, v = _coordinates(camera, rng, height, width)
    regions, patterns = _body(identity, u, v, rng)
    scene = _scene(camera, infrared, height, width)
    pole = np.abs((xs + 0.5) / width - camera.pole[0]) < camera.pole[1]
    scale = height / 128.0
    if infrared:
        def garment_heat(garment, pattern):
            return garment.heat * (1.0 + garment.emissivity * (pattern - 0.5))

        value = {"skin": identity.skin_heat, "hair": identity.skin_heat - 0.25, "cap": identity.coat.heat,
                 "shoes": 0.3, "patch": identity.patch_heat, "carried": identity.carried_heat,
                 "strap": identity.carried_heat, "coat": garment_heat(identity.coat, patterns["coat"]),
                 "inner": garment_heat(identity.inner, patterns["inner"]),
                 "lower": garment_heat(identity.lower, patterns["lower"])}
        heat = paint(scene, [(mask, value[name]) for name, mask in regions] + [(pole, camera.pole_heat)])
        glow = scipy.ndimage.gaussian_filter(np.maximum(heat - scene, 0.0), camera.bloom_radius * scale)
        heat = heat + camera.bloom * glow  # the hot halo around the body
        heat = scipy.ndimage.gaussian_filter(heat, camera.ir_blur * scale, mode="nearest")
        radius = ((xs + 0.5) / width - 0.5) ** 2 + ((ys + 0.5) / height - 0.5) ** 2
        heat = heat * (1.0 - camera.vignette * radius / 0.5)
        rows = np.random.default_rng(camera.banding_key + (height,)).normal(0.0, camera.row_noise, size=height)
        heat = heat + rows[:, None] + rng.normal(0.0, camera.ir_noise, size=heat.shape)
        heat = _resample(heat, camera.low_res)
        low, high = np.percentile(heat, [1.0, 99.0])  # automatic gain: each image stretched on its own
        image = camera.ir_range[0] + (camera.ir_range[1] - camera.ir_range[0]) * (heat - low) / max(high - low, 1e-6)
        image = _jpeg(np.clip(image, 0.0, 255.0), camera.jpeg_quality)
        image = _osd(image, camera, rng, height, width, 235.0)
    else:
        def garment_colour(garment, pattern):
            pattern = pattern[:, :, None]
            return garment.colours[0] * (1.0 - pattern) + garment.colours[1] * pattern

        value = {"skin": identity.skin_colour, "hair": identity.hair_colour, "cap": identity.coat.colours[1],
                 "shoes": identity.shoe_colour, "patch": identity.patch_colour, "carried": identity.carried_colour,
                 "strap": 0.6 * identity.carried_colour,
                 "coat": garment_colour(identity.coat, patterns["coat"]),
                 "inner": garment_colour(identity.inner, patterns["inner"]),
                 "lower": garment_colour(identity.lower, patterns["lower"])}
        image = paint(scene, [(mask, value[name]) for name, mask in regions] + [(pole, camera.pole_colour)])
        light = camera.brightness * rng.uniform(0.9, 1.1) * (1.0 - camera.falloff * (ys + 0.5) / height)
        image = image * light[:, :, None] * camera.light
        blur = camera.blur * scale * rng.uniform(0.6, 1.4)
        if camera.blur_kind == "motion":  # walking past during the exposure
            image = scipy.ndimage.uniform_filter1d(image, max(1, int(round(blur))), axis=1, mode="nearest")
        else:
            image = scipy.ndimage.gaussian_filter(image, (0.5 * blur, 0.5 * blur, 0.0), mode="nearest")
        image = _resample(image, camera.low_res)
        shot = np.sqrt(camera.rgb_noise ** 2 + 0.3 * np.clip(image, 0.0, None))  # read noise and shot noise
        image = image + rng.normal(0.0, 1.0, size=image.shape) * shot
        image = _jpeg(np.clip(image, 0.0, 255.0), camera.jpeg_quality)
        image = _osd(image, camera, rng, height, width, np.full(3, 235.0))
    return to_uint8(image)


STYLES.register("surveillance")(Style(sample_identity, sample_camera, render))
