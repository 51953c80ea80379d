"""Train the variational-distillation network.

    python train.py [--config_path configs/sysu.yaml] [--key value ...]
    python train.py --resume RUN [--train.epochs N] [--key value ...]

Outputs go to --output_dir: config.yaml, train.log (appended), train_log.jsonl, checkpoints/.
--resume RUN continues the run in folder RUN from its last saved state, with RUN/config.yaml;
it accepts only overrides that cannot change the training done so far (more epochs, the log
or checkpoint intervals) and refuses the rest. A folder that holds another run is refused
unless --overwrite deletes that run first; a folder another training is using is refused.
SIGTERM and SIGHUP stop the training after the current step: the state of that step is saved,
the resume command logged, and the exit status is 128 + the signal's number (143, 129); a
signal before the first step says that nothing was trained. Ctrl-C saves the state too: it
exits 143 when MindSpore's runtime turned it into SIGTERM (it does once started), else 130.
In a distributed run a signal to any rank stops every rank at the same step
(src/engine/stop_agreement.py).
"""

import os
import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import ConfigError, load_config, print_help_if_asked
from src.engine.resume import resume_argv
from src.engine.run_folder import run_marks
from src.engine.stop_signals import interrupt_exit_status, stop_on_signals
from src.errors import report_and_exit_status, report_error
from src.utils.run_log import get_logger, start_logging

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
        if overwrite and "--resume" in argv:
            raise ConfigError("--overwrite deletes the run that --resume would continue: pass one of them")
        cfg = load_config(resume_argv(argv))
    except ConfigError as error:
        return report_error(error)
    from src.engine.trainer import Trainer  # imports MindSpore: after the config is known to be valid
    with stop_on_signals():
        trainer = None
        try:
            trainer = Trainer(cfg, overwrite=overwrite)
            trainer.run()  # raises StopRequested, unsaved, for a signal that came while it was built
        except KeyboardInterrupt as interrupt:
            if not getattr(interrupt, "saved", trainer is not None):
                get_logger().warning(stopped_before_training(cfg, interrupt))
            return interrupt_exit_status(interrupt)  # else the trainer saved the state and logged the resume command
    return 0


def stopped_before_training(cfg, interrupt):
    """The line for a signal (or Ctrl-C) that came before the first step: nothing to save."""
    run_dir = os.path.abspath(cfg.output_dir)
    what = str(interrupt) or "interrupted"
    if cfg.train.resume:
        next_step = f"continue it from its last state with: python train.py --resume {run_dir}"
    elif run_marks(run_dir):  # this run's config.yaml (an earlier run there was refused or deleted)
        next_step = (f"start it again with the same command and --overwrite ({run_dir} holds only this run's "
                     f"config.yaml)")
    else:
        next_step = "start it again with the same command"
    return f"{what} before training started: nothing was trained in this session; {next_step}"


if __name__ == "__main__":
    sys.exit(report_and_exit_status(main))
