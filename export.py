"""Export a trained network to MINDIR (default) or ONNX, one file per modality.

    python export.py --config_path RUN/config.yaml --export.checkpoint RUN/checkpoints/network_last.ckpt \
        [--export.file_format MINDIR|ONNX] [--export.modality both|visible|infrared] [--export.file_name STEM]

The exported graph maps images (B, 3, data.height, data.width), B dynamic, to the test
feature of that modality. A bare STEM is written into output_dir.
"""

import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import load_config_or_exit


def main(argv=None):
    cfg = load_config_or_exit(__doc__, argv)
    from src.engine.context import setup_context
    from src.engine.exporter import export_from_config
    setup_context(cfg.device_target, cfg.device_id, graph_mode=True)
    for modality, path in export_from_config(cfg).items():
        print(f"exported {modality}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
