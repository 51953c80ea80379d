"""Train the variational-distillation network.

    python train.py [--config_path configs/sysu.yaml] [--key value ...]
    python train.py --resume RUN [--train.epochs N] [--key value ...]

Outputs go to --output_dir: config.yaml, train.log (appended), train_log.jsonl, checkpoints/.
--resume RUN continues the run in folder RUN from its last saved state, with RUN/config.yaml;
it accepts only overrides that cannot change the training done so far (more epochs, the log
or checkpoint intervals) and refuses the rest. A folder that holds another run is refused
unless --overwrite deletes that run first; a folder another training is using is refused.
Ctrl-C, SIGTERM and SIGHUP save the state at the current step, log the resume command and
exit with 128 + the signal's number (130, 143, 129).
"""

import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import ConfigError, load_config, print_help_if_asked
from src.engine.resume import resume_argv
from src.engine.stop_signals import interrupt_exit_status, stop_on_signals
from src.errors import report_and_exit_status, report_error
from src.utils.run_log import start_logging

RESUME_HELP = ("--resume RUN", "continue the run in folder RUN from its last state, with RUN/config.yaml "
                               "(overrides that change the training are refused)")
OVERWRITE_HELP = ("--overwrite", "delete the earlier run in --output_dir (its config.yaml, train.log, train_log.jsonl "
                                 "and checkpoints/) before training; without it such a folder is refused")


def take_flag(argv, flag):
    """(whether ``flag`` is in ``argv``, ``argv`` without it)."""
    return flag in argv, [token for token in argv if token != flag]


def main(argv=None):
    """Exit status 0; 2 after one ``error: ...`` line for a configuration error (other
    anticipated errors (src.errors) propagate, and become that line when run as a script);
    128 + the signal's number when a signal stopped the training."""
    argv = sys.argv[1:] if argv is None else list(argv)
    print_help_if_asked(__doc__, argv, extra_options=[RESUME_HELP, OVERWRITE_HELP])
    start_logging()
    overwrite, argv = take_flag(argv, "--overwrite")
    try:
        cfg = load_config(resume_argv(argv))
    except ConfigError as error:
        return report_error(error)
    from src.engine.trainer import Trainer  # imports MindSpore: after the config is known to be valid
    with stop_on_signals():
        try:
            Trainer(cfg, overwrite=overwrite).run()
        except KeyboardInterrupt as interrupt:  # the trainer saved and logged what it could
            return interrupt_exit_status(interrupt)
    return 0


if __name__ == "__main__":
    sys.exit(report_and_exit_status(main))
