"""Train the variational-distillation network.

    python train.py [--config_path configs/sysu.yaml] [--key value ...]
    python train.py --resume RUN [--train.epochs N] [--key value ...]

Outputs go to --output_dir: config.yaml, train.log (appended), train_log.jsonl, checkpoints/.
--resume RUN continues the run in folder RUN from its last saved state, with RUN/config.yaml;
it accepts only overrides that cannot change the training done so far (more epochs, the log
or checkpoint intervals) and refuses the rest.
"""

import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import ConfigError, load_config, print_help_if_asked
from src.engine.resume import resume_argv
from src.errors import report_and_exit_status, report_error
from src.utils.run_log import start_logging

RESUME_HELP = ("--resume RUN", "continue the run in folder RUN from its last state, with RUN/config.yaml "
                               "(overrides that change the training are refused)")


def main(argv=None):
    """Exit status 0, or 2 after one ``error: ...`` line for a configuration error; other
    anticipated errors (src.errors) propagate, and become that line when run as a script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    print_help_if_asked(__doc__, argv, extra_options=[RESUME_HELP])
    start_logging()
    try:
        cfg = load_config(resume_argv(argv))
    except ConfigError as error:
        return report_error(error)
    from src.engine.trainer import Trainer  # imports MindSpore: after the config is known to be valid
    Trainer(cfg).run()
    return 0


if __name__ == "__main__":
    sys.exit(report_and_exit_status(main))
