"""The plain MinHash/LSH baseline the evaluation compares against.

datasketch's ``MinHashLSH`` over 5-word shingles of lower-cased word tokens,
Jaccard threshold 0.5, 128 permutations, no normalisation beyond lower
case and no refinement: predicted clusters are the connected components of
the LSH candidate pairs. This is what "plain MinHash" means in the quality
table.

Example:
    >>> baseline_clusters([("a", "one two three four five six"), ("b", "one two three four five six"), ("c", "x")])
    [['a', 'b']]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dedup.cluster import UnionFind

__all__ = ["baseline_clusters"]

_TOKEN = re.compile(r"\w+")


def _shingles(text: str, size: int) -> set[bytes]:
    toks = _TOKEN.findall(text.lower())
    if len(toks) <= size:
        return {" ".join(toks).encode()}
    return {" ".join(toks[i : i + size]).encode() for i in range(len(toks) - size + 1)}


def baseline_clusters(
    docs: Iterable[tuple[str, str]], *, threshold: float = 0.5, num_perm: int = 128, shingle_size: int = 5, seed: int = 1
) -> list[list[str]]:
    """Cluster texts with plain datasketch MinHashLSH (connected components of candidates).

    Args:
        docs: ``(id, text)`` pairs; ids must be unique.
        threshold: the LSH Jaccard threshold.
        num_perm: MinHash permutations.
        shingle_size: words per shingle.
        seed: MinHash seed.

    Returns:
        Clusters of two or more ids, each sorted, in order of first member.

    Raises:
        ValueError: a repeated id or an argument out of range (from datasketch).
    """
    from datasketch import MinHash, MinHashLSH  # imported here: it pulls in scipy (~2 s)

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    uf = UnionFind()
    index: dict[str, int] = {}  # id -> element, in input order
    for doc_id, text in docs:
        if doc_id in index:
            raise ValueError(f"duplicate id {doc_id!r}")
        m = MinHash(num_perm=num_perm, seed=seed)
        m.update_batch(list(_shingles(text, shingle_size)))
        index[doc_id] = uf.add()
        for other in lsh.query(m):
            uf.union(index[doc_id], index[other])
        lsh.insert(doc_id, m)
    groups: dict[int, list[str]] = {}
    for doc_id, x in index.items():
        groups.setdefault(uf.find(x), []).append(doc_id)
    return [sorted(g) for g in groups.values() if len(g) > 1]
