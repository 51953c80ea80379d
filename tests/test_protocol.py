"""The protocols end to end on synthetic trees, through eval.py and a saved features file."""

import json
import os

import numpy as np
import pytest

import eval as eval_entry
from src.datasets.dataset import DirectionOptions, open_dataset
from src.evaluation.features import FeatureTable
from src.evaluation.protocol import run_protocol

NUM_DIMS = 64


def _identity_features(records):
    """Perfect features: one-hot of the identity."""
    features = np.zeros((len(records), NUM_DIMS), dtype=np.float32)
    features[np.arange(len(records)), [record.pid % NUM_DIMS for record in records]] = 1.0
    return features


def _random_features(records):
    return np.random.default_rng(0).normal(size=(len(records), NUM_DIMS)).astype(np.float32)


def _all_test_records(reader, trials, **settings):
    records = {}
    for trial in trials:
        lists = reader.test_lists(trial, reader.TestOptions(**settings))
        for record in lists.query + lists.gallery:
            records[record.path] = record
    return list(records.values())


def _save_features(path, records, make_features):
    np.savez(path, paths=np.array([record.path for record in records]), features=make_features(records))
    return str(path)


def _run_eval(tmp_path, argv):
    output_dir = str(tmp_path / "out")
    assert eval_entry.main(argv + ["--output_dir", output_dir]) == 0
    with open(os.path.join(output_dir, "eval_results.json"), encoding="utf-8") as handle:
        saved = json.load(handle)
    assert os.path.isfile(os.path.join(output_dir, "eval_config.yaml"))
    return saved


@pytest.mark.parametrize("mode,protocol,shots", [("all", "agw", 1), ("indoor", "agw", 10), ("all", "official", 1)])
def test_sysu_perfect_features_score_one(synthetic_sysu, tmp_path, mode, protocol, shots):
    reader = open_dataset("sysu", synthetic_sysu)
    settings = {"mode": mode, "protocol": protocol, "shots": shots}
    path = _save_features(tmp_path / "f.npz", _all_test_records(reader, range(3), **settings), _identity_features)
    saved = _run_eval(tmp_path, ["--features", path, "--data.dataset", "sysu", "--data.data_path", synthetic_sysu,
                                 "--eval.mode", mode, "--eval.protocol", protocol, "--eval.shots", str(shots),
                                 "--eval.trials", "3", "--distance", "euclidean", "--normalize", "false"])
    results = saved["results"]["t2v"]
    assert [entry["trial"] for entry in results["trials"]] == [0, 1, 2]
    for entry in results["trials"]:
        lists = reader.test_lists(entry["trial"], reader.TestOptions(**settings))
        assert (entry["num_query"], entry["num_gallery"]) == (len(lists.query), len(lists.gallery))
        assert 0 < entry["num_valid_queries"] <= entry["num_query"]
    assert results["mean"] == {"rank1": 1.0, "rank5": 1.0, "rank10": 1.0, "rank20": 1.0, "mAP": 1.0, "mINP": 1.0}
    assert saved["config"]["eval"]["distance"] == "euclidean" and saved["config"]["eval"]["normalize"] is False


def test_sysu_random_features_are_near_chance(synthetic_sysu, tmp_path):
    reader = open_dataset("sysu", synthetic_sysu)
    path = _save_features(tmp_path / "f.npz", _all_test_records(reader, range(2)), _random_features)
    results = _run_eval(tmp_path, ["--features", path, "--data.dataset", "sysu", "--data.data_path", synthetic_sysu,
                                   "--eval.trials", "2"])["results"]["t2v"]
    num_ids = len({record.pid for record in reader.test_lists(0).query})
    assert results["mean"]["rank1"] < 3.0 / num_ids + 0.15
    assert results["mean"]["mAP"] < 0.6
    means = {name: np.mean([entry[name] for entry in results["trials"]]) for name in results["mean"]}
    assert means == pytest.approx(results["mean"])
    stds = {name: np.std([entry[name] for entry in results["trials"]]) for name in results["std"]}
    assert stds == pytest.approx(results["std"])


