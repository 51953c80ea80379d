"""Re-ID losses, variational distillation losses, the loss terms and the training objective.

Each loss term is one file in ``terms/`` that registers itself (``src.losses.term.LOSS_TERMS``).
"""
