"""Re-ID losses, variational distillation losses, the loss terms and the training objective.

Importing the package registers the built-in loss terms (``src.losses.term.LOSS_TERMS``).
"""

from src.losses import terms  # noqa: F401  (registers the built-in terms)
