"""Batch refinement: candidate pairs of a corpus confirmed into links.

Each candidate is checked by :func:`dedup.refine.confirm` (or, for the
reworded-copy pass, :func:`dedup.reuse.confirm_reuse`) in chunks of
:data:`PAIRS_PER_CHUNK` by :class:`~dedup.workers.Workers`; what comes back
is a :class:`PairLink` per confirmed pair and a count of the rejections by
reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from dedup.corpus import Corpus
from dedup.editions import separate_editions
from dedup.index import ROW_KEEP, SHORT_IN_LONG, short_in_long
from dedup.lsh import candidate_pairs
from dedup.params import Params
from dedup.refine import confirm
from dedup.reuse import confirm_reuse, group_pairs
from dedup.spool import read_columns
from dedup.types import Link
from dedup.workers import Workers

__all__ = ["PAIRS_PER_CHUNK", "ConfirmPairs", "ConfirmReuse", "PairLink", "all_candidates", "confirm_all",
           "containment_candidates", "not_linked", "run_pairs"]

#: Candidate pairs per unit of work: big enough that pickling is cheap
#: beside the alignments, small enough to spread over the workers.
PAIRS_PER_CHUNK = 2000
#: The first chunk, confirmed in the parent before the workers fork (it loads the
#: alignment kernels once for all of them): small, so the workers do not wait long.
FIRST_PAIRS = 200


class PairLink(NamedTuple):
    """A confirmed link between corpus positions ``a < b`` (a :class:`Link`
    without ids or passages: small to send back from a worker)."""

    a: int
    b: int
    kind: str
    jaccard: float
    containment_ab: float
    containment_ba: float
    score: float
    span: tuple[int, int] | None
    changed: tuple[tuple[str, str], ...] = ()  # an update's figures, as word offsets ("#12")

    @classmethod
    def of(cls, a: int, b: int, link: Link) -> "PairLink":
        return cls(a, b, link.kind, link.jaccard, link.containment_ab, link.containment_ba, link.score, link.span,
                   link.changed)

    def link(self, ids: Sequence[str]) -> Link:
        """The :class:`Link` between the articles' ids."""
        return Link(ids[self.a], ids[self.b], self.kind, self.jaccard, self.containment_ab,
                    self.containment_ba, self.score, (), self.span, self.changed)


