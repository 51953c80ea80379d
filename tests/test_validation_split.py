"""Validation split: disjoint identities, relabelling, determinism."""

import pytest

from src.datasets.records import INFRARED, VISIBLE, ImageRecord
from src.datasets.validation_split import hold_out_identities, validation_lists


def make_records(num_ids=20):
    records = []
    for label in range(num_ids):
        for modality, cam in ((VISIBLE, 1), (INFRARED, 3)):
            for frame in range(2):
                records.append(ImageRecord(f"cam{cam}/{label:04d}/{frame:04d}.jpg", 100 + label, cam, modality, label))
    return records


def test_split_is_disjoint_relabelled_and_deterministic():
    records = make_records()
    training, validation = hold_out_identities(records, 0.1, seed=3)
    train_pids = {r.pid for r in training}
    val_pids = {r.pid for r in validation}
    assert len(val_pids) == 2 and not train_pids & val_pids
    assert len(training) + len(validation) == len(records)
    assert sorted({r.label for r in training}) == list(range(18))
    assert {r.label for r in validation} == {-1}
    # relabelling keeps the order of the original labels
    pid_of_label = {r.label: r.pid for r in training}
    assert [pid_of_label[i] for i in range(18)] == sorted(train_pids)
    assert hold_out_identities(records, 0.1, seed=3) == (training, validation)


def test_different_seeds_hold_out_different_identities():
    records = make_records(40)
    chosen = {frozenset(r.pid for r in hold_out_identities(records, 0.1, seed)[1]) for seed in range(5)}
    assert len(chosen) > 1


def test_validation_lists_query_infrared_against_visible():
    _, validation = hold_out_identities(make_records(), 0.2, seed=0)
    lists = validation_lists(validation)
    assert lists.query and lists.gallery
    assert all(r.modality == INFRARED for r in lists.query)
    assert all(r.modality == VISIBLE for r in lists.gallery)


def test_too_large_a_split_is_refused():
    with pytest.raises(ValueError, match="val_ratio"):
        hold_out_identities(make_records(3), 0.5, seed=0)
