"""The lists command line: JSON of one trial's query and gallery, for every dataset."""

import json

import pytest

from src.datasets.lists import main
from src.datasets.registry import open_dataset


@pytest.mark.parametrize("dataset,fixture,args", [
    ("sysu", "synthetic_sysu", ["--mode", "indoor", "--protocol", "official", "--shots", "10", "--trial", "4"]),
    ("sysu", "synthetic_sysu", ["--mode", "all", "--protocol", "agw", "--shots", "1", "--trial", "0"]),
    ("regdb", "synthetic_regdb", ["--trial", "7", "--direction", "t2v"]),
    ("llcm", "synthetic_llcm", ["--trial", "3", "--direction", "v2t"]),
])
def test_writes_the_readers_lists(request, tmp_path, dataset, fixture, args):
    root = request.getfixturevalue(fixture)
    out = tmp_path / "lists.json"
    main(["--dataset", dataset, "--data_path", root, "--out", str(out)] + args)
    written = json.loads(out.read_text())
    options = dict(zip(args[::2], args[1::2]))
    trial = int(options["--trial"])
    reader = open_dataset(dataset, root, trial=trial)
    lists = reader.test_lists(trial, mode=options.get("--mode", "all"), protocol=options.get("--protocol", "agw"),
                              shots=int(options.get("--shots", 1)), direction=options.get("--direction", "v2t"))
    for side in ("query", "gallery"):
        assert written[side] == [{"path": r.path, "pid": r.pid, "cam": r.cam} for r in getattr(lists, side)]
        assert written[side]


def test_reports_errors_without_traceback(synthetic_regdb, tmp_path):
    with pytest.raises(SystemExit, match="mode does not apply to RegDB"):
        main(["--dataset", "regdb", "--data_path", synthetic_regdb, "--trial", "1", "--mode", "indoor",
              "--out", str(tmp_path / "x.json")])
    with pytest.raises(ValueError, match="unknown dataset"):
        open_dataset("market", synthetic_regdb)