def _estimated_jaccard(sigs: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    return (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1)


@dataclass(frozen=True)
class ConfirmPairs:
    """The worker task: confirm a chunk of candidate pairs, after a prefilter
    on the containment the signatures estimate."""

    corpus: Corpus
    params: Params

    def __call__(self, pairs: np.ndarray) -> tuple[list[PairLink], Counter]:
        corpus, params = self.corpus, self.params
        i, j = pairs[:, 0], pairs[:, 1]
        est = _estimated_jaccard(corpus.signatures, pairs)
        shingles = np.maximum(corpus.lengths - params.shingle_size + 1, 1)
        si, sj = shingles[i], shingles[j]
        est_containment = est * (si + sj) / (1 + est) / np.minimum(si, sj)
        keep = est_containment >= params.min_estimated_containment
        rejected = Counter({"prefiltered": int((~keep).sum())})
        out = []
        for (a, b), jac in zip(pairs[keep].tolist(), est[keep].tolist()):
            text_a, text_b = corpus.text(a), corpus.text(b)
            got = confirm("", text_a, "", text_b, params, jaccard=jac)
            if isinstance(got, Link) and separate_editions(got, text_a, text_b, corpus.published[a],
                                                           corpus.published[b]):
                got = "editions"
            if isinstance(got, Link):
                out.append(PairLink.of(a, b, got))
            else:
                rejected[got] += 1
        corpus.drop_pages()  # a run's words are read once a pair: what this chunk read leaves the resident set
        return out, rejected


@dataclass(frozen=True)
class ConfirmReuse:
    """The worker task: confirm a chunk of reworded-copy candidates
    (:func:`dedup.reuse.confirm_reuse`)."""

    corpus: Corpus
    params: Params

    def __call__(self, pairs: np.ndarray) -> tuple[list[PairLink], Counter]:
        corpus = self.corpus
        out, rejected = [], Counter()
        for (a, b), jac in zip(pairs.tolist(), _estimated_jaccard(corpus.signatures, pairs).tolist()):
            got = confirm_reuse("", corpus.text(a), corpus.sentences_of(a), "", corpus.text(b),
                                corpus.sentences_of(b), self.params, jaccard=jac)
            if isinstance(got, Link):
                out.append(PairLink.of(a, b, got))
            else:
                rejected["reuse_" + got] += 1
        return out, rejected


def confirm_all(pairs: np.ndarray, task, jobs: int) -> tuple[list[PairLink], Counter]:
    """Run ``task`` (:class:`ConfirmPairs` or :class:`ConfirmReuse`) over
    ``pairs`` in chunks, in ``jobs`` processes; links in input order."""
    confirmed: list[PairLink] = []
    rejected: Counter = Counter()
    parts = [(None, part) for part in _parts(pairs, jobs)]
    with Workers(task, jobs if len(parts) > 1 else 1) as workers:
        for _, (out, rej) in workers.ordered(parts):
            confirmed.extend(out)
            rejected.update(rej)
    return confirmed, rejected


def _parts(pairs: np.ndarray, jobs: int) -> list[np.ndarray]:
    """One part when the pairs fit in one chunk; else :data:`FIRST_PAIRS`, then the
    rest in near-equal parts of at most :data:`PAIRS_PER_CHUNK`, at least one per job."""
    if len(pairs) <= PAIRS_PER_CHUNK:
        return [pairs] if len(pairs) else []
    rest = len(pairs) - FIRST_PAIRS
    return [pairs[:FIRST_PAIRS], *np.array_split(pairs[FIRST_PAIRS:], max(-(-rest // PAIRS_PER_CHUNK), jobs))]


_COLUMNS = 16  # signature columns transposed at a time (16 * 4 bytes per article)


def run_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, lengths: np.ndarray,
              params: Params) -> np.ndarray:
    """The pairs ``(i, j)``, ``i < j``, inside each run ``order[s:s+size]``
    of articles sharing one MinHash value, skipping runs of one and runs
    over :data:`~dedup.index.ROW_KEEP` (a stock phrase's), kept when their
    lengths (``lengths[i]``, words) could make a short-inside-long pair:
    the shorter has ``params.min_contained_tokens`` words or more and at
    most :data:`~dedup.index.SHORT_IN_LONG` of the longer's."""
    ok = (sizes >= 2) & (sizes <= ROW_KEEP)
    pairs = group_pairs(order, starts[ok], sizes[ok])
    la, lb = lengths[pairs[:, 0]], lengths[pairs[:, 1]]
    short, long_ = np.minimum(la, lb), np.maximum(la, lb)
    return pairs[(short >= params.min_contained_tokens) & (short <= SHORT_IN_LONG * long_)]


def all_candidates(corpus: Corpus, params: Params) -> tuple[np.ndarray, int]:
    """Every candidate pair of ``corpus``, in ``(a, b)`` order: LSH's
    (:func:`dedup.lsh.candidate_pairs`) and, with ``Params.short_in_long``,
    :func:`containment_candidates`; and how many of them the latter added."""
    pairs = candidate_pairs(corpus.signatures, params)
    short = containment_candidates(corpus, params, pairs) if params.short_in_long else pairs[:0]
    if not len(short):
        return pairs, 0
    both = np.concatenate([pairs, short])  # in (a, b) order, as --against and Spark cluster them
    return both[np.lexsort((both[:, 1], both[:, 0]))], len(short)


def containment_candidates(corpus: Corpus, params: Params, known: np.ndarray) -> np.ndarray:
    """Short-inside-long candidates LSH cannot propose (the rule:
    :func:`dedup.index.short_in_long`), minus the ``known`` candidates.

    For each MinHash position, the articles are sorted by that value and
    every pair inside a run of equal values (runs of at most
    :data:`~dedup.index.ROW_KEEP`: a larger one is a stock phrase's) whose
    lengths could make a short-inside-long pair is counted; the pairs with
    enough collisions are confirmed by the same :func:`~dedup.refine.confirm`
    (``contained``: 85% of the shorter text, its lead included, in order)."""
    n = len(corpus)
    lengths = np.asarray(corpus.lengths)
    short_ok = lengths >= params.min_contained_tokens
    if n < 2 or short_ok.sum() == 0:
        return np.empty((0, 2), np.int64)
    sigs = corpus.signatures
    codes = []
    positions = np.arange(n, dtype=np.uint64)
    for k in range(params.num_perm):
        if k % _COLUMNS == 0:  # a block of columns read at once: the signatures are rows of a memory map
            block = read_columns(sigs, k, k + _COLUMNS).T.copy()
        # (value, position) in one 64-bit key: one plain sort, twice as fast as a stable argsort, same order
        keys = np.sort((block[k % _COLUMNS].astype(np.uint64) << np.uint64(32)) | positions)
        v = keys >> np.uint64(32)
        order = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
        pairs = run_pairs(order, starts, np.diff(np.r_[starts, n]), lengths, params)
        codes.append(pairs[:, 0] * np.int64(n) + pairs[:, 1])
    codes, collisions = np.unique(np.concatenate(codes), return_counts=True)
    i, j = codes // n, codes % n
    keep = short_in_long(collisions, lengths[i], lengths[j], params)
    codes = codes[keep]
    if len(known) and len(codes):
        codes = codes[~np.isin(codes, known[:, 0] * np.int64(n) + known[:, 1])]
    return np.stack([codes // n, codes % n], axis=1)


def not_linked(pairs: np.ndarray, confirmed: list[PairLink], n: int) -> np.ndarray:
    """``pairs`` minus those already confirmed (among ``n`` articles)."""
    if not confirmed or len(pairs) == 0:
        return pairs
    done = np.array([p.a * n + p.b for p in confirmed], dtype=np.int64)
    return pairs[~np.isin(pairs[:, 0] * np.int64(n) + pairs[:, 1], done)]
