"""Where fingerprints live between calls: the ``Index`` protocol and its
in-memory implementation.

The service's ``RedisIndex`` (in ``service/store.py``) implements the same
protocol, and one contract test suite (``tests/test_index_contract.py``) runs
against both.

Work per add is bounded whatever the size of a story or of a bucket (the
rule both implementations follow, and the contract tests check):

* a bucket keeps only its most recent :data:`BUCKET_KEEP` entries (older
  ones are dropped from that bucket on write; an article stays findable
  through its other bands' buckets), so a bucket filled by template briefs
  or boilerplate costs at most that much to read;
* a bucket holding :data:`~dedup.lsh.CROWD` entries or more (the article's
  own stored version not counted) is crowded (a template's or a boilerplate
  line's band, or a hot story's) and gives only its oldest and its newest
  entry; batch applies the same rule in input order
  (:func:`dedup.lsh.candidate_pairs`), except that its "oldest" is the
  bucket's first member ever, online the oldest of the BUCKET_KEEP it
  keeps. A copy shares the bands of its own words too, so it is still
  found, and a template brief no longer brings every look-alike of the
  bucket to confirm;
* the candidates are counted by band collisions and grouped by their
  cluster; each cluster gives its oldest candidate and the
  :data:`REPRESENTATIVES` - 1 others with most collisions; at most
  :data:`MAX_CANDIDATES` in all, those with most collisions (then the
  oldest), returned in insertion order;
* with ``Params.short_in_long``, :class:`MemoryIndex` also keeps a bucket
  per MinHash value for texts of
  ``min_contained_tokens`` words or more, and adds up to
  :data:`MAX_CONTAINED` short-inside-long candidates
  (:func:`short_in_long`), most collisions first; a value bucket that
  reaches :data:`ROW_KEEP` ids is a stock phrase's and no longer counts.
  The service's Redis index keeps the same buckets and applies the same
  rule inside its add script.

Links are linear in articles: an article stores only its best link (to the
best-confirmed representative), membership is the cluster's. A cluster
keeps its id (its founder's id) while any member lives; on a merge the
older cluster's id survives. The index stores fingerprints, LSH buckets, confirmed links
and clusters; it never decides what is a duplicate (that is
:mod:`dedup.refine`'s job, driven by :class:`dedup.deduplicator.Deduplicator`).
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from dedup.errors import NotFound
from dedup.buckets import OLDEST, STOCK, Buckets
from dedup.lsh import CROWD, signature_band_hashes
from dedup.params import Params
from dedup.types import Link
from dedup.versions import Versions

__all__ = ["BUCKET_KEEP", "CROWD", "Fingerprint", "Index", "MAX_CANDIDATES", "MAX_CONTAINED", "Member", "MemoryIndex",
           "Page", "REPRESENTATIVES", "ROW_KEEP", "SHORT_IN_LONG", "Story", "short_in_long", "sizes_fit"]

#: Entries a bucket keeps (its most recent ones).
BUCKET_KEEP = 64
#: Candidates per existing cluster (its oldest + the others with most band collisions).
REPRESENTATIVES = 3
#: Candidates per add or query, at most.
MAX_CANDIDATES = 32
#: Short-inside-long candidates per add or query (besides those), at most.
MAX_CONTAINED = 8

#: A short-inside-long pair's shorter text is at most this share of the longer.
SHORT_IN_LONG = 0.5
#: ... and shares at least this many single MinHash values with it ...
MIN_ROW_COLLISIONS = 3
#: ... and at least this share of what a text ``Params.containment`` contained would share.
ROW_SHARE = 1 / 3
#: A MinHash value shared by more articles than this is a stock phrase's
#: (a template's): its bucket is not counted (batch: the run is skipped;
#: online: a full bucket stops taking and giving ids).
ROW_KEEP = 16

_Met = tuple[list[int], list[int]]  # insertion ranks (ascending) and how many buckets each shares

#: One member of a story: ``(id, published or None, words)``.
Member = tuple[str, "float | None", int]


@dataclass(frozen=True, slots=True)
class Story:
    """An article's answer, in one bounded look-up: its cluster's id, the
    cluster's canonical copy, the article's best link (``None`` when it
    has none, or when its best match is gone), the cluster's latest
    version (:func:`dedup.cluster.latest_version` over the members' best
    links; ``None`` when the index does not keep it) and, when there is
    no best link but the cluster has other members, ``partner``: one that
    stands for the cluster (its canonical copy, or when that is the
    article itself, the oldest other member), so that an article whose
    best match was removed, or that others linked to, is not answered
    "no duplicates" while it shares a cluster (``None`` otherwise)."""

    cluster: str
    canonical: str
    best: Link | None = None
    latest: str | None = None
    partner: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a cluster: ``members`` are ``(id, published, words, best
    link or None)`` in insertion order, from position ``start`` of ``size``."""

    cluster: str
    canonical: str
    size: int
    start: int
    members: list[tuple[str, float | None, int, Link | None]]

    @property
    def next(self) -> int | None:
        end = self.start + len(self.members)
        return end if end < self.size else None


