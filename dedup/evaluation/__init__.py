"""Measure detection quality: metrics, syndication transforms and a baseline.

Everything here is pure (no filesystem): the generator that reads the
corpora lives in ``bench/evalset.py`` and the command in ``service/eval_cmd.py``.
"""

from dedup.evaluation.metrics import (
    adjusted_rand_index,
    assign_clusters,
    bcubed_scores,
    category_scores,
    evaluate,
    false_merges,
    pairwise_scores,
)

__all__ = [
    "adjusted_rand_index",
    "assign_clusters",
    "bcubed_scores",
    "category_scores",
    "evaluate",
    "false_merges",
    "pairwise_scores",
]
