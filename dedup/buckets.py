"""Bounded buckets of article numbers, one set of buckets per position:
the LSH band buckets and the short-inside-long value buckets of
:class:`dedup.index.MemoryIndex`, without a Python loop per bucket.

An article is put under one key per position (a band's hash, a MinHash
value) and gets back, in one call, the articles it met there: each with
the number of positions where they share a key. A bucket holds at most
``keep`` articles; when one more comes, the policy decides:

* :data:`OLDEST` (LSH bands): the oldest one leaves the bucket (the
  article stays findable through its other positions);
* :data:`STOCK` (MinHash values): the key is a stock phrase's; the bucket
  is emptied and from then on takes and gives no articles, even when its
  articles are removed.

With ``crowd`` (LSH bands), a bucket that holds ``crowd`` articles or more
when it is read (the one a look-up leaves out not counted) is crowded: it
gives only its newest and its oldest article (:data:`dedup.lsh.CROWD`).

Layout (numba; one call per add): per position, an open-addressing table
(linear probing, all positions the same power-of-two size, each at most
:data:`_MAX_LOAD` full counting removed slots) of ``keys`` (``uint64``)
and ``heads`` (the bucket's newest posting, or :data:`_EMPTY`,
:data:`_TOMB`, :data:`_STOCK`); a bucket is a list of postings (``docs``,
``nexts``) from newest to oldest, freed postings chained for reuse. Per
article and position: one slot (12 bytes, at most four times over for the
load) and one posting (12 bytes).

    >>> import numpy as np
    >>> b = Buckets(positions=4, keep=16, policy=STOCK)
    >>> b.put(0, np.array([7, 8, 9, 10], np.uint64), min_count=3)
    ([], [])
    >>> b.put(1, np.array([7, 8, 9, 99], np.uint64), min_count=3)
    ([0], [3])
"""

from __future__ import annotations

import numpy as np

from dedup.jit import njit

__all__ = ["Buckets", "OLDEST", "STOCK", "warm"]

OLDEST, STOCK = 0, 1  # what a full bucket does with one more article

_EMPTY, _STOCK, _TOMB, _NONE = -1, -2, -3, -1  # heads (-1 also ends a list of postings)
_MAX_LOAD = 0.5
_MAX_POSTINGS = 2**31 - 1  # nexts and heads are int32
_FIB = np.uint64(0x9E3779B97F4A7C15)
# state: [0, p] live slots of position p, [1, p] removed ones; free: first free posting, postings ever used
_FREE, _USED = 0, 1


@njit(cache=True, inline="always")
def _find(keys, heads, p, key, shift):
    """``(slot, found)`` in position ``p``: the slot holding ``key``, else where to put it."""
    mask = keys.shape[1] - 1
    i = np.int64((key * _FIB) >> shift)
    tomb = -1
    while True:
        h = heads[p, i]
        if h == _EMPTY:
            return (tomb if tomb >= 0 else i), False
        if h == _TOMB:
            if tomb < 0:
                tomb = i
        elif keys[p, i] == key:
            return i, True
        i = (i + 1) & mask


@njit(cache=True, inline="always")
def _posting(docs, nexts, free, doc, nxt):
    f = free[_FREE]
    if f >= 0:
        free[_FREE] = nexts[f]
    else:
        f = free[_USED]
        free[_USED] += 1
    docs[f] = doc
    nexts[f] = nxt
    return f


@njit(cache=True, inline="always")
def _release(nexts, free, j):
    nexts[j] = free[_FREE]
    free[_FREE] = j


