"""Reworded copies: a text that reuses another's sentences, reordered or lightly reworded.

The default path (:mod:`dedup.refine`) aligns two texts word by word, in
order. A copy whose sentences were shuffled, or whose every sentence had a
word or two changed, keeps few long ordered runs: its 5-word shingles rarely
make it an LSH candidate, and its in-order similarity stays at 0.4-0.8.
This module is the optional second path (``Params.reuse``), batch only:

* Candidates (:func:`reuse_candidates`): every text's 4-word shingles are
  hashed, one in :data:`SAMPLE` is kept (by hash value, so both texts keep
  the same ones), shingles found in more than :data:`MAX_DF` texts (stock
  phrases) are ignored, and two texts become a candidate when they share at
  least :data:`MIN_SHARED` kept shingles making up at least
  :data:`MIN_SHARED_SHARE` of the smaller text's kept shingles. All in
  numpy/numba: no Python loop per shingle.
* Confirmation (:func:`confirm_reuse`): the *reused share*. Each sentence
  of the shorter text is compared (rapidfuzz Indel on word sequences) with
  every sentence of the longer text, and with every two adjacent sentences
  of it (a sentence split in two or two merged into one). A sentence is
  *reused* when its best match is at least ``Params.reuse_sentence``
  similar (0.7: 70% of the two sentences' words line up in order). The
  reused share is the share of the shorter text's words that lie in reused
  sentences; order *between* sentences does not matter. A pair whose share
  reaches ``Params.reuse`` is a ``reused`` link. The figures guard still
  applies, per matched sentence and to the two whole texts as in
  :func:`dedup.refine.confirm`: a swapped figure rejects the pair.

What a ``reuse=0.25`` means: at least a quarter of the shorter text is
sentences taken from the other one, each kept at least 70% intact. Two
outlets' independent accounts of one event share names and the odd quote,
rarely a quarter of their sentences.
"""

from __future__ import annotations

import re

from dedup.jit import njit
import numpy as np
from rapidfuzz.distance import Indel
from rapidfuzz.process import cdist

from dedup.normalisation import TOKEN_RE
from dedup.params import Params
from dedup.refine import Verdict, figures_swapped
from dedup.types import Link

__all__ = ["GRAM", "MAX_DF", "MIN_SHARED", "MIN_SHARED_SHARE", "SAMPLE", "confirm_reuse", "group_pairs",
           "reuse_candidates", "reused_share", "sentence_lengths"]

#: Words per shingle for candidate generation.
GRAM = 4
#: One shingle in ``SAMPLE`` is kept (those whose hash is 0 modulo ``SAMPLE``).
SAMPLE = 2
#: Shingles kept by more texts than this are stock phrases and ignored.
MAX_DF = 50
#: A candidate shares at least this many kept shingles ...
MIN_SHARED = 3
#: ... making up at least this share of the smaller text's kept shingles.
MIN_SHARED_SHARE = 0.1

_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\"')\]]*\s+|\n+")
_M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9)


def sentence_lengths(normalised: str) -> np.ndarray:
    """Words per sentence of a normalised text (``int64``).

    A sentence ends at ``.``, ``!``, ``?``, ``;`` or ``:`` followed by space,
    or at a line break. Words are cut as :func:`dedup.normalisation.tokens`
    cuts them, so the lengths add up to the text's word count.

    Example:
        >>> sentence_lengths("Shares rose. Bonds fell on Monday!").tolist()
        [2, 4]
    """
    counts = [len(TOKEN_RE.findall(s)) for s in _SENTENCE_END.split(normalised)]
    return np.array([c for c in counts if c], dtype=np.int64)


