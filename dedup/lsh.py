"""LSH banding: which signatures are worth comparing.

A signature of ``bands * rows`` values is cut into ``bands`` bands; two
articles become candidates when all ``rows`` values of at least one band
agree, which happens with probability ``1 - (1 - J**rows)**bands`` for
Jaccard ``J``. :func:`dedup.params.optimal_bands` picks ``(bands, rows)``
from ``Params.lsh_threshold``, the point where that S-curve turns.

One band hash (:func:`_mix`) in two forms: :func:`signature_band_hashes`
(and :func:`band_keys`) for one signature in an online index (memory or
Redis), :func:`band_hashes` for one band of a whole batch, whose
:func:`candidate_pairs` sorts them to find every candidate pair at once
(numpy and numba, no Python loop per article).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from dedup.jit import njit
from dedup.params import Params
from dedup.spool import read_columns

__all__ = ["CROWD", "band_keys", "band_hashes", "candidate_pairs", "signature_band_hashes"]

#: A band bucket is crowded once it holds this many articles: a later one
#: meets only its first (oldest) and its newest member, not every member
#: (batch: :func:`candidate_pairs`; online: :class:`dedup.index.MemoryIndex`
#: and the service's Redis index). Template briefs and a house's boilerplate
#: fill buckets with look-alikes; a copy shares the bands of its own words
#: too, so it is still proposed.
CROWD = 8

_MIX1 = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)
_MIX3 = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def _mix(block, band):
    """THE band hash: 64 bits from each row of ``block`` (``rows`` uint32
    values) and its band number ``band[i]``. The batch path (one band of
    many signatures) and the online index (every band of one signature)
    both hash with this, so a pair is a candidate online exactly when it
    is one in batch. A numba loop: the same speed as numpy on a batch, and
    a few microseconds for one signature where numpy's per-call overhead
    would cost ~50."""
    n, rows = block.shape
    out = np.empty(n, np.uint64)
    for i in range(n):
        h = np.uint64(band[i]) * _MIX1
        for r in range(rows):
            h ^= np.uint64(block[i, r]) + _MIX1 + (h << np.uint64(6)) + (h >> np.uint64(2))
            h *= _MIX2
            h ^= h >> np.uint64(31)
        h *= _MIX3
        out[i] = h ^ (h >> np.uint64(29))
    return out


def band_hashes(sigs: np.ndarray, band: int, rows: int) -> np.ndarray:
    """The hash of band ``band`` of every row of ``sigs`` (batch: one band at a time)."""
    if not isinstance(sigs, np.ndarray):
        sigs = np.asarray(sigs, dtype=np.uint32)
    block = read_columns(sigs, band * rows, (band + 1) * rows)  # a map's pages are not all held at once
    return _mix(block.astype(np.uint32, copy=False), np.full(block.shape[0], band, dtype=np.uint64))


def signature_band_hashes(signature: np.ndarray, params: Params) -> np.ndarray:
    """The hash of every band of one signature, ``uint64[bands]`` (online:
    one signature at a time; the same hash as :func:`band_hashes`)."""
    bands, rows = params.banding
    block = np.asarray(signature, dtype=np.uint32)[: bands * rows].reshape(bands, rows)
    return _mix(block, _band_numbers(bands))


def band_keys(signature: np.ndarray, params: Params) -> list[bytes]:
    """One 10-byte bucket key per band: 2-byte band number + 8-byte hash (big-endian).

    Example:
        >>> import numpy as np
        >>> keys = band_keys(np.arange(128, dtype=np.uint32), Params())
        >>> len(keys), len(keys[0])
        (28, 10)
    """
    raw = signature_band_hashes(signature, params).astype(">u8").tobytes()
    return [_BAND_PREFIX[i] + raw[8 * i : 8 * i + 8] for i in range(len(raw) // 8)]


_BAND_PREFIX = [struct.pack(">H", i) for i in range(1024)]
_BAND_NUMBERS = np.arange(1024, dtype=np.uint64)


def _band_numbers(bands: int) -> np.ndarray:
    return _BAND_NUMBERS[:bands]


@njit(cache=True)
def _pairs_from_runs(order, hashes_sorted, max_bucket):
    """Pairs ``(i, j)``, ``i < j``, of equal consecutive hashes, by the
    online index's rule (:data:`CROWD`) in input order: a member with fewer
    than ``max_bucket`` before it in its bucket pairs with each of them; a
    later one, with the bucket's first member and the one before it (a star
    plus a chain), not with all."""
    n = order.shape[0]
    count = 0
    i = 0
    while i < n:  # first pass: count
        j = i + 1
        while j < n and hashes_sorted[j] == hashes_sorted[i]:
            j += 1
        g = j - i
        k = min(g, max_bucket)
        count += k * (k - 1) // 2 + 2 * (g - k)
        i = j
    out = np.empty((count, 2), np.int64)
    c = 0
    i = 0
    while i < n:
        j = i + 1
        while j < n and hashes_sorted[j] == hashes_sorted[i]:
            j += 1
        for x in range(i + 1, j):
            if x - i < max_bucket:
                for y in range(i, x):
                    p, q = order[y], order[x]
                    out[c, 0] = min(p, q)
                    out[c, 1] = max(p, q)
                    c += 1
            else:
                for p, q in ((order[i], order[x]), (order[x - 1], order[x])):
                    out[c, 0] = min(p, q)
                    out[c, 1] = max(p, q)
                    c += 1
        i = j
    return out


def candidate_pairs(sigs: np.ndarray | Sequence[np.ndarray], params: Params, max_bucket: int = CROWD) -> np.ndarray:
    """Every pair of rows of ``sigs`` that shares at least one LSH band.

    Args:
        sigs: ``uint32[n, num_perm]`` signatures.
        params: gives ``(bands, rows)``.
        max_bucket: past this many members a bucket's later members are
            linked as a star plus a chain rather than to every earlier one
            (:data:`CROWD`, the online index's rule), so a thousand
            identical copies cost ~2,000 candidate pairs, not 500,000.

    Returns:
        ``int64[m, 2]`` unique pairs with ``i < j``, sorted.
    """
    bands, rows = params.banding
    parts = []
    for band in range(bands):
        h = band_hashes(sigs, band, rows)
        order = np.argsort(h, kind="stable")
        parts.append(_pairs_from_runs(order, h[order], max_bucket))
    if not parts:
        return np.empty((0, 2), np.int64)
    allp = np.concatenate(parts)
    if allp.shape[0] == 0:
        return allp
    n = np.int64(max(len(sigs), 1))
    codes = np.unique(allp[:, 0] * n + allp[:, 1])
    return np.stack([codes // n, codes % n], axis=1)
