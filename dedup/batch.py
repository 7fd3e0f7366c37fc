"""Deduplicate a whole feed dump: articles in, story clusters out.

Streaming, in bounded memory:

1. Articles arrive as an iterable and are fingerprinted in chunks (by
   ``jobs`` worker processes). Only the id and a few numbers per article
   stay in private memory; signatures (``num_perm * 4`` bytes an article)
   and the words that refinement needs are spooled to temporary files and
   read back through memory maps (page cache the kernel can drop).
2. Candidate pairs come from sorting LSH band hashes (:mod:`dedup.lsh`).
3. Each candidate is confirmed or rejected by :func:`dedup.refine.confirm`
   (in ``jobs`` processes).
4. With ``Params.reuse`` set, a second pass looks for reworded copies
   (:mod:`dedup.reuse`): candidates from shared rare 4-word shingles, each
   pair not already linked confirmed by its reused share of sentences.
5. Confirmed links become clusters (:mod:`dedup.cluster`); ``reused``
   links merge like ``near`` ones.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from dedup.cluster import canonical_index, cluster_links
from dedup.deduplicator import NO_WORDS, check_size
from dedup.errors import DedupError
from dedup.lsh import candidate_pairs
from dedup.minhash import signatures
from dedup.normalisation import Normaliser
from dedup.params import Params
from dedup.refine import code_points, confirm
from dedup.reuse import confirm_reuse, reuse_candidates, sentence_lengths
from dedup.types import Article, Cluster, Link

__all__ = ["BatchResult", "cluster_articles"]

_MAX_SKIPS_KEPT = 1000


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


# Worker state, set once per process by the pool initializer (fork: no pickling).
_WORKER: dict = {}


def _init_worker(params: Params, normaliser: Normaliser) -> None:
    _WORKER.update(params=params, normaliser=normaliser)


def _fingerprint_chunk(texts: list[str]):
    """Normalise and fingerprint a chunk; words are cut inside the kernel.

    With ``Params.reuse`` set, also the words per sentence of each text
    (flat) and the number of sentences per text; empty arrays otherwise.
    """
    params, normaliser = _WORKER["params"], _WORKER["normaliser"]
    kept, errors, lowered = [], [], []
    for i, text in enumerate(texts):
        try:
            check_size(text, params)
        except DedupError as exc:
            errors.append((i, str(exc)))
            continue
        kept.append(i)
        lowered.append(normaliser(text).lower())
    sigs, words = signatures(lowered, params.num_perm, params.seed, params.shingle_size)
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    if not lengths.all():
        empty = set(np.flatnonzero(lengths == 0).tolist())
        errors = sorted(errors + [(kept[x], NO_WORDS) for x in empty])
        keep = lengths > 0
        kept = [i for x, i in enumerate(kept) if x not in empty]
        lowered = [t for x, t in enumerate(lowered) if x not in empty]
        sigs, lengths, words = sigs[keep], lengths[keep], [w for w in words if len(w)]
    # as the code points dedup.refine aligns (computed here, in the worker)
    flat = code_points(np.concatenate(words)) if words else np.empty(0, np.uint32)
    cuts = [sentence_lengths(t) for t in lowered] if params.reuse is not None else []
    sentences = np.concatenate(cuts) if cuts else np.empty(0, np.int64)
    per_text = np.fromiter((len(c) for c in cuts), np.int64, len(cuts))
    return kept, errors, sigs, lengths, flat, sentences, per_text


class _Spool:
    """Rows appended to a temporary file, read back through a memory map:
    file-backed pages the kernel can drop, not private memory."""

    def __init__(self, kind: str) -> None:
        fd, self.path = tempfile.mkstemp(prefix=f"dedup-{kind}-", suffix=".u32")
        self._file = os.fdopen(fd, "wb")

    def write(self, array: np.ndarray) -> None:
        self._file.write(np.ascontiguousarray(array, dtype=np.uint32).tobytes())

    def finish(self, shape: tuple[int, ...]) -> np.ndarray:
        self._file.close()
        if 0 in shape:
            return np.empty(shape, np.uint32)
        return np.memmap(self.path, dtype=np.uint32, mode="r", shape=shape)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


# State shared with forked refinement workers (set before the pool forks).
_REFINE: dict = {}


def _text(i: int) -> str:
    """Article ``i``'s words as the ``str`` that :func:`dedup.refine.confirm` aligns."""
    words, offsets = _REFINE["words"], _REFINE["offsets"]
    return words[offsets[i] : offsets[i + 1]].tobytes().decode("utf-32-le")


