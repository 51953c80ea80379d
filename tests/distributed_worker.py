"""Run by tests/test_distributed.py under msrun: a short training, then this rank's weights to a file.

    python tests/distributed_worker.py DATA_PATH OUTPUT_DIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import src  # noqa: E402,F401
from src.config import load_config  # noqa: E402
from src.engine.trainer import Trainer  # noqa: E402


# 3 epochs of 8 steps (the session's synthetic set, 2 ranks) with a state after every epoch;
# tests/test_distributed.py trains the same run through the launcher, stopped and resumed
OPTIONS = ["--backbone.depth", "10", "--backbone.base_width", "8", "--data.height", "32", "--data.width", "16",
           "--data.batch_ids", "4", "--data.per_modality", "2", "--model.hidden_dims", "[16, 8]",
           "--model.z_dim", "8", "--data.num_workers", "1", "--train.epochs", "3", "--train.warmup_epochs", "0",
           "--train.lr", "1e-3", "--train.log_interval", "1", "--train.state_interval", "1"]


def main(data_path, output_dir):
    cfg = load_config(["--data.data_path", data_path, "--output_dir", output_dir, *OPTIONS])
    trainer = Trainer(cfg)
    trainer.run()
    weights = {p.name: p.asnumpy() for p in trainer.network.trainable_params()}
    np.savez(os.path.join(output_dir, f"weights_rank{trainer.context.rank}_of_{trainer.context.group_size}.npz"),
             **weights)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
