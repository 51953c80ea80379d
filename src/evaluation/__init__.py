"""Metrics, distances, re-ranking and the evaluation protocols."""
