"""The built-in loss terms, one per file, each registered with ``src.losses.term.LOSS_TERMS``.
``loss.terms`` chooses which of them the objective sums, in which order and with which weights."""