@dataclass(frozen=True, eq=False, slots=True)
class Fingerprint:
    """What the index keeps of one article (no text).

    Attributes:
        id: the article id.
        signature: MinHash, ``uint32[num_perm]``, datasketch ``affine32``.
        tokens: normalised word ids, ``uint32[n]`` (see :mod:`dedup.minhash`).
        published: seconds since the epoch, or ``None``.
        added: insertion time, seconds since the epoch.
    """

    id: str
    signature: np.ndarray
    tokens: np.ndarray
    published: float | None = None
    added: float = field(default_factory=time.time)

    def same_content(self, other: "Fingerprint") -> bool:
        return np.array_equal(self.tokens, other.tokens)


@runtime_checkable
class Index(Protocol):
    """Storage for an online deduplicator. Every method is safe to call
    from several threads (or, for Redis, several processes) at once."""

    params: Params

    def add(self, fp: Fingerprint) -> list[Fingerprint] | None:
        """Atomically return the bounded candidates of ``fp`` (see the module
        docstring for the rule), then store ``fp`` as a cluster of its own,
        *pending* when there are candidates: until :meth:`attach` is called
        for it, a retry returns the candidates again so the caller can
        confirm and attach again (a failed attach is repaired).

        Two concurrent ``add`` calls are ordered: the later one sees the
        earlier one among its candidates. Re-adding a stored id with other
        words replaces it; with the same words (a retry) of a linked (not
        pending) article nothing is written but a changed ``published``, and
        ``None`` is returned.
        """

    def candidates(self, fp: Fingerprint) -> list[Fingerprint]:
        """The bounded candidates of ``fp`` (no write)."""

    def stored(self, fp: Fingerprint) -> bool:
        """Whether ``fp``'s id is stored with the same words (a query of a
        stored text: it is not its own candidate, yet it has been seen)."""

    def founded(self, doc_id: str) -> str:
        """The name of the story that this thread's last :meth:`add` of
        ``doc_id`` founded (no look-up): ``doc_id``, unless a live story
        held that name (its founder removed, its members live): then the
        next of ``<doc_id>~2``, ``~3`` ... that no live story holds and no
        stored article has as its id, counted while the story named
        ``<doc_id>`` lives (a fresh name is not given twice meanwhile, and
        each add tries a name no add tried before: bounded work). Names of
        live stories are unique."""

    def attach(self, doc_id: str, links: list[Link]) -> tuple[Story, list[Link]]:
        """Record the confirmed links of ``doc_id`` (each ``link.a ==
        doc_id``, best first): the first whose other article is still stored
        becomes its best link; its cluster merges with every other's (the
        older cluster's id survives); it is no longer pending. Returns its
        story and the links kept (the others were removed meanwhile).

        Raises:
            NotFound: ``doc_id`` is not stored.
        """

    def link(self, link: Link) -> str:
        """:meth:`attach` of one link (``link.a``'s); the surviving cluster id.

        Raises:
            NotFound: ``link.a`` or ``link.b`` is not stored.
        """

    def get(self, doc_id: str) -> Fingerprint | None:
        """The stored fingerprint, or ``None``."""

    def remove(self, doc_id: str) -> bool:
        """Forget an article everywhere (buckets, its link, cluster). ``False``
        when it was not stored. The rest of its cluster stays together under
        the same id; links to it from others are no longer reported."""

    def links(self, doc_id: str) -> list[Link]:
        """The article's best link, if any (``[]`` or one link)."""

    def story(self, doc_id: str) -> Story | None:
        """Cluster id, canonical copy and best link of ``doc_id``, in one
        bounded look-up; ``None`` if not stored."""

    def stories(self, doc_ids: list[str]) -> list[Story | None]:
        """:meth:`story` of each id, in one look-up (one round trip for Redis)."""

    def members(self, doc_id: str, start: int = 0, count: int = 50) -> Page | None:
        """A page of the story named ``doc_id`` (its cluster id), else of the
        one holding the article ``doc_id``; ``None`` if neither exists."""

    def cluster(self, doc_id: str) -> tuple[str, list[Member]] | None:
        """The story holding ``doc_id``, in one look-up: the cluster id and
        every member's ``(id, published, words)`` in insertion order;
        ``None`` if not stored. O(cluster size): prefer :meth:`story`."""

    def __len__(self) -> int:
        """Number of stored articles."""


