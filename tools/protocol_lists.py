"""Write one trial's query and gallery lists of a test protocol as JSON.

    python -m tools.protocol_lists --dataset sysu --data_path DIR --trial 0 --out lists.json \
        [--mode all --protocol agw --shots 1 --direction v2t --rand_perm_cam MAT] [--eval.KEY value ...]

The test settings are the ``eval`` options of the configuration that the dataset reads (its
test options; ``--mode`` and the others are short for ``--eval.mode`` ...); settings the
dataset does not read must keep their defaults. ``--trial`` is numbered as the dataset numbers
it (SYSU-MM01 / LLCM 0..9, RegDB 1..10; where each trial has its own training split, that
trial's split is read). The file holds ``{"query": [{"path", "pid", "cam"}, ...], "gallery":
[...]}`` in protocol order, with paths relative to ``--data_path``.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from src.config import load_config  # noqa: E402
from src.datasets.dataset import configured_test_options, open_dataset  # noqa: E402

# Short flags of the eval options that hold test settings.
SETTING_FLAGS = ("mode", "protocol", "shots", "direction", "rand_perm_cam")


def test_lists_as_dict(lists):
    """Query and gallery of a TestLists as plain dicts of path, pid and cam."""
    return {side: [{"path": r.path, "pid": r.pid, "cam": r.cam} for r in getattr(lists, side)]
            for side in ("query", "gallery")}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the query and gallery lists of one test trial as JSON.",
                                     epilog="Other --eval.KEY value options set further test settings.")
    parser.add_argument("--dataset", required=True, help="a registered dataset (data.dataset)")
    parser.add_argument("--data_path", required=True, help="dataset root in its original layout")
    parser.add_argument("--trial", type=int, required=True, help="trial number as the dataset numbers it")
    parser.add_argument("--out", required=True, help="output JSON file")
    for flag in SETTING_FLAGS:
        parser.add_argument(f"--{flag}", help=f"same as --eval.{flag}")
    args, config_options = parser.parse_known_args(argv)
    config_argv = ["--data.dataset", args.dataset] + config_options
    for flag in SETTING_FLAGS:
        if getattr(args, flag) is not None:
            config_argv += [f"--eval.{flag}", getattr(args, flag)]
    try:
        settings = load_config(config_argv).eval
        options_of_direction = configured_test_options(args.dataset, settings)
        if len(options_of_direction) != 1:
            raise ValueError(f"write one direction at a time; got eval.direction {settings.direction!r}")
        (options,) = options_of_direction.values()
        lists = open_dataset(args.dataset, args.data_path, args.trial).test_lists(args.trial, options)
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(test_lists_as_dict(lists), handle, indent=1)
    print(f"wrote {len(lists.query)} queries and {len(lists.gallery)} gallery images to {args.out}")


if __name__ == "__main__":
    main()