def _row(a: int, b: int, link: Link) -> tuple:
    return (a, b, link.kind, link.jaccard, link.containment_ab, link.containment_ba, link.score, link.span)


def _refine_chunk(pairs: np.ndarray) -> tuple[list[tuple], Counter]:
    """Confirmed pairs of a chunk, plus a count of the rejections by reason."""
    sigs, params = _REFINE["sigs"], _REFINE["params"]
    i, j = pairs[:, 0], pairs[:, 1]
    est = (sigs[i] == sigs[j]).mean(axis=1)
    shingles = np.maximum(_REFINE["lengths"] - params.shingle_size + 1, 1)
    si, sj = shingles[i], shingles[j]
    est_containment = est * (si + sj) / (1 + est) / np.minimum(si, sj)
    keep = est_containment >= params.min_estimated_containment
    rejected = Counter({"prefiltered": int((~keep).sum())})
    out = []
    for (a, b), jac in zip(pairs[keep].tolist(), est[keep].tolist()):
        got = confirm("", _text(a), "", _text(b), params, jaccard=jac)
        if isinstance(got, Link):
            out.append(_row(a, b, got))
        else:
            rejected[got] += 1
    return out, rejected


def _reuse_chunk(pairs: np.ndarray) -> tuple[list[tuple], Counter]:
    """Reuse candidates of a chunk confirmed by :func:`dedup.reuse.confirm_reuse`."""
    sigs, params = _REFINE["sigs"], _REFINE["params"]
    sentences, sent_offsets = _REFINE["sentences"], _REFINE["sent_offsets"]
    est = (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1)
    out, rejected = [], Counter()
    for (a, b), jac in zip(pairs.tolist(), est.tolist()):
        sa = sentences[sent_offsets[a] : sent_offsets[a + 1]]
        sb = sentences[sent_offsets[b] : sent_offsets[b + 1]]
        got = confirm_reuse("", _text(a), sa, "", _text(b), sb, params, jaccard=jac)
        if isinstance(got, Link):
            out.append(_row(a, b, got))
        else:
            rejected["reuse_" + got] += 1
    return out, rejected


def _new_pairs(pairs: np.ndarray, confirmed: list[tuple], n: int) -> np.ndarray:
    """``pairs`` minus those already confirmed."""
    if not confirmed or len(pairs) == 0:
        return pairs
    done = np.array([v[0] * n + v[1] for v in confirmed], dtype=np.int64)
    return pairs[~np.isin(pairs[:, 0] * np.int64(n) + pairs[:, 1], done)]


def _chunks(it: Iterable, size: int) -> Iterator[list]:
    it = iter(it)
    while chunk := list(islice(it, size)):
        yield chunk


def _pool(jobs: int, params: Params, normaliser: Normaliser):
    _init_worker(params, normaliser)
    return mp.get_context("fork").Pool(jobs, _init_worker, (params, normaliser)) if jobs > 1 else None


