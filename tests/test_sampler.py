"""Cross-modality identity sampler: batch composition, pairing, epochs, determinism, shards."""

import math
from collections import Counter

import numpy as np
import pytest

from src.datasets.sampler import CrossModalitySampler


def _labels(counts_per_id, seed):
    """Image labels with ``counts_per_id[i]`` images of label i, in shuffled order."""
    labels = np.repeat(np.arange(len(counts_per_id)), counts_per_id)
    return np.random.default_rng(seed).permutation(labels)


@pytest.fixture
def labels():
    rng = np.random.default_rng(7)
    visible = _labels(rng.integers(3, 12, size=23), seed=1)
    infrared = _labels(rng.integers(2, 9, size=23), seed=2)
    return visible, infrared


def test_batch_has_p_identities_with_k_aligned_images_per_modality(labels):
    visible_labels, infrared_labels = labels
    sampler = CrossModalitySampler(visible_labels, infrared_labels, batch_ids=4, per_modality=3, seed=5)
    for visible, infrared, batch_labels in sampler.batches(0):
        assert visible.shape == infrared.shape == batch_labels.shape == (12,)
        # Row r of both modalities shows the identity labels[r]: the VCD / VML pairs.
        np.testing.assert_array_equal(visible_labels[visible], batch_labels)
        np.testing.assert_array_equal(infrared_labels[infrared], batch_labels)
        blocks = batch_labels.reshape(4, 3)
        assert (blocks == blocks[:, :1]).all(), "identity-major rows: K consecutive rows per identity"
        assert len(set(blocks[:, 0])) == 4, "identities must not repeat within a batch"
        for block_visible, block_infrared in zip(visible.reshape(4, 3), infrared.reshape(4, 3)):
            # every identity here has >= 3 visible and >= 2 infrared images
            assert len(set(block_visible)) == 3
            assert len(set(block_infrared)) >= 2


def test_images_without_replacement_while_an_identity_has_enough(labels):
    visible_labels, infrared_labels = labels
    sampler = CrossModalitySampler(visible_labels, infrared_labels, batch_ids=4, per_modality=2, seed=3,
                                   epoch_definition="images")
    used = Counter()
    for visible, infrared, _ in sampler.batches(0):
        used.update(visible.tolist())
    for label in range(23):
        counts = [used[i] for i in np.flatnonzero(visible_labels == label)]
        # reshuffled passes: no image is used twice before every image of its identity is used once
        assert max(counts) - min(counts) <= 1, (label, counts)


def test_identity_with_fewer_than_k_images_gives_all_of_them_plus_repeats():
    visible_labels = np.array([0, 0, 0, 0, 1, 2, 2, 2, 2])
    infrared_labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    sampler = CrossModalitySampler(visible_labels, infrared_labels, batch_ids=3, per_modality=3, seed=0)
    visible, infrared, batch_labels = sampler.batches(0)[0]
    rows = batch_labels == 1
    np.testing.assert_array_equal(visible[rows], [4, 4, 4])
    np.testing.assert_array_equal(infrared_labels[infrared[rows]], [1, 1, 1])


def test_epoch_lengths_for_both_definitions(labels):
    visible_labels, infrared_labels = labels
    by_ids = CrossModalitySampler(visible_labels, infrared_labels, batch_ids=4, per_modality=2)
    assert by_ids.steps_per_epoch == math.ceil(23 / 4) == len(by_ids.batches(0))
    seen = np.concatenate([batch_labels for _, _, batch_labels in by_ids.batches(0)])
    assert set(seen.tolist()) == set(range(23)), "one 'ids' epoch visits every identity"
    by_images = CrossModalitySampler(visible_labels, infrared_labels, batch_ids=4, per_modality=2,
                                     epoch_definition="images")
    assert by_images.steps_per_epoch == len(visible_labels) // 8 == len(by_images.batches(0))
    fixed = CrossModalitySampler(visible_labels, infrared_labels, batch_ids=4, per_modality=2, steps_per_epoch=13,
                                 epoch_definition="images")
    batches = fixed.batches(0)
    assert fixed.steps_per_epoch == 13 == len(batches)
    counts = Counter(np.concatenate([batch_labels[::2] for _, _, batch_labels in batches]).tolist())
    # 13 x 4 = 52 identity slots over 23 identities: each identity twice or three times
    assert set(counts) == set(range(23)) and set(counts.values()) <= {2, 3}


def test_deterministic_for_seed_and_epoch_and_epochs_differ(labels):
    visible_labels, infrared_labels = labels
    first = CrossModalitySampler(visible_labels, infrared_labels, 4, 2, seed=11)
    second = CrossModalitySampler(visible_labels, infrared_labels, 4, 2, seed=11)
    second.batches(0)  # earlier calls must not change later epochs
    for epoch in (0, 3):
        for a, b in zip(first.batches(epoch), second.batches(epoch)):
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y)
    flat = [np.concatenate([np.concatenate(batch) for batch in first.batches(epoch)]) for epoch in (0, 1)]
    assert not np.array_equal(*flat)
    other_seed = CrossModalitySampler(visible_labels, infrared_labels, 4, 2, seed=12)
    assert not np.array_equal(flat[0], np.concatenate([np.concatenate(b) for b in other_seed.batches(0)]))


def test_ranks_hold_disjoint_shares_forming_the_global_batch(labels):
    visible_labels, infrared_labels = labels
    whole = CrossModalitySampler(visible_labels, infrared_labels, 4, 2, seed=2).batches(1)
    shares = [CrossModalitySampler(visible_labels, infrared_labels, 4, 2, seed=2, rank=rank, group_size=2).batches(1)
              for rank in (0, 1)]
    for step, global_batch in enumerate(whole):
        first, second = shares[0][step], shares[1][step]
        assert first[2].shape == (4,)
        assert not set(first[2].tolist()) & set(second[2].tolist())
        for column in range(3):
            np.testing.assert_array_equal(np.concatenate([first[column], second[column]]), global_batch[column])


def test_clear_errors():
    visible_labels = np.array([0, 1, 2, 3])
    infrared_labels = np.array([0, 1, 2, 9])
    with pytest.raises(ValueError, match="divisible"):
        CrossModalitySampler(visible_labels, infrared_labels, 3, 1, group_size=2)
    with pytest.raises(ValueError, match="only 3 have both"):
        CrossModalitySampler(visible_labels, infrared_labels, 4, 1)
    sampler = CrossModalitySampler(visible_labels, infrared_labels, 3, 1)
    assert sampler.unpaired_labels == [3, 9]
    with pytest.raises(ValueError, match="epoch_definition"):
        CrossModalitySampler(visible_labels, infrared_labels, 2, 1, epoch_definition="steps")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        CrossModalitySampler(visible_labels, infrared_labels, 2, 1, steps_per_epoch=-1)