def short_in_long(collisions, words_a, words_b, params: Params):
    """Whether pairs are short-inside-long candidates (numpy arrays or numbers).

    A brief cut from a long story (90 words of 700) has a shingle Jaccard
    near 0.1, too low for the LSH bands (2 rows each) to propose it. But
    each MinHash value is the same in both signatures with probability
    equal to the Jaccard, so the count of equal single values
    (``collisions``, out of ``num_perm``) estimates it. The pair is a
    candidate when the shorter text has at least ``min_contained_tokens``
    words and at most :data:`SHORT_IN_LONG` of the longer's, and the
    collisions reach :data:`ROW_SHARE` of what a text ``params.containment``
    contained in the other would give (at least :data:`MIN_ROW_COLLISIONS`;
    a third, because a brief of sentences from all over the story loses the
    shingles across each join, and the count varies): the
    containment-aware search of LSH Ensemble (Zhu et al., VLDB 2016),
    with the threshold set per pair from the two sizes instead of per
    size partition.
    """
    short, long_ = np.minimum(words_a, words_b), np.maximum(words_a, words_b)
    k = params.shingle_size - 1
    s, lng = np.maximum(short - k, 1), np.maximum(long_ - k, 1)
    t = params.containment
    expected = params.num_perm * t * s / (lng + s - t * s)
    return sizes_fit(short, long_, params) & (collisions >= np.maximum(MIN_ROW_COLLISIONS, ROW_SHARE * expected))


def sizes_fit(short, long_, params: Params):
    """The sizes part of :func:`short_in_long` (numpy arrays or numbers): the
    shorter has ``min_contained_tokens`` words or more and at most
    :data:`SHORT_IN_LONG` of the longer's."""
    return (short >= params.min_contained_tokens) & (short <= SHORT_IN_LONG * long_)


def pick_candidates(counts: dict[str, int], root: dict[str, object], order: dict[str, int]) -> list[str]:
    """The bounded candidate rule (module docstring) over ``counts`` (id ->
    band collisions), ``root`` (id -> cluster key) and ``order`` (id ->
    insertion rank); ids in insertion order."""
    groups: dict[object, list[str]] = {}
    for i in counts:
        groups.setdefault(root[i], []).append(i)
    most = lambda i: (-counts[i], order[i])  # noqa: E731
    picked = []
    for g in groups.values():
        g.sort(key=order.__getitem__)
        picked.append(g[0])
        picked += sorted(g[1:], key=most)[: REPRESENTATIVES - 1]
    picked = sorted(picked, key=most)[:MAX_CANDIDATES]
    return sorted(picked, key=order.__getitem__)


