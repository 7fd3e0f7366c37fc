"""What every peer pipeline shares, so they do the same work around their core:
read JSONL with the standard library, the same simple normalisation
(lower-case, split on non-word characters), 5-word shingles, union-find, and
the clusters of 2+ articles written as JSON Lines (``{"members": [ids]}``).
"""

from __future__ import annotations

import json
import re
import sys

from dedup.cluster import UnionFind  # the project's one union-find (pure Python, no numba)

K = 5  # words per shingle
NUM_PERM = 128
THRESHOLD = 0.5
_WORD = re.compile(r"\w+")


def read(path: str) -> tuple[list[str], list[str]]:
    """(ids, texts) of a JSONL file with ``id`` and ``text``."""
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                ids.append(str(rec["id"]))
                texts.append(rec["text"])
    return ids, texts


def words(text: str) -> list[str]:
    """The simple normalisation every peer gets: lower-case, split on non-word characters."""
    return _WORD.findall(text.lower())


def shingles(ws: list[str], k: int = K) -> list[str]:
    """Distinct k-word shingles (all the words as one shingle if fewer than k)."""
    if len(ws) < k:
        return [" ".join(ws)] if ws else []
    return list({" ".join(ws[i:i + k]) for i in range(len(ws) - k + 1)})


def link_candidates(mhs: list, query) -> tuple[UnionFind, int]:
    """Union every pair that ``query(m)`` proposes and whose estimated Jaccard
    is at least THRESHOLD (the peers' own confirmation); returns the sets and
    the number of such pairs."""
    uf, pairs = UnionFind(len(mhs)), 0
    for i, m in enumerate(mhs):
        for j in query(m):
            if j > i and m.jaccard(mhs[j]) >= THRESHOLD:
                pairs += 1
                uf.union(i, j)
    return uf, pairs


def _groups(uf: UnionFind) -> list[list[int]]:
    out: dict[int, list[int]] = {}
    for i in range(len(uf)):
        out.setdefault(uf.find(i), []).append(i)
    return [g for g in out.values() if len(g) > 1]


def write_clusters(path: str, ids: list[str], uf: UnionFind) -> int:
    groups = _groups(uf)
    with open(path, "w", encoding="utf-8") as f:
        for g in groups:
            f.write(json.dumps({"members": [ids[i] for i in g]}, ensure_ascii=False) + "\n")
    return len(groups)


def main(run) -> None:
    """``python PIPELINE.py INPUT OUT``; prints one JSON line of counts to stdout."""
    inp, out = sys.argv[1], sys.argv[2]
    ids, texts = read(inp)
    uf, pairs = run(texts)
    n = write_clusters(out, ids, uf)
    print(json.dumps({"docs": len(ids), "pairs": pairs, "clusters": n}))
