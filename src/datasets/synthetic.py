"""Small synthetic visible-infrared re-id datasets in the exact on-disk layouts of the real ones.

They let every part of the pipeline (readers, protocols, training, evaluation) run end to end
without the real data. Layouts (README, Datasets; naming checked against public code):

* ``sysu``: ``cam1..cam6/<4-digit id>/<4-digit frame>.jpg`` with frames 0001.. per folder,
  ``exp/{train,val,test}_id.txt`` (first line: comma-separated ids) and
  ``exp/rand_perm_cam.mat`` shaped like the official kit's (a 6 x 1 cell of per-id cells of
  10 x n uint8 permutations, 10 x 0 where a folder is absent). RGB cameras 1, 2, 4, 5; IR
  cameras 3, 6. As in the real data, cameras 1, 2 and 6 only see the lower ids (the kit's
  cells for them stop at 333 of 533), test ids come from those, and not every id is seen by
  every camera.
* ``regdb``: ``Visible/<id>/<sex>_<view>_v_<5-digit counter>_<id>.bmp`` and the same under
  ``Thermal/`` with ``_t_`` (the real naming, e.g. ``Thermal/1/male_front_t_00007_1.bmp``),
  10 + 10 images per id, and ``idx/{train,test}_{visible,thermal}_{k}.txt`` for k = 1..10,
  one ``relative/path label`` per line, each trial a seeded half / half split of the ids.
* ``llcm``: training images ``vis/<id>/<id>_c<cc>_s<session>_f<frame>_vis.jpg`` and
  ``nir/<id>/..._nir.jpg`` listed in ``idx/train_vis.txt`` / ``idx/train_nir.txt``
  (``path label`` lines), test images under ``test_vis/cam<N>/<id>/`` and
  ``test_nir/cam<N>/<id>/``, test ids in ``idx/test_id.txt`` (first line, comma-separated).
  The public LLCM evaluation code walks visible cameras 1..9 and infrared cameras 1, 2, 4..9,
  so no infrared images of camera 3 are written.

Images carry identity the way real ones do: every identity has a body shape and a texture
pattern seen in both modalities and clothing colours seen only in RGB. Infrared images are a
single intensity channel (body heat modulated by the same texture) saved as three equal
channels, with their own noise and contrast. Cameras differ in scale, position, background
and illumination. Everything is deterministic for a seed.

Rendering styles follow that principle, so that a recipe tuned on one can be checked on
the others (``style=`` of the writers, ``--style`` on the command line):

* ``default``: uniformly drawn RGB colours; sinusoidal stripes or checks; a rectangle torso,
  two straight legs and a round head, with small per-image shifts; flat backgrounds with a
  vertical gradient; infrared linear in heat with Gaussian pixel noise. Its output is pinned
  by the tests.
* ``alternative``: HSV-drawn colours (saturated tops, muted bottoms, a palette of skin tones
  and hair colours) mixed two per garment, and a per-camera white balance, exposure and gamma;
  textures of staggered dots, zig-zags, bands of varying width or blocky plaid (kind, scale,
  orientation, phase per garment); a tapered torso with arms and sleeves, trousers, shorts or
  a skirt, hair (sometimes long), a bag with strap for 40 % of the ids, a smaller head range and
  a per-identity lean, with per-image shear, leg spread and arm swing; cluttered backgrounds
  (random rectangles or smooth noise, new for every image); infrared as a sigmoid of heat,
  white-hot on odd and black-hot on even camera numbers, blurred, with column fixed-pattern
  noise, and garment textures shown through emissivity with their own (signed) contrast.
* ``mixed``: each identity drawn, whole, in one of the styles above (chosen per identity),
  for the pretraining set of ``scripts/run_pretrain.sh``; no evaluation set uses it.
* ``surveillance``: a rendering that pretraining never sees (it is not in ``MIXED_OF``), to
  measure how a pretrained encoder transfers; drawn unlike both styles above, the way real
  surveillance footage differs. People are assembled from superellipses: a coat or jacket
  (sometimes worn open over a warmer inner layer, hip or knee length), hood, cap or hair,
  walking stride, and a backpack, suitcase or handbag for 60 % of the ids; garments carry
  vertical pinstripes, a colour ramp, a two-tone split, a colour-block yoke, reflective bands,
  a diagonal sash or trouser side stripes, and a patch (disc, square, triangle or bar) at a
  fixed chest place. Cameras are fixed: each has its own oblique viewpoint (horizontal
  squeeze, a height that magnifies the head and foreshortens the legs, a slight roll), a
  static scene (wall with fixtures over a floor tiled in perspective, sometimes a pole in
  front of the person's side), images that sometimes cut the feet off, and an on-screen
  display box. RGB: sodium-orange, bluish LED, fluorescent or neutral lighting, dim cameras
  with strong noise, motion blur or defocus, low resolution upscaled, blocky JPEG. Infrared:
  cold clothing against warm skin (patterns shown through emissivity; reflective bands
  bright), a hot halo (bloom) around the body, vignetting, row banding, noise, and automatic
  gain stretching each image, to a narrow grey range on low-contrast cameras. Harder than
  both other styles (HOG floor: docs/experiments.md).

Command line (``tools/synthetic_dataset.py``)::

    python -m tools.synthetic_dataset --layout sysu --out data/synthetic_sysu [--ids 40] [--style alternative]
"""

