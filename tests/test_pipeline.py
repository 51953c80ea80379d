"""Input pipeline: training dataset contents, augmentation, determinism, resume, shards, bad files."""

import os
import shutil

import numpy as np
import pytest

from src.datasets.dataset import open_dataset
from src.datasets.image_io import CorruptImageError, read_resized
from src.datasets.pipeline import available_workers, build_train_dataset, iterate_test_batches, training_iterator
from src.datasets.records import INFRARED, VISIBLE
from src.datasets.sampler import CrossModalitySampler
from src.datasets.transforms import IMAGENET_MEAN, IMAGENET_STD, normalize

HEIGHT, WIDTH = 32, 16
P, K = 4, 2


@pytest.fixture(scope="module")
def train_records(synthetic_sysu):
    return open_dataset("sysu", synthetic_sysu).train_records()


def _steps(dataset):
    return [tuple(np.array(column) for column in row)
            for row in dataset.create_tuple_iterator(num_epochs=1, output_numpy=True)]


def _expected_images(root, records, indices):
    return normalize(np.stack([read_resized(os.path.join(root, records[i].path), HEIGHT, WIDTH) for i in indices]))


def _build(root, records, **options):
    arguments = dict(height=HEIGHT, width=WIDTH, batch_ids=P, per_modality=K, seed=3, num_workers=1)
    arguments.update(options)
    return build_train_dataset(root, records, **arguments)


@pytest.mark.parametrize("cached, flip_prob", [(True, 0.0), (False, 1.0)])
def test_steps_hold_the_sampled_images_aligned_by_identity(synthetic_sysu, train_records, tmp_path, cached,
                                                           flip_prob):
    dataset, steps = _build(synthetic_sysu, train_records, cache_dir=str(tmp_path) if cached else None,
                            flip_prob=flip_prob, num_epochs=2)
    visible_rows = [i for i, r in enumerate(train_records) if r.modality == VISIBLE]
    infrared_rows = [i for i, r in enumerate(train_records) if r.modality == INFRARED]
    sampler = CrossModalitySampler([train_records[i].label for i in visible_rows],
                                   [train_records[i].label for i in infrared_rows], P, K, seed=3)
    assert steps == sampler.steps_per_epoch == int(np.ceil(30 / P))
    produced = _steps(dataset)
    assert len(produced) == 2 * steps
    expected = sampler.batches(0) + sampler.batches(1)
    for (visible, infrared, labels), (visible_index, infrared_index, sampled_labels) in zip(produced, expected):
        assert visible.shape == infrared.shape == (P * K, 3, HEIGHT, WIDTH)
        assert visible.dtype == infrared.dtype == np.float32 and labels.dtype == np.int32
        np.testing.assert_array_equal(labels, sampled_labels)
        assert [train_records[visible_rows[i]].label for i in visible_index] == labels.tolist()
        assert [train_records[infrared_rows[i]].label for i in infrared_index] == labels.tolist()
        want_visible = _expected_images(synthetic_sysu, train_records, [visible_rows[i] for i in visible_index])
        want_infrared = _expected_images(synthetic_sysu, train_records, [infrared_rows[i] for i in infrared_index])
        if flip_prob == 1.0:
            want_visible, want_infrared = want_visible[..., ::-1], want_infrared[..., ::-1]
        np.testing.assert_allclose(visible, want_visible, atol=1e-5)
        np.testing.assert_allclose(infrared, want_infrared, atol=1e-5)


AUGMENTED = dict(flip_prob=0.5, pad=2, random_erasing_prob=0.5, channel_exchange_prob=0.3, grayscale_prob=0.3)


