"""MinHash signatures, byte-identical to datasketch's ``affine32`` scheme.

A shingle is ``shingle_size`` consecutive words (:func:`dedup.normalisation.tokens`)
joined by one space; its hash is ``xxh32(shingle.encode("utf-8"), seed=0)``. A signature is then
exactly what datasketch 2.x computes with::

    m = datasketch.MinHash(num_perm=P, seed=S, hashfunc=xxhash.xxh32_intdigest)
    for sh in shingles: m.update(sh.encode("utf-8"))
    m.hashvalues  # == our signature (uint32)

so signatures move freely between this library and datasketch's
``MinHashLSH`` (see :func:`to_datasketch`). Texts with fewer words than
``shingle_size`` get one shingle of all their words.

The work for a whole batch (cutting words, hashing them and their shingles, permuting)
runs in one numba kernel over one byte buffer: no Python object, let alone
a Python loop, per shingle or per word. The same kernel also returns each
text's word ids (FNV-1a of the word, top bit set for words that are
numbers), which the refinement step aligns with rapidfuzz.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import numba as nb
import numpy as np

from dedup.jit import njit

__all__ = [
    "NUMERIC_BIT",
    "permutations",
    "signatures",
    "signature",
    "jaccard",
    "shared_values",
    "to_datasketch",
    "from_datasketch",
]

#: Set in a word id when the word is a number: digits, with ``.`` or ``,``
#: between them (``10``, ``1.5``, ``1,000``). A digit glued to letters
#: (``3rd``, ``covid19``, ``5g``) is a word, not a figure.
NUMERIC_BIT = np.uint32(1 << 31)

_P1, _P2, _P3, _P4, _P5 = (np.uint64(x) for x in (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1))
_M32 = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)
_FNV_OFFSET, _FNV_PRIME = np.uint64(0x811C9DC5), np.uint64(0x01000193)
_FM1, _FM2 = np.uint64(0x85EBCA6B), np.uint64(0xC2B2AE35)
_TOP, _LOW31 = np.uint64(0x80000000), np.uint64(0x7FFFFFFF)
_S1, _S7, _S11, _S12, _S13, _S15, _S16, _S17, _S18, _S8, _S24, _S32 = (np.uint64(i) for i in (1, 7, 11, 12, 13, 15, 16, 17, 18, 8, 24, 32))


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` uint32 arrays of datasketch's ``affine32`` scheme.

    ``a`` is odd, so ``h -> a*h + b mod 2**32`` is a bijection. The draws
    replay ``numpy.random.RandomState(seed)`` exactly as datasketch does.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


@nb.njit(inline="always")
def _rotl(x, r):
    return ((x << r) | (x >> (_S32 - r))) & _M32


@nb.njit(inline="always")
def _u32le(buf, i):
    return np.uint64(buf[i]) | (np.uint64(buf[i + 1]) << _S8) | (np.uint64(buf[i + 2]) << _S16) | (np.uint64(buf[i + 3]) << _S24)


@njit(cache=True)
def _xxh32(buf, start, end):
    """xxHash32 (seed 0) of ``buf[start:end]``, as ``xxhash.xxh32_intdigest``."""
    return _xxh32_words(buf, _words4(buf, end), start, end)


@nb.njit(inline="always")
def _words4(buf, end):
    """``w4[q]`` = ``buf[q:q+4]`` read as a little-endian uint32 (zero past ``end``), for every ``q < end``:
    one shift and one or per byte, so that xxh32 reads a 4-byte lane with one load."""
    w4 = np.empty(end + 1, np.uint32)
    w = np.uint32(0)
    for q in range(end - 1, -1, -1):
        w = np.uint32((w << np.uint32(8)) | np.uint32(buf[q]))
        w4[q] = w
    return w4


@nb.njit(inline="always")
def _xxh32_words(buf, w4, start, end):
    """xxHash32 (seed 0) of ``buf[start:end]``; ``w4`` as :func:`_words4` makes it."""
    n = end - start
    i = start
    if n >= 16:
        v1 = (_P1 + _P2) & _M32
        v2 = _P2
        v3 = np.uint64(0)
        v4 = (np.uint64(1 << 32) - _P1) & _M32
        limit = end - 16
        while i <= limit:
            v1 = (_rotl((v1 + np.uint64(w4[i]) * _P2) & _M32, _S13) * _P1) & _M32
            v2 = (_rotl((v2 + np.uint64(w4[i + 4]) * _P2) & _M32, _S13) * _P1) & _M32
            v3 = (_rotl((v3 + np.uint64(w4[i + 8]) * _P2) & _M32, _S13) * _P1) & _M32
            v4 = (_rotl((v4 + np.uint64(w4[i + 12]) * _P2) & _M32, _S13) * _P1) & _M32
            i += 16
        h = (_rotl(v1, _S1) + _rotl(v2, _S7) + _rotl(v3, _S12) + _rotl(v4, _S18)) & _M32
    else:
        h = _P5
    h = (h + np.uint64(n)) & _M32
    while i + 4 <= end:
        h = (_rotl((h + np.uint64(w4[i]) * _P3) & _M32, _S17) * _P4) & _M32
        i += 4
    while i < end:
        h = (_rotl((h + np.uint64(buf[i]) * _P5) & _M32, _S11) * _P1) & _M32
        i += 1
    h ^= h >> _S15
    h = (h * _P2) & _M32
    h ^= h >> _S13
    h = (h * _P3) & _M32
    h ^= h >> _S16
    return h


@nb.njit(inline="always")
def _fmix32(h):
    h ^= h >> _S16
    h = (h * _FM1) & _M32
    h ^= h >> _S13
    h = (h * _FM2) & _M32
    h ^= h >> _S16
    return h


@nb.njit(inline="always")
def _is_word(c):
    # ASCII letters, digits, "_", and every byte of a non-ASCII character:
    # the byte-level twin of dedup.normalisation.TOKEN_RE.
    return (97 <= c <= 122) or (48 <= c <= 57) or c >= 128 or (65 <= c <= 90) or c == 95


@nb.njit(inline="always")
def _is_digit(c):
    return 48 <= c <= 57


@nb.njit(inline="always")
def _joins(prev, c, nxt):
    """Whether punctuation ``c`` between word bytes keeps one word:
    ``.`` between two digits or two non-digits (1.13bn, u.s), ``,`` between
    digits (1,000), ``'`` anywhere inside a word (don't)."""
    if c == 39:
        return True
    if c == 46:
        return _is_digit(prev) == _is_digit(nxt)
    if c == 44:
        return _is_digit(prev) and _is_digit(nxt)
    return False


@njit(cache=True, nogil=True, fastmath=True)
def _kernel(buf, offsets, a, b, k, sigs, tok_out, tok_offsets):
    """Tokenise, shingle and MinHash every text in ``buf``.

    Text ``d`` is ``buf[offsets[d]:offsets[d+1]]`` (UTF-8, lower-cased).
    Its words are copied, joined by single spaces, into a scratch buffer, so
    a shingle's bytes are exactly ``" ".join(words)``. Word ids of text
    ``d`` go to ``tok_out[tok_offsets[d]:tok_offsets[d+1]]`` (``tok_offsets``
    is filled here; ``tok_out`` must hold ``(len(buf) + texts) // 2 + 1`` slots).
    """
    P = a.shape[0]
    joined = np.empty(buf.shape[0] + 1, np.uint8)
    w4 = np.empty(buf.shape[0] + 1, np.uint32)
    starts = np.empty(buf.shape[0] // 2 + 2, np.int64)
    ends = np.empty(buf.shape[0] // 2 + 2, np.int64)
    acc = np.empty(P, np.uint32)
    nt_total = 0
    tok_offsets[0] = 0
    for d in range(offsets.shape[0] - 1):
        lo, hi = offsets[d], offsets[d + 1]
        n = 0
        j = 0
        i = lo
        while i < hi:
            if not _is_word(buf[i]):
                i += 1
                continue
            if n > 0:
                joined[j] = 32
                j += 1
            starts[n] = j
            h = _FNV_OFFSET  # the word id, FNV-1a of its bytes, hashed as they are copied
            number = True  # digits, with "." or "," between them
            while True:
                while i < hi and _is_word(buf[i]):
                    c = buf[i]
                    joined[j] = c
                    h = ((h ^ np.uint64(c)) * _FNV_PRIME) & _M32
                    number = number and _is_digit(c)
                    j += 1
                    i += 1
                if i + 1 < hi and _is_word(buf[i + 1]) and _joins(buf[i - 1], buf[i], buf[i + 1]):
                    c = buf[i]
                    joined[j] = c
                    h = ((h ^ np.uint64(c)) * _FNV_PRIME) & _M32
                    number = number and (c == 46 or c == 44)
                    j += 1
                    i += 1
                else:
                    break
            ends[n] = j
            h = _fmix32(h) & _LOW31  # word ids: internal; only the shingles must match datasketch
            tok_out[nt_total + n] = h | _TOP if number else h
            n += 1
        w = np.uint32(0)  # w4[q] = joined[q:q+4], little-endian: xxh32 reads each lane with one load
        for q in range(j - 1, -1, -1):
            w = np.uint32((w << np.uint32(8)) | np.uint32(joined[q]))
            w4[q] = w
        acc[:] = _EMPTY
        kk = k if n >= k else n
        shingles = n - kk + 1 if n > 0 else 0
        s = 0
        # uint32 wrap-around IS the affine32 modulus. Two shingles per pass over
        # the permutations: each acc[p] is loaded and stored once for both.
        while s + 1 < shingles:
            h1 = np.uint32(_fmix32(_xxh32_words(joined, w4, starts[s], ends[s + kk - 1])))
            h2 = np.uint32(_fmix32(_xxh32_words(joined, w4, starts[s + 1], ends[s + kk])))
            for p in range(P):
                acc[p] = min(acc[p], np.uint32(a[p] * h1 + b[p]), np.uint32(a[p] * h2 + b[p]))
            s += 2
        if s < shingles:
            h1 = np.uint32(_fmix32(_xxh32_words(joined, w4, starts[s], ends[s + kk - 1])))
            for p in range(P):
                acc[p] = min(acc[p], np.uint32(a[p] * h1 + b[p]))
        sigs[d, :] = acc
        nt_total += n
        tok_offsets[d + 1] = nt_total


def signatures(
    texts: Sequence[str], num_perm: int = 128, seed: int = 1, shingle_size: int = 5
) -> tuple[np.ndarray, list[np.ndarray]]:
    """MinHash signatures and word ids for a batch of tokenised texts.

    Args:
        texts: normalised, lower-cased texts (``normalise(raw).lower()``);
            they are cut into words exactly as :func:`dedup.normalisation.tokens`
            does, without making a Python string per word.
        num_perm, seed: datasketch's ``MinHash`` arguments.
        shingle_size: words per shingle.

    Returns:
        ``(sigs, word_ids)``: ``sigs`` is ``uint32[len(texts), num_perm]``;
        ``word_ids[i]`` is ``uint32[words in text i]``. A text with no words
        gets the empty signature (every value ``2**32 - 1``).

    Example:
        >>> sigs, words = signatures(["putin signed treaties friday"], num_perm=4)
        >>> sigs.shape, words[0].shape
        ((1, 4), (4,))
    """
    a, b = permutations(num_perm, seed)
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    sigs = np.empty((len(encoded), num_perm), dtype=np.uint32)
    # Words in one text are separated by at least one byte: at most
    # (len + 1) // 2 words each, so (bytes + texts) // 2 + 1 in all.
    tok_out = np.empty((buf.shape[0] + len(encoded)) // 2 + 1, dtype=np.uint32)
    tok_offsets = np.empty(len(encoded) + 1, dtype=np.int64)
    _kernel(buf, offsets, a, b, shingle_size, sigs, tok_out, tok_offsets)
    cuts = tok_offsets.tolist()  # slices: 5x cheaper than np.split
    words = [tok_out[lo:hi] for lo, hi in pairwise(cuts)]
    return sigs, words


def signature(text: str, num_perm: int = 128, seed: int = 1, shingle_size: int = 5) -> np.ndarray:
    """The signature of one text in shingling form (see :func:`signatures`)."""
    return signatures([text], num_perm, seed, shingle_size)[0][0]


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of equal signature slots."""
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.shape[0]


def shared_values(sig: np.ndarray, others: list[np.ndarray]) -> list[int]:
    """The equal signature slots of ``sig`` and each of ``others`` (their
    :func:`jaccard` times the signature length), in one numpy call."""
    if not others:
        return []
    return np.count_nonzero(np.asarray(others) == sig, axis=1).tolist()


def to_datasketch(sig: np.ndarray, seed: int = 1):
    """A ``datasketch.MinHash`` holding ``sig`` (for ``MinHashLSH`` etc.)."""
    import datasketch
    import xxhash

    return datasketch.MinHash(
        num_perm=sig.shape[0], seed=seed, hashfunc=xxhash.xxh32_intdigest, hashvalues=sig, scheme="affine32"
    )


def from_datasketch(m) -> np.ndarray:
    """The uint32 signature of an ``affine32`` ``datasketch.MinHash``."""
    if getattr(m, "scheme", "affine32") != "affine32":
        raise ValueError(f"only the affine32 scheme is compatible, got {m.scheme!r}")
    return np.asarray(m.hashvalues, dtype=np.uint32)