import colorsys
import io
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.io
import scipy.ndimage
from PIL import Image

SYSU_RGB_CAMS = (1, 2, 4, 5)
SYSU_IR_CAMS = (3, 6)
SYSU_INDOOR_ONLY_LOW_IDS_CAMS = (1, 2, 6)
SYSU_TRIALS = 10
SYSU_INDOOR_RGB_CAMS = (1, 2)
SYSU_CAMERA_PRESENCE = 0.7  # chance that a camera sees an id it may see
REGDB_TRIALS = 10
LLCM_VIS_CAMS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
LLCM_NIR_CAMS = (1, 2, 4, 5, 6, 7, 8, 9)
DEFAULT_NUM_IDS = {"sysu": 40, "regdb": 20, "llcm": 30}
LAYOUTS = tuple(DEFAULT_NUM_IDS)
MAT_HEADER_TEXT_BYTES = 116  # the descriptive text at the start of a MAT 5 file header


# ----------------------------------------------------------------------------------------------
# Shared drawing helpers


def _person_coordinates(camera, rng, height, width):
    """Pixel rows ``ys`` and person-relative coordinates ``u`` (across, 0 = body axis) and ``v``
    (down, 0 = top of the head, 1 = soles) of every pixel, with per-image jitter of size and
    position. ``camera`` needs ``scale`` (body height / image height) and ``x_shift``."""
    body_height = height * camera.scale * rng.uniform(0.96, 1.04)
    top = (height - body_height) / 2.0 + rng.uniform(-2.0, 2.0)
    centre_x = width * (0.5 + camera.x_shift) + rng.uniform(-2.0, 2.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    return ys, (xs - centre_x) / body_height, (ys - top) / body_height


def _paint(background, layers):
    """Paint ``(mask, value)`` layers over ``background`` in order (later ones in front).
    Masks are 2-D; for a colour image they cover all three channels."""
    image = background
    for mask, value in layers:
        image = np.where(mask[:, :, None] if image.ndim == 3 else mask, value, image)
    return image


def _to_uint8(image):
    """Round and clip to uint8; a 2-D (infrared) image becomes three equal channels."""
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# Default style: flat backgrounds with a gradient, sinusoidal stripes / checks, linear infrared


@dataclass(frozen=True)
class _Identity:
    """Appearance of one person, in person-relative coordinates (fractions of body height)."""

    torso_half_width: float
    leg_half_width: float
    leg_offset: float
    head_radius: float
    hip_level: float
    upper_angle: float
    upper_period: float
    upper_checker: bool
    lower_angle: float
    lower_period: float
    upper_colour: np.ndarray
    lower_colour: np.ndarray
    skin_colour: np.ndarray
    upper_heat: float
    lower_heat: float
    head_heat: float


@dataclass(frozen=True)
class _Camera:
    """Viewing conditions of one camera."""

    scale: float
    x_shift: float
    background_colour: np.ndarray
    background_heat: float
    gradient: float
    illumination: float
    ir_contrast: float
    ir_noise: float


def _identity(seed, pid):
    rng = np.random.default_rng([seed, 1, pid])
    return _Identity(
        torso_half_width=rng.uniform(0.10, 0.19),
        leg_half_width=rng.uniform(0.035, 0.07),
        leg_offset=rng.uniform(0.05, 0.10),
        head_radius=rng.uniform(0.06, 0.09),
        hip_level=rng.uniform(0.48, 0.60),
        upper_angle=rng.uniform(0.0, np.pi),
        upper_period=rng.uniform(0.06, 0.16),
        upper_checker=bool(rng.random() < 0.4),
        lower_angle=rng.uniform(0.0, np.pi),
        lower_period=rng.uniform(0.08, 0.25),
        upper_colour=rng.uniform(40, 230, size=3),
        lower_colour=rng.uniform(40, 230, size=3),
        skin_colour=rng.uniform(140, 220) * np.array([1.0, 0.8, 0.65]),
        upper_heat=rng.uniform(150, 230),
        lower_heat=rng.uniform(120, 210),
        head_heat=rng.uniform(200, 250),
    )


def _camera(seed, camera_key):
    rng = np.random.default_rng([seed, 2, camera_key])
    return _Camera(
        scale=rng.uniform(0.78, 0.97),
        x_shift=rng.uniform(-0.08, 0.08),
        background_colour=rng.uniform(30, 200, size=3),
        background_heat=rng.uniform(20, 90),
        gradient=rng.uniform(-0.4, 0.4),
        illumination=rng.uniform(0.7, 1.2),
        ir_contrast=rng.uniform(0.8, 1.2),
        ir_noise=rng.uniform(4.0, 10.0),
    )


def _stripes(u, v, angle, period):
    """Smooth stripes in [0, 1] along direction ``angle``, ``period`` in body heights."""
    return 0.5 + 0.5 * np.sin(2.0 * np.pi * (np.cos(angle) * u + np.sin(angle) * v) / period)


def render_person(identity, camera, infrared, rng, height, width):
    """Draw one default-style image of ``identity`` seen by ``camera``.

    Returns a uint8 array of shape (height, width, 3); for ``infrared`` the three channels
    are equal. ``rng`` (numpy Generator) supplies the per-image pose jitter and noise.
    """
    ys, u, v = _person_coordinates(camera, rng, height, width)
    neck = 2.0 * identity.head_radius + 0.02
    head = (u ** 2 + (v - identity.head_radius - 0.01) ** 2) < identity.head_radius ** 2
    torso = (np.abs(u) < identity.torso_half_width) & (v >= neck) & (v < identity.hip_level)
    legs = ((np.abs(np.abs(u) - identity.leg_offset) < identity.leg_half_width)
            & (v >= identity.hip_level) & (v < 1.0))

    upper_pattern = _stripes(u, v, identity.upper_angle, identity.upper_period)
    if identity.upper_checker:
        upper_pattern = upper_pattern * _stripes(u, v, identity.upper_angle + np.pi / 2,
                                                 identity.upper_period)
    lower_pattern = _stripes(u, v, identity.lower_angle, identity.lower_period)
    shade = 1.0 + camera.gradient * (ys / height - 0.5)

    if infrared:
        image = _paint(np.full((height, width), camera.background_heat) * shade, [
            (torso, identity.upper_heat * (0.45 + 0.55 * upper_pattern)),
            (legs, identity.lower_heat * (0.55 + 0.45 * lower_pattern)),
            (head, identity.head_heat)])
        image = image.mean() + camera.ir_contrast * (image - image.mean())
        image = image + rng.normal(0.0, camera.ir_noise, size=image.shape)
    else:
        image = _paint(camera.background_colour[None, None, :] * shade[:, :, None], [
            (torso, identity.upper_colour * (0.35 + 0.65 * upper_pattern[:, :, None])),
            (legs, identity.lower_colour * (0.45 + 0.55 * lower_pattern[:, :, None])),
            (head, identity.skin_colour)])
        image = image * camera.illumination + rng.normal(0.0, 5.0, size=image.shape)
    return _to_uint8(image)


# ----------------------------------------------------------------------------------------------
# Alternative style: HSV colours, dots / zig-zags / bands / plaid, arms, skirts, bags, hair,
# shear and leg spread, cluttered backgrounds, nonlinear infrared with either polarity, blur
# and column fixed-pattern noise. Heat is in [0, 1] (0 = coldest background, 1 = skin).

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
class _AltIdentity:
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
class _AltCamera:
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


def _hsv_colour(rng, saturation, value):
    """An RGB colour (0..255) of random hue with saturation and value drawn from the ranges."""
    return 255.0 * np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(*saturation), rng.uniform(*value)))


