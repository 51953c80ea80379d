"""Failures the user can fix, and how entry points report them.

An ``AnticipatedError`` names the file, folder or key at fault and what was expected there.
Entry points turn it into one ``error: ...`` line on stderr (and in the run's log file when
one is open) and exit status 2; any other exception is a bug and keeps its traceback. The
subclasses also derive from the built-in exception a caller would expect.
"""

from src.utils.run_log import get_logger, start_logging

USAGE_ERROR_STATUS = 2


class AnticipatedError(Exception):
    """A failure caused by an input or a setting; the message says what to change."""


class MissingInputError(AnticipatedError, FileNotFoundError):
    """A required file or folder does not exist."""


class MalformedInputError(AnticipatedError, ValueError):
    """A file or folder exists but does not hold what was expected."""


def one_line(error):
    """The message of ``error`` on a single line (KeyError's quotes left out)."""
    text = str(error.args[0]) if len(error.args) == 1 else str(error)
    return " ".join(text.split())


def report_error(error):
    """Log ``error: <message>`` (stderr, and the log file if one is open); returns USAGE_ERROR_STATUS."""
    if not get_logger().handlers:
        start_logging()
    try:
        get_logger().error(one_line(error))
    except AnticipatedError:  # the log file could not take the line (a full disk); the console has it
        pass
    return USAGE_ERROR_STATUS


def report_and_exit_status(main, argv=None):
    """``main(argv)``'s exit status; for an AnticipatedError, the line ``error: <message>``
    (no traceback) and USAGE_ERROR_STATUS. Other exceptions propagate with their traceback."""
    try:
        return main(argv)
    except AnticipatedError as error:
        return report_error(error)
