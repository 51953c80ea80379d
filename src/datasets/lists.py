"""Write one trial's query and gallery lists of a test protocol as JSON.

    python -m src.datasets.lists --dataset sysu --data_path DIR --mode all --protocol agw \
        --shots 1 --trial 0 --out lists.json

The file holds ``{"query": [{"path", "pid", "cam"}, ...], "gallery": [...]}`` in protocol
order, with paths relative to ``--data_path``.
"""

import argparse
import json
import os

from src.datasets.registry import DATASET_NAMES, open_dataset


def test_lists_as_dict(lists):
    """Query and gallery of a TestLists as plain dicts of path, pid and cam."""
    return {side: [{"path": r.path, "pid": r.pid, "cam": r.cam} for r in getattr(lists, side)]
            for side in ("query", "gallery")}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the query and gallery lists of one test trial as JSON.")
    parser.add_argument("--dataset", required=True, choices=DATASET_NAMES)
    parser.add_argument("--data_path", required=True, help="dataset root in its original layout")
    parser.add_argument("--mode", default="all", choices=("all", "indoor"), help="SYSU-MM01 search mode")
    parser.add_argument("--protocol", default="agw", choices=("agw", "official"), help="SYSU-MM01 gallery protocol")
    parser.add_argument("--shots", type=int, default=1, choices=(1, 10), help="SYSU-MM01 gallery shots")
    parser.add_argument("--trial", type=int, required=True,
                        help="trial number as the dataset numbers it: SYSU-MM01 / LLCM 0..9, RegDB 1..10")
    parser.add_argument("--direction", default="v2t", choices=("v2t", "t2v"), help="RegDB / LLCM query direction")
    parser.add_argument("--rand_perm_cam", default=None, help="official protocol's mat (default <data_path>/exp/)")
    parser.add_argument("--out", required=True, help="output JSON file")
    args = parser.parse_args(argv)
    try:
        reader = open_dataset(args.dataset, args.data_path, trial=args.trial if args.dataset == "regdb" else 1)
        lists = reader.test_lists(args.trial, mode=args.mode, protocol=args.protocol, shots=args.shots,
                                  direction=args.direction, rand_perm_cam=args.rand_perm_cam)
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(test_lists_as_dict(lists), handle, indent=1)
    print(f"wrote {len(lists.query)} queries and {len(lists.gallery)} gallery images to {args.out}")


if __name__ == "__main__":
    main()
