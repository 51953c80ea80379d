"""Write one branch's encoder of a trained run as a backbone checkpoint for --backbone.pretrained.

    python tools/extract_backbone.py RUN OUT.ckpt [--branch shared] [--checkpoint FILE]

RUN is a run folder (its config.yaml and checkpoints/network_last.ckpt, or --checkpoint).
The encoder's parameters are written under their own names (``layer1.0.conv1.weight``, ...)
and then loaded back into a fresh encoder built from RUN's configuration, which must fit
every parameter; ``scripts/run_pretrain.sh`` ends with this step.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import src  # noqa: E402,F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import load_config  # noqa: E402
from src.errors import MissingInputError, report_and_exit_status  # noqa: E402

BRANCHES = ("shared", "visible", "infrared")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="run folder holding config.yaml and checkpoints/")
    parser.add_argument("out", help="backbone checkpoint to write (.ckpt)")
    parser.add_argument("--branch", default="shared", choices=BRANCHES, help="whose encoder (default: shared)")
    parser.add_argument("--checkpoint", default="", help="network checkpoint (default: RUN/checkpoints/network_last.ckpt)")
    args = parser.parse_args(argv)
    config_path = os.path.join(args.run, "config.yaml")
    if not os.path.isfile(config_path):
        raise MissingInputError(f"{args.run} is not a run folder: {config_path} does not exist")
    checkpoint = args.checkpoint or os.path.join(args.run, "checkpoints", "network_last.ckpt")
    cfg = load_config(["--config_path", config_path])

    import mindspore as ms
    from src.engine.checkpoint import atomic_save_checkpoint
    from src.models.backbone import BACKBONES
    from src.models.pretrained import branch_encoder_weights

    weights = branch_encoder_weights(checkpoint, args.branch)
    atomic_save_checkpoint([{"name": name, "data": ms.Tensor(value)} for name, value in weights.items()], args.out)
    report = BACKBONES.get(cfg.backbone.name).from_config(cfg).load_pretrained(args.out)
    print(f"wrote the {args.branch} encoder of {checkpoint} ({cfg.backbone.name}, "
          f"{sum(value.size for value in weights.values()):,} values) to {args.out}; {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(report_and_exit_status(main))
