"""Input pipeline: training batches as a MindSpore dataset, test batches as numpy arrays.

Training: one MindSpore ``GeneratorDataset`` holds every step of the run in order, epoch
0 step 0 to the end of epoch ``num_epochs - 1``; its sampler starts it at the step to
continue from without computing the steps before. Each item is one whole step: the
sampler gives the batch of that epoch and step (deterministic for (seed, epoch)), images
come from the cache (or are decoded), and the augmentation draws from a generator seeded
by (seed, epoch, step, rank, modality). Iterate with ONE iterator for the whole run
(``training_iterator``): a fresh iterator per epoch would restart at the first step
(a MindSpore behaviour). A resumed run starting at (epoch, step) gets exactly the batches,
images and augmentation of the uninterrupted run.
"""

import os
import warnings

import mindspore.dataset as ds
import numpy as np

from src.datasets.cache import open_resized_cache
from src.datasets.image_io import (CorruptImageError, ResizedImageReader, find_unreadable, map_images,
                                   read_resized)
from src.datasets.records import INFRARED, VISIBLE
from src.datasets.sampler import CrossModalitySampler
from src.datasets.transforms import TrainTransform, normalize
from src.options import Option, Options


PIPELINE_OPTIONS = Options(
    Option("data.height", 256, "input image height in pixels", minimum=8),
    Option("data.width", 128, "input image width in pixels", minimum=8),
    Option("data.num_workers", 2, "data loading workers (clamped to the available cores)", minimum=1),
    Option("data.cache_dir", "", "resized-image cache folder; empty: <output_dir>/../cache"),
    Option("data.use_cache", True, "decode and resize each image once, then read the cache"),
    Option("data.skip_corrupt", False, "skip unreadable training images (each one reported) instead of failing"),
)

TRAIN_COLUMNS = ["visible", "infrared", "labels"]
_SKIP_HINT = "Fix or remove the files, or set data.skip_corrupt true to train without them"


