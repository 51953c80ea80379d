"""The rendering-style contract and the styles by name.

Images carry identity the way real ones do: every identity has a body shape and a texture
pattern seen in both modalities and clothing colours seen only in RGB. Infrared images are a
single intensity channel (body heat modulated by the same texture) saved as three equal
channels, with their own noise and contrast. Cameras differ in scale, position, background
and illumination. Everything is deterministic for a seed.

Styles follow that principle in different ways, so that a recipe tuned on one can be checked
on the others (``style=`` of the writers, ``--style`` of ``tools/synthetic_dataset.py``). A
style is one file in ``styles/`` that registers a ``Style`` under its name
(``STYLES.register(name)(Style(...))``); the registry finds the built-in ones there.
"""

from dataclasses import dataclass
from typing import Callable

from src.registry import Registry

STYLES = Registry("synthetic style")


@dataclass(frozen=True)
class Style:
    """A way of drawing people: how identities and cameras are sampled and how one image is
    rendered.

    ``sample_identity(seed, pid)`` and ``sample_camera(seed, camera_key)`` return the style's
    own appearance records, the same for the same arguments. ``render(identity, camera,
    infrared, rng, height, width)`` returns one uint8 image of shape (height, width, 3) (for
    ``infrared`` the three channels are equal); ``rng`` (numpy Generator) supplies the
    per-image pose jitter and noise.
    """

    sample_identity: Callable
    sample_camera: Callable
    render: Callable

    def draw(self, seed, pid, camera, infrared, image_rng, height, width):
        """One (height, width, 3) uint8 image of identity ``pid`` seen by ``camera``."""
        return self.render(self.sample_identity(seed, pid), camera, infrared, image_rng, height, width)


def style_named(name):
    """The registered style ``name``; ValueError for a name no style registered."""
    if name not in STYLES:
        raise ValueError(f"unknown synthetic style {name!r}; expected one of {', '.join(STYLES.names())}")
    return STYLES.get(name)
