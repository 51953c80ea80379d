"""Each dataset is evaluated in the query directions it declares, and results are named after
what the queries and the gallery are: "v2t" visible queries in the infrared gallery, "t2v"
infrared queries in the visible gallery."""

import json

import numpy as np
import pytest

import eval as eval_entry
from src.config import ConfigError, load_config
from src.datasets.dataset import configured_test_options, open_dataset
from src.datasets.records import INFRARED, VISIBLE

MODALITIES_NAMED = {"v2t": (VISIBLE, INFRARED), "t2v": (INFRARED, VISIBLE)}


@pytest.mark.parametrize("dataset, fixture, direction, expected_keys", [
    ("sysu", "synthetic_sysu", "standard", ["t2v"]),
    ("sysu", "synthetic_sysu", "both", ["t2v"]),
    ("regdb", "synthetic_regdb", "standard", ["v2t"]),
    ("regdb", "synthetic_regdb", "both", ["v2t", "t2v"]),
    ("llcm", "synthetic_llcm", "t2v", ["t2v"]),
])
def test_each_key_names_the_modalities_of_its_queries_and_gallery(dataset, fixture, direction, expected_keys,
                                                                   request):
    cfg = load_config(["--data.dataset", dataset, "--eval.direction", direction])
    options_of_direction = configured_test_options(dataset, cfg.eval)
    assert list(options_of_direction) == expected_keys
    reader = open_dataset(dataset, request.getfixturevalue(fixture))
    trial = reader.test_trials[0]
    for key, options in options_of_direction.items():
        lists = reader.test_lists(trial, options)
        query_modality, gallery_modality = MODALITIES_NAMED[key]
        assert {record.modality for record in lists.query} == {query_modality}
        assert {record.modality for record in lists.gallery} == {gallery_modality}


def test_sysu_results_are_printed_and_stored_as_t2v(synthetic_sysu, tmp_path, capsys):
    reader = open_dataset("sysu", synthetic_sysu)
    lists = reader.test_lists(0)
    paths = sorted({record.path for record in lists.query + lists.gallery})
    features = tmp_path / "features.npz"
    np.savez(features, paths=np.array(paths),
             features=np.random.default_rng(0).normal(size=(len(paths), 8)).astype(np.float32))
    output_dir = tmp_path / "eval"
    assert eval_entry.main(["--data.dataset", "sysu", "--data.data_path", synthetic_sysu, "--eval.features",
                            str(features), "--eval.trials", "1", "--output_dir", str(output_dir)]) == 0
    printed = capsys.readouterr()
    assert "sysu t2v (1 trials)" in printed.out + printed.err
    assert "v2t" not in printed.out + printed.err
    with open(output_dir / "eval_results.json", encoding="utf-8") as handle:
        results = json.load(handle)["results"]
    assert list(results) == ["t2v"]
    assert results["t2v"]["trials"][0]["num_query"] == len(lists.query)


def test_a_direction_sysu_does_not_test_is_a_config_error(capsys):
    cfg = load_config(["--data.dataset", "sysu", "--eval.direction", "v2t"])
    with pytest.raises(ConfigError, match=r"SYSU-MM01 does not test eval.direction 'v2t' \(visible queries, "
                                          r"infrared gallery\); it tests t2v \(infrared queries, visible gallery\)"):
        configured_test_options("sysu", cfg.eval)
    assert eval_entry.main(["--data.dataset", "sysu", "--eval.features", "absent.npz",
                            "--eval.direction", "v2t"]) == 2
    assert "SYSU-MM01 does not test eval.direction 'v2t'" in capsys.readouterr().err
