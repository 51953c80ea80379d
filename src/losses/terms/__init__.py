"""The built-in loss terms, one per file. The imports below register them, and their order is
the order of the components in the total and in the log (``src.losses.term``)."""

from src.losses.terms import classification, metric, dml, vsd, vcd, vml, cib  # noqa: F401,I001  (order matters)
