"""The optional plotting libraries (requirements-extra.txt): imported on demand, with install advice."""

import importlib

EXTRA_REQUIREMENTS = "requirements-extra.txt"


class MissingExtraError(ImportError):
    """An optional library is not installed; the message says how to install it."""


def import_extra(module, purpose):
    """``importlib.import_module(module)``, or MissingExtraError naming ``purpose`` and the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{purpose} needs the optional package '{module.split('.')[0]}' ({error}). Install the optional "
            f"extras with:\n    .venv/bin/pip install -r {EXTRA_REQUIREMENTS}\n"
            f"(the core requirements.txt does not include them)") from None


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display needed)."""
    matplotlib = import_extra("matplotlib", "plotting")
    matplotlib.use("Agg")
    return import_extra("matplotlib.pyplot", "plotting")
