"""Confirm or reject a candidate pair, and explain the verdict.

MinHash only *estimates* shingle overlap; this step looks at the two
normalised word sequences themselves with rapidfuzz (bit-parallel LCS on
word ids, microseconds for 1,000-word articles):

* ``score``: Indel similarity ``2 * LCS / (len_a + len_b)``: the share of
  both texts' words that line up, in order. A copy with a paragraph dropped
  or a sentence reworded keeps a high score; two outlets' own accounts of
  one event share names and phrases but not long ordered runs, so they
  score low.
* ``containment_ab``: ``LCS / len_a``, the share of ``a``'s words found in
  order inside ``b``. A syndication partner's copy cut to its first 40%
  has a Jaccard near 0.4 but a containment near 1.0.
* The figures guard: template briefs ("Qtly div 10 cts vs 10 cts prior",
  "Shr 15 cts vs 9 cts") share almost every word with other briefs. Where
  the aligned texts swap one figure for another (numbers, number words,
  months; see :func:`figures_swapped`) the pair is rejected: figures that
  differ are evidence of a different story, while a copy that lost a
  paragraph only *deletes* words.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import Indel, LCSseq

from dedup.minhash import NUMERIC_BIT, signatures
from dedup.params import Params
from dedup.types import Link, Passage

__all__ = ["FIGURE_WORDS", "Verdict", "aligned_span", "code_points", "confirm", "encode", "figures_swapped", "passages"]

_MIN_PASSAGE = 8


class Verdict:
    """Why a pair was rejected (``Link`` is returned when it is confirmed)."""

    TOO_DIFFERENT = "too_different"
    FIGURES_DIFFER = "figures_differ"


#: Words that are figures too: a brief that says "six cts" or "Pay June
#: one" differs from "five cts" or "Pay April one" as much as 6 from 5.
FIGURE_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million "
    "billion trillion half quarter third fourth fifth sixth seventh eighth ninth tenth "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday"
).split()

_EDGE = 4  # unaligned heads/tails this short on both sides are compared whatever their ratio
_ANCHOR = 2  # aligned runs shorter than this do not delimit the shared region


_FIGURE_BASE = 0xF0000  # figures go to the private-use planes 15-16 (131,072 code points)
_PLAIN_SPAN = 0xEF800  # other words: 0..0xEFFFF minus the 2,048 surrogates


@lru_cache(maxsize=1)
def _figure_ids() -> np.ndarray:
    return signatures([" ".join(FIGURE_WORDS)])[1][0]


def code_points(ids: np.ndarray) -> np.ndarray:
    """The code points :func:`encode` gives each word id (``uint32``)."""
    ids = np.asarray(ids, dtype=np.uint32)
    figure = (ids & NUMERIC_BIT).astype(bool) | np.isin(ids, _figure_ids())
    cp = np.where(figure, _FIGURE_BASE + ids % np.uint32(0x20000), ids % np.uint32(_PLAIN_SPAN)).astype(np.uint32)
    cp += ((cp >= 0xD800) & ~figure) * np.uint32(0x800)  # step over the surrogate block
    return cp


def encode(ids: np.ndarray) -> str:
    """Word ids as a ``str``, one character per word, for rapidfuzz.

    rapidfuzz aligns ``str`` natively, ten times faster than lists of Python
    ints. Figures (ids with :data:`~dedup.minhash.NUMERIC_BIT`, number words,
    months) map to the private-use planes so the figures guard still sees
    them; other words to the rest of Unicode minus surrogates. Two different
    words share a character with probability ~1e-6 (a spurious one-word
    match at worst).
    """
    return code_points(ids).tobytes().decode("utf-32-le")


def _figures(words: str) -> list[str]:
    return [c for c in words if c >= "\U000F0000"]


def figures_swapped(a: str, b: str, opcodes=None) -> bool:
    """True when the alignment of ``a`` and ``b`` replaces figures.

    The shared region runs from the first to the last aligned run of at
    least two words. Inside it, each edit hunk (the words between two
    aligned runs) trips the guard when both sides hold figures (numbers,
    number words, months, weekdays) and they differ. Outside it, the
    unaligned head or tail counts when both sides have one of comparable
    length (both at most four words, or the shorter at least half the
    longer): a brief ending "Pay 20 May Record 20 April" vs "Pay April 30
    Record April 15". Tails of very different lengths are a truncation, an
    added credit or a dropped paragraph, never a swap.
    """
    ops = list(opcodes if opcodes is not None else Indel.opcodes(a, b))
    anchors = [i for i, op in enumerate(ops) if op.tag == "equal" and op.src_end - op.src_start >= _ANCHOR]
    if not anchors:
        return False
    first, last = ops[anchors[0]], ops[anchors[-1]]
    for ea, eb in ((a[: first.src_start], b[: first.dest_start]), (a[last.src_end :], b[last.dest_end :])):
        lo, hi = sorted((len(ea), len(eb)))
        if lo > 0 and (hi <= _EDGE or lo * 2 >= hi) and _differs(_figures(ea), _figures(eb)):
            return True
    hunk_a: list[str] = []
    hunk_b: list[str] = []
    for op in ops[anchors[0] + 1 : anchors[-1] + 1]:
        if op.tag == "equal":
            if _differs(_figures("".join(hunk_a)), _figures("".join(hunk_b))):
                return True
            hunk_a, hunk_b = [], []
        else:
            hunk_a.append(a[op.src_start : op.src_end])
            hunk_b.append(b[op.dest_start : op.dest_end])
    return False


def _differs(fig_a: list[str], fig_b: list[str]) -> bool:
    return bool(fig_a) and bool(fig_b) and Counter(fig_a) != Counter(fig_b)


def aligned_span(opcodes, on_b: bool) -> tuple[int, int] | None:
    """Where the alignment lies in one text: from the first to the end of
    the last aligned run of two or more words (``None`` if there is none)."""
    runs = [op for op in opcodes if op.tag == "equal" and op.src_end - op.src_start >= _ANCHOR]
    if not runs:
        return None
    return (runs[0].dest_start, runs[-1].dest_end) if on_b else (runs[0].src_start, runs[-1].src_end)


def passages(opcodes, words_a: Sequence[str] | None = None, min_len: int = _MIN_PASSAGE) -> tuple[Passage, ...]:
    """The aligned runs of at least ``min_len`` words, in token offsets
    (with their text when ``words_a``, the words of ``a``, are given)."""
    out = []
    for op in opcodes:
        if op.tag == "equal" and op.src_end - op.src_start >= min_len:
            text = " ".join(words_a[op.src_start : op.src_end]) if words_a is not None else ""
            out.append(Passage(op.src_start, op.src_end, op.dest_start, op.dest_end, text))
    return tuple(out)


def confirm(
    a_id: str,
    a: np.ndarray | str,
    b_id: str,
    b: np.ndarray | str,
    params: Params,
    *,
    jaccard: float,
    similarity: float | None = None,
    explain: bool = False,
    words_a: Sequence[str] | None = None,
) -> Link | str:
    """Decide whether two articles are copies of one story.

    Args:
        a_id, b_id: the articles' ids (copied into the link).
        a, b: their word ids (``uint32``, from :func:`dedup.minhash.signatures`),
            or those ids already passed through :func:`encode`.
        params: thresholds (``similarity``, ``containment``,
            ``min_contained_tokens``, ``figures_guard``).
        jaccard: the MinHash estimate, reported in the link.
        similarity: overrides ``params.similarity`` for this call.
        explain: also return the aligned passages.
        words_a: the words of ``a``, to give passages their text.

    Returns:
        A :class:`~dedup.types.Link` when confirmed, else a
        :class:`Verdict` string saying why not.
    """
    sim_cut = params.similarity if similarity is None else similarity
    la, lb = len(a), len(b)
    if la == 0 or lb == 0:
        return Verdict.TOO_DIFFERENT
    short = min(la, lb)
    may_contain = short >= params.min_contained_tokens
    if not may_contain and 2 * short / (la + lb) < sim_cut:
        return Verdict.TOO_DIFFERENT  # even a perfect alignment could not pass
    ta = a if isinstance(a, str) else encode(a)
    tb = b if isinstance(b, str) else encode(b)
    if ta == tb:
        ops = Indel.opcodes(ta, tb) if explain else ()
        return Link(a_id, b_id, "exact", jaccard, 1.0, 1.0, 1.0, passages(ops, words_a) if explain else ())
    # The shortest LCS that could pass either test: below it rapidfuzz may
    # stop early and return 0 (4 us instead of 20 us on 460-word articles).
    need = math.ceil(sim_cut * (la + lb) / 2 - 1e-9)
    if may_contain:
        need = min(need, math.ceil(params.containment * short - 1e-9))
    lcs = LCSseq.similarity(ta, tb, score_cutoff=max(need, 1))
    score = 2 * lcs / (la + lb)
    c_ab, c_ba = lcs / la, lcs / lb
    if score >= sim_cut:
        kind = "near"
    elif may_contain and max(c_ab if la <= lb else 0.0, c_ba if lb <= la else 0.0) >= params.containment:
        kind = "contained"
    else:
        return Verdict.TOO_DIFFERENT
    ops = Indel.opcodes(ta, tb) if (params.figures_guard or explain or kind == "contained") else None
    if params.figures_guard and figures_swapped(ta, tb, ops):
        return Verdict.FIGURES_DIFFER
    span = aligned_span(ops, on_b=la <= lb) if ops is not None else None
    found = passages(ops, words_a) if explain else ()
    return Link(a_id, b_id, kind, jaccard, c_ab, c_ba, score, found, span)