class MemoryIndex:
    """An :class:`Index` in this process's memory (tests, notebooks, CLI):
    dicts for articles, links and clusters; its LSH band buckets and
    short-inside-long value buckets are :class:`dedup.buckets.Buckets`
    (numba tables: one call per add, not a Python step per bucket).

    Example:
        >>> from dedup import Deduplicator
        >>> d = Deduplicator(index=MemoryIndex(Params()))
    """

    def __init__(self, params: Params) -> None:
        self.params = params
        self._lock = threading.RLock()
        self._docs: dict[str, Fingerprint] = {}
        self._order: dict[str, int] = {}  # id -> insertion rank (the number the buckets hold)
        self._by_rank: dict[int, str] = {}
        self._seq = 0
        self._bands = Buckets(params.banding[0], BUCKET_KEEP, OLDEST, crowd=CROWD)
        # short-inside-long: per MinHash position, the articles holding each value
        self._values = Buckets(params.num_perm, ROW_KEEP, STOCK)
        self._best: dict[str, tuple[int, Link]] = {}  # id -> (the other's insertion rank, link)
        self._pending: set[str] = set()
        self._root: dict[str, int] = {}  # id -> cluster key (its founder's insertion rank)
        self._clusters: dict[int, tuple[str, list[str]]] = {}  # key -> (name, members in insertion order)
        # Kept as members come and go, so that an add to a story of 1,000 copies reads none of them:
        self._canon: dict[int, str] = {}  # key -> the canonical member (dedup.cluster.canonical_index)
        self._versions = Versions(self._first_key, self._order.__getitem__)  # latest versions, as the Redis scripts
        self._named: dict[str, int] = {}  # name -> cluster key, for every live cluster
        self._given: dict[str, int] = {}  # held name -> fresh names counted under it while its story lives

    def _keys(self, fp: Fingerprint) -> np.ndarray:
        return signature_band_hashes(fp.signature, self.params)

    def _row_values(self, fp: Fingerprint) -> np.ndarray | None:
        """The MinHash values to bucket one by one (short-inside-long), for
        texts long enough to be either side of such a pair."""
        if not self.params.short_in_long or len(fp.tokens) < self.params.min_contained_tokens:
            return None
        return fp.signature

    def _lookup(self, fp: Fingerprint, met: _Met, rows: np.ndarray | None, shared: _Met | None) -> list[Fingerprint]:
        """The candidates (module docstring) from ``met``, the articles sharing
        band buckets with ``fp`` and how many, and ``shared``, those sharing
        :data:`MIN_ROW_COLLISIONS` values or more (``None``: look them up)."""
        by_rank = self._by_rank
        counts = {by_rank[r]: c for r, c in zip(*met)}
        picked = pick_candidates(counts, self._root, self._order)
        if rows is not None:
            if shared is None:
                shared = self._values.get(rows, MIN_ROW_COLLISIONS, self._order.get(fp.id, -1))
            picked += self._contained(fp, shared, set(picked))
        return [self._docs[i] for i in picked]

    def _met(self, fp: Fingerprint, keys: np.ndarray) -> _Met:
        """:meth:`_lookup`'s ``met`` without a write (``fp``'s stored version left out)."""
        return self._bands.get(keys, 1, self._order.get(fp.id, -1))

    def _contained(self, fp: Fingerprint, shared: _Met, known: set[str]) -> list[str]:
        """Short-inside-long candidates (:func:`short_in_long`) among ``shared``
        (ranks ascending, collisions) not in ``known``: at most
        :data:`MAX_CONTAINED`, most collisions first, in insertion order."""
        ids, counts, words = [], [], []
        mine = len(fp.tokens)
        for rank, c in zip(*shared):
            i = self._by_rank[rank]
            n = len(self._docs[i].tokens)
            if i not in known and sizes_fit(min(mine, n), max(mine, n), self.params):  # the cheap part first
                ids.append(i)
                counts.append(c)
                words.append(n)
        if not ids:
            return []
        ok = short_in_long(np.array(counts), mine, np.array(words), self.params)
        got = [(c, i) for i, c, y in zip(ids, counts, ok.tolist()) if y]
        if len(got) > MAX_CONTAINED:
            got.sort(key=lambda x: -x[0])  # stable: the oldest first among equal counts
            keep = {i for _, i in got[:MAX_CONTAINED]}
            return [i for i in ids if i in keep]
        return [i for _, i in got]

    def add(self, fp: Fingerprint) -> list[Fingerprint] | None:
        keys, rows = self._keys(fp), self._row_values(fp)
        with self._lock:
            old = self._docs.get(fp.id)
            if old is not None and old.same_content(fp):
                if old.published != fp.published:
                    self._docs[fp.id] = Fingerprint(old.id, old.signature, old.tokens, fp.published, old.added)
                    key = self._root[fp.id]  # O(cluster), only when a date moves
                    self._recanon(key)
                    self._versions.moved(fp.id, key, self._clusters[key][1])
                if fp.id not in self._pending:
                    return None
                found = self._lookup(fp, self._met(fp, keys), rows, None)
                if not found:
                    self._pending.discard(fp.id)
                return found
            seq = self._seq
            if old is not None:  # read, remove the old version, write
                found = self._lookup(fp, self._met(fp, keys), rows, None)
                self.remove(fp.id)
                self._bands.put(seq, keys)
                if rows is not None:
                    self._values.put(seq, rows, MIN_ROW_COLLISIONS)
            else:  # one pass over the buckets: read and write
                met = self._bands.put(seq, keys)
                shared = self._values.put(seq, rows, MIN_ROW_COLLISIONS) if rows is not None else None
                found = self._lookup(fp, met, rows, shared)
            name = self._fresh_name(fp.id)
            self._docs[fp.id] = fp
            self._order[fp.id] = seq
            self._by_rank[seq] = fp.id
            self._root[fp.id] = seq
            self._clusters[seq] = (name, [fp.id])
            self._canon[seq] = fp.id
            self._versions.start(fp.id)
            self._named[name] = seq
            self._seq += 1
            if found:
                self._pending.add(fp.id)
            return found

    def _fresh_name(self, base: str) -> str:
        """See :meth:`Index.founded`."""
        if base not in self._named:
            return base
        while True:
            k = self._given[base] = self._given.get(base, 0) + 1
            name = f"{base}~{k + 1}"
            if name not in self._named and name not in self._docs:
                return name

    def _unname(self, name: str) -> None:
        """A story's name is free again (its story is gone or merged into another)."""
        del self._named[name]
        self._given.pop(name, None)

    def founded(self, doc_id: str) -> str:
        key = self._root.get(doc_id)
        return self._clusters[key][0] if key is not None else doc_id

    def candidates(self, fp: Fingerprint) -> list[Fingerprint]:
        keys, rows = self._keys(fp), self._row_values(fp)
        with self._lock:
            return self._lookup(fp, self._met(fp, keys), rows, None)

    def stored(self, fp: Fingerprint) -> bool:
        old = self._docs.get(fp.id)
        return old is not None and np.array_equal(old.tokens, fp.tokens)

    def get(self, doc_id: str) -> Fingerprint | None:
        return self._docs.get(doc_id)

    def remove(self, doc_id: str) -> bool:
        with self._lock:
            fp = self._docs.pop(doc_id, None)
            if fp is None:
                return False
            rank = self._order.pop(doc_id)
            del self._by_rank[rank]
            self._bands.remove(rank, self._keys(fp))
            rows = self._row_values(fp)
            if rows is not None:
                self._values.remove(rank, rows)
            self._best.pop(doc_id, None)
            self._pending.discard(doc_id)
            key = self._root.pop(doc_id)
            members = self._clusters[key][1]
            self._versions.leave(doc_id, key, members)
            members.remove(doc_id)
            if not members:  # the cluster keeps its key and name while a member lives
                self._unname(self._clusters.pop(key)[0])
                del self._canon[key]
            elif self._canon[key] == doc_id:  # O(cluster), only when the canonical copy leaves
                self._recanon(key)
            return True

    def _canon_key(self, doc_id: str) -> tuple[float, int, int]:
        """:func:`dedup.cluster.canonical_index`'s order: earliest date, then most words, then first added."""
        d = self._docs[doc_id]
        return (math.inf if d.published is None else d.published, -len(d.tokens), self._order[doc_id])

    def _first_key(self, doc_id: str) -> tuple[float, int]:
        """A version's first copy: earliest date, then first added (:func:`dedup.cluster.latest_version`)."""
        p = self._docs[doc_id].published
        return (math.inf if p is None else p, self._order[doc_id])

    def _recanon(self, key: int) -> None:
        self._canon[key] = min(self._clusters[key][1], key=self._canon_key)

    def _merge(self, ka: int, kb: int) -> int:
        if ka == kb:
            return ka
        keep, drop = min(ka, kb), max(ka, kb)
        name, members = self._clusters[keep]
        dropped, moved = self._clusters.pop(drop)
        self._unname(dropped)
        for m in moved:
            self._root[m] = keep
        if len(moved) <= 8:  # an article joining a story: placed, not the story sorted again
            for m in moved:
                bisect.insort(members, m, key=self._order.__getitem__)
        else:
            self._clusters[keep] = (name, sorted(members + moved, key=self._order.__getitem__))
        self._canon[keep] = min(self._canon[keep], self._canon.pop(drop), key=self._canon_key)
        self._versions.merge(keep, drop)
        return keep

    def _story(self, doc_id: str) -> Story:
        key = self._root[doc_id]
        name, members = self._clusters[key]
        canon = self._canon[key]
        latest = self._versions.latest(key, canon)
        best = self._best_link(doc_id)
        partner = None if best is not None else canon if canon != doc_id else next((m for m in members if m != doc_id), None)
        return Story(name, canon, best, latest, partner)

    def _best_link(self, doc_id: str) -> Link | None:
        got = self._best.get(doc_id)
        if got is None:
            return None
        rank, lk = got
        return lk if self._order.get(lk.b) == rank else None  # the other is gone (or was replaced)

    def attach(self, doc_id: str, links: list[Link]) -> tuple[Story, list[Link]]:
        with self._lock:
            if doc_id not in self._docs:
                raise NotFound(f"article {doc_id!r} is not stored")
            kept = [lk for lk in links if lk.b in self._docs and lk.b != doc_id]
            if kept:
                self._best[doc_id] = (self._order[kept[0].b], kept[0])
            for lk in kept:
                self._merge(self._root[doc_id], self._root[lk.b])
            if kept:
                self._versions.link(doc_id, kept[0].b, kept[0].kind, self._root[doc_id])
            self._pending.discard(doc_id)
            return self._story(doc_id), kept

    def link(self, link: Link) -> str:
        with self._lock:
            for x in (link.a, link.b):
                if x not in self._docs:
                    raise NotFound(f"article {x!r} is not stored")
            return self.attach(link.a, [link])[0].cluster

    def links(self, doc_id: str) -> list[Link]:
        with self._lock:
            best = self._best_link(doc_id) if doc_id in self._docs else None
            return [best] if best else []

    def story(self, doc_id: str) -> Story | None:
        with self._lock:
            return self._story(doc_id) if doc_id in self._docs else None

    def stories(self, doc_ids: list[str]) -> list[Story | None]:
        return [self.story(i) for i in doc_ids]

    def members(self, doc_id: str, start: int = 0, count: int = 50) -> Page | None:
        with self._lock:
            key = self._named.get(doc_id)  # a story's name first: it keeps it after its founder is gone
            if key is None:
                if doc_id not in self._docs:
                    return None
                key = self._root[doc_id]
            ms = self._clusters[key][1]
            st = self._story(ms[0])
            page = [(m, self._docs[m].published, len(self._docs[m].tokens), self._best_link(m))
                    for m in ms[start:start + count]]
            return Page(st.cluster, st.canonical, len(ms), start, page)

    def cluster(self, doc_id: str) -> tuple[str, list[Member]] | None:
        with self._lock:
            key = self._root.get(doc_id)
            if key is None:
                return None
            name, ms = self._clusters[key]
            docs = [self._docs[m] for m in ms]
            return name, [(d.id, d.published, len(d.tokens)) for d in docs]

    def __len__(self) -> int:
        return len(self._docs)
