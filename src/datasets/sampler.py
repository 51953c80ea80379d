"""Cross-modality identity sampler: P identities x (K visible + K infrared) images per batch."""

import math

import numpy as np

from src.errors import MalformedInputError
from src.options import Option, Options


SAMPLER_OPTIONS = Options(
    Option("data.batch_ids", 16, "P: identities per global batch", minimum=1),
    Option("data.per_modality", 2, "K: visible images and infrared images per identity", minimum=1),
    Option("data.epoch_definition", "ids",
           "ids: ceil(ids / P) batches per epoch; images: visible images / (P * K)", choices=("ids", "images")),
    Option("data.steps_per_epoch", 0,
           "fixed batches per epoch, whatever the dataset's size (0: from epoch_definition)", minimum=0),
)

EPOCH_DEFINITIONS = ("ids", "images")


class CrossModalitySampler:
    """Chooses, for every step of an epoch, which visible and infrared images form the batch.

    Global batch: P = ``batch_ids`` distinct identities, each with K = ``per_modality``
    visible and K infrared images. Within a batch the rows are identity-major
    (identity 0 image 0..K-1, identity 1 image 0..K-1, ...) in both modalities, so the k-th
    visible image of identity p sits at the same row as the k-th infrared image of
    identity p: these are the pairs of VCD and VML (docs/differences.md).

    Identities: only labels that have images in both modalities are sampled (the others are
    listed in ``unpaired_labels``). The identity order is a stream of fresh random
    permutations of all identities; each batch takes the next P identities of the stream,
    deferring an identity already in the batch to the next one (this can only happen where
    one permutation ends and the next begins), so identities never repeat within a batch
    and every identity appears once before any appears twice.

    Images of one identity and modality: drawn from a shuffled list without replacement;
    when the list runs out it is refilled with a fresh shuffle, still never repeating an
    image within one pick. An identity with fewer than K images in a modality gives all of
    them (shuffled) plus random draws with replacement from them to make K.

    Epoch length: ``"ids"``: ceil(identities / P) batches (one pass over the identities, as
    the authors' code does); ``"images"``: max(1, visible images of the sampled identities
    // (P * K)) batches, i.e. about one pass over the visible images. A positive
    ``steps_per_epoch`` overrides both: a training budget that does not grow or shrink with
    the dataset.

    Determinism: ``batches(epoch)`` depends only on (seed, epoch), not on earlier calls.

    Distributed: every rank computes the same global batches and keeps identities
    [rank * P / group_size, (rank + 1) * P / group_size) of each, so ranks hold disjoint
    shares that together form the global batch. (MindSpore ignores ``num_shards`` for
    custom samplers; the sharding has to happen here.)
    """

    def __init__(self, visible_labels, infrared_labels, batch_ids, per_modality, seed=1,
                 epoch_definition="ids", rank=0, group_size=1, steps_per_epoch=0):
        """
        Args:
            visible_labels: (Nv,) label of each visible image (its index is the image index).
            infrared_labels: (Ni,) label of each infrared image.
            batch_ids: P, identities per global batch.
            per_modality: K, images per identity and modality.
            seed: sampling seed.
            epoch_definition: "ids" or "images" (see the class docstring).
            rank, group_size: this process's rank and the number of processes.
            steps_per_epoch: batches per epoch; 0 derives them from ``epoch_definition``.
        """
        if epoch_definition not in EPOCH_DEFINITIONS:
            raise ValueError(f"epoch_definition must be one of {EPOCH_DEFINITIONS}, got {epoch_definition!r}")
        if steps_per_epoch < 0:
            raise ValueError(f"steps_per_epoch must be >= 0 (0: from epoch_definition), got {steps_per_epoch}")
        if batch_ids < 1 or per_modality < 1:
            raise ValueError(f"batch_ids and per_modality must be >= 1, got {batch_ids} and {per_modality}")
        if group_size < 1 or not 0 <= rank < group_size:
            raise ValueError(f"rank must be in [0, group_size), got rank {rank} and group_size {group_size}")
        if batch_ids % group_size:
            raise ValueError(f"batch_ids ({batch_ids}) must be divisible by the number of devices "
                             f"({group_size}): each device takes an equal share of the identities")
        visible_labels = np.asarray(visible_labels, dtype=np.int64).reshape(-1)
        infrared_labels = np.asarray(infrared_labels, dtype=np.int64).reshape(-1)
        visible_by_label = _indices_by_label(visible_labels)
        infrared_by_label = _indices_by_label(infrared_labels)
        self.labels = np.array(sorted(set(visible_by_label) & set(infrared_by_label)), dtype=np.int64)
        self.unpaired_labels = sorted(set(visible_by_label) ^ set(infrared_by_label))
        if len(self.labels) < batch_ids:
            raise MalformedInputError(f"a batch needs {batch_ids} distinct identities (data.batch_ids) with "
                                      f"both visible and infrared images, but only {len(self.labels)} have both")
        self._visible = [visible_by_label[label] for label in self.labels]
        self._infrared = [infrared_by_label[label] for label in self.labels]
        self.batch_ids = batch_ids
        self.per_modality = per_modality
        self.seed = seed
        self.rank = rank
        self.group_size = group_size
        if steps_per_epoch:
            self.steps_per_epoch = steps_per_epoch
        elif epoch_definition == "ids":
            self.steps_per_epoch = math.ceil(len(self.labels) / batch_ids)
        else:
            visible_count = sum(len(indices) for indices in self._visible)
            self.steps_per_epoch = max(1, visible_count // (batch_ids * per_modality))

    @property
    def local_batch_size(self):
        """Rows per modality in this rank's share of a batch: (P / group_size) * K."""
        return self.batch_ids // self.group_size * self.per_modality

    def batches(self, epoch):
        """This rank's batches of ``epoch``.

        Returns:
            list of ``steps_per_epoch`` tuples (visible_indices, infrared_indices, labels),
            each an int64 array of shape (local_batch_size,); row r of the three arrays is
            one visible image, one infrared image and their common label.
        """
        rng = np.random.default_rng([self.seed, epoch])
        identity_stream = _ReshuffledStream(np.arange(len(self.labels)))
        visible_streams = [_ReshuffledStream(indices) for indices in self._visible]
        infrared_streams = [_ReshuffledStream(indices) for indices in self._infrared]
        share = self.batch_ids // self.group_size
        mine = slice(self.rank * share, (self.rank + 1) * share)
        result = []
        for _ in range(self.steps_per_epoch):
            identities = identity_stream.take(self.batch_ids, rng)
            # Draw for every identity of the global batch, in the same order on every rank,
            # so that the random state (and thus the other ranks' shares) does not depend on rank.
            visible = [_pick_images(visible_streams[i], self.per_modality, rng) for i in identities]
            infrared = [_pick_images(infrared_streams[i], self.per_modality, rng) for i in identities]
            labels = np.repeat(self.labels[identities[mine]], self.per_modality)
            result.append((np.concatenate(visible[mine]), np.concatenate(infrared[mine]), labels))
        return result


def _indices_by_label(labels):
    order = np.argsort(labels, kind="stable")
    unique, starts = np.unique(labels[order], return_index=True)
    return {int(label): group for label, group in zip(unique, np.split(order, starts[1:]))}


class _ReshuffledStream:
    """Items from successive random permutations of ``items``; no repeats within one ``take``."""

    def __init__(self, items):
        self.items = np.asarray(items, dtype=np.int64)
        self.pending = []

    def take(self, size, rng):
        """Returns the next ``size`` (<= len(items)) distinct items as an int64 array."""
        chosen, deferred = [], []
        while len(chosen) < size:
            if not self.pending:
                self.pending = list(rng.permutation(self.items))[::-1]
            candidate = self.pending.pop()
            (deferred if candidate in chosen else chosen).append(candidate)
        # An item met twice across a refill goes first in the next take.
        self.pending.extend(reversed(deferred))
        return np.array(chosen, dtype=np.int64)


def _pick_images(stream, size, rng):
    """``size`` images of one identity and modality; with replacement only when it has too few."""
    if len(stream.items) < size:
        extra = rng.choice(stream.items, size - len(stream.items), replace=True)
        return np.concatenate([rng.permutation(stream.items), extra])
    return stream.take(size, rng)
