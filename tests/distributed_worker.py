"""Run by tests/test_distributed.py under msrun: a few training steps, then this rank's weights to a file.

    python tests/distributed_worker.py DATA_PATH OUTPUT_DIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import src  # noqa: E402,F401
from src.config import load_config  # noqa: E402
from src.engine.trainer import Trainer  # noqa: E402


def main(data_path, output_dir):
    cfg = load_config([
        "--data.data_path", data_path, "--output_dir", output_dir, "--backbone.depth", "10",
        "--data.height", "32", "--data.width", "16", "--data.batch_ids", "4", "--data.per_modality", "2",
        "--model.hidden_dims", "[64, 32]", "--model.z_dim", "16", "--data.num_workers", "1",
        "--train.epochs", "1", "--train.warmup_epochs", "0", "--train.lr", "1e-3", "--train.log_interval", "1"])
    trainer = Trainer(cfg)
    trainer.run()
    weights = {p.name: p.asnumpy() for p in trainer.network.trainable_params()}
    np.savez(os.path.join(output_dir, f"weights_rank{trainer.context.rank}_of_{trainer.context.group_size}.npz"),
             **weights)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
