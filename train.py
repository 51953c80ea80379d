"""Train the variational-distillation network.

    python train.py [--config_path configs/sysu.yaml] [--key value ...]

Options: default_config.yaml. Outputs go to --output_dir (config.yaml, train.log,
train_log.jsonl, checkpoints/).
"""

import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import load_config_or_exit


def main(argv=None):
    cfg = load_config_or_exit(__doc__, argv)
    from src.engine.trainer import Trainer  # imports MindSpore: after the config is known to be valid
    Trainer(cfg).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
