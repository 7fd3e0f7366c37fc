"""Adding many articles in order, exactly as POSTs one at a time would, in
few round trips (what ``dedup reindex`` and ``dedup load`` run).

One POST is two round trips: ``ADD`` (candidates, then the article stored)
and ``ATTACH`` (its confirmed links). They cannot simply be pipelined: an
article's candidates depend on the articles added before it, and how they
were linked (candidates are grouped by cluster). So a window of articles
is added in two pipelined round trips:

1. **look up**: for each, in one pipeline and without a write, whether its
   id is stored and its bounded candidates, as ``ADD`` would find them now
   (:meth:`RedisIndex.look_up_many`);
2. the longest run from the window's start in which no article can see
   the writes of an earlier one of the run (:func:`independent_run`) is
   confirmed here, with the same steps as a POST (:class:`StoringDeduplicator`
   ``_confirm_all`` and ``_guarded``); then **add**: ``ADD`` then ``ATTACH``
   of each, in order, in one pipeline (:meth:`RedisIndex.add_many`). Each
   add's candidates are checked against those the look-up gave: a
   concurrent writer is an error, never a silent difference.

The window is cut before the look-up where the fingerprints alone show a
dependency (a shared bucket: a story's copies arriving close together), so
few look-ups are wasted. An article whose id is already
stored, or names a live story (whose founder was removed: the add takes
a fresh name), is added alone, through :meth:`Deduplicator.add` itself (as are an
article expired as soon as stored, and the one after it, whose add removes
it). With retention, expired articles found by a window's look-up are
removed before it goes on (a POST's add removes up to ``purge_batch`` of
them): the namespace is the same when no article expires while the load runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from dedup import Article
from dedup.errors import DedupError
from dedup.index import MAX_CANDIDATES, Fingerprint
from dedup.normalisation import Normaliser
from dedup_service.errors import StoreUnavailable
from dedup_service.store import RedisIndex, StoringDeduplicator

__all__ = ["Replayed", "add_in_order", "independent_run"]

#: Articles looked up at once, at most.
MAX_WINDOW = 512


@dataclass
class Replayed:
    """What :func:`add_in_order` did: articles newly stored, already there,
    refused (``(id, reason)``), and the pipelined round trips it made."""

    created: int = 0
    existing: int = 0
    refused: list[tuple[str, str]] | None = None
    round_trips: int = 0


class _Given(StoringDeduplicator):
    """The service's deduplicator, whose next article's fingerprint is given,
    not computed: ``add`` then runs the same candidate, confirmation and
    link steps as for a posted text, and stores the article's title, url,
    source and text with it."""

    given: Fingerprint

    def fingerprint(self, article: Article, *, words: bool = False):
        return self.given, None


def independent_run(index: RedisIndex, fps: list[Fingerprint],
                    looked: list[tuple[bool, list[Fingerprint], set[bytes]]] | None = None) -> int:
    """How many of ``fps``, from the first, can be added with the candidates
    ``looked`` found before any of them was added (``looked`` ``None``: as
    far as the fingerprints alone tell, before the look-up).

    Article ``j`` sees none of the writes of an earlier article ``i`` of
    the run when: its id is not stored (nor ``i``'s) and names no live
    story (an add that takes a fresh name goes alone; within a run the
    names held grow only by stored ids); they share no band
    bucket and no MinHash value at one position (``i``'s add writes only
    its own buckets); the clusters of ``j``'s candidates are not those of
    ``i``'s (``i``'s attach merges only its candidates' clusters; every
    cluster ``j`` has a bucket entry in gives ``j`` a candidate, unless
    ``j``'s candidates were cut at :data:`~dedup.index.MAX_CANDIDATES`,
    which counts as dependent when an earlier article attached). An article
    expired as soon as stored ends the run before it.
    """
    buckets: set = set()
    values: set = set()
    roots: set = set()
    ids: set = set()
    attached = False
    for k, fp in enumerate(fps):
        mine_b, mine_v = _written(index, fp)
        if index.expired_on_arrival(fp) or fp.id in ids or mine_b & buckets or mine_v & values:
            return k
        if looked is not None:
            stored, found, found_roots = looked[k]
            if stored or found_roots & roots or (attached and len(found) >= MAX_CANDIDATES):
                return k
            if found:
                roots |= found_roots
                attached = True
        buckets |= mine_b
        values |= mine_v
        ids.add(fp.id)
    return len(fps)


@lru_cache(maxsize=2 * MAX_WINDOW)
def _written(index: RedisIndex, fp: Fingerprint) -> tuple[frozenset, frozenset]:
    """The band buckets and the (position, MinHash value) pairs an add of ``fp`` writes under."""
    return frozenset(zip(*index._buckets(fp.signature))), frozenset(enumerate(fp.signature.tolist()))


def add_in_order(index: RedisIndex, items: Iterable[Fingerprint | Article | dict],
                 on_refused: Callable[[str, str], None] | None = None) -> Replayed:
    """Add ``items`` (fingerprints, or articles to fingerprint) to ``index``
    in order, leaving the namespace exactly as POSTs of them one at a time
    would (see the module docstring); an article already stored with the
    same words is left as it is (so an interrupted run can be run again).

    A refused article (too large, no words) goes to ``on_refused(id, reason)``
    and the run goes on; :class:`~dedup_service.errors.StoreUnavailable`
    (Redis gone, or a concurrent writer changed what the run looked up) and
    :class:`~dedup_service.errors.NamespaceMismatch` stop it.
    """
    d = _Given(index.params, index, normaliser=Normaliser(boilerplate=index.boilerplate))  # the namespace's patterns
    got = Replayed(refused=[])

    def refuse(doc_id: str, e: DedupError) -> None:
        if e.status == 503 or e.code == "namespace_mismatch":  # Redis gone, or another layout: stop
            raise e
        got.refused.append((doc_id, e.message))
        if on_refused is not None:
            on_refused(doc_id, e.message)

    loader = _Loader(index, d, got, refuse)
    for fp in _fingerprints(d, items, refuse):
        if isinstance(fp, dict):  # an editor's decision (an export's): stored before the articles after it
            loader.drain(keep=0)
            index.record_decision(fp, apply=False)
            loader.one_by_one = True
            continue
        loader.queue.append(fp)
        if len(loader.queue) >= MAX_WINDOW:
            loader.drain(keep=MAX_WINDOW // 2)
    loader.drain(keep=0)
    index.settle()  # the deferred pending flags of the last adds made one at a time (see RedisIndex.attach)
    return got


def _fingerprints(d: _Given, items: Iterable[Fingerprint | Article | dict], refuse) -> Iterator[Fingerprint | dict]:
    for item in items:
        if isinstance(item, (Fingerprint, dict)):
            yield item
            continue
        try:
            yield StoringDeduplicator.fingerprint(d, item)[0]
        except DedupError as e:
            refuse(item.id, e)


class _Loader:
    """The fingerprints waiting to be added."""

    def __init__(self, index: RedisIndex, d: _Given, got: Replayed, refuse) -> None:
        self.index, self.d, self.got, self.refuse = index, d, got, refuse
        self.queue: deque[Fingerprint] = deque()
        self.after_expired = False  # the previous article expired as soon as stored: this one's add removes it
        # editors' decisions are respected by Deduplicator.add, not by the pipelined run: with any, one at a time
        self.one_by_one = index.decision_count() > 0

    def drain(self, keep: int) -> None:
        """Add from the queue until at most ``keep`` fingerprints are left."""
        index, d, queue = self.index, self.d, self.queue
        while len(queue) > keep:
            if self.one_by_one:
                self.alone(queue.popleft())
                continue
            if self.after_expired or index.expired_on_arrival(queue[0]):
                self.after_expired = index.expired_on_arrival(queue[0])
                self.alone(queue.popleft())
                continue
            fps = [queue[i] for i in range(min(MAX_WINDOW, len(queue)))]
            fps = fps[: max(1, independent_run(index, fps))]  # those that may be independent, by their buckets
            looked = index.look_up_many(fps)
            self.got.round_trips += 1
            if looked is None:  # expired articles to remove first
                index.purge_expired()
                continue
            n = independent_run(index, fps, looked)
            if n == 0:  # stored already: as a POST of it would
                self.alone(queue.popleft())
                continue
            run = [(fp, d._guarded(fp, found, d._confirm_all(fp, None, found, False, None)) if found else None)
                   for fp, (_, found, _) in zip(fps[:n], looked[:n])]
            done = index.add_many(run)
            self.got.round_trips += 1
            for (fp, links), (_, found, _), (status, seen, kept) in zip(run, looked, done):
                if status != b"ok" or seen != [f.id for f in found] or kept != len(links or ()):
                    raise StoreUnavailable(
                        f"article {fp.id!r}: namespace {index.namespace!r} changed while it was added (another "
                        f"writer?): {status.decode()}, candidates {seen} where {[f.id for f in found]} were looked "
                        "up; run it again to go on")
            for _ in range(n):
                queue.popleft()
            self.got.created += n

    def alone(self, fp: Fingerprint) -> None:
        """One article through :meth:`Deduplicator.add`, as a POST of it (two round trips or more)."""
        self.d.given = fp
        try:
            match = self.d.add(Article(fp.id, "-"))
        except DedupError as e:
            self.refuse(fp.id, e)
            return
        self.got.round_trips += 2
        if match.created:
            self.got.created += 1
        else:
            self.got.existing += 1