@njit(cache=True)
def _shared(hits, n, min_count, exclude):
    """``(docs ascending, counts)`` of the docs met ``min_count`` times or more in ``hits[:n]``."""
    h = np.sort(hits[:n])
    out_d = np.empty(n // max(min_count, 1) + 1, np.int64)
    out_c = np.empty(n // max(min_count, 1) + 1, np.int64)
    m = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and h[j] == h[i]:
            j += 1
        if j - i >= min_count and h[i] != exclude:
            out_d[m] = h[i]
            out_c[m] = j - i
            m += 1
        i = j
    return out_d[:m], out_c[:m]


@njit(cache=True)
def _put(keys, heads, docs, nexts, state, free, shift, doc, ks, keep, policy, min_count, crowd):
    """Put ``doc`` under ``ks[p]`` in each position ``p``; what it met (see :func:`_shared`), and the fullest table's fill."""
    hits = np.empty(ks.shape[0] * keep, np.int64)
    n = 0
    for p in range(ks.shape[0]):
        key = np.uint64(ks[p])
        i, found = _find(keys, heads, p, key, shift)
        if not found:
            if heads[p, i] == _TOMB:
                state[1, p] -= 1
            keys[p, i] = key
            heads[p, i] = _posting(docs, nexts, free, doc, _NONE)
            state[0, p] += 1
            continue
        h = heads[p, i]
        if h == _STOCK:
            continue
        size = 0
        last = _NONE  # the oldest posting, and the one before it
        before = _NONE
        j = h
        while j != _NONE:
            hits[n] = docs[j]
            n += 1
            size += 1
            before = last
            last = j
            j = nexts[j]
        if crowd > 0 and size >= crowd:  # a crowded bucket gives its newest and oldest only
            n -= size
            hits[n] = docs[h]
            hits[n + 1] = docs[last]
            n += 2
        if size < keep:
            heads[p, i] = _posting(docs, nexts, free, doc, h)
        elif policy == 0:  # OLDEST: the oldest leaves (size == keep, so before is a posting)
            nexts[before] = _NONE
            _release(nexts, free, last)
            heads[p, i] = _posting(docs, nexts, free, doc, h)
        else:  # STOCK: the bucket gives nothing, now or later
            n -= size
            j = h
            while j != _NONE:
                nxt = nexts[j]
                _release(nexts, free, j)
                j = nxt
            heads[p, i] = _STOCK
    fullest = 0
    for p in range(ks.shape[0]):
        fullest = max(fullest, state[0, p] + state[1, p])
    docs_, counts = _shared(hits, n, min_count, -1)
    return docs_, counts, fullest


@njit(cache=True)
def _get(keys, heads, docs, nexts, shift, ks, keep, min_count, exclude, crowd):
    hits = np.empty(ks.shape[0] * keep, np.int64)
    n = 0
    for p in range(ks.shape[0]):
        i, found = _find(keys, heads, p, np.uint64(ks[p]), shift)
        if not found:
            continue
        j, newest, last, size = heads[p, i], -1, -1, 0
        while j >= 0:  # _STOCK is negative
            if docs[j] != exclude:  # left out before the crowd rule: a retry meets what its first add met
                hits[n] = docs[j]
                n += 1
                size += 1
                if newest < 0:
                    newest = j
                last = j
            j = nexts[j]
        if crowd > 0 and size >= crowd:  # as in _put
            n -= size
            hits[n] = docs[newest]
            hits[n + 1] = docs[last]
            n += 2
    return _shared(hits, n, min_count, exclude)


@njit(cache=True)
def _remove(keys, heads, docs, nexts, state, free, shift, doc, ks):
    for p in range(ks.shape[0]):
        i, found = _find(keys, heads, p, np.uint64(ks[p]), shift)
        if not found or heads[p, i] == _STOCK:  # a stock key stays stock
            continue
        prev = _NONE
        j = heads[p, i]
        while j != _NONE and docs[j] != doc:
            prev = j
            j = nexts[j]
        if j == _NONE:  # it had left the bucket
            continue
        if prev == _NONE:
            heads[p, i] = nexts[j]
        else:
            nexts[prev] = nexts[j]
        _release(nexts, free, j)
        if heads[p, i] == _NONE:
            heads[p, i] = _TOMB
            state[0, p] -= 1
            state[1, p] += 1


@njit(cache=True)
def _rehash(keys, heads, new_keys, new_heads, state, shift):
    for p in range(keys.shape[0]):
        for i in range(keys.shape[1]):
            h = heads[p, i]
            if h >= 0 or h == _STOCK:
                j, _ = _find(new_keys, new_heads, p, keys[p, i], shift)
                new_keys[p, j] = keys[p, i]
                new_heads[p, j] = h
        state[1, p] = 0


def _grown(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, a.dtype)
    out[: a.shape[0]] = a
    return out


def _shift(slots: int) -> np.uint64:
    """How far a key's multiplicative hash moves right to index ``slots`` slots."""
    return np.uint64(64 - (slots.bit_length() - 1))


class Buckets:
    """Per position, key -> the numbers (non-negative ints) of at most
    ``keep`` articles (see the module docstring). Not thread-safe: the
    index calls it under its lock.

    Args:
        positions: keys per article.
        keep: articles a bucket holds.
        policy: :data:`OLDEST` or :data:`STOCK`, what a full bucket does with one more.
        crowd: a bucket holding this many gives only its newest and oldest (0: off).
    """

    def __init__(self, positions: int, keep: int, policy: int, slots: int = 256, crowd: int = 0) -> None:
        if policy not in (OLDEST, STOCK) or keep < 2 or slots & (slots - 1):
            raise ValueError("policy must be OLDEST or STOCK, keep at least 2, slots a power of two")
        if crowd and (policy != OLDEST or crowd < 2):
            raise ValueError("crowd is for OLDEST buckets, and at least 2")
        self.positions, self.keep, self.policy, self.crowd = positions, keep, policy, crowd
        self._keys = np.zeros((positions, slots), np.uint64)
        self._heads = np.full((positions, slots), _EMPTY, np.int32)
        self._docs = np.empty(1024, np.int64)
        self._nexts = np.empty(1024, np.int32)
        self._state = np.zeros((2, positions), np.int64)
        self._free = np.array([_NONE, 0], np.int64)
        self._fullest = 0
        self._shift = _shift(slots)

    def _reserve(self) -> None:
        """Room for one more article: a free slot under the load limit in every position, a posting per position."""
        slots = self._keys.shape[1]
        if self._fullest + 1 > _MAX_LOAD * slots:
            live = int(self._state[0].max())
            while live + 1 > _MAX_LOAD * slots / 2:  # after a rehash, at most a quarter full
                slots *= 2
            keys = np.zeros((self.positions, slots), np.uint64)
            heads = np.full((self.positions, slots), _EMPTY, np.int32)
            _rehash(self._keys, self._heads, keys, heads, self._state, _shift(slots))
            self._keys, self._heads, self._fullest, self._shift = keys, heads, live, _shift(slots)
        used = int(self._free[_USED])
        if used + self.positions > self._docs.shape[0]:
            size = max(2 * self._docs.shape[0], used + self.positions)
            if size > _MAX_POSTINGS:
                raise MemoryError(f"more than {_MAX_POSTINGS} postings in one index")
            self._docs, self._nexts = _grown(self._docs, size), _grown(self._nexts, size)

    def put(self, doc: int, keys: np.ndarray, min_count: int = 1) -> tuple[list[int], list[int]]:
        """Put ``doc`` under ``keys[p]`` in each position ``p`` (``uint64`` or ``uint32[positions]``).

        Returns:
            ``(docs, counts)``, docs ascending: the articles that were in at
            least ``min_count`` of the buckets ``doc`` joined (before it
            joined), and in how many.
        """
        self._reserve()
        d, c, self._fullest = _put(self._keys, self._heads, self._docs, self._nexts, self._state, self._free,
                                   self._shift, doc, keys, self.keep, self.policy, min_count, self.crowd)
        return d.tolist(), c.tolist()

    def get(self, keys: np.ndarray, min_count: int = 1, exclude: int = -1) -> tuple[list[int], list[int]]:
        """:meth:`put`'s answer without the write (``exclude``: a doc left out of it)."""
        d, c = _get(self._keys, self._heads, self._docs, self._nexts, self._shift, keys, self.keep, min_count,
                    exclude, self.crowd)
        return d.tolist(), c.tolist()

    def remove(self, doc: int, keys: np.ndarray) -> None:
        """Take ``doc`` out of its buckets (``keys``: those it was put under)."""
        _remove(self._keys, self._heads, self._docs, self._nexts, self._state, self._free, self._shift, doc, keys)


def warm() -> None:
    """Compile (or load) every kernel here for the key types the index uses
    (``uint64`` band hashes, ``uint32`` MinHash values), growth included."""
    for dtype in (np.uint64, np.uint32):
        b = Buckets(2, 2, STOCK, slots=2)
        for doc in range(3):
            b.put(doc, np.array([doc, 7], dtype))
        b.get(np.array([1, 7], dtype), 1, 0)
        b.remove(1, np.array([1, 7], dtype))
