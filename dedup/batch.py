"""Deduplicate a whole feed dump: articles in, story clusters out.

Streaming, in bounded memory, in five steps (one function each):

1. **Read and fingerprint** (:func:`dedup.corpus.fingerprint_corpus`):
   articles (``Article`` objects or mappings) are fingerprinted in chunks
   by ``jobs`` worker processes into a spooled :class:`~dedup.corpus.Corpus`.
2. **Candidates**: pairs from sorting LSH band hashes (:mod:`dedup.lsh`).
3. **Refine** (:mod:`dedup.pairs`): each candidate is confirmed or rejected
   by :func:`dedup.refine.confirm` (in ``jobs`` processes). With
   ``Params.reuse`` set, a second pass looks for reworded copies
   (:mod:`dedup.reuse`): candidates from shared rare 4-word shingles, each
   pair not already linked confirmed by its reused share of sentences.
4. **Cluster**: confirmed links become clusters (:mod:`dedup.cluster`);
   ``reused`` links merge like ``near`` ones.
5. **Report**: counts and timings in :attr:`BatchResult.stats`;
   :meth:`BatchResult.report`, :meth:`BatchResult.write_clusters` and
   :func:`write_deduped` give what ``dedup batch`` writes.

A worker that dies raises :class:`~dedup.errors.WorkerDied`; temporary
files have no name, so none is left behind on any exit.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sized
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import IO


from dedup.cluster import canonical_index, cluster_links, latest_version
from dedup.corpus import Corpus, RecordSource, Skips, as_articles, fingerprint_corpus
from dedup.normalisation import Normaliser
from dedup.pairs import ConfirmPairs, ConfirmReuse, PairLink, all_candidates, confirm_all, not_linked
from dedup.params import Params
from dedup.report import batch_report, write_clusters, write_deduped
from dedup.reuse import reuse_candidates
from dedup.types import Article, Cluster

__all__ = ["BatchResult", "cluster_articles", "write_deduped"]


@dataclass
class BatchResult:
    """What :func:`cluster_articles` found.

    Attributes:
        clusters: clusters of two or more members, numbered from 1 in the
            input order of their canonical copy.
        n_articles: articles fingerprinted (skipped ones excluded).
        skipped: ``(id, reason)`` of skipped articles (first 1,000).
        n_skipped: how many were skipped in all.
        stats: counts and timings (seconds) of each stage.
    """

    clusters: list[Cluster]
    n_articles: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    n_skipped: int = 0
    stats: dict = field(default_factory=dict)

    def report(self, **run_facts) -> dict:
        """The JSON summary ``dedup batch --report`` writes: ``run_facts``
        (e.g. ``input=``, ``records_read=``) first, then the stats."""
        return batch_report(self, **run_facts)

    def write_clusters(self, out: IO[str], fmt: str = "jsonl") -> None:
        """Write the clusters to the text file ``out`` as ``jsonl`` (one
        cluster a line) or ``csv`` (one member a row)."""
        write_clusters(self, out, fmt)


def cluster_articles(
    articles: Iterable[Article | Mapping] | RecordSource,
    params: Params | None = None,
    *,
    jobs: int = 1,
    progress: bool = False,
    total: int | None = None,
    chunk_size: int = 500,
    normaliser: Normaliser | None = None,
    on_skip: Callable[[str, str], None] | None = None,
    checkpoint=None,
    decisions=None,
) -> BatchResult:
    """Cluster a stream of articles into stories.

    Args:
        articles: any iterable (a generator over a file is fine) of
            :class:`Article` or mappings (read by :meth:`Article.from_dict`),
            or a :class:`~dedup.corpus.RecordSource` whose raw records the
            workers parse (such as :class:`dedup.cli.readers.JsonLines`).
        params: detection parameters.
        jobs: worker processes (``0`` means one per CPU).
        progress: show a tqdm progress bar on stderr.
        total: how many articles to expect, for the progress bar's ETA
            (default: ``len(articles)`` when it has one).
        chunk_size: articles per unit of work.
        normaliser: custom :class:`~dedup.normalisation.Normaliser`.
        on_skip: called with ``(id, reason)`` for each article skipped
            (not an article, too large, no words after normalisation).
        checkpoint: a :class:`~dedup.checkpoint.Checkpoint`: fingerprinted
            chunks are saved there, and those of a killed run reused.
        decisions: a :class:`~dedup.decisions.Decisions`: editors' rulings
            (pairs kept apart, splits, canonical copies) the clustering respects.

    Returns:
        A :class:`BatchResult`.

    Raises:
        WorkerDied: a worker process died (killed, out of memory).

    Example:
        >>> body = "Russian President Vladimir Putin signed treaties Friday to annex occupied areas. " * 4
        >>> res = cluster_articles([{"id": "a", "text": body}, Article("b", "KYIV (AP) - " + body), Article("c", "Other news.")])
        >>> [c.members for c in res.clusters]
        [('a', 'b')]
    """
    params = params or Params()
    normaliser = normaliser or Normaliser()
    jobs = jobs or os.cpu_count() or 1
    clock = _Clock()
    skips = Skips(on_skip)
    if total is None and isinstance(articles, Sized):
        total = len(articles)
    with _progress(progress, total) as bar:
        items = articles if isinstance(articles, RecordSource) else as_articles(articles, skips)
        corpus = fingerprint_corpus(items, params, normaliser,
                                    jobs=jobs, chunk_size=chunk_size, skip=skips, bar=bar, checkpoint=checkpoint)
    clock.lap("fingerprint")
    pairs, short_in_long = all_candidates(corpus, params)
    clock.lap("candidates")
    confirmed, rejected = confirm_all(pairs, ConfirmPairs(corpus, params), jobs)
    clock.lap("refine")
    counts = {"candidate_pairs": int(len(pairs)), "short_in_long_candidates": short_in_long,
              "confirmed_pairs": len(confirmed)}
    if params.reuse is not None:
        counts.update(_reuse_pass(corpus, confirmed, rejected, params, jobs, clock))
    refused: list = []
    clusters, dropped = _clusters(corpus, confirmed, decisions, refused)
    clock.lap("cluster")
    if decisions is not None:
        counts.update(decisions=len(decisions), links_refused_by_decisions=len(refused))
    stats = {"articles": len(corpus), "skipped": skips.count, **counts, "rejected_pairs": dict(rejected),
             "links_dropped_by_compilation_guard": len(dropped), **_cluster_stats(clusters),
             "seconds": clock.seconds(), "params": params.to_dict(), "jobs": jobs}
    return BatchResult(clusters, len(corpus), skips.first, skips.count, stats)


def _reuse_pass(corpus: Corpus, confirmed: list[PairLink], rejected: Counter, params: Params, jobs: int,
                clock: "_Clock") -> dict:
    """The reworded-copy pass: adds to ``confirmed`` and ``rejected``; returns its counts."""
    pairs = not_linked(reuse_candidates(corpus.words, corpus.offsets), confirmed, len(corpus))
    clock.lap("reuse_candidates")
    found, why = confirm_all(pairs, ConfirmReuse(corpus, params), jobs)
    clock.lap("reuse_refine")
    confirmed += found
    rejected.update(why)
    return {"confirmed_pairs": len(confirmed), "reuse_candidate_pairs": int(len(pairs)),
            "reused_pairs": sum(1 for p in confirmed if p.kind == "reused")}


def _clusters(corpus: Corpus, confirmed: list[PairLink], decisions=None,
              refused: list | None = None) -> tuple[list[Cluster], set[tuple[int, int]]]:
    """Clusters numbered from 1 in input order of their canonical copy, and
    the dropped links (``decisions``: the editors' rulings, refused merges
    appended to ``refused``)."""
    lengths = corpus.lengths.tolist()
    apart, together, pinned = decisions.for_positions(corpus.ids) if decisions else (None, (), None)
    groups, dropped = cluster_links(len(corpus), ((p.a, p.b, p.kind, p.span, p.score) for p in confirmed), lengths,
                                    apart=apart, together=together, refused=refused)
    group_of = {i: n for n, g in enumerate(groups) for i in g}
    links: list[list[PairLink]] = [[] for _ in groups]
    for p in confirmed:
        n = group_of.get(p.a)
        if n is not None and n == group_of.get(p.b):
            links[n].append(p)
    ids = corpus.ids
    made = sorted((canonical_index(g, corpus.published, lengths, pinned), g, n) for n, g in enumerate(groups))
    clusters = [Cluster(k, ids[canon], tuple(ids[i] for i in g), tuple(p.link(ids) for p in links[n]),
                        ids[latest_version(canon, links[n], {i: (corpus.published[i], i) for i in g})])
                for k, (canon, g, n) in enumerate(made, start=1)]
    return clusters, dropped


def _cluster_stats(clusters: list[Cluster]) -> dict:
    return {
        "clusters": len(clusters),
        "duplicates": sum(len(c.members) - 1 for c in clusters),
        "cluster_sizes": dict(sorted(Counter(len(c.members) for c in clusters).items())),
    }


class _Clock:
    """Seconds spent in each named step, in order, and in all."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.last = now - self.last, now

    def seconds(self) -> dict[str, float]:
        return {**{k: round(v, 3) for k, v in self.laps.items()}, "total": round(self.last - self.start, 3)}


def _progress(enabled: bool, total: int | None):
    if not enabled:
        return nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total, unit=" articles", desc="fingerprinting", smoothing=0.1, mininterval=0.5)

