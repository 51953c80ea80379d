"""Mixed rendering style: each identity drawn, whole, in one of the styles in ``MIXED_OF``.

The style is chosen per identity, and each camera renders whichever style the person it sees
is drawn in. Made for pretraining (``scripts/run_pretrain.sh``): an encoder that has seen
several renderings leans on none. No evaluation set uses it.
"""

import numpy as np

from src.datasets.synthetic.style import STYLES, Style

MIXED_OF = ("default", "alternative")


def sample_identity(seed, pid):
    """(style name, that style's identity) of identity ``pid``."""
    name = MIXED_OF[int(np.random.default_rng([seed, 20, pid]).integers(len(MIXED_OF)))]
    return name, STYLES.get(name).sample_identity(seed, pid)


def sample_camera(seed, camera_key):
    """{style name: that style's camera} for every style in ``MIXED_OF``."""
    return {name: STYLES.get(name).sample_camera(seed, camera_key) for name in MIXED_OF}


def render(identity, camera, infrared, rng, height, width):
    """Draw one mixed-style image: ``identity`` is (style name, that style's identity)."""
    name, drawn = identity
    return STYLES.get(name).render(drawn, camera[name], infrared, rng, height, width)


STYLES.register("mixed")(Style(sample_identity, sample_camera, render))
