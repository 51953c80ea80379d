"""The one place that maps the configuration onto the parts' constructors.

Every part (reader, pipeline, network, objective, evaluation) takes plain arguments; the
functions here read the resolved config and call them, so the parts stay free of it.
"""

import os

import numpy as np

from src.datasets.dataset import reader_from_config
from src.datasets.pipeline import build_train_dataset as make_train_dataset
from src.datasets.pipeline import iterate_test_batches, training_iterator
from src.datasets.records import INFRARED, VISIBLE
from src.datasets.validation_split import hold_out_identities, validation_lists
from src.engine.information_gap import InformationGapProbe, probe_records
from src.evaluation.features import ImageFeatureExtractor
from src.evaluation.protocol import run_protocol
from src.models.network import InferenceNetwork


def build_reader(cfg):
    """The dataset reader (where each trial has its own training split: ``data.trial``'s)."""
    return reader_from_config(cfg.data)


def cache_dir(cfg):
    """Resized-image cache folder, or None when caching is off."""
    if not cfg.data.use_cache:
        return None
    if cfg.data.cache_dir:
        return cfg.data.cache_dir
    return os.path.join(os.path.dirname(os.path.abspath(cfg.output_dir)), "cache")


def split_training_records(cfg, records):
    """(training records, validation records); no validation unless ``data.val_ratio`` > 0."""
    if cfg.data.val_ratio <= 0:
        return records, []
    return hold_out_identities(records, cfg.data.val_ratio, cfg.seed)


def build_train_dataset(cfg, records, context, start_epoch=0, start_step=0):
    """(dataset, steps_per_epoch) for this rank's share of every global batch."""
    data = cfg.data
    if data.batch_ids % context.group_size:
        raise ValueError(f"data.batch_ids ({data.batch_ids}) must be divisible by the number of devices "
                         f"({context.group_size})")
    return make_train_dataset(
        data.data_path, records, data.height, data.width, data.batch_ids, data.per_modality, cfg.seed,
        epoch_definition=data.epoch_definition, steps_per_epoch=data.steps_per_epoch, rank=context.rank, group_size=context.group_size,
        num_workers=data.num_workers, cache_dir=cache_dir(cfg), flip_prob=data.flip_prob, pad=data.pad,
        random_erasing_prob=data.random_erasing_prob, channel_exchange_prob=data.channel_exchange_prob,
        grayscale_prob=data.grayscale_prob, intensity_remap_prob=data.intensity_remap_prob, skip_corrupt=data.skip_corrupt, start_epoch=start_epoch,
        start_step=start_step, num_epochs=cfg.train.epochs)


def train_iterator(dataset, start_epoch, start_step):
    """The run's single iterator of (visible, infrared, labels) Tensors from (epoch, step)."""
    return training_iterator(dataset, start_epoch, start_step)


def image_extractor(cfg, feature_fns, data_path=None):
    """Test-feature source over the dataset's images from {modality: batch -> features}."""
    return ImageFeatureExtractor(data_path or cfg.data.data_path, feature_fns, cfg.data.height, cfg.data.width,
                                 batch_size=cfg.eval.batch_size, flip=cfg.eval.flip_tta, cache_dir=cache_dir(cfg),
                                 num_workers=cfg.data.num_workers)


def feature_extractor(cfg, network):
    """Test-feature source for ``network``: visible images through E_V + E_S, infrared through E_I + E_S."""
    network.set_train(False)
    return image_extractor(cfg, {VISIBLE: InferenceNetwork(network, VISIBLE),
                                 INFRARED: InferenceNetwork(network, INFRARED)})


def validate(cfg, network, reader, records):
    """The held-out training identities (infrared queries, visible gallery) evaluated as one
    trial of the protocol, under the dataset's ranking rule: ``run_protocol``'s entry of that
    trial (``cmc``, ``rank1``, ``mAP``, ...)."""
    source = feature_extractor(cfg, network)
    result = run_protocol({0: validation_lists(records)}, lambda trial: source, reader.ranking_rule,
                          distance=cfg.eval.distance, normalize=cfg.eval.normalize, max_rank=cfg.eval.max_rank)
    return result["trials"][0]


def build_gap_probe(cfg, records):
    """The H(y|z) - H(y|v) probe on ``train.gap_ids`` training identities (``information_gap``)."""
    visible, infrared = probe_records(records, cfg.train.gap_ids, cfg.seed)

    def images(chosen):
        return np.concatenate(list(iterate_test_batches(cfg.data.data_path, chosen, cfg.data.height, cfg.data.width,
                                                        cfg.eval.batch_size, cache_dir=cache_dir(cfg),
                                                        num_workers=cfg.data.num_workers)))
    return InformationGapProbe(images(visible), images(infrared), [record.label for record in visible])
