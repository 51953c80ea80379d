"""Re-ID losses, variational distillation losses and the training objective."""