def _alt_texture(rng):
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


def _alt_garment(rng, saturation, value, heat):
    colour = _hsv_colour(rng, saturation, value)
    second = _hsv_colour(rng, saturation, value)
    return _Garment(texture=_alt_texture(rng), colour=colour, second_colour=second,
                    heat=rng.uniform(*heat), ir_contrast=rng.choice([-1.0, 1.0]) * rng.uniform(0.15, 0.45))


def _alt_identity(seed, pid):
    rng = np.random.default_rng([seed, 11, pid])
    hip_level = rng.uniform(0.45, 0.57)
    lower_kind = LOWER_KINDS[int(rng.choice(3, p=[0.55, 0.2, 0.25]))]
    shoulder = rng.uniform(0.09, 0.16)
    return _AltIdentity(
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
        bag_colour=_hsv_colour(rng, (0.0, 0.6), (0.1, 0.7)),
        bag_heat=rng.uniform(0.25, 0.5),
        upper=_alt_garment(rng, (0.5, 1.0), (0.4, 0.95), (0.6, 0.8)),
        lower=_alt_garment(rng, (0.05, 0.45), (0.15, 0.8), (0.5, 0.75)),
    )


def _alt_camera(seed, camera_key):
    rng = np.random.default_rng([seed, 12, camera_key])
    white_balance = np.exp(rng.normal(0.0, 0.12, size=3))
    background_heat = rng.uniform(0.1, 0.4)
    return _AltCamera(
        scale=rng.uniform(0.80, 0.95),
        x_shift=rng.uniform(-0.07, 0.07),
        white_balance=white_balance / white_balance.mean(),
        exposure=rng.uniform(0.75, 1.15),
        gamma=rng.uniform(0.8, 1.25),
        rgb_noise=rng.uniform(0.1, 0.4),
        background_kind="blocks" if rng.random() < 0.5 else "noise",
        background_colours=np.stack([_hsv_colour(rng, (0.0, 0.5), (0.15, 0.85)) for _ in range(2)]),
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


def _interpolation_matrix(size_out, size_in):
    """(size_out, size_in) matrix of linear interpolation from a coarse grid to pixels."""
    position = np.linspace(0.0, size_in - 1.0, size_out)
    lower = np.minimum(position.astype(int), size_in - 2)
    weight = position - lower
    matrix = np.zeros((size_out, size_in))
    matrix[np.arange(size_out), lower] = 1.0 - weight
    matrix[np.arange(size_out), lower + 1] = weight
    return matrix


def _clutter(camera, rng, height, width):
    """A background mixing map in [0, 1] (new for every image, of the camera's kind): smooth
    noise, or rectangles of random tones over a floor / wall split."""
    if camera.background_kind == "noise":
        grid = rng.random((height // 16 + 2, width // 16 + 2))
        return _interpolation_matrix(height, grid.shape[0]) @ grid @ _interpolation_matrix(width, grid.shape[1]).T
    mix = np.where(np.arange(height)[:, None] < rng.uniform(0.5, 0.8) * height, 0.3, 0.7) * np.ones((1, width))
    for _ in range(int(rng.integers(4, 9))):
        top, left = int(rng.integers(height)), int(rng.integers(width))
        mix[top:top + int(rng.integers(height // 10, height // 2)),
            left:left + int(rng.integers(width // 8, width // 2))] = rng.uniform(0.15, 0.85)
    return mix


def _alt_body(identity, u, v, rng):
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


def render_alternative(identity, camera, infrared, rng, height, width):
    """Draw one alternative-style image (see ``render_person`` for the arguments)."""
    _, u, v = _person_coordinates(camera, rng, height, width)
    regions, u, v = _alt_body(identity, u, v, rng)
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
        heat = _paint(low + (high - low) * background, [(mask, value[name]) for name, mask in regions])
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
        image = _paint(colours[0] + (colours[1] - colours[0]) * background[:, :, None],
                       [(mask, value[name]) for name, mask in regions])
        image = image * camera.white_balance * camera.exposure * rng.uniform(0.9, 1.1)
        image = 255.0 * (np.clip(image, 0.0, 255.0) / 255.0) ** camera.gamma
        image = image + rng.normal(0.0, 1.0, size=image.shape) * np.sqrt(4.0 + camera.rgb_noise * image)
    return _to_uint8(image)


@dataclass(frozen=True)
class _Style:
    """A way of drawing people: how identities and cameras are sampled and how one image is
    rendered. ``sample_identity(seed, pid)``, ``sample_camera(seed, camera_key)``,
    ``render(identity, camera, infrared, rng, height, width)``."""

    sample_identity: Callable
    sample_camera: Callable
    render: Callable

    def draw(self, seed, pid, camera, infrared, image_rng, height, width):
        return self.render(self.sample_identity(seed, pid), camera, infrared, image_rng, height, width)


STYLES = {"default": _Style(_identity, _camera, render_person),
          "alternative": _Style(_alt_identity, _alt_camera, render_alternative)}


# Mixed style: each identity is drawn, whole, in one of the styles above (chosen per identity),
# and each camera renders whichever style the person it sees is drawn in. Made for pretraining
# (scripts/run_pretrain.sh): an encoder that has seen several renderings leans on none.
MIXED_OF = ("default", "alternative")


def _mixed_identity(seed, pid):
    name = MIXED_OF[int(np.random.default_rng([seed, 20, pid]).integers(len(MIXED_OF)))]
    return name, STYLES[name].sample_identity(seed, pid)


def _mixed_camera(seed, camera_key):
    return {name: STYLES[name].sample_camera(seed, camera_key) for name in MIXED_OF}


def render_mixed(identity, camera, infrared, rng, height, width):
    """Draw one mixed-style image: ``identity`` is (style name, that style's identity)."""
    name, drawn = identity
    return STYLES[name].render(drawn, camera[name], infrared, rng, height, width)


STYLES["mixed"] = _Style(_mixed_identity, _mixed_camera, render_mixed)


# ----------------------------------------------------------------------------------------------
# Surveillance style: a person assembled from superellipses (coat or jacket, sometimes worn
# open, hood or cap, carried objects), garments in pinstripes, ramps, two-tone splits,
# colour-block yokes, reflective bands, a diagonal sash or trouser side stripes with a patch at
# a fixed chest place; fixed cameras (oblique and high: squeezed, tilted, foreshortened), a static scene
# with a tiled floor, a pole in front, feet cut off, coloured lighting, motion blur or defocus,
# low resolution, blocky compression and strong noise, an on-screen display box; infrared
# with cold clothing against warm skin, bloom, vignetting, row banding and automatic gain.
# Heat is in [0, 1] as in the alternative style. Used for evaluation only (not in MIXED_OF).

SURV_COAT_KINDS = ("pinstripes", "gradient", "split", "yoke", "bands", "sash")
SURV_INNER_KINDS = ("plain", "pinstripes", "gradient", "yoke")
SURV_LOWER_KINDS = ("plain", "pinstripes", "gradient", "side_stripe")
SURV_HEADWEAR = ("hair", "cap", "hood")
SURV_PATCH_SHAPES = ("none", "disc", "square", "triangle", "bar")
SURV_CARRIED = ("none", "backpack", "suitcase", "handbag")
# Range of a garment's ``level`` by pattern kind (see _SurvGarment).
SURV_LEVELS = {"gradient": (0.6, 1.8), "split": (-0.05, 0.05), "yoke": (0.2, 0.45), "bands": (0.35, 0.6),
               "side_stripe": (0.45, 0.75), "sash": (0.5, 1.1)}
# Everyday clothing: black, charcoal, navy, grey, beige, olive, brown, burgundy, off-white,
# red, mustard, teal, denim.
SURV_FABRICS = np.array([[28, 28, 32], [62, 63, 68], [34, 42, 74], [120, 120, 124], [192, 178, 150],
                         [86, 94, 60], [98, 66, 44], [114, 36, 46], [228, 228, 220], [178, 42, 38],
                         [216, 180, 54], [42, 112, 120], [72, 98, 152]], float)
# Lighting of a camera: neutral, sodium-vapour orange, bluish LED, greenish fluorescent.
SURV_LIGHTS = np.array([[1.0, 1.0, 1.0], [1.32, 0.9, 0.42], [0.8, 0.96, 1.3], [0.92, 1.08, 0.94]])


@dataclass(frozen=True)
class _SurvGarment:
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
class _SurvIdentity:
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
    coat: _SurvGarment
    inner: _SurvGarment
    lower: _SurvGarment
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
class _SurvCamera:
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


def _surv_fabric(rng):
    return SURV_FABRICS[int(rng.integers(len(SURV_FABRICS)))] * rng.uniform(0.88, 1.12, size=3)


def _surv_garment(rng, kinds, heat):
    kind = kinds[int(rng.integers(len(kinds)))]
    first = _surv_fabric(rng)
    if kind == "pinstripes":  # thin light or dark lines on the cloth
        second = first * rng.uniform(0.3, 0.55) if first.mean() > 140 else np.minimum(first + rng.uniform(70, 130), 255)
    elif kind == "gradient":  # faded or dip-dyed: one colour darkening along the garment
        second = first * rng.uniform(0.25, 0.55)
    elif kind == "bands":  # reflective silver bands
        second = np.full(3, rng.uniform(185, 225))
    else:  # a second fabric that stands out from the first in brightness
        candidates = [_surv_fabric(rng) for _ in range(6)]
        second = max(candidates, key=lambda colour: abs(colour.mean() - first.mean()))
    level = rng.uniform(*SURV_LEVELS[kind]) if kind in SURV_LEVELS else 0.0
    if kind == "sash":  # falling to the left or to the right
        level *= rng.choice([-1.0, 1.0])
    emissivity = rng.choice([-1.0, 1.0]) * rng.uniform(0.4, 0.8)
    if kind == "bands":  # retro-reflective: bright under the infrared illuminator
        emissivity = rng.uniform(0.7, 1.0)
    return _SurvGarment(kind=kind, colours=np.stack([first, second]), spacing=rng.uniform(0.05, 0.09),
                        duty=rng.uniform(0.08, 0.16) if kind in ("bands", "side_stripe", "sash")
                        else rng.uniform(0.3, 0.45),
                        phase=rng.random(), level=level, heat=rng.uniform(*heat), emissivity=emissivity)


def _surv_identity(seed, pid):
    rng = np.random.default_rng([seed, 30, pid])
    hip_level = rng.uniform(0.47, 0.56)
    shoulder = rng.uniform(0.10, 0.165)
    coat = _surv_garment(rng, SURV_COAT_KINDS, (0.3, 0.5))  # outer layer: cold
    open_front = rng.random() < 0.45
    patch_shape = SURV_PATCH_SHAPES[int(rng.choice(len(SURV_PATCH_SHAPES), p=[0.2, 0.2, 0.2, 0.2, 0.2]))]
    # patches on the left or right chest, or in the middle when the coat is closed
    patch_side = int(rng.choice([-1, 1])) if open_front else int(rng.choice([-1, 0, 1]))
    carried = SURV_CARRIED[int(rng.choice(len(SURV_CARRIED), p=[0.4, 0.25, 0.15, 0.2]))]
    skin_value = rng.uniform(0.3, 0.95)
    return _SurvIdentity(
        head_height=rng.uniform(0.055, 0.075),
        head_aspect=rng.uniform(0.72, 0.95),
        headwear=SURV_HEADWEAR[int(rng.choice(3, p=[0.55, 0.2, 0.25]))],
        hair_colour=_hsv_colour(rng, (0.2, 0.6), (0.05, 0.6)),
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
        inner=_surv_garment(rng, SURV_INNER_KINDS, (0.6, 0.8)),  # warm under the coat
        lower=_surv_garment(rng, SURV_LOWER_KINDS, (0.42, 0.62)),
        shoe_colour=_hsv_colour(rng, (0.0, 0.4), (0.08, 0.9)),
        patch_shape=patch_shape,
        patch_centre=(patch_side * shoulder * rng.uniform(0.4, 0.55), rng.uniform(0.2, 0.4)),
        patch_size=rng.uniform(0.03, 0.055),
        patch_colour=_hsv_colour(rng, (0.0, 1.0), (0.75, 1.0)),
        patch_heat=np.clip(coat.heat + rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.4), 0.05, 1.0),
        carried=carried,
        carried_side=int(rng.choice([-1, 1])),
        carried_size=(rng.uniform(0.75, 1.25), rng.uniform(0.75, 1.25)),
        carried_colour=_surv_fabric(rng),
        carried_heat=rng.uniform(0.2, 0.4),
    )


def _surv_camera(seed, camera_key):
    rng = np.random.default_rng([seed, 31, camera_key])
    low_contrast = rng.random() < 0.4
    lit = rng.random() < 0.6  # the rest are dim, and noisier
    fixtures = []
    for _ in range(int(rng.integers(2, 5))):
        top, left = rng.uniform(0.0, 0.5), rng.uniform(-0.1, 0.9)
        fixtures.append((top, top + rng.uniform(0.08, 0.4), left, left + rng.uniform(0.1, 0.4)))
    has_pole = rng.random() < 0.3
    return _SurvCamera(
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
        wall_colour=_hsv_colour(rng, (0.0, 0.35), (0.3, 0.9)),
        floor_colour=_hsv_colour(rng, (0.0, 0.3), (0.2, 0.7)),
        wall_heat=rng.uniform(0.25, 0.45),
        floor_heat=rng.uniform(0.2, 0.4),
        fixtures=np.array(fixtures),
        fixture_colours=np.stack([_hsv_colour(rng, (0.0, 0.6), (0.1, 1.0)) for _ in fixtures]),
        fixture_heat=rng.uniform(0.1, 0.8, size=len(fixtures)),
        pole=(rng.choice([-1.0, 1.0]) * rng.uniform(0.22, 0.4) + 0.5, rng.uniform(0.025, 0.06) if has_pole else 0.0),
        pole_colour=_hsv_colour(rng, (0.0, 0.5), (0.1, 0.8)),
        pole_heat=rng.uniform(0.15, 0.55),
        light=SURV_LIGHTS[int(rng.integers(len(SURV_LIGHTS)))],
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


def _surv_coordinates(camera, rng, height, width):
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


def _surv_pattern(garment, across, along):
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


def _surv_body(identity, u, v, rng):
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

    patterns = {"coat": _surv_pattern(identity.coat, u, (v - neck) / (hem - neck + 1e-6)),
                "inner": _surv_pattern(identity.inner, u, (v - neck) / (hip - neck)),
                "lower": _surv_pattern(identity.lower, leg_across if identity.lower.kind == "side_stripe" else u,
                                       (v - hip) / (1.0 - hip))}
    return regions, patterns


def _surv_scene(camera, infrared, height, width):
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
        scene = _paint(scene, [(inside, value)])
    return scene


def _surv_resample(image, factor):
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
    up_h, up_w = _interpolation_matrix(height, small_h), _interpolation_matrix(width, small_w)
    return np.einsum("ij,jk...->ik...", up_h @ down_h, np.einsum("jk...,lk->jl...", image, up_w @ down_w))


def _surv_jpeg(image, quality):
    """Blocky compression artefacts: a round trip through an in-memory JPEG of ``quality``."""
    if not quality:
        return image
    pixels = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())), dtype=np.float64)


def _surv_osd(image, camera, rng, height, width, level):
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
    return _paint(image, [(box, level), (characters & box, 0.25 * level)])


def render_surveillance(identity, camera, infrared, rng, height, width):
    """Draw one surveillance-style image (see ``render_person`` for the arguments)."""
    ys, xs, u, v = _surv_coordinates(camera, rng, height, width)
    regions, patterns = _surv_body(identity, u, v, rng)
    scene = _surv_scene(camera, infrared, height, width)
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
        heat = _paint(scene, [(mask, value[name]) for name, mask in regions] + [(pole, camera.pole_heat)])
        glow = scipy.ndimage.gaussian_filter(np.maximum(heat - scene, 0.0), camera.bloom_radius * scale)
        heat = heat + camera.bloom * glow  # the hot halo around the body
        heat = scipy.ndimage.gaussian_filter(heat, camera.ir_blur * scale, mode="nearest")
        radius = ((xs + 0.5) / width - 0.5) ** 2 + ((ys + 0.5) / height - 0.5) ** 2
        heat = heat * (1.0 - camera.vignette * radius / 0.5)
        rows = np.random.default_rng(camera.banding_key + (height,)).normal(0.0, camera.row_noise, size=height)
        heat = heat + rows[:, None] + rng.normal(0.0, camera.ir_noise, size=heat.shape)
        heat = _surv_resample(heat, camera.low_res)
        low, high = np.percentile(heat, [1.0, 99.0])  # automatic gain: each image stretched on its own
        image = camera.ir_range[0] + (camera.ir_range[1] - camera.ir_range[0]) * (heat - low) / max(high - low, 1e-6)
        image = _surv_jpeg(np.clip(image, 0.0, 255.0), camera.jpeg_quality)
        image = _surv_osd(image, camera, rng, height, width, 235.0)
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
        image = _paint(scene, [(mask, value[name]) for name, mask in regions] + [(pole, camera.pole_colour)])
        light = camera.brightness * rng.uniform(0.9, 1.1) * (1.0 - camera.falloff * (ys + 0.5) / height)
        image = image * light[:, :, None] * camera.light
        blur = camera.blur * scale * rng.uniform(0.6, 1.4)
        if camera.blur_kind == "motion":  # walking past during the exposure
            image = scipy.ndimage.uniform_filter1d(image, max(1, int(round(blur))), axis=1, mode="nearest")
        else:
            image = scipy.ndimage.gaussian_filter(image, (0.5 * blur, 0.5 * blur, 0.0), mode="nearest")
        image = _surv_resample(image, camera.low_res)
        shot = np.sqrt(camera.rgb_noise ** 2 + 0.3 * np.clip(image, 0.0, None))  # read noise and shot noise
        image = image + rng.normal(0.0, 1.0, size=image.shape) * shot
        image = _surv_jpeg(np.clip(image, 0.0, 255.0), camera.jpeg_quality)
        image = _surv_osd(image, camera, rng, height, width, np.full(3, 235.0))
    return _to_uint8(image)


STYLES["surveillance"] = _Style(_surv_identity, _surv_camera, render_surveillance)


def _style(name):
    if name not in STYLES:
        raise ValueError(f"unknown synthetic style {name!r}; expected one of {', '.join(STYLES)}")
    return STYLES[name]


def _save(array, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.endswith(".jpg"):
        Image.fromarray(array).save(path, quality=92)
    else:
        Image.fromarray(array).save(path)


def _save_mat(path, variables):
    """savemat with a fixed header text: scipy's carries the creation time, which would make
    the file differ between two runs with the same seed."""
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables)
    content = bytearray(buffer.getvalue())
    content[:MAT_HEADER_TEXT_BYTES] = b"MATLAB 5.0 MAT-file, written by src.datasets.synthetic".ljust(
        MAT_HEADER_TEXT_BYTES)
    with open(path, "wb") as handle:
        handle.write(bytes(content))


def _sysu_cameras_per_id(rng, num_ids, low_id_limit, without_indoor_gallery):
    """Cameras that see each id; every id gets at least one RGB and one IR camera. Ids in
    ``without_indoor_gallery`` are not seen by the indoor RGB cameras 1 and 2 (as about 40 %
    of the real test ids), so their queries have no match in indoor search."""
    cams_of = {}
    for pid in range(1, num_ids + 1):
        allowed = [c for c in range(1, 7)
                   if (pid <= low_id_limit or c not in SYSU_INDOOR_ONLY_LOW_IDS_CAMS)
                   and not (pid in without_indoor_gallery and c in SYSU_INDOOR_RGB_CAMS)]
        while True:
            cams = [c for c in allowed if rng.random() < SYSU_CAMERA_PRESENCE]
            rgb = [c for c in cams if c in SYSU_RGB_CAMS]
            ir = [c for c in cams if c in SYSU_IR_CAMS]
            if rgb and ir:
                cams_of[pid] = cams
                break
    return cams_of


def write_synthetic_sysu(out_dir, num_ids=40, seed=0, height=128, width=64, images_per_folder=(2, 6),
                         style="default"):
    """Write a SYSU-MM01-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids; a quarter are test ids (all below the camera-1/2/6 limit, like the
    real split), an eighth validation, the rest training. Every id has visible and infrared
    images; 40 % of the test ids have no indoor (camera 1 / 2) images, as in the real data.
    ``images_per_folder`` is an inclusive (min, max) image count per folder; ``style`` picks
    the rendering (a name in ``STYLES``).
    """
    painter = _style(style)
    if num_ids < 8:
        raise ValueError(f"SYSU synthetic data needs at least 8 ids; got {num_ids}")
    rng = np.random.default_rng([seed, 0])
    low_id_limit = int(round(0.625 * num_ids))
    num_test, num_val = num_ids // 4, num_ids // 8
    test_ids = sorted(int(x) for x in rng.choice(np.arange(1, low_id_limit + 1), num_test, replace=False))
    rest = [pid for pid in range(1, num_ids + 1) if pid not in test_ids]
    val_ids = sorted(int(x) for x in rng.choice(rest, num_val, replace=False))
    train_ids = [pid for pid in rest if pid not in val_ids]
    without_indoor_gallery = {test_ids[i] for i in rng.choice(num_test, int(round(0.4 * num_test)), replace=False)}
    cams_of = _sysu_cameras_per_id(rng, num_ids, low_id_limit, without_indoor_gallery)

    cells_per_cam = {c: low_id_limit if c in SYSU_INDOOR_ONLY_LOW_IDS_CAMS else num_ids for c in range(1, 7)}
    rand_perm_cam = np.empty((6, 1), dtype=object)
    for cam in range(1, 7):
        camera = painter.sample_camera(seed, cam)
        cells = np.empty((cells_per_cam[cam], 1), dtype=object)
        for pid in range(1, cells_per_cam[cam] + 1):
            count = int(rng.integers(images_per_folder[0], images_per_folder[1] + 1)) if cam in cams_of[pid] else 0
            cells[pid - 1, 0] = np.stack(
                [rng.permutation(count) + 1 for _ in range(SYSU_TRIALS)]).astype(np.uint8).reshape(SYSU_TRIALS, count)
            for frame in range(1, count + 1):
                image_rng = np.random.default_rng([seed, 3, cam, pid, frame])
                image = painter.draw(seed, pid, camera, cam in SYSU_IR_CAMS, image_rng, height, width)
                _save(image, os.path.join(out_dir, f"cam{cam}", f"{pid:04d}", f"{frame:04d}.jpg"))
        rand_perm_cam[cam - 1, 0] = cells

    os.makedirs(os.path.join(out_dir, "exp"), exist_ok=True)
    for name, ids in (("train", train_ids), ("val", val_ids), ("test", test_ids)):
        with open(os.path.join(out_dir, "exp", f"{name}_id.txt"), "w") as handle:
            handle.write(",".join(str(pid) for pid in ids) + "\n")
    _save_mat(os.path.join(out_dir, "exp", "rand_perm_cam.mat"), {"rand_perm_cam": rand_perm_cam})
    return out_dir


def write_synthetic_regdb(out_dir, num_ids=20, seed=0, height=128, width=64, images_per_modality=10,
                          style="default"):
    """Write a RegDB-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids (even), each with ``images_per_modality`` visible and thermal images
    (one camera per modality). Trial k's idx files split the ids half / half by a seeded
    permutation; labels are the rank of the id within the trial's half. ``style`` picks the
    rendering (a name in ``STYLES``).
    """
    painter = _style(style)
    if num_ids < 4 or num_ids % 2:
        raise ValueError(f"RegDB synthetic data needs an even number of ids >= 4; got {num_ids}")
    rng = np.random.default_rng([seed, 0])
    cameras = {"Visible": painter.sample_camera(seed, 101), "Thermal": painter.sample_camera(seed, 102)}
    paths_of = {"Visible": {}, "Thermal": {}}
    counter = {"Visible": 0, "Thermal": 0}
    for pid in range(1, num_ids + 1):
        sex = "female" if rng.random() < 0.4 else "male"
        for folder, letter in (("Visible", "v"), ("Thermal", "t")):
            paths = []
            for shot in range(images_per_modality):
                counter[folder] += 1
                view = "front" if shot < images_per_modality // 2 else "back"
                relative = f"{folder}/{pid}/{sex}_{view}_{letter}_{counter[folder]:05d}_{pid}.bmp"
                image_rng = np.random.default_rng([seed, 3, 100 + len(folder), pid, shot])
                image = painter.draw(seed, pid, cameras[folder], folder == "Thermal", image_rng, height, width)
                _save(image, os.path.join(out_dir, relative))
                paths.append(relative)
            paths_of[folder][pid] = paths

    os.makedirs(os.path.join(out_dir, "idx"), exist_ok=True)
    for trial in range(1, REGDB_TRIALS + 1):
        order = np.random.default_rng([seed, 4, trial]).permutation(np.arange(1, num_ids + 1))
        halves = {"train": sorted(int(x) for x in order[:num_ids // 2]),
                  "test": sorted(int(x) for x in order[num_ids // 2:])}
        for split, ids in halves.items():
            for folder in ("Visible", "Thermal"):
                lines = [f"{path} {label}" for label, pid in enumerate(ids) for path in paths_of[folder][pid]]
                name = f"{split}_{folder.lower()}_{trial}.txt"
                with open(os.path.join(out_dir, "idx", name), "w") as handle:
                    handle.write("\n".join(lines) + "\n")
    return out_dir


def write_synthetic_llcm(out_dir, num_ids=30, seed=0, height=128, width=64, images_per_folder=(2, 4),
                         style="default"):
    """Write an LLCM-shaped dataset under ``out_dir``; returns ``out_dir``.

    Ids are 1..num_ids; a third are test ids. Each id is seen by 2..4 visible and 2..4
    infrared cameras; training images go to ``vis/`` and ``nir/`` (listed in the idx files
    with labels = rank of the id among training ids), test images to ``test_vis/cam<N>/``
    and ``test_nir/cam<N>/``. ``style`` picks the rendering (a name in ``STYLES``).
    """
    painter = _style(style)
    if num_ids < 6:
        raise ValueError(f"LLCM synthetic data needs at least 6 ids; got {num_ids}")
    rng = np.random.default_rng([seed, 0])
    test_ids = sorted(int(x) for x in rng.choice(np.arange(1, num_ids + 1), num_ids // 3, replace=False))
    train_ids = [pid for pid in range(1, num_ids + 1) if pid not in test_ids]
    train_lines = {"vis": [], "nir": []}
    for pid in range(1, num_ids + 1):
        for modality, cams in (("vis", LLCM_VIS_CAMS), ("nir", LLCM_NIR_CAMS)):
            chosen = sorted(int(c) for c in rng.choice(cams, int(rng.integers(2, 5)), replace=False))
            for cam in chosen:
                session = int(rng.integers(100000, 1000000))
                first_frame = int(rng.integers(1, 9000))
                count = int(rng.integers(images_per_folder[0], images_per_folder[1] + 1))
                for shot in range(count):
                    name = f"{pid:04d}_c{cam:02d}_s{session:06d}_f{first_frame + 7 * shot:04d}_{modality}.jpg"
                    if pid in test_ids:
                        relative = f"test_{modality}/cam{cam}/{pid:04d}/{name}"
                    else:
                        relative = f"{modality}/{pid:04d}/{name}"
                        train_lines[modality].append(f"{relative} {train_ids.index(pid)}")
                    image_rng = np.random.default_rng([seed, 3, 200 + cam + 10 * (modality == "nir"), pid, shot])
                    camera = painter.sample_camera(seed, 200 + cam + 10 * (modality == "nir"))
                    image = painter.draw(seed, pid, camera, modality == "nir", image_rng, height, width)
                    _save(image, os.path.join(out_dir, relative))

    os.makedirs(os.path.join(out_dir, "idx"), exist_ok=True)
    for modality, lines in train_lines.items():
        with open(os.path.join(out_dir, "idx", f"train_{modality}.txt"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "idx", "test_id.txt"), "w") as handle:
        handle.write(",".join(str(pid) for pid in test_ids) + "\n")
    return out_dir


def write_synthetic_dataset(layout, out_dir, num_ids=None, seed=0, height=128, width=64, style="default"):
    """Write a synthetic dataset of ``layout`` ("sysu", "regdb" or "llcm"); returns its root.

    ``num_ids=None`` takes the layout's demo size (SYSU 40, RegDB 20, LLCM 30 ids); ``style``
    is a name in ``STYLES`` (see the module notes).
    """
    writers = {"sysu": write_synthetic_sysu, "regdb": write_synthetic_regdb, "llcm": write_synthetic_llcm}
    if layout not in writers:
        raise ValueError(f"unknown synthetic layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    _style(style)
    if height < 16 or width < 8:
        raise ValueError(f"synthetic images must be at least 16 x 8 pixels; got {height} x {width}")
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f"synthetic dataset folder {out_dir} exists and is not empty")
    num_ids = DEFAULT_NUM_IDS[layout] if num_ids is None else num_ids
    return writers[layout](out_dir, num_ids=num_ids, seed=seed, height=height, width=width, style=style)
