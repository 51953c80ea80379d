"""Metrics, distances, re-ranking and the evaluation protocols.

The distances register themselves (``src.evaluation.distances.DISTANCES``).
"""
