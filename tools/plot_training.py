"""Plot training curves of one or several runs from their train_log.jsonl (optional matplotlib).

    python -m tools.plot_training RUN [RUN ...] --out curves.png [--smooth 5] [--labels A,B]

RUN is a run folder (holding train_log.jsonl) or the log file itself. Panels: the total
loss and every component (``--smooth``: moving average over logged points), the learning
rate, validation Rank-1 / mAP (runs with data.val_ratio > 0) and H(y|z) - H(y|v) per
bottlenecked branch (runs with train.gap_interval > 0); the runs are overlaid.
Needs requirements-extra.txt (matplotlib); says how to install it when missing.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from src.visualization.extras import MissingExtraError  # noqa: E402
from src.visualization.training_curves import plot_curves, read_training_log  # noqa: E402

LOG_NAME = "train_log.jsonl"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders or train_log.jsonl files")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--smooth", type=int, default=1, help="moving-average window of the loss curves (points)")
    parser.add_argument("--labels", default="", help="comma-separated run labels (default: folder names)")
    args = parser.parse_args(argv)
    logs = [os.path.join(run, LOG_NAME) if os.path.isdir(run) else run for run in args.runs]
    labels = args.labels.split(",") if args.labels else [os.path.basename(os.path.dirname(os.path.abspath(log)))
                                                           for log in logs]
    if len(labels) != len(logs):
        parser.error(f"--labels names {len(labels)} runs, {len(logs)} were given")
    missing = [log for log in logs if not os.path.isfile(log)]
    if missing:
        parser.error(f"no training log at {', '.join(missing)}")
    try:
        panels = plot_curves({label: read_training_log(log) for label, log in zip(labels, logs)}, args.out,
                             smooth=args.smooth)
    except MissingExtraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(panels)} panels ({', '.join(panels)}) of {len(logs)} run(s) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
