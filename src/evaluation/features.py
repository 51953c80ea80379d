"""Where test features come from: a saved features file, or images through a network.

Both sources answer ``features(records) -> (N, D) float32`` in record order, so the
protocol driver does not care which one it has. ``RecordingFeatureSource`` wraps either and
keeps what it handed out, so that ``write_feature_file`` can save it in the format
``FeatureTable.load`` reads.
"""

import os

import numpy as np

from src.datasets.pipeline import iterate_test_batches
from src.errors import AnticipatedError, MalformedInputError, MissingInputError
from src.utils.progress import Progress
from src.utils.safe_write import write_atomically


def _clean_path(path):
    """Dataset-relative path with '/' separators and no leading './'."""
    path = str(path).replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _as_numpy(features):
    if hasattr(features, "asnumpy"):
        features = features.asnumpy()
    return np.asarray(features, dtype=np.float32)


def mirror(batch):
    """Horizontally mirrored images: (B, C, H, W) -> (B, C, H, W), width reversed."""
    return np.ascontiguousarray(batch[..., ::-1])


def extract_features(batches, feature_fn, flip=False):
    """Features of image batches, in order.

    Args:
        batches: iterable of float32 (b, 3, H, W) arrays.
        feature_fn: callable mapping such a batch to (b, D) features (numpy or a MindSpore
            Tensor). A MindSpore Cell is put in inference mode and given Tensors.
        flip: flip test-time augmentation: each feature is the mean of the image's feature
            and its mirrored image's feature.
    Returns:
        (N, D) float32, N = total images.
    """
    if hasattr(feature_fn, "set_train"):
        feature_fn.set_train(False)
        import mindspore as ms  # only a MindSpore network needs its inputs as Tensors

        def run(batch):
            return _as_numpy(feature_fn(ms.Tensor(batch)))
    else:
        def run(batch):
            return _as_numpy(feature_fn(batch))

    rows = []
    for batch in batches:
        batch = np.asarray(batch, dtype=np.float32)
        features = run(batch)
        if features.ndim != 2 or features.shape[0] != batch.shape[0]:
            raise ValueError(f"feature function must map a batch of {batch.shape[0]} images to "
                             f"(batch, D) features, got shape {features.shape}")
        if flip:
            features = (features + run(mirror(batch))) / 2.0
        rows.append(features)
    if not rows:
        raise ValueError("no images to extract features from")
    return np.concatenate(rows, axis=0)


class MissingFeaturesError(AnticipatedError, KeyError):
    """A features file lacks images that the protocol needs."""


class FeatureTable:
    """Saved features looked up by image path (relative to the dataset root)."""

    def __init__(self, paths, features, origin="features"):
        """
        Args:
            paths: N dataset-relative image paths.
            features: (N, D) features, row i belonging to ``paths[i]``.
            origin: name used in error messages (e.g. the file path).
        """
        features = np.asarray(features, dtype=np.float32)
        paths = [_clean_path(path) for path in paths]
        if features.ndim != 2 or features.shape[0] != len(paths):
            raise MalformedInputError(f"{origin}: 'features' must be (num_paths={len(paths)}, D), "
                                      f"got shape {features.shape}")
        self.origin = origin
        self.features = features
        self.row_of = {path: row for row, path in enumerate(paths)}
        if len(self.row_of) != len(paths):
            raise MalformedInputError(f"{origin}: 'paths' lists {len(paths) - len(self.row_of)} paths more than once")

    @classmethod
    def load(cls, file_path):
        """Read an .npz holding ``paths`` (N,) strings and ``features`` (N, D)."""
        if not os.path.isfile(file_path):
            raise MissingInputError(f"features file not found: {file_path}")
        expected = "an .npz of arrays 'paths' (N image paths) and 'features' (N, D)"
        try:
            with np.load(file_path, allow_pickle=False) as content:
                missing = [key for key in ("paths", "features") if key not in content.files]
                if missing:
                    raise MalformedInputError(f"{file_path} must be {expected}; missing {', '.join(missing)} "
                                              f"(found: {', '.join(content.files) or 'nothing'})")
                paths, features = content["paths"].tolist(), content["features"]
        except (OSError, ValueError, EOFError, TypeError, AttributeError) as error:
            if isinstance(error, MalformedInputError):
                raise
            raise MalformedInputError(f"{file_path} is not a features file ({expected}): {error}") from None
        return cls(paths, features, origin=file_path)

    def features_of(self, records):
        """(N, D) float32 rows of ``records`` (anything with ``.path``), in order."""
        paths = [_clean_path(record.path) for record in records]
        missing = [path for path in paths if path not in self.row_of]
        if missing:
            shown = ", ".join(missing[:5])
            raise MissingFeaturesError(f"{self.origin} has no features for {len(missing)} of the {len(paths)} "
                                       f"requested images (paths relative to the dataset root), e.g. {shown}")
        return self.features[[self.row_of[path] for path in paths]]


