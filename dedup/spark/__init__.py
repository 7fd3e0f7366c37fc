"""``dedup batch`` on Spark (the ``spark`` extra): see :mod:`dedup.spark.pipeline`.

Only this package imports pyspark, and only its command line
(:mod:`dedup.cli.spark`) starts a Spark session; the functions here take
a ``SparkContext``. ``import dedup.spark`` itself imports neither pyspark
nor numba.
"""

from __future__ import annotations

__all__ = ["SparkRun", "run"]


def __getattr__(name: str):
    if name in __all__:
        from dedup.spark import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'dedup.spark' has no attribute {name!r}")
