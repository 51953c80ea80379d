"""The built-in loss terms, one per file; importing them registers them. ``loss.terms`` chooses
which of them the objective sums, in which order and with which weights."""

from src.losses.terms import classification, metric, dml, vsd, vcd, vml, cib  # noqa: F401,I001