def cluster_articles(
    articles: Iterable[Article],
    params: Params | None = None,
    *,
    jobs: int = 1,
    progress: bool = False,
    chunk_size: int = 500,
    normaliser: Normaliser | None = None,
    on_skip: Callable[[str, str], None] | None = None,
) -> BatchResult:
    """Cluster a stream of articles into stories.

    Args:
        articles: any iterable (a generator over a file is fine).
        params: detection parameters.
        jobs: worker processes (``0`` means one per CPU).
        progress: show a tqdm progress bar on stderr.
        chunk_size: articles per unit of work.
        normaliser: custom :class:`~dedup.normalisation.Normaliser`.
        on_skip: called with ``(id, reason)`` for each article skipped
            (too large, no words after normalisation).

    Returns:
        A :class:`BatchResult`.

    Example:
        >>> body = "Russian President Vladimir Putin signed treaties Friday to annex occupied areas. " * 4
        >>> res = cluster_articles([Article("a", body), Article("b", "KYIV (AP) - " + body), Article("c", "Other news.")])
        >>> [c.members for c in res.clusters]
        [('a', 'b')]
    """
    params = params or Params()
    normaliser = normaliser or Normaliser()
    jobs = jobs or os.cpu_count() or 1
    t0 = time.perf_counter()
    ids: list[str] = []
    published = array("d")
    sig_spool, word_spool, sent_spool = _Spool("signatures"), _Spool("words"), _Spool("sentences")
    offsets = array("q", [0])  # word offsets: article i's words are [offsets[i], offsets[i+1])
    sent_offsets = array("q", [0])  # the same for words per sentence (Params.reuse only)
    skipped: list[tuple[str, str]] = []
    n_skipped = 0
    bar = _progress(progress)
    pool = _pool(jobs, params, normaliser)
    try:
        def tasks():
            for chunk in _chunks(articles, chunk_size):
                yield chunk, [a.text for a in chunk]

        def results():
            work = tasks()
            if pool is None:
                for chunk, task in work:
                    yield chunk, _fingerprint_chunk(task)
            else:  # at most 2*jobs chunks in flight, results in input order
                pending: deque = deque()
                for chunk, task in work:
                    pending.append((chunk, pool.apply_async(_fingerprint_chunk, (task,))))
                    while len(pending) > 2 * jobs:
                        c, r = pending.popleft()
                        yield c, r.get()
                while pending:
                    c, r = pending.popleft()
                    yield c, r.get()

        for chunk, (kept, errors, chunk_sigs, lengths, flat, sentences, per_text) in results():
            for i, reason in errors:
                n_skipped += 1
                if len(skipped) < _MAX_SKIPS_KEPT:
                    skipped.append((chunk[i].id, reason))
                if on_skip:
                    on_skip(chunk[i].id, reason)
            for i in kept:
                ids.append(chunk[i].id)
                published.append(_ts(chunk[i]))
            sig_spool.write(chunk_sigs)
            word_spool.write(flat)
            offsets.extend((offsets[-1] + np.cumsum(lengths)).tolist())
            if params.reuse is not None:
                sent_spool.write(sentences)
                sent_offsets.extend((sent_offsets[-1] + np.cumsum(per_text)).tolist())
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        if pool is not None:  # idle from here on: free it before refinement forks its own
            pool.terminate()
            pool = None
        t_sig = time.perf_counter()
        all_sigs = sig_spool.finish((len(ids), params.num_perm))
        pairs = candidate_pairs(all_sigs, params)
        t_lsh = time.perf_counter()
        offsets = np.frombuffer(offsets, dtype=np.int64)
        words = word_spool.finish((int(offsets[-1]),))
        lengths = np.diff(offsets)
        _REFINE.update(words=words, offsets=offsets, lengths=lengths, sigs=all_sigs, params=params)
        confirmed, reasons = _refine_all(pairs, jobs)
        t_refine = time.perf_counter()
        reuse_pairs = np.empty((0, 2), np.int64)
        if params.reuse is not None:
            sent_offsets = np.frombuffer(sent_offsets, dtype=np.int64)
            _REFINE.update(sentences=sent_spool.finish((int(sent_offsets[-1]),)), sent_offsets=sent_offsets)
            reuse_pairs = _new_pairs(reuse_candidates(words, offsets), confirmed, len(ids))
            t_reuse_candidates = time.perf_counter()
            found, why = _refine_all(reuse_pairs, jobs, _reuse_chunk)
            confirmed += found
            reasons.update(why)
        t_reuse = time.perf_counter()
    finally:
        if pool is not None:
            pool.terminate()
        sig_spool.close()
        word_spool.close()
        sent_spool.close()
        _REFINE.clear()
        _WORKER.clear()

    groups, dropped = cluster_links(len(ids), ((v[0], v[1], v[2], v[7], v[6]) for v in confirmed), lengths.tolist())
    clusters = _build_clusters(groups, confirmed, ids, published, lengths)
    t_end = time.perf_counter()
    reuse_stats = {}
    if params.reuse is not None:
        reuse_stats = {
            "reuse_candidate_pairs": int(len(reuse_pairs)),
            "reused_pairs": sum(1 for v in confirmed if v[2] == "reused"),
        }
    stats = {
        "articles": len(ids),
        "skipped": n_skipped,
        "candidate_pairs": int(len(pairs)),
        "confirmed_pairs": len(confirmed),
        **reuse_stats,
        "rejected_pairs": dict(reasons),
        "links_dropped_by_compilation_guard": len(dropped),
        "clusters": len(clusters),
        "duplicates": sum(len(c.members) - 1 for c in clusters),
        "cluster_sizes": dict(sorted(Counter(len(c.members) for c in clusters).items())),
        "seconds": {
            "fingerprint": round(t_sig - t0, 3),
            "candidates": round(t_lsh - t_sig, 3),
            "refine": round(t_refine - t_lsh, 3),
            **({"reuse_candidates": round(t_reuse_candidates - t_refine, 3),
                "reuse_refine": round(t_reuse - t_reuse_candidates, 3)} if params.reuse is not None else {}),
            "cluster": round(t_end - t_reuse, 3),
            "total": round(t_end - t0, 3),
        },
        "params": params.to_dict(),
        "jobs": jobs,
    }
    return BatchResult(clusters, len(ids), skipped, n_skipped, stats)


