"""dedup: find duplicate and near-duplicate news articles.

The pure core: normalisation, shingling and MinHash (datasketch-compatible),
LSH, rapidfuzz refinement, clustering. No Flask, Redis, files or
environment variables in here (the command line, :mod:`dedup.cli`, reads
files and the environment; the HTTP service is the ``dedup_service``
package).

Names are imported on first use (PEP 562), so ``import dedup`` (and
``dedup --help``) does not load numba until a signature is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "BatchResult": "dedup.batch", "cluster_articles": "dedup.batch",
    "Deduplicator": "dedup.deduplicator", "Match": "dedup.deduplicator",
    "DedupError": "dedup.errors", "InvalidArticle": "dedup.errors", "InvalidParams": "dedup.errors",
    "NotFound": "dedup.errors", "TooLarge": "dedup.errors",
    "Fingerprint": "dedup.index", "Index": "dedup.index", "MemoryIndex": "dedup.index",
    "signature": "dedup.minhash", "signatures": "dedup.minhash",
    "Normaliser": "dedup.normalisation", "normalise": "dedup.normalisation", "tokens": "dedup.normalisation",
    "Params": "dedup.params",
    "Article": "dedup.types", "Cluster": "dedup.types", "Link": "dedup.types", "Passage": "dedup.types",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dedup' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ does this lazily
    from dedup.batch import BatchResult, cluster_articles
    from dedup.deduplicator import Deduplicator, Match
    from dedup.errors import DedupError, InvalidArticle, InvalidParams, NotFound, TooLarge
    from dedup.index import Fingerprint, Index, MemoryIndex
    from dedup.minhash import signature, signatures
    from dedup.normalisation import Normaliser, normalise, tokens
    from dedup.params import Params
    from dedup.types import Article, Cluster, Link, Passage
