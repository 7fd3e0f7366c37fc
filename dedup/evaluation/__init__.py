"""Measure detection quality: metrics, syndication transforms, a baseline, a runner.

Everything here is pure (no filesystem): the generator that reads the
corpora lives in ``bench/evalset.py`` and the command in ``service/eval_cmd.py``.
"""

from dedup.evaluation.baseline import baseline_clusters
from dedup.evaluation.metrics import (
    adjusted_rand_index,
    assign_clusters,
    bcubed_scores,
    category_scores,
    evaluate,
    false_merges,
    pairwise_scores,
)
from dedup.evaluation.run import format_report, predict, run_evaluation

__all__ = [
    "adjusted_rand_index",
    "assign_clusters",
    "baseline_clusters",
    "bcubed_scores",
    "category_scores",
    "evaluate",
    "false_merges",
    "format_report",
    "pairwise_scores",
    "predict",
    "run_evaluation",
]
