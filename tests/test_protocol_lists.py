"""The lists command line: JSON of one trial's query and gallery, for every dataset."""

import json

import pytest

from src.datasets.dataset import open_dataset
from tools.protocol_lists import main


@pytest.mark.parametrize("dataset,fixture,args,options", [
    ("sysu", "synthetic_sysu", ["--mode", "indoor", "--protocol", "official", "--shots", "10", "--trial", "4"],
     {"mode": "indoor", "protocol": "official", "shots": 10}),
    ("sysu", "synthetic_sysu", ["--mode", "all", "--protocol", "agw", "--shots", "1", "--trial", "0"],
     {"mode": "all", "protocol": "agw", "shots": 1}),
    ("regdb", "synthetic_regdb", ["--trial", "7", "--direction", "t2v"], {"direction": "t2v"}),
    ("llcm", "synthetic_llcm", ["--trial", "3", "--eval.direction", "v2t"], {"direction": "v2t"}),
])
def test_writes_the_readers_lists(request, tmp_path, dataset, fixture, args, options):
    root = request.getfixturevalue(fixture)
    out = tmp_path / "lists.json"
    main(["--dataset", dataset, "--data_path", root, "--out", str(out)] + args)
    written = json.loads(out.read_text())
    trial = int(dict(zip(args[::2], args[1::2]))["--trial"])
    reader = open_dataset(dataset, root, trial=trial)
    lists = reader.test_lists(trial, reader.TestOptions(**options))
    for side in ("query", "gallery"):
        assert written[side] == [{"path": r.path, "pid": r.pid, "cam": r.cam} for r in getattr(lists, side)]
        assert written[side]


def test_reports_errors_without_traceback(synthetic_regdb, tmp_path):
    out = ["--out", str(tmp_path / "x.json")]
    with pytest.raises(SystemExit, match="eval.mode does not apply to regdb"):
        main(["--dataset", "regdb", "--data_path", synthetic_regdb, "--trial", "1", "--mode", "indoor"] + out)
    with pytest.raises(SystemExit, match="one direction at a time"):
        main(["--dataset", "regdb", "--data_path", synthetic_regdb, "--trial", "1", "--direction", "both"] + out)
    with pytest.raises(SystemExit, match="'data.dataset' must be one of llcm, regdb, sysu; got 'market'"):
        main(["--dataset", "market", "--data_path", synthetic_regdb, "--trial", "1"] + out)
    with pytest.raises(ValueError, match="'data.dataset' must be one of llcm, regdb, sysu"):
        open_dataset("market", synthetic_regdb)
