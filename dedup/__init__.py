"""dedup: find duplicate and near-duplicate news articles.

The pure core: normalisation, shingling and MinHash (datasketch-compatible),
LSH, rapidfuzz refinement, clustering. No Flask, Redis, files or
environment variables in here.
"""

__version__ = "0.1.0"

from dedup.batch import BatchResult, cluster_articles
from dedup.deduplicator import Deduplicator, Match
from dedup.errors import DedupError, InvalidArticle, InvalidParams, NotFound, TooLarge
from dedup.index import Fingerprint, Index, MemoryIndex
from dedup.minhash import signature, signatures
from dedup.normalisation import Normaliser, normalise, tokens
from dedup.params import Params
from dedup.types import Article, Cluster, Link, Passage

__all__ = [
    "__version__", "Article", "BatchResult", "Cluster", "DedupError", "Deduplicator", "Fingerprint", "Index",
    "InvalidArticle", "InvalidParams", "Link", "Match", "MemoryIndex", "Normaliser", "NotFound",
    "Params", "Passage", "TooLarge", "cluster_articles", "normalise", "signature", "signatures", "tokens",
]
