"""Export a trained network to MINDIR (default) or ONNX, one file per modality.

    python export.py --config_path RUN/config.yaml --export.checkpoint RUN/checkpoints/network_last.ckpt \\
        [--export.file_format MINDIR|ONNX] [--export.modality both|visible|infrared] [--export.file_name STEM]

The exported graph maps images (B, 3, data.height, data.width), B dynamic, to the test
feature of that modality. A bare STEM is written into output_dir. The log goes to the
console and to export.log beside the exported files.
"""

import os
import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import ConfigError, load_config, print_help_if_asked
from src.errors import report_and_exit_status, report_error
from src.utils.run_log import attach_log_file, get_logger, start_logging

LOG_FILE = "export.log"


def main(argv=None):
    """Exit status 0, or 2 after one ``error: ...`` line for a configuration error; other
    anticipated errors (src.errors) propagate, and become that line when run as a script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    print_help_if_asked(__doc__, argv)
    start_logging()
    try:
        cfg = load_config(argv)
    except ConfigError as error:
        return report_error(error)
    from src.engine.context import setup_context
    from src.engine.exporter import export_from_config
    setup_context(cfg.device_target, cfg.device_id, graph_mode=True)
    for modality, path in export_from_config(cfg).items():
        get_logger().info(f"exported {modality}: {path}")
    attach_log_file(os.path.join(cfg.output_dir, LOG_FILE))  # once the export succeeded: with every line so far
    return 0


if __name__ == "__main__":
    sys.exit(report_and_exit_status(main))
