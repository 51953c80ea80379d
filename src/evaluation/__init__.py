"""Metrics, distances, re-ranking and the evaluation protocols.

Importing the package registers the built-in distances (``src.evaluation.distances.DISTANCES``).
"""

from src.evaluation import distances  # noqa: F401  (registers the distances)
