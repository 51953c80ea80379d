"""The run's log: Python ``logging`` to the console and to a file in the run folder.

Entry points call ``start_logging()`` first and ``attach_log_file(path)`` once the config
and the inputs are valid (nothing may be written to the run folder before that): the lines
logged in between are kept and written to the file when it is attached. Files are opened
for appending, so a resumed run continues its log.
"""

import errno
import logging
import logging.handlers
import os
import sys

LOGGER_NAME = "vireid"
_CONSOLE_PREFIXES = {logging.WARNING: "WARNING: ", logging.ERROR: "error: ", logging.CRITICAL: "error: "}
_FILE_FORMAT = "%(asctime)s %(levelname)s %(message)s"
# Lines kept before the log file is attached; far more than any start-up logs.
_EARLY_LINES = 100000


class _ConsoleHandler(logging.Handler):
    """Information and warnings to stdout (as the progress lines they sit between), errors to
    stderr; the stream is looked up at each line, so later redirections (pytest's capture)
    are honoured."""

    def emit(self, record):
        stream = sys.stderr if record.levelno >= logging.ERROR else sys.stdout
        try:
            stream.write(_CONSOLE_PREFIXES.get(record.levelno, "") + record.getMessage() + "\n")
            stream.flush()
        except (OSError, ValueError):
            self.handleError(record)


class _RunLogFile(logging.FileHandler):
    """The run folder's log file (appended to). A line it cannot write for lack of space
    raises a WriteFailedError, once, which ends the run with its one ``error:`` line (logging
    would print a traceback and go on); the lines after that (the error line itself) reach
    the console only."""

    def __init__(self, path):
        super().__init__(path, mode="a", encoding="utf-8")
        self.full = False

    def emit(self, record):
        if not self.full:
            super().emit(record)

    def handleError(self, record):
        error = sys.exc_info()[1]
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            self.full = True
            from src.utils.safe_write import write_failure  # imports src.errors, which imports this module
            raise write_failure(self.baseFilename, error) from error
        super().handleError(record)


def get_logger():
    """The project's logger (lines go nowhere until ``start_logging``)."""
    return logging.getLogger(LOGGER_NAME)


def start_logging(to_console=True):
    """Reset the project's logger: console lines, and early lines kept for the log file."""
    logger = get_logger()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if to_console:
        logger.addHandler(_ConsoleHandler())
    logger.addHandler(logging.handlers.MemoryHandler(_EARLY_LINES, flushLevel=logging.CRITICAL + 1))
    return logger


def attach_log_file(path):
    """Append the log to ``path`` from now on (instead of any earlier run's file), starting
    with the lines kept since start-up."""
    logger = get_logger()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    file_handler = _RunLogFile(path)
    file_handler.setFormatter(logging.Formatter(_FILE_FORMAT))
    for handler in list(logger.handlers):
        if isinstance(handler, logging.handlers.MemoryHandler):
            handler.setTarget(file_handler)
            handler.flush()
            logger.removeHandler(handler)
        elif isinstance(handler, logging.FileHandler):  # an earlier run in this process: its file is done
            logger.removeHandler(handler)
            handler.close()
    logger.addHandler(file_handler)
    return path

