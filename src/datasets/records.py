"""Plain records that the dataset readers return and the rest of the pipeline consumes."""

from dataclasses import dataclass, field
from typing import List

VISIBLE = "visible"
INFRARED = "infrared"
MODALITIES = (VISIBLE, INFRARED)


@dataclass(frozen=True)
class ImageRecord:
    """One image of a dataset.

    Attributes:
        path: path relative to the dataset root, with '/' separators.
        pid: the identity as the dataset numbers it (e.g. 1..533 in SYSU-MM01).
        cam: the camera number as the dataset numbers it (1-based).
        modality: ``"visible"`` or ``"infrared"``.
        label: training label, 0..C-1 by rank of ``pid`` among training ids; -1 for test images.
    """

    path: str
    pid: int
    cam: int
    modality: str
    label: int = -1


@dataclass
class TestLists:
    """Query and gallery of one trial of a test protocol, in the protocol's order."""

    query: List[ImageRecord] = field(default_factory=list)
    gallery: List[ImageRecord] = field(default_factory=list)