def _ts(article: Article) -> float:
    try:
        ts = article.published_ts
    except DedupError:
        ts = None
    return float("nan") if ts is None else ts


def _refine_all(pairs: np.ndarray, jobs: int, work=_refine_chunk) -> tuple[list[tuple], Counter]:
    confirmed: list[tuple] = []
    rejected: Counter = Counter()
    if len(pairs) == 0:
        return confirmed, rejected
    size = 2000
    parts = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    if jobs <= 1 or len(parts) == 1:
        results = map(work, parts)
        for out, rej in results:
            confirmed.extend(out)
            rejected.update(rej)
        return confirmed, rejected
    with mp.get_context("fork").Pool(jobs) as pool:
        for out, rej in pool.imap(work, parts):
            confirmed.extend(out)
            rejected.update(rej)
    return confirmed, rejected


def _build_clusters(groups, confirmed, ids, published, lengths) -> list[Cluster]:
    group_of = {i: n for n, g in enumerate(groups) for i in g}
    links: list[list[Link]] = [[] for _ in groups]
    for v in confirmed:
        n = group_of.get(v[0])
        if n is not None and n == group_of.get(v[1]):
            links[n].append(Link(ids[v[0]], ids[v[1]], v[2], v[3], v[4], v[5], v[6], (), v[7]))
    pub = [None if p != p else p for p in published]  # NaN -> None
    lens = lengths.tolist()
    made = sorted((canonical_index(g, pub, lens), g, n) for n, g in enumerate(groups))  # groups come sorted
    return [
        Cluster(k, ids[canon], tuple(ids[i] for i in g), tuple(links[n]))
        for k, (canon, g, n) in enumerate(made, start=1)
    ]


def _progress(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(unit=" articles", desc="fingerprinting", smoothing=0.1, mininterval=0.5)
