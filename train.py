"""Train the variational-distillation network.

    python train.py [--config_path configs/sysu.yaml] [--key value ...]

Options: default_config.yaml. Outputs go to --output_dir (config.yaml, train.log,
train_log.jsonl, checkpoints/).
"""

import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import ConfigError, add_help, load_config


def main(argv=None):
    add_help(__doc__, argv)
    try:
        cfg = load_config(argv)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    from src.engine.trainer import Trainer  # imports MindSpore: after the config is known to be valid
    Trainer(cfg).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