def _gram_hashes(words: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(hash, text)`` of every kept :data:`GRAM`-word shingle, unique per text."""
    n = len(offsets) - 1
    total = int(offsets[-1])
    if total < GRAM:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    w = np.asarray(words, dtype=np.uint64)
    m = total - GRAM + 1
    h = np.zeros(m, np.uint64)
    for k in range(GRAM):
        h = (h ^ w[k : k + m]) * _M1
        h ^= h >> np.uint64(29)
    h *= _M2
    h ^= h >> np.uint64(32)
    lengths = np.diff(offsets)
    text = np.repeat(np.arange(n, dtype=np.int64), lengths)[:m]
    last_start = np.asarray(offsets[1:], dtype=np.int64)[text] - GRAM  # a shingle must end inside its text
    keep = (np.arange(m) <= last_start) & (h % np.uint64(SAMPLE) == 0)
    h, text = h[keep], text[keep]
    order = np.lexsort((text, h))
    h, text = h[order], text[order]
    first = np.ones(len(h), bool)
    first[1:] = (h[1:] != h[:-1]) | (text[1:] != text[:-1])
    return h[first], text[first]


@njit(cache=True)
def group_pairs(text, starts, sizes):
    """All pairs ``(i, j)``, ``i < j``, inside each run ``text[s:s+size]``."""
    count = 0
    for g in sizes:
        count += g * (g - 1) // 2
    out = np.empty((count, 2), np.int64)
    c = 0
    for s, g in zip(starts, sizes):
        for x in range(s, s + g):
            for y in range(x + 1, s + g):
                p, q = text[x], text[y]
                out[c, 0] = min(p, q)
                out[c, 1] = max(p, q)
                c += 1
    return out


def reuse_candidates(words: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Pairs of texts that share enough rare 4-word shingles to be worth aligning.

    Args:
        words: every text's word ids (or their code points), concatenated.
        offsets: ``int64[n + 1]``: text ``i`` is ``words[offsets[i]:offsets[i+1]]``.

    Returns:
        ``int64[m, 2]`` unique pairs with ``i < j``, sorted.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    h, text = _gram_hashes(words, offsets)
    if len(h) == 0:
        return np.empty((0, 2), np.int64)
    per_text = np.bincount(text, minlength=n)
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    sizes = np.diff(np.r_[starts, len(h)])
    ok = (sizes >= 2) & (sizes <= MAX_DF)
    pairs = group_pairs(text, starts[ok], sizes[ok])
    if len(pairs) == 0:
        return pairs
    codes, shared = np.unique(pairs[:, 0] * np.int64(n) + pairs[:, 1], return_counts=True)
    i, j = codes // n, codes % n
    smaller = np.minimum(per_text[i], per_text[j])
    keep = (shared >= MIN_SHARED) & (shared >= MIN_SHARED_SHARE * smaller)
    return np.stack([i[keep], j[keep]], axis=1)


def reused_share(
    a: str, a_sentences: np.ndarray, b: str, b_sentences: np.ndarray, sentence_cut: float
) -> tuple[float, list[tuple[str, str]]]:
    """The share of ``a``'s words in sentences found again, at least ``sentence_cut`` similar, in ``b``.

    Args:
        a, b: word sequences encoded by :func:`dedup.refine.encode`.
        a_sentences, b_sentences: words per sentence (they add up to ``len(a)``, ``len(b)``).
        sentence_cut: Indel similarity (0..1) a sentence needs with its best
            match in ``b`` (one sentence or two adjacent ones) to count.

    Returns:
        ``(share, matches)``: the share (0..1) and the reused sentences of
        ``a`` with their best match in ``b``.
    """
    sa = _split(a, a_sentences)
    sb = _split(b, b_sentences)
    if not sa or not sb:
        return 0.0, []
    targets = sb + [x + y for x, y in zip(sb, sb[1:])]
    scores = cdist(sa, targets, scorer=Indel.normalized_similarity, dtype=np.float32)
    best = scores.argmax(axis=1)
    hit = scores[np.arange(len(sa)), best] >= sentence_cut
    matches = [(sa[x], targets[best[x]]) for x in np.flatnonzero(hit)]
    return sum(len(s) for s, _ in matches) / len(a), matches


def _split(text: str, lengths: np.ndarray) -> list[str]:
    ends = np.cumsum(lengths)
    if len(ends) == 0 or ends[-1] != len(text):  # lengths that do not fit: one sentence
        return [text] if text else []
    return [text[s:e] for s, e in zip(np.r_[0, ends[:-1]].tolist(), ends.tolist())]


def confirm_reuse(
    a_id: str,
    a: str,
    a_sentences: np.ndarray,
    b_id: str,
    b: str,
    b_sentences: np.ndarray,
    params: Params,
    *,
    jaccard: float = 0.0,
) -> Link | str:
    """Decide whether one text reuses the other's sentences (see the module docstring).

    Args:
        a_id, b_id: the texts' ids (copied into the link).
        a, b: word sequences encoded by :func:`dedup.refine.encode`.
        a_sentences, b_sentences: words per sentence of each.
        params: ``reuse`` (the share needed; must be set), ``reuse_sentence``,
            ``min_contained_tokens`` (a shorter text is never ``reused``)
            and ``figures_guard``.
        jaccard: a Jaccard estimate to report in the link.

    Returns:
        A ``reused`` :class:`~dedup.types.Link` (``score`` is the reused
        share; ``containment_ab``/``_ba`` the share of ``a`` found in ``b``
        and of ``b`` in ``a``), else a :class:`~dedup.refine.Verdict`.

    Raises:
        ValueError: ``params.reuse`` is ``None``.
    """
    if params.reuse is None:
        raise ValueError("confirm_reuse needs Params.reuse set")
    la, lb = len(a), len(b)
    if min(la, lb) < params.min_contained_tokens:
        return Verdict.TOO_DIFFERENT
    a_short = la <= lb
    short, short_s, long_, long_s = (a, a_sentences, b, b_sentences) if a_short else (b, b_sentences, a, a_sentences)
    share, matches = reused_share(short, short_s, long_, long_s, params.reuse_sentence)
    if share < params.reuse:
        return Verdict.TOO_DIFFERENT
    if params.figures_guard and (any(figures_swapped(x, y) for x, y in matches) or figures_swapped(short, long_)):
        return Verdict.FIGURES_DIFFER
    back = share * len(short) / len(long_)
    c_ab, c_ba = (share, back) if a_short else (back, share)
    return Link(a_id, b_id, "reused", jaccard, c_ab, c_ba, share)