def test_augmented_run_is_deterministic_and_resume_continues_it_exactly(synthetic_sysu, train_records, tmp_path):
    cache_dir = str(tmp_path)
    dataset, steps = _build(synthetic_sysu, train_records, cache_dir=cache_dir, num_epochs=2, **AUGMENTED)
    whole = _steps(dataset)
    low = np.min(-IMAGENET_MEAN / IMAGENET_STD) - 1e-5
    high = np.max((1 - IMAGENET_MEAN) / IMAGENET_STD) + 1e-5
    assert all(low <= step[0].min() and step[0].max() <= high for step in whole)
    again, _ = _build(synthetic_sysu, train_records, cache_dir=cache_dir, num_epochs=2, num_workers=2, **AUGMENTED)
    resumed, _ = _build(synthetic_sysu, train_records, cache_dir=cache_dir, num_epochs=2, start_epoch=1,
                        start_step=2, **AUGMENTED)
    repeated = _steps(again)
    moved = [tuple(np.array(c) for c in row) for row in training_iterator(again, 1, 2, output_numpy=True)]
    for reference, candidates in ((whole, repeated), (whole[steps + 2:], _steps(resumed)), (whole[steps + 2:], moved)):
        assert len(candidates) == len(reference)
        for expected, got in zip(reference, candidates):
            for a, b in zip(expected, got):
                np.testing.assert_array_equal(a, b)
    assert not np.array_equal(whole[0][0], whole[steps][0]), "epochs draw different batches"
    plain, _ = _build(synthetic_sysu, train_records, cache_dir=cache_dir, num_epochs=1, flip_prob=0.0)
    assert not np.array_equal(_steps(plain)[0][0], whole[0][0]), "augmentation changes the images"
    with pytest.raises(ValueError, match="cannot start at epoch 2"):
        _build(synthetic_sysu, train_records, num_epochs=2, start_epoch=2)
    with pytest.raises(ValueError, match=f"cannot start at epoch 0 step {steps}"):
        training_iterator(again, 0, steps)


def test_ranks_share_each_global_batch(synthetic_sysu, train_records, tmp_path):
    options = dict(cache_dir=str(tmp_path), num_epochs=1, flip_prob=0.0)
    whole = _steps(_build(synthetic_sysu, train_records, **options)[0])
    shares = [_steps(_build(synthetic_sysu, train_records, rank=rank, group_size=2, **options)[0]) for rank in (0, 1)]
    for global_step, first, second in zip(whole, *shares):
        assert first[0].shape == (P // 2 * K, 3, HEIGHT, WIDTH)
        for column in range(3):
            np.testing.assert_array_equal(np.concatenate([first[column], second[column]]), global_step[column])


@pytest.fixture
def damaged_root(synthetic_sysu, train_records, tmp_path):
    """A copy of the synthetic SYSU tree with one visible training image overwritten by junk."""
    root = str(tmp_path / "sysu")
    shutil.copytree(synthetic_sysu, root)
    damaged = next(r.path for r in train_records if r.modality == VISIBLE)
    with open(os.path.join(root, damaged), "wb") as file:
        file.write(b"\xff\xd8\xff\xe0 truncated")
    return root, damaged


@pytest.mark.parametrize("cached", [True, False])
def test_unreadable_training_image_is_named_or_skipped(damaged_root, train_records, tmp_path, cached):
    root, damaged = damaged_root
    cache_dir = str(tmp_path / "cache") if cached else None
    with pytest.raises(CorruptImageError, match=os.path.join(root, damaged)) as error:
        _build(root, train_records, cache_dir=cache_dir)
    assert "skip_corrupt" in str(error.value)
    with pytest.warns(UserWarning, match=damaged):
        dataset, steps = _build(root, train_records, cache_dir=cache_dir, skip_corrupt=True, flip_prob=0.0,
                                epoch_definition="images", num_epochs=3)
    # Uncached, drawing the damaged file would fail inside the iterator; cached, it would be a zero image.
    zero_image = normalize(np.zeros((1, HEIGHT, WIDTH, 3), np.uint8))[0]
    for visible, _, _ in _steps(dataset):
        assert not any(np.array_equal(image, zero_image) for image in visible)


def test_test_batches_in_record_order_cached_or_not(synthetic_sysu, tmp_path):
    query = open_dataset("sysu", synthetic_sysu).test_lists(1).query[:23]
    expected = _expected_images(synthetic_sysu, query, range(len(query)))
    for cache_dir in (None, str(tmp_path)):
        batches = list(iterate_test_batches(synthetic_sysu, query, HEIGHT, WIDTH, batch_size=10, cache_dir=cache_dir))
        assert [len(batch) for batch in batches] == [10, 10, 3]
        np.testing.assert_allclose(np.concatenate(batches), expected, atol=1e-6)


def test_unreadable_test_image_is_named(damaged_root, train_records, tmp_path):
    root, damaged = damaged_root
    records = [r for r in train_records if r.modality == VISIBLE][:5]
    for cache_dir in (None, str(tmp_path / "cache")):
        with pytest.raises(CorruptImageError, match=os.path.join(root, damaged)):
            list(iterate_test_batches(root, records, HEIGHT, WIDTH, batch_size=4, cache_dir=cache_dir))


def test_workers_are_clamped_to_available_cores():
    cores = len(os.sched_getaffinity(0))
    assert available_workers(1000) == cores
    assert available_workers(0) == 1