def write_feature_file(path, records, features, kind):
    """Save features in the format ``FeatureTable.load`` reads, plus what describes each row.

    Args:
        path: the ``.npz`` to write (folders are created).
        records: N ImageRecords (dataset-relative ``path``, ``pid``, ``cam``, ``modality``).
        features: (N, D) features, row i belonging to ``records[i]``.
        kind: what the features are (e.g. "v of all branches"), stored as the scalar ``kind``.
    The file holds ``paths`` (N,), ``features`` (N, D) float32, ``modality`` (N,), ``pid`` and
    ``cam`` (N,) int64, and ``kind``.
    """
    records = list(records)
    features = _as_numpy(features)
    if features.ndim != 2 or features.shape[0] != len(records):
        raise ValueError(f"features must be (num_records={len(records)}, D), got shape {features.shape}")

    def write(temporary):
        with open(temporary, "wb") as handle:  # a file object keeps numpy from appending ".npz" to other names
            np.savez(handle, paths=np.array([_clean_path(record.path) for record in records]), features=features,
                     modality=np.array([record.modality for record in records]),
                     pid=np.array([record.pid for record in records], dtype=np.int64),
                     cam=np.array([record.cam for record in records], dtype=np.int64), kind=np.array(kind))
    write_atomically(path, write)  # a failed write (full disk) leaves no partial file and says why


class RecordingFeatureSource:
    """A feature source that remembers every feature it returned, one row per image path."""

    def __init__(self, source):
        """``source``: anything with ``features_of(records) -> (N, D)``."""
        self.source = source
        self.rows = {}

    def features_of(self, records):
        """The wrapped source's (N, D) float32 features of ``records``, remembered by path."""
        records = list(records)
        features = _as_numpy(self.source.features_of(records))
        for record, row in zip(records, features):
            self.rows[_clean_path(record.path)] = (record, row)
        return features

    def save(self, path, kind):
        """Write every remembered feature with ``write_feature_file``, in the order first seen."""
        if not self.rows:
            raise ValueError("no features were computed, so there is nothing to save")
        records, rows = zip(*self.rows.values())
        write_feature_file(path, records, np.stack(rows), kind)


class ImageFeatureExtractor:
    """Features computed from the dataset's images, one feature function per modality."""

    def __init__(self, root, feature_fns, height, width, batch_size=64, flip=True, cache_dir=None, num_workers=2):
        """
        Args:
            root: dataset root.
            feature_fns: dict modality ("visible" / "infrared") -> callable mapping float32
                (b, 3, height, width) batches to (b, D) features (e.g. the network's route for
                that modality).
            height, width: network input size in pixels.
            batch_size: images per forward pass.
            flip: flip test-time augmentation (see ``extract_features``).
            cache_dir: resized-image cache folder, or None to decode directly.
            num_workers: image decoding threads.
        """
        self.root = root
        self.feature_fns = feature_fns
        self.height, self.width = height, width
        self.batch_size = batch_size
        self.flip = flip
        self.cache_dir = cache_dir
        self.num_workers = num_workers

    def features_of(self, records):
        """(N, D) float32 features of ``records``, in order (each modality through its function)."""
        records = list(records)
        if not records:
            raise ValueError("no images to extract features from")
        rows = [None] * len(records)
        with Progress(len(records), "extracting features") as progress:
            for modality in sorted({record.modality for record in records}):
                if modality not in self.feature_fns:
                    raise KeyError(f"no feature function for modality {modality!r} "
                                   f"(have: {', '.join(self.feature_fns)})")
                indices = [index for index, record in enumerate(records) if record.modality == modality]
                batches = iterate_test_batches(self.root, [records[index] for index in indices], self.height,
                                               self.width, self.batch_size, cache_dir=self.cache_dir,
                                               num_workers=self.num_workers)
                features = extract_features(_counted(batches, progress), self.feature_fns[modality], self.flip)
                for index, feature in zip(indices, features):
                    rows[index] = feature
        return np.stack(rows)


def _counted(batches, progress):
    """Yield the batches, counting each on ``progress`` once the consumer has processed it."""
    for batch in batches:
        yield batch
        progress.update(len(batch))
