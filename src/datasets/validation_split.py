"""Model selection without the test set: a validation split of the training identities, and
its query / gallery lists (evaluated like one test trial)."""

import dataclasses

import numpy as np

from src.datasets.records import INFRARED, VISIBLE, TestLists
from src.options import Option, Options


VALIDATION_SPLIT_OPTIONS = Options(
    Option("data.val_ratio", 0.0,
           "fraction of training identities held out for model selection (0: none)", minimum=0.0, maximum=0.5),
)


def hold_out_identities(records, ratio, seed):
    """Split training records by identity into a training part and a validation part.

    ``ceil(ratio * ids)`` identities (at least one) chosen by a seeded shuffle go to
    validation; the rest keep training, relabelled 0..C'-1 by rank of their original label.

    Args:
        records: training ImageRecords with labels 0..C-1.
        ratio: fraction of identities to hold out, in (0, 0.5].
        seed: seed of the shuffle.
    Returns:
        (training records, validation records); validation records keep label -1.
    """
    labels = sorted({record.label for record in records})
    held = int(np.ceil(ratio * len(labels)))
    if not 0 < held <= len(labels) - 2:
        raise ValueError(f"holding out {held} of {len(labels)} identities leaves too few to train or validate; "
                         f"change data.val_ratio ({ratio})")
    shuffled = np.random.default_rng(seed).permutation(labels)
    validation_labels = set(int(label) for label in shuffled[:held])
    new_label = {old: new for new, old in enumerate(label for label in labels if label not in validation_labels)}
    training = [dataclasses.replace(r, label=new_label[r.label]) for r in records if r.label not in validation_labels]
    validation = [dataclasses.replace(r, label=-1) for r in records if r.label in validation_labels]
    return training, validation


def validation_lists(records):
    """Infrared queries against every visible image of the held-out identities (SYSU direction)."""
    return TestLists(query=[r for r in records if r.modality == INFRARED],
                     gallery=[r for r in records if r.modality == VISIBLE])
