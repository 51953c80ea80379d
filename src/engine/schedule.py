"""Learning-rate schedule: linear warm-up, then step decay (paper section 4.2)."""

import numpy as np

from src.options import Option, Options


SCHEDULE_OPTIONS = Options(
    Option("train.warmup_epochs", 10, "linear warm-up epochs", minimum=0),
    Option("train.decay_epochs", [200], "epochs at which the learning rate is multiplied by decay_factor", minimum=0),
    Option("train.decay_factor", 0.1, "learning rate decay factor", minimum=0.0, maximum=1.0),
)


def learning_rates(base_lr, steps_per_epoch, epochs, warmup_epochs=10, decay_epochs=(200,), decay_factor=0.1):
    """Learning rate of every training step.

    During the first ``warmup_epochs`` epochs the rate rises linearly, step by step, from
    ``base_lr / warmup_steps`` to ``base_lr``; afterwards it is ``base_lr`` multiplied by
    ``decay_factor`` once for every entry of ``decay_epochs`` already reached.

    Returns:
        float32 array of shape (steps_per_epoch * epochs,).
    """
    if steps_per_epoch < 1 or epochs < 1:
        raise ValueError(f"steps_per_epoch and epochs must be positive, got {steps_per_epoch} and {epochs}")
    steps = np.arange(steps_per_epoch * epochs)
    epoch_of_step = steps // steps_per_epoch
    decays = np.zeros_like(steps)
    for decay_epoch in decay_epochs:
        decays += epoch_of_step >= decay_epoch
    rates = base_lr * np.power(decay_factor, decays, dtype=np.float64)
    warmup_steps = warmup_epochs * steps_per_epoch
    if warmup_steps > 0:
        warming = steps < warmup_steps
        rates[warming] *= (steps[warming] + 1) / warmup_steps
    return rates.astype(np.float32)
