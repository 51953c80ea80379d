"""The structure of the network's training outputs, shared by the network and the losses.

In training, the network takes a visible batch and an infrared batch of the same size B,
aligned by identity (row k of both holds the same identity), and returns a tuple with one
entry per *stream*, in the order of ``stream_names(...)``. A stream is one encoder applied
to one modality:

- ``shared_visible``: E_S (+ B_S) on the visible images;
- ``shared_infrared``: E_S (+ B_S) on the infrared images;
- ``visible``: E_V (+ B_V) on the visible images;
- ``infrared``: E_I (+ B_I) on the infrared images.

Each stream is a tuple indexed by the constants below. Streams of a branch without a
bottleneck have only the first ``OBSERVATION_FIELDS`` entries; with a bottleneck they have
all ``ALL_FIELDS``. Shapes: ``FEATURE`` (B, the backbone's ``output_dim``: 2048 for
ResNet-50, 512 for ResNet-18/34) is the pooled observation v before the BN neck, ``LOGITS``
(B, C) the observation classifier on the BN-neck output, ``Z`` (B, z_dim) the representation
(a sample in training),
``Z_MEAN`` and ``Z_SCALE`` (B, z_dim) the Gaussian's mean and positive scale (for a
deterministic bottleneck ``Z_SCALE`` is zeros and ``Z`` equals ``Z_MEAN``), ``Z_LOGITS``
(B, C) the representation classifier on z.
"""

FEATURE = 0
LOGITS = 1
Z = 2
Z_MEAN = 3
Z_SCALE = 4
Z_LOGITS = 5
OBSERVATION_FIELDS = 2
ALL_FIELDS = 6

SHARED_STREAMS = ("shared_visible", "shared_infrared")
SPECIFIC_STREAMS = ("visible", "infrared")


def stream_names(use_shared, use_specific):
    """Names of the streams the network returns in training, in order."""
    names = ()
    if use_shared:
        names += SHARED_STREAMS
    if use_specific:
        names += SPECIFIC_STREAMS
    return names
