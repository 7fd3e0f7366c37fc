"""Where fingerprints live between calls: the ``Index`` protocol and its
in-memory implementation.

The service's ``RedisIndex`` (in ``service/store.py``) implements the same
protocol, and one contract test suite (``tests/test_index_contract.py``) runs
against both. The index stores fingerprints, LSH buckets, confirmed links
and clusters; it never decides what is a duplicate (that is
:mod:`dedup.refine`'s job, driven by :class:`dedup.deduplicator.Deduplicator`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from dedup.errors import NotFound
from dedup.lsh import band_keys
from dedup.params import Params
from dedup.types import Link

__all__ = ["Fingerprint", "Index", "Member", "MemoryIndex"]

#: One member of a story: ``(id, published or None, words)``.
Member = tuple[str, "float | None", int]


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
        """Atomically return the stored fingerprints that share at least one
        LSH band with ``fp``, then store ``fp`` as a cluster of its own.

        Two concurrent ``add`` calls are ordered: the later one sees the
        earlier one among its candidates. Re-adding a stored id with other
        words replaces it; with the same words (a retry) nothing is written
        and ``None`` is returned.
        """

    def candidates(self, fp: Fingerprint) -> list[Fingerprint]:
        """The stored fingerprints sharing an LSH band with ``fp`` (no write)."""

    def get(self, doc_id: str) -> Fingerprint | None:
        """The stored fingerprint, or ``None``."""

    def remove(self, doc_id: str) -> bool:
        """Forget an article everywhere (buckets, links, cluster). ``False``
        when it was not stored. The rest of its cluster stays together."""

    def link(self, link: Link) -> str:
        """Record a confirmed link between two stored articles, merge their
        clusters, and return the surviving cluster id (the older cluster's).

        Raises:
            NotFound: ``link.a`` or ``link.b`` is not stored (it may have
                expired or been removed since it was a candidate).
        """

    def links(self, doc_id: str) -> list[Link]:
        """Every confirmed link that involves ``doc_id``."""

    def cluster(self, doc_id: str) -> tuple[str, list[Member]] | None:
        """The story holding ``doc_id``, in one look-up: the cluster id and
        every member's ``(id, published, words)`` in insertion order (what
        choosing the canonical copy needs); ``None`` if not stored."""

    def __len__(self) -> int:
        """Number of stored articles."""


class MemoryIndex:
    """A dict-backed :class:`Index` for one process (tests, notebooks, CLI).

    Example:
        >>> from dedup import Deduplicator
        >>> d = Deduplicator(index=MemoryIndex(Params()))
    """

    def __init__(self, params: Params) -> None:
        self.params = params
        self._lock = threading.RLock()
        self._docs: dict[str, Fingerprint] = {}
        self._order: dict[str, int] = {}
        self._seq = 0
        self._buckets: dict[bytes, set[str]] = {}
        self._links: dict[str, dict[str, Link]] = {}
        self._cluster: dict[str, str] = {}
        self._members: dict[str, list[str]] = {}

    def _keys(self, fp: Fingerprint) -> list[bytes]:
        return band_keys(fp.signature, self.params)

    def _lookup(self, fp: Fingerprint, keys: list[bytes]) -> list[Fingerprint]:
        ids: set[str] = set()
        for k in keys:
            ids |= self._buckets.get(k, set())
        ids.discard(fp.id)
        return sorted((self._docs[i] for i in ids), key=lambda d: self._order[d.id])

    def add(self, fp: Fingerprint) -> list[Fingerprint] | None:
        keys = self._keys(fp)
        with self._lock:
            old = self._docs.get(fp.id)
            if old is not None and old.same_content(fp):
                return None
            found = self._lookup(fp, keys)
            if old is not None:
                self.remove(fp.id)
            self._docs[fp.id] = fp
            self._order[fp.id] = self._seq
            self._seq += 1
            for k in keys:
                self._buckets.setdefault(k, set()).add(fp.id)
            self._links[fp.id] = {}
            self._cluster[fp.id] = fp.id
            self._members[fp.id] = [fp.id]
            return found

    def candidates(self, fp: Fingerprint) -> list[Fingerprint]:
        keys = self._keys(fp)
        with self._lock:
            return self._lookup(fp, keys)

    def get(self, doc_id: str) -> Fingerprint | None:
        return self._docs.get(doc_id)

    def remove(self, doc_id: str) -> bool:
        with self._lock:
            fp = self._docs.pop(doc_id, None)
            if fp is None:
                return False
            del self._order[doc_id]
            for k in self._keys(fp):
                bucket = self._buckets.get(k)
                if bucket is not None:
                    bucket.discard(doc_id)
                    if not bucket:
                        del self._buckets[k]
            for other in self._links.pop(doc_id, {}):
                self._links.get(other, {}).pop(doc_id, None)
            cid = self._cluster.pop(doc_id)
            members = self._members.pop(cid)
            members.remove(doc_id)
            if members:  # the cluster lives on under its oldest remaining member
                new_cid = cid if cid != doc_id else members[0]
                self._members[new_cid] = members
                for m in members:
                    self._cluster[m] = new_cid
            return True

    def link(self, link: Link) -> str:
        with self._lock:
            for x in (link.a, link.b):
                if x not in self._docs:
                    raise NotFound(f"article {x!r} is not stored")
            self._links[link.a][link.b] = link
            self._links[link.b][link.a] = link
            ca, cb = self._cluster[link.a], self._cluster[link.b]
            if ca == cb:
                return ca
            keep, drop = sorted((ca, cb), key=lambda c: self._order[self._members[c][0]])
            moved = self._members.pop(drop)
            for m in moved:
                self._cluster[m] = keep
            self._members[keep] = sorted(self._members[keep] + moved, key=self._order.__getitem__)
            return keep

    def links(self, doc_id: str) -> list[Link]:
        return list(self._links.get(doc_id, {}).values())

    def cluster(self, doc_id: str) -> tuple[str, list[Member]] | None:
        with self._lock:
            cid = self._cluster.get(doc_id)
            if cid is None:
                return None
            docs = [self._docs[m] for m in self._members[cid]]
            return cid, [(d.id, d.published, len(d.tokens)) for d in docs]

    def __len__(self) -> int:
        return len(self._docs)
