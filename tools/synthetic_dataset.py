"""Write a small synthetic visible-infrared re-id dataset in the on-disk layout of a real one.

    python -m tools.synthetic_dataset --layout sysu --out data/synthetic_sysu [--ids 40] [--seed 0] \
        [--height 128 --width 64] [--style alternative]

The generator is ``src.datasets.synthetic``: ``--layout`` takes the registered layouts (one file each in
``layouts/``, each describing its tree), ``--style`` the registered styles (``styles/``).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from src.datasets.synthetic.layout import SYNTHETIC_LAYOUTS, write_synthetic_dataset  # noqa: E402
from src.datasets.synthetic.style import STYLES  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write a small synthetic visible-infrared re-id dataset.")
    parser.add_argument("--layout", required=True, choices=SYNTHETIC_LAYOUTS.names())
    parser.add_argument("--out", required=True, help="output folder (must be absent or empty)")
    parser.add_argument("--ids", type=int, default=None, help="number of identities (default: layout's demo size)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--style", default="default", choices=STYLES.names(),
                        help="rendering: 'alternative' draws differently on purpose, to check generalisation")
    args = parser.parse_args(argv)
    root = write_synthetic_dataset(args.layout, args.out, num_ids=args.ids, seed=args.seed,
                                   height=args.height, width=args.width, style=args.style)
    print(f"wrote synthetic {args.layout} dataset ({args.style} style) to {root}")


if __name__ == "__main__":
    main()
