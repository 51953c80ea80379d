"""Re-ID losses, variational distillation losses and the training objective.

Importing the package declares the allowed values of the loss options.
"""

from src.losses import objective  # noqa: F401  (declares loss.metric)