def test_sysu_rerank_keeps_perfect_features_perfect(synthetic_sysu, tmp_path):
    reader = open_dataset("sysu", synthetic_sysu)
    records = _all_test_records(reader, range(1))
    features = _identity_features(records) + 0.01 * _random_features(records)
    path = tmp_path / "f.npz"
    np.savez(path, paths=np.array([record.path for record in records]), features=features)
    results = _run_eval(tmp_path, ["--features", str(path), "--data.dataset", "sysu", "--data.data_path",
                                   synthetic_sysu, "--eval.trials", "1", "--rerank", "true"])["results"]["t2v"]
    assert results["mean"]["rank1"] == 1.0 and results["mean"]["mAP"] == 1.0


def test_regdb_trial_template_and_both_directions(synthetic_regdb, tmp_path):
    for trial in (1, 2):
        reader = open_dataset("regdb", synthetic_regdb, trial=trial)
        # Trial 2's file scores every image by identity; trial 1's is random: the trials must differ.
        make = _identity_features if trial == 2 else _random_features
        _save_features(tmp_path / f"regdb_{trial}.npz", _all_test_records(reader, [trial]), make)
    saved = _run_eval(tmp_path, ["--features", str(tmp_path / "regdb_{trial}.npz"), "--data.dataset", "regdb",
                                 "--data.data_path", synthetic_regdb, "--eval.trials", "2", "--eval.direction", "both"])
    for direction in ("v2t", "t2v"):
        trials = saved["results"][direction]["trials"]
        assert [entry["trial"] for entry in trials] == [1, 2]
        assert trials[1]["rank1"] == 1.0 and trials[1]["mAP"] == 1.0
        assert trials[0]["mAP"] < 0.7
        lists = open_dataset("regdb", synthetic_regdb, trial=1).test_lists(1, DirectionOptions(direction))
        assert trials[0]["num_query"] == len(lists.query) == trials[0]["num_valid_queries"]
        assert {record.modality for record in lists.query} == {"visible" if direction == "v2t" else "infrared"}


def test_llcm_perfect_features(synthetic_llcm, tmp_path):
    reader = open_dataset("llcm", synthetic_llcm)
    path = _save_features(tmp_path / "f.npz", _all_test_records(reader, range(2), direction="t2v"),
                          _identity_features)
    results = _run_eval(tmp_path, ["--features", path, "--data.dataset", "llcm", "--data.data_path", synthetic_llcm,
                                   "--eval.trials", "2", "--eval.direction", "t2v"])["results"]["t2v"]
    assert results["mean"]["rank1"] == 1.0 and results["mean"]["mINP"] == 1.0


def test_missing_features_are_reported(synthetic_sysu, tmp_path):
    reader = open_dataset("sysu", synthetic_sysu)
    records = _all_test_records(reader, range(1))
    path = _save_features(tmp_path / "f.npz", records[:-3], _identity_features)
    with pytest.raises(KeyError, match="has no features for 3 of the"):
        eval_entry.main(["--features", path, "--data.dataset", "sysu", "--data.data_path", synthetic_sysu,
                         "--eval.trials", "1", "--output_dir", str(tmp_path / "out")])


def test_each_image_is_extracted_once_across_trials(synthetic_sysu):
    reader = open_dataset("sysu", synthetic_sysu)
    records = _all_test_records(reader, range(4))
    table = FeatureTable([record.path for record in records], _identity_features(records))
    requests = []

    class CountingSource:
        def features_of(self, wanted):
            requests.append([record.path for record in wanted])
            return table.features_of(wanted)

    source = CountingSource()
    trial_lists = {trial: reader.test_lists(trial) for trial in range(4)}
    run_protocol(trial_lists, lambda trial: source, "sysu")
    assert len(requests) == 1 and len(requests[0]) == len(set(requests[0]))
    assert set(requests[0]) == {r.path for lists in trial_lists.values() for r in lists.query + lists.gallery}


def test_aliases_and_config_errors(capsys):
    assert eval_entry.expand_aliases(["--features=a.npz", "--distance", "cosine", "--eval.mode", "all"]) == [
        "--eval.features=a.npz", "--eval.distance", "cosine", "--eval.mode", "all"]
    assert eval_entry.main(["--data.dataset", "sysu"]) == 2
    assert "eval.features" in capsys.readouterr().err
    assert eval_entry.main(["--features", "x.npz", "--eval.direction", "v2t"]) == 2
    assert "direction" in capsys.readouterr().err