def available_workers(requested):
    """``requested`` clamped to [1, cores this process may run on] (MindSpore raises above that)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(int(requested), cores))


def _open_training_images(root, paths, height, width, cache_dir, num_workers):
    """Image source (cache, or a reader decoding on demand) and its unreadable files.

    Every image is checked before training starts, so that a bad file gives a clear error
    here rather than a traceback from inside MindSpore's worker threads.
    """
    if cache_dir:
        cache = open_resized_cache(root, paths, height, width, cache_dir, num_workers)
        return cache, cache.unreadable
    unreadable = find_unreadable(root, paths, num_workers, f"checking {len(paths)} training images")
    return ResizedImageReader(root, paths, height, width), unreadable


class _TrainSteps:
    """Random-access source of training steps: item i is global step i of the run."""

    def __init__(self, images, visible_rows, infrared_rows, sampler, transform, seed, total_steps):
        self.images = images
        self.visible_rows = visible_rows
        self.infrared_rows = infrared_rows
        self.sampler = sampler
        self.transform = transform
        self.seed = seed
        self.total_steps = total_steps
        self._epoch_batches = {}

    def __len__(self):
        return self.total_steps

    def _batches(self, epoch):
        # Worker threads share this memo: read it once, replace it whole (no partial updates).
        memo = self._epoch_batches
        batches = memo.get(epoch)
        if batches is None:
            batches = self.sampler.batches(epoch)
            # Keep the previous epoch too: workers straddle epoch boundaries.
            kept = {e: b for e, b in memo.items() if e == epoch - 1}
            self._epoch_batches = {**kept, epoch: batches}
        return batches

    def __getitem__(self, item):
        epoch, step = divmod(int(item), self.sampler.steps_per_epoch)
        visible_indices, infrared_indices, labels = self._batches(epoch)[step]
        key = [self.seed, epoch, step, self.sampler.rank]
        visible = self.transform(self.images.read(self.visible_rows[visible_indices]), True,
                                 np.random.default_rng(key + [0]))
        infrared = self.transform(self.images.read(self.infrared_rows[infrared_indices]), False,
                                  np.random.default_rng(key + [1]))
        return visible, infrared, labels.astype(np.int32)


def build_train_dataset(root, records, height, width, batch_ids, per_modality, seed, epoch_definition="ids",
                        steps_per_epoch=0,
                        rank=0, group_size=1, num_workers=2, cache_dir=None, flip_prob=0.5, pad=0,
                        random_erasing_prob=0.0, channel_exchange_prob=0.0, grayscale_prob=0.0,
                        intensity_remap_prob=0.0, skip_corrupt=False, start_epoch=0, start_step=0, num_epochs=1):
    """Training dataset of the run's steps from (start_epoch, start_step) to the run's end.

    Args:
        root: dataset root; record paths are relative to it.
        records: training ImageRecords (label 0..C-1, modality visible or infrared).
        height, width: network input size in pixels.
        batch_ids, per_modality: P identities x K images per modality in a global batch.
        seed: seeds the sampler and the augmentation.
        epoch_definition: "ids" or "images" (see CrossModalitySampler).
        steps_per_epoch: batches per epoch, overriding epoch_definition when positive.
        rank, group_size: this device's share of each global batch.
        num_workers: parallel workers (clamped to the available cores); also decoding
            threads for the cache build.
        cache_dir: folder of the resized-image cache; None or "" decodes every image each time.
        flip_prob, pad, random_erasing_prob, channel_exchange_prob, grayscale_prob,
            intensity_remap_prob: see TrainTransform (channel exchange and grayscale apply
            to visible images only).
        skip_corrupt: leave unreadable images out of training (with a warning listing
            them) instead of raising CorruptImageError. Images are checked before the
            dataset is built: while building the cache, or by decoding each once if uncached.
        start_epoch, start_step: where the run continues (0-based epoch and step in it);
            ``training_iterator`` can move the start later.
        num_epochs: total epochs of the run; the dataset ends with epoch num_epochs - 1.
    Returns:
        (dataset, steps_per_epoch). Each dataset item is one step with columns
        ``visible`` and ``infrared``: float32 (B, 3, height, width) normalised images,
        ``labels``: int32 (B,), B = batch_ids / group_size * per_modality; row r of
        ``visible`` and row r of ``infrared`` show the same identity ``labels[r]``.
    Raises:
        CorruptImageError listing every unreadable image (unless skip_corrupt).
    """
    unlabelled = [record.path for record in records if record.label < 0]
    if unlabelled:
        raise ValueError(f"{len(unlabelled)} training records have no label (label -1), e.g. {unlabelled[0]}: "
                         f"training needs records with labels 0..C-1")
    transform = TrainTransform(flip_prob, pad, random_erasing_prob, channel_exchange_prob, grayscale_prob,
                               intensity_remap_prob)
    workers = available_workers(num_workers)
    paths = [record.path for record in records]
    images, unreadable = _open_training_images(root, paths, height, width, cache_dir, workers)
    if unreadable and not skip_corrupt:
        raise CorruptImageError({os.path.join(root, path): why for path, why in unreadable.items()}, _SKIP_HINT)
    if unreadable:
        warnings.warn(f"skipping {len(unreadable)} unreadable training image(s) under {root}: "
                      + ", ".join(sorted(unreadable)), stacklevel=2)
    usable = [i for i, record in enumerate(records) if record.path not in unreadable]
    visible_rows = np.array([i for i in usable if records[i].modality == VISIBLE], dtype=np.int64)
    infrared_rows = np.array([i for i in usable if records[i].modality == INFRARED], dtype=np.int64)
    sampler = CrossModalitySampler([records[i].label for i in visible_rows], [records[i].label for i in infrared_rows],
                                   batch_ids, per_modality, seed, epoch_definition, rank, group_size,
                                   steps_per_epoch)
    if sampler.unpaired_labels:
        warnings.warn(f"{len(sampler.unpaired_labels)} training label(s) lack visible or infrared images "
                      f"and are not sampled: {sampler.unpaired_labels}", stacklevel=2)
    source = _TrainSteps(images, visible_rows, infrared_rows, sampler, transform, seed,
                         num_epochs * sampler.steps_per_epoch)
    dataset = ds.GeneratorDataset(source, column_names=TRAIN_COLUMNS, num_parallel_workers=workers,
                                  python_multiprocessing=False,
                                  sampler=_start_sampler(source, start_epoch, start_step))
    return dataset, sampler.steps_per_epoch


def _start_sampler(source, start_epoch, start_step):
    steps = source.sampler.steps_per_epoch
    epochs = source.total_steps // steps
    if not 0 <= start_step < steps or not 0 <= start_epoch < epochs:
        raise ValueError(f"cannot start at epoch {start_epoch} step {start_step}: a run of {epochs} epochs "
                         f"has epochs 0..{epochs - 1} of {steps} steps each")
    return ds.SequentialSampler(start_index=start_epoch * steps + start_step)


def training_iterator(dataset, start_epoch=0, start_step=0, output_numpy=False):
    """The one iterator of a training run, starting at (start_epoch, start_step).

    Args:
        dataset: from ``build_train_dataset`` (its own start position is replaced).
        start_epoch, start_step: 0-based epoch and step in it to continue from; the steps
            before are not computed.
        output_numpy: yield numpy arrays instead of MindSpore Tensors.
    Returns:
        iterator of (visible, infrared, labels) per step, to the end of the run.
    """
    if not isinstance(getattr(dataset, "source", None), _TrainSteps):
        raise TypeError("training_iterator needs a dataset made by build_train_dataset")
    dataset.use_sampler(_start_sampler(dataset.source, start_epoch, start_step))
    return dataset.create_tuple_iterator(num_epochs=1, output_numpy=output_numpy)


def iterate_test_batches(root, records, height, width, batch_size, cache_dir=None, num_workers=2):
    """Test images in record order, resized and normalised (no augmentation).

    Args:
        root: dataset root; record paths are relative to it.
        records: ImageRecords (or anything with ``.path``).
        height, width: network input size in pixels.
        batch_size: images per yielded batch (the last may be smaller).
        cache_dir: resized-image cache folder, or None / "" to decode directly.
        num_workers: decoding threads (clamped to the available cores).
    Yields:
        float32 (b, 3, height, width) arrays. Mirror them with ``flip_horizontal`` for
        flip test-time augmentation.
    Raises:
        CorruptImageError naming every unreadable image (cached) or the first one (uncached).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    workers = available_workers(num_workers)
    paths = [record.path for record in records]
    if cache_dir:
        images = open_resized_cache(root, paths, height, width, cache_dir, workers)
        if images.unreadable:
            raise CorruptImageError({os.path.join(root, path): why for path, why in images.unreadable.items()})
        for start in range(0, len(paths), batch_size):
            yield normalize(images.read(np.arange(start, min(start + batch_size, len(paths)))))
        return
    pending = []
    for index, image, reason in map_images(root, paths, lambda path: read_resized(path, height, width), workers):
        if reason is not None:
            raise CorruptImageError({os.path.join(root, paths[index]): reason})
        pending.append(image)
        if len(pending) == batch_size:
            yield normalize(np.stack(pending))
            pending = []
    if pending:
        yield normalize(np.stack(pending))
