"""Default rendering style: the first one, whose output the tests pin.

Uniformly drawn RGB colours; sinusoidal stripes or checks; a rectangle torso, two straight legs
and a round head, with small per-image shifts; flat backgrounds with a vertical gradient;
infrared linear in heat (grey levels 0..255) with Gaussian pixel noise.
"""

from dataclasses import dataclass

import numpy as np

from src.datasets.synthetic.drawing import paint, person_coordinates, to_uint8
from src.datasets.synthetic.style import STYLES, Style


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


def sample_identity(seed, pid):
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


def sample_camera(seed, camera_key):
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


def render(identity, camera, infrared, rng, height, width):
    """Draw one default-style image of ``identity`` seen by ``camera``: uint8, (height, width, 3),
    three equal channels for ``infrared`` (the arguments: ``Style``)."""
    ys, u, v = person_coordinates(camera, rng, height, width)
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
        image = paint(np.full((height, width), camera.background_heat) * shade, [
            (torso, identity.upper_heat * (0.45 + 0.55 * upper_pattern)),
            (legs, identity.lower_heat * (0.55 + 0.45 * lower_pattern)),
            (head, identity.head_heat)])
        image = image.mean() + camera.ir_contrast * (image - image.mean())
        image = image + rng.normal(0.0, camera.ir_noise, size=image.shape)
    else:
        image = paint(camera.background_colour[None, None, :] * shade[:, :, None], [
            (torso, identity.upper_colour * (0.35 + 0.65 * upper_pattern[:, :, None])),
            (legs, identity.lower_colour * (0.45 + 0.55 * lower_pattern[:, :, None])),
            (head, identity.skin_colour)])
        image = image * camera.illumination + rng.normal(0.0, 5.0, size=image.shape)
    return to_uint8(image)


STYLES.register("default")(Style(sample_identity, sample_camera, render))
