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
* The figures guard, proportionate: template briefs ("Qtly div 10 cts vs
  10 cts prior", "Shr 15 cts vs 9 cts") share almost every word with other
  briefs and differ only in their figures. Where the aligned texts put one
  figure in place of another (numbers, number words, months, weekdays; see
  :func:`figure_changes`) the pair is

  - an ``update`` (a later version of the story: an updated toll, a
    corrected date) when the changed figures are few for its length: at
    most one per :data:`WORDS_PER_CHANGE` words of the shorter text and at
    most :data:`MAX_CHANGES`, in a text of at least :data:`UPDATE_MIN_WORDS`
    words of which figures are at most :data:`MAX_FIGURE_SHARE` (or, in a
    story of :data:`UPDATE_LONG_WORDS` words or more, when at most one of
    :data:`FIGURES_PER_CHANGE` of its figures changed: a market report). With
    ``explain`` the link lists the changed figures (``changed``, old -> new);
  - rejected otherwise: a short text that is mostly its figures, or many
    figures changed, is another story (another company's dividend, another
    quarter's results).

  A copy that lost a paragraph only *deletes* words: figures that are only
  on one side never count. A figure changed in a paragraph that also moved
  lies outside the in-order alignment; it is found by its neighbours
  (:func:`moved_figure_changes`: the same :data:`_CONTEXT` words on both
  sides of it in the other text, or twice as many on one side) and counts
  the same, for ``near`` and ``contained`` pairs and for the order-free
  test below (a later version with paragraphs moved is an ``update``, not
  ``reused``).
* Order-free confirmation (``reused``): a copy whose paragraphs were moved,
  or that gained or lost a few sentences here and there, fails the in-order
  score. When it does, the share of each text lying in runs of
  :data:`GRAM` words found anywhere in the other is measured (hashes of word
  k-grams, numpy set membership). The pair is ``reused`` when at least
  ``Params.order_free`` of the shorter text is found in the longer,
  including the shorter one's lead (its first tenth, 10 to 40 words: at
  least half of it), and the longer one is reused as much or its own lead
  is found too. A follow-up story that repeats background paragraphs under a
  new lead fails: its new lead is not in the other text, and the other's
  text is not mostly in it. Figures guard of this test: a figure of the
  shorter text found nowhere in the longer is a changed figure; a text that
  is mostly its figures (a template brief, a results table) may change none,
  any other only as few as an update allows (none under
  :data:`UPDATE_MIN_WORDS` words). Two template briefs with other names and
  other figures are therefore never ``reused``.
* ``contained`` also needs the shorter text's lead (at least half of it) in
  the in-order alignment: a story whose body, without its lead, is repeated
  under another lead is background, not a copy.
* Shared opening (``reused``, ``Params.shared_opening``): a text that
  *opens* with passages taken word for word from the other's opening is a
  copy with its own text added (a partner that kept the wire's first
  paragraphs and wrote the rest; a version that kept the lead; an answer
  pasted from its source, then continued). In the in-order alignment, the
  first passage (a run of :data:`_MIN_PASSAGE` words or more) must start in
  the first :data:`_HEAD_SLACK` words of both texts; later passages join it
  while the copying text has no words of its own between them (the other
  text may skip whole paragraphs; a changed name or figure ends the
  opening). The pair is ``reused``
  when these passages hold at least ``Params.shared_opening`` words (60:
  more than the lead paragraph or two that a roundup or another story may
  share) and at least :data:`OPENING_SHARE` of the copying text, and the
  figures guard of the in-order tests passes. A follow-up that repeats
  background under a new lead, or a roundup that quotes a story's lead
  further down, does not open with the other text and fails.

Over 400 lines on purpose: ``confirm`` and the three tests it runs (in-order,
figures, order-free) decide one verdict together and share their encodings;
the figure rules are the next candidate to move out (``figures.py``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import Indel, LCSseq

from dedup.jit import njit
from dedup.minhash import NUMERIC_BIT, signatures
from dedup.params import Params
from dedup.types import Link, Passage

__all__ = ["FIGURE_WORDS", "GRAM", "OPENING_SHARE", "Verdict", "aligned_span", "code_points", "confirm",
           "encode", "figure_changes", "figures_swapped", "is_update", "moved_figure_changes", "opening_words",
           "order_free", "passages"]

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

#: A later version may change one figure per this many words of the shorter text ...
WORDS_PER_CHANGE = 40
#: ... and at most this many figures in all ...
MAX_CHANGES = 6
#: ... in a text of at least this many words ...
UPDATE_MIN_WORDS = 60
#: ... of which figures are at most this share (template briefs are mostly figures).
MAX_FIGURE_SHARE = 0.15
#: ... unless it is this long and at most one of :data:`FIGURES_PER_CHANGE` of its figures changed.
UPDATE_LONG_WORDS = 150
FIGURES_PER_CHANGE = 10
#: Words per k-gram of the order-free confirmation.
GRAM = 4
_LEAD_SHARE, _LEAD_MIN, _LEAD_MAX = 0.1, 10, 40
_HEAD_SLACK = 8
#: Words before or after a figure that place it in the other text when its paragraph moved.
_CONTEXT = 3
#: A shared opening holds at least this share of the text that copies it.
OPENING_SHARE = 0.25

_EDGE = 4  # unaligned heads/tails this short on both sides are compared whatever their ratio
_ANCHOR = 2  # aligned runs shorter than this do not delimit the shared region


_FIGURE_BASE = 0xF0000  # figures go to the private-use planes 15-16 (131,072 code points)
_PLAIN_SPAN = 0xEF800  # other words: 0..0xEFFFF minus the 2,048 surrogates


@lru_cache(maxsize=1)
def _figure_ids() -> np.ndarray:
    """The word ids of :data:`FIGURE_WORDS`, sorted."""
    return np.unique(signatures([" ".join(FIGURE_WORDS)])[1][0])


@lru_cache(maxsize=1)
def _figure_low_bits() -> np.ndarray:
    """``table[id & 0xFFFF]``: whether some figure word's id has these low 16 bits."""
    table = np.zeros(1 << 16, bool)
    table[_figure_ids() & np.uint32(0xFFFF)] = True
    return table


@njit(cache=True, nogil=True)
def _code_points_kernel(ids, low, known, numeric, base, span):  # pragma: no cover - compiled
    """:func:`code_points` in one pass (a numpy version costs a dozen array
    operations, ~45 us on one short text between two Redis round trips)."""
    out = np.empty(len(ids), np.uint32)
    for i in range(len(ids)):
        w = ids[i]
        figure = (w & numeric) != 0
        if not figure and low[w & 0xFFFF]:
            j = np.searchsorted(known, w)
            figure = j < len(known) and known[j] == w
        if figure:
            out[i] = base + w % 0x20000
        else:
            c = w % span
            out[i] = c + 0x800 if c >= 0xD800 else c  # step over the surrogate block
    return out


def code_points(ids: np.ndarray) -> np.ndarray:
    """The code points :func:`encode` gives each word id (``uint32``):
    figures (ids with :data:`~dedup.minhash.NUMERIC_BIT`, and the ids of
    :data:`FIGURE_WORDS`) to the private-use planes from ``0xF0000``, other
    words to ``0..0xEFFFF`` minus the surrogates."""
    ids = np.ascontiguousarray(ids, dtype=np.uint32)
    return _code_points_kernel(ids, _figure_low_bits(), _figure_ids(), np.uint32(NUMERIC_BIT),
                               np.uint32(_FIGURE_BASE), np.uint32(_PLAIN_SPAN))


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


def figure_changes(a: str, b: str, opcodes=None) -> list[tuple[list[int], list[int]]]:
    """Where the alignment of ``a`` and ``b`` puts figures in place of others.

    The shared region runs from the first to the last aligned run of at
    least two words (an *anchor*). Inside it, each hunk (the words between
    two anchors) counts when both sides hold figures (numbers, number words,
    months, weekdays), they differ, and the two sides are of comparable
    length (both at most four words, or the shorter at least half the
    longer): a replacement, not a sentence deleted on one side. Outside it,
    the unaligned head or tail counts under the same length rule: a brief
    ending "Pay 20 May Record 20 April" vs "Pay April 30 Record April 15".
    Tails of very different lengths are a truncation, an added credit or a
    dropped paragraph, never a change.

    Returns:
        one ``(offsets in a, offsets in b)`` per changed hunk: the word
        offsets of the figures found on one side only.
    """
    ops = list(opcodes if opcodes is not None else Indel.opcodes(a, b))
    anchors = [i for i, op in enumerate(ops) if op.tag == "equal" and op.src_end - op.src_start >= _ANCHOR]
    if not anchors:
        return []
    first, last = ops[anchors[0]], ops[anchors[-1]]
    spans = [(0, first.src_start, 0, first.dest_start)]
    for x, y in zip(anchors, anchors[1:]):
        if y > x + 1:
            spans.append((ops[x].src_end, ops[y].src_start, ops[x].dest_end, ops[y].dest_start))
    spans.append((last.src_end, len(a), last.dest_end, len(b)))
    out = []
    for a0, a1, b0, b1 in spans:
        lo, hi = sorted((a1 - a0, b1 - b0))
        if lo == 0 or not (hi <= _EDGE or lo * 2 >= hi):
            continue
        fa = [i for i in range(a0, a1) if a[i] >= "\U000F0000"]
        fb = [i for i in range(b0, b1) if b[i] >= "\U000F0000"]
        if not fa or not fb:
            continue
        only_a = Counter(a[i] for i in fa) - Counter(b[i] for i in fb)
        only_b = Counter(b[i] for i in fb) - Counter(a[i] for i in fa)
        if only_a or only_b:
            out.append(([i for i in fa if _take(only_a, a[i])], [i for i in fb if _take(only_b, b[i])]))
    return out


def moved_figure_changes(a: str, b: str, done: Sequence[tuple[list[int], list[int]]] = ()) -> list[tuple[list[int], list[int]]]:
    """Figures changed where the in-order alignment cannot see them (in a moved paragraph).

    A run of figures (one, or several side by side: ``March 15``) that holds
    a value the other text lacks (counting every occurrence, and leaving out
    the offsets of ``done``, the changes already found in order) is changed
    when the other text has such a run between the same :data:`_CONTEXT`
    words before it *and* after it (``the toll rose to 41 on Tuesday after
    rescuers`` / ``the toll rose to 45 on Tuesday after rescuers``), or
    after the same ``2 * _CONTEXT`` words or before them, wherever the two
    sentences lie, or else between words most of which are the same place by
    place (:func:`_near_context`: a word beside the figure changed too). Three
    words on one side are not enough: in Chinese, where a character is a word,
    ``美元的`` ("dollars'") follows many figures. A figure dropped with its
    sentence has no counterpart and never counts.

    Returns:
        ``(offsets in a, offsets in b)`` per change, as :func:`figure_changes`:
        the figures of each run whose value the other run lacks.
    """
    if not done:
        extra_a, extra_b = _extra_figures(_points(a), _points(b), _FIGURE_BASE)
        if not (extra_a and extra_b):
            return []  # most pairs: the same figures, or one side lost some (a cut, a dropped sentence)
    skip_a, skip_b = [i for x, _ in done for i in x], [j for _, y in done for j in y]
    fa, only_a = _figures_only_here(a, b, skip_a, skip_b)
    fb, only_b = _figures_only_here(b, a, skip_b, skip_a) if only_a else ([], Counter())
    if not only_b:
        return []
    runs_b = list(_figure_runs(b, fb, set(skip_b)))
    theirs: dict[tuple, tuple[int, int]] = {}
    for run in runs_b:
        for key in _contexts(b, *run):
            theirs.setdefault(key, run)
    out, used = [], set()
    for i0, i1 in _figure_runs(a, fa, set(skip_a)):
        run = next((theirs[key] for key in _contexts(a, i0, i1) if key in theirs and theirs[key] not in used), None)
        if run is None:
            run = _near_context(a, i0, i1, b, [r for r in runs_b if r not in used])
        if run is None:
            continue
        used.add(run)
        mine, other = Counter(a[i0:i1]), Counter(b[run[0] : run[1]])
        lost, got = mine - other, other - mine
        x = [i for i in range(i0, i1) if _take(lost, a[i])]
        y = [j for j in range(*run) if _take(got, b[j])]
        if x or y:
            out.append((x, y))
    return out


#: Words compared on each side of a figure run by :func:`_near_context`, how many must be equal, and the share.
_NEAR_SIDE, _NEAR_MIN, _NEAR_SHARE = 6, 8, 0.85


def _near_context(a: str, i0: int, i1: int, b: str, runs: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The run of ``runs`` in ``b`` whose :data:`_NEAR_SIDE` words before and
    after hold, position by position, the same words as around ``a[i0:i1]``
    in at least :data:`_NEAR_MIN` places and :data:`_NEAR_SHARE` of those
    both texts have (a figure changed with a word beside it, ``12 people`` ->
    ``15 persons``, in a moved paragraph); the best such run, else ``None``."""
    best, best_n = None, 0
    for j0, j1 in runs:
        k_before, k_after = min(_NEAR_SIDE, i0, j0), min(_NEAR_SIDE, len(a) - i1, len(b) - j1)
        same = sum(a[i0 - d] == b[j0 - d] for d in range(1, k_before + 1))
        same += sum(a[i1 + d] == b[j1 + d] for d in range(k_after))
        if same >= _NEAR_MIN and same >= _NEAR_SHARE * (k_before + k_after) and same > best_n:
            best, best_n = (j0, j1), same
    return best


def _figure_runs(t: str, seeds: list[int], skip: set[int]):
    """The maximal runs of figures ``(start, end)`` holding an offset of ``seeds``, none in ``skip``."""
    seen = -1
    for i in seeds:
        if i < seen:
            continue
        i0, i1 = i, i + 1
        while i0 > 0 and t[i0 - 1] >= "\U000F0000":
            i0 -= 1
        while i1 < len(t) and t[i1] >= "\U000F0000":
            i1 += 1
        seen = i1
        if not any(j in skip for j in range(i0, i1)):
            yield i0, i1


def _contexts(t: str, i0: int, i1: int) -> list[tuple]:
    """What places a run of figures ``t[i0:i1]``: the :data:`_CONTEXT` words on
    both sides, else twice as many on one side (the other side changed too,
    or lies at the edge of a moved paragraph)."""
    k, out = _CONTEXT, []
    if i0 >= k and i1 + k <= len(t):
        out.append(("both", t[i0 - k : i0], t[i1 : i1 + k]))
    if i0 >= 2 * k:
        out.append(("before", t[i0 - 2 * k : i0]))
    if i1 + 2 * k <= len(t):
        out.append(("after", t[i1 : i1 + 2 * k]))
    return out


def _points(t: str) -> np.ndarray:
    return np.frombuffer(t.encode("utf-32-le", "surrogatepass"), np.uint32)


@njit(cache=True, nogil=True)
def _extra_figures(ca, cb, base):  # pragma: no cover - compiled
    """How many figures (code points >= ``base``) each side holds beyond the other's (multisets)."""
    fa, fb = np.sort(ca[ca >= base]), np.sort(cb[cb >= base])
    i = j = extra_a = extra_b = 0
    while i < len(fa) and j < len(fb):
        if fa[i] == fb[j]:
            i, j = i + 1, j + 1
        elif fa[i] < fb[j]:
            extra_a, i = extra_a + 1, i + 1
        else:
            extra_b, j = extra_b + 1, j + 1
    return extra_a + len(fa) - i, extra_b + len(fb) - j


def _figures_only_here(a: str, b: str, skip_a: list[int], skip_b: list[int]) -> tuple[list[int], Counter]:
    """The offsets of ``a``'s figures whose value ``b`` holds fewer times (leaving
    out the offsets ``skip_a`` / ``skip_b``), and how many of each value are
    extra (numpy finds the figures; only they are looped over, not the words)."""
    ia = np.flatnonzero(_points(a) >= _FIGURE_BASE).tolist()
    ib = np.flatnonzero(_points(b) >= _FIGURE_BASE).tolist()
    if skip_a:
        gone = set(skip_a)
        ia = [i for i in ia if i not in gone]
    if skip_b:
        gone = set(skip_b)
        ib = [i for i in ib if i not in gone]
    extra = Counter(a[i] for i in ia)
    extra.subtract(b[i] for i in ib)
    extra = +extra  # the values ``a`` holds more often
    if not extra:
        return [], extra
    return [i for i in ia if a[i] in extra], extra


def _take(counts: Counter, c: str) -> bool:
    if counts[c] > 0:
        counts[c] -= 1
        return True
    return False


def figures_swapped(a: str, b: str, opcodes=None) -> bool:
    """True when the alignment of ``a`` and ``b`` replaces figures (see :func:`figure_changes`)."""
    return bool(figure_changes(a, b, opcodes))


def is_update(changes: list[tuple[list[int], list[int]]], a: str, b: str) -> bool:
    """Whether figure changes this few make the pair a later version (the rule in the module docstring)."""
    n = sum(max(len(x), len(y)) for x, y in changes)
    short = a if len(a) <= len(b) else b
    if len(short) < UPDATE_MIN_WORDS or n > MAX_CHANGES or n * WORDS_PER_CHANGE > len(short):
        return False
    figures = sum(1 for c in short if c >= "\U000F0000")
    if figures <= MAX_FIGURE_SHARE * len(short):
        return True
    # A long story full of figures (a results table, a market report) is a
    # later version when few of its figures changed; a template brief is short.
    return len(short) >= UPDATE_LONG_WORDS and n * FIGURES_PER_CHANGE <= figures


def _changed(changes, words_a, words_b) -> tuple[tuple[str, str], ...]:
    def say(words, offsets):
        return " ".join(words[i] if words is not None and i < len(words) else f"#{i}" for i in offsets) or "-"

    return tuple((say(words_a, x), say(words_b, y)) for x, y in changes)


#: The MinHash estimate from which :func:`confirm` aligns a pair at once (most such pairs are
#: copies, and the figures guard needs their alignment) instead of first testing the LCS alone
#: (which gives up early on a pair that cannot pass). The verdict is the same either way.
_ALIGN_FIRST = 0.4

_H1, _H2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9)


def _grams(cp: np.ndarray) -> np.ndarray:
    """Hashes (uint64) of every :data:`GRAM`-word run of a code point sequence."""
    m = len(cp) - GRAM + 1
    h = np.zeros(m, np.uint64)
    x = cp.astype(np.uint64)
    for k in range(GRAM):
        h = (h ^ x[k : k + m]) * _H1
        h ^= h >> np.uint64(29)
    return h * _H2


def _covered(mine: np.ndarray, theirs: np.ndarray, n: int) -> np.ndarray:
    """Which of ``n`` words lie in a k-gram (``mine``) also found in
    ``theirs`` (sorted). A binary search per k-gram: eight times faster
    than ``np.isin`` on 500-word texts, which sorts both sides each call."""
    at = np.searchsorted(theirs, mine)
    at[at == len(theirs)] = 0
    hit = theirs[at] == mine
    cov = np.zeros(n, bool)
    for k in range(GRAM):
        cov[k : k + len(hit)] |= hit
    return cov


def _lead_found(cov: np.ndarray) -> bool:
    lead = _lead_span(len(cov))
    return 2 * int(cov[:lead].sum()) >= lead


def _lead_span(n: int) -> int:
    return int(min(max(n * _LEAD_SHARE, _LEAD_MIN), _LEAD_MAX, n))


def _lead_aligned(ops, a_is_short: bool, short: int) -> bool:
    """Whether at least half of the shorter text's lead lies in the in-order
    alignment. A head of at most :data:`_HEAD_SLACK` unaligned words (a
    byline or a label normalisation left) is not the lead: the lead is then
    counted from the first aligned word."""
    runs = [(op.src_start, op.src_end) if a_is_short else (op.dest_start, op.dest_end)
            for op in ops if op.tag == "equal"]
    if not runs:
        return False
    start = runs[0][0] if runs[0][0] <= _HEAD_SLACK else 0
    end = start + _lead_span(short - start)
    got = sum(max(0, min(hi, end) - max(lo, start)) for lo, hi in runs if lo < end)
    return 2 * got >= end - start


@njit(cache=True, nogil=True)
def _gram_hashes(c, gram):  # pragma: no cover - compiled
    """:func:`_grams`, compiled."""
    h1, h2, sh = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(29)
    m = len(c) - gram + 1
    g = np.empty(m, np.uint64)
    for i in range(m):
        h = np.uint64(0)
        for k in range(gram):
            h = (h ^ np.uint64(c[i + k])) * h1
            h ^= h >> sh
        g[i] = h * h2
    return g


@njit(cache=True, nogil=True)
def _covered_kernel(mine, srt, n, gram):  # pragma: no cover - compiled
    """:func:`_covered`, compiled (``srt`` sorted)."""
    cov = np.zeros(n, np.bool_)
    at = np.searchsorted(srt, mine)
    for i in range(len(mine)):
        j = at[i]
        if j < len(srt) and srt[j] == mine[i]:
            for k in range(gram):
                cov[i + k] = True
    return cov


@njit(cache=True, nogil=True)
def _coverage_kernel(ca, cb, gram):  # pragma: no cover - compiled
    """Which words of each text lie in a :data:`GRAM`-word run found in the other."""
    ga, gb = _gram_hashes(ca, gram), _gram_hashes(cb, gram)
    return _covered_kernel(ga, np.sort(gb), len(ca), gram), _covered_kernel(gb, np.sort(ga), len(cb), gram)


def order_free(ta: str, tb: str, cut: float) -> tuple[float, float] | None:
    """``(share of a, share of b)`` found in the other in any order, when the
    pair passes the order-free rule (module docstring) at ``cut``; else ``None``."""
    ca = np.frombuffer(ta.encode("utf-32-le", "surrogatepass"), np.uint32)
    cb = np.frombuffer(tb.encode("utf-32-le", "surrogatepass"), np.uint32)
    if min(len(ca), len(cb)) < GRAM:
        return None
    cov_a, cov_b = _coverage_kernel(ca, cb, GRAM)
    sa, sb = np.count_nonzero(cov_a) / len(cov_a), np.count_nonzero(cov_b) / len(cov_b)
    (s_short, c_short), (s_long, c_long) = sorted(((sa, cov_a), (sb, cov_b)), key=lambda t: len(t[1]))
    if s_short < cut or not _lead_found(c_short):
        return None
    if s_long < cut and not _lead_found(c_long):
        return None
    return sa, sb


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
    words_b: Sequence[str] | None = None,
) -> Link | str:
    """Decide whether two articles are copies of one story.

    The kinds, in the order they are tried: ``exact`` (the same words);
    ``near`` (at least ``similarity`` of both texts' words line up in
    order); ``contained`` (at least ``containment`` of the shorter one, of
    ``min_contained_tokens`` words or more, lies in order inside the longer);
    ``update`` (``near`` or ``contained`` but with a few figures changed:
    a later version, see the module docstring); ``reused`` (the same
    passages in another order, see the module docstring). The kind never
    depends on ``explain``.

    Args:
        a_id, b_id: the articles' ids (copied into the link).
        a, b: their word ids (``uint32``, from :func:`dedup.minhash.signatures`),
            or those ids already passed through :func:`encode`.
        params: thresholds (``similarity``, ``containment``,
            ``min_contained_tokens``, ``figures_guard``, ``order_free``).
        jaccard: the MinHash estimate, reported in the link (and, with the
            lengths, it decides whether the order-free test is worth running).
        similarity: overrides ``params.similarity`` for this call.
        explain: also return the aligned passages (and, for ``update``, the
            changed figures).
        words_a, words_b: the words of ``a`` / ``b``, to give passages and
            changed figures their text (a figure of a text without words is
            shown as ``#offset``).

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
    ops = None
    if jaccard >= _ALIGN_FIRST and (params.figures_guard or explain):
        # Likely a copy, whose alignment the figures guard needs anyway: the LCS is its
        # aligned words, and the separate LCS pass (~10 us on 460 words) is saved.
        ops = Indel.opcodes(ta, tb)
        lcs = sum(op.src_end - op.src_start for op in ops if op.tag == "equal")
    else:
        lcs = LCSseq.similarity(ta, tb, score_cutoff=max(need, 1))
    score = 2 * lcs / (la + lb)
    c_ab, c_ba = lcs / la, lcs / lb
    if score >= sim_cut:
        kind = "near"
    elif may_contain and max(c_ab if la <= lb else 0.0, c_ba if lb <= la else 0.0) >= params.containment:
        kind = "contained"
    else:
        return (_reused(a_id, ta, b_id, tb, params, jaccard, explain, words_a, words_b)
                or _shared_opening(a_id, ta, b_id, tb, params, jaccard, explain, words_a, words_b) or Verdict.TOO_DIFFERENT)
    if ops is None and (params.figures_guard or explain or kind == "contained"):
        ops = Indel.opcodes(ta, tb)
    if kind == "contained" and not _lead_aligned(ops, la <= lb, short):
        # Most of the shorter text lies in the longer, but not its lead: a
        # follow-up that repeats the story's background under a new lead.
        return _reused(a_id, ta, b_id, tb, params, jaccard, explain, words_a, words_b) or Verdict.TOO_DIFFERENT
    changed: tuple[tuple[str, str], ...] = ()
    if params.figures_guard:
        changes = figure_changes(ta, tb, ops)
        changes += moved_figure_changes(ta, tb, changes)
        if changes:
            if not is_update(changes, ta, tb):
                return _reused(a_id, ta, b_id, tb, params, jaccard, explain, words_a, words_b) or Verdict.FIGURES_DIFFER
            kind = "update"
            changed = _changed(changes, words_a, words_b)  # "#offset" for a side without words
    span = aligned_span(ops, on_b=la <= lb) if ops is not None else None
    found = passages(ops, words_a) if explain else ()
    return Link(a_id, b_id, kind, jaccard, c_ab, c_ba, score, found, span, changed)


def _figures_kept(ta: str, tb: str) -> bool:
    """The figures guard of the order-free test: figures of the shorter text
    found nowhere in the longer are changed figures. A text that is mostly
    its figures (over :data:`MAX_FIGURE_SHARE`: a template brief, a results
    table) may change none; another as few as an update allows (none under
    :data:`UPDATE_MIN_WORDS` words), else the pair is another story."""
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    mine = _points(short)
    figures = int(np.count_nonzero(mine >= _FIGURE_BASE))
    if not figures:
        return True
    n = _extra_figures(mine, _points(long_), _FIGURE_BASE)[0]  # the short text's figures the long one lacks
    if n == 0:
        return True
    if figures > MAX_FIGURE_SHARE * len(short):
        return False
    return len(short) >= UPDATE_MIN_WORDS and n <= MAX_CHANGES and n * WORDS_PER_CHANGE <= len(short)


def _reused(a_id, ta, b_id, tb, params, jaccard, explain, words_a, words_b=None) -> Link | None:
    """The order-free test (module docstring), run only for texts long
    enough and whose MinHash estimate leaves room for it."""
    la, lb = len(ta), len(tb)
    short = min(la, lb)
    if params.order_free is None or short < params.min_contained_tokens:
        return None
    # Estimated share of the shorter text's shingles in the longer: a copy
    # with its paragraphs moved keeps most of them.
    if jaccard * (la + lb) / (1 + jaccard) < 0.5 * params.order_free * short:
        return None
    if not _figures_kept(ta, tb):  # first: cheaper, and what rejects template briefs
        return None
    got = order_free(ta, tb, params.order_free)
    if got is None:
        return None
    sa, sb = got
    kind, changed = "reused", ()
    if params.figures_guard:
        changes = moved_figure_changes(ta, tb)
        if changes:  # a later version whose paragraphs moved too
            if not is_update(changes, ta, tb):
                return None
            kind, changed = "update", _changed(changes, words_a, words_b)
    found = passages(Indel.opcodes(ta, tb), words_a) if explain else ()
    return Link(a_id, b_id, kind, jaccard, sa, sb, sa if la <= lb else sb, found, None, changed)


def opening_words(opcodes, copy_is_a: bool) -> int:
    """Words of the copying text (``a`` when ``copy_is_a``) in passages
    taken from the other's opening (the rule in the module docstring)."""
    own = "delete" if copy_is_a else "insert"  # words of the copy only
    total, started = 0, False
    for op in opcodes:
        if op.tag == own and started:
            break  # the copy's own words: its opening ends here
        if op.tag != "equal" or op.src_end - op.src_start < _MIN_PASSAGE:
            continue  # words of the other only (skipped), or a run too short to count
        if not started and max(op.src_start, op.dest_start) > _HEAD_SLACK:
            return 0
        total, started = total + op.src_end - op.src_start, True
    return total


def _opens_alike(ta: str, tb: str) -> bool:
    """Cheap test before any alignment: some :data:`_MIN_PASSAGE` words in
    the first :data:`_HEAD_SLACK` of one text recur in the other's head."""
    head = tb[: 2 * _HEAD_SLACK + _MIN_PASSAGE]
    return any(ta[i : i + _MIN_PASSAGE] in head for i in range(min(_HEAD_SLACK, len(ta) - _MIN_PASSAGE) + 1))


def _may_open_with(copy: str, other: str, need: int) -> bool:
    """A necessary condition of :func:`opening_words` ``>= need`` for ``copy``, before any
    alignment: its opening starts in its first :data:`_HEAD_SLACK` words and runs ``need``
    words with none of the copy's own (every word of it is aligned, so found in ``other``),
    so its words ``_HEAD_SLACK .. need`` all occur in ``other``."""
    return not copy[_HEAD_SLACK:need].strip(other)  # in C: empty when every word is one of other's, else ends at a miss


def _shared_opening(a_id, ta, b_id, tb, params, jaccard, explain, words_a, words_b=None) -> Link | None:
    """The shared-opening test (module docstring) for a pair that failed the others."""
    la, lb = len(ta), len(tb)
    need = params.shared_opening
    if need is None or min(la, lb) < max(need, params.min_contained_tokens):
        return None
    # Two necessary conditions, the one that rejects template briefs first
    # (their openings part at the first figure, past the words both share).
    if not (_may_open_with(ta, tb, need) or _may_open_with(tb, ta, need)) or not _opens_alike(ta, tb):
        return None
    ops = Indel.opcodes(ta, tb)
    in_a, in_b = opening_words(ops, True), opening_words(ops, False)
    share, words = max((in_a / la, in_a), (in_b / lb, in_b))
    if share < OPENING_SHARE or words < need:
        return None
    kind, changed = "reused", ()
    if params.figures_guard:
        # Only a figure changed in the opening the copy took counts: after it, the copy's words are its own.
        side = 0 if in_a / la >= in_b / lb else 1
        changes = [c for c in figure_changes(ta, tb, ops) if c[side] and max(c[side]) < words + _HEAD_SLACK]
        if changes and not is_update(changes, ta, tb):
            return None
        if changes:  # an item cut from a later version (or the later version cut from this one)
            kind, changed = "update", _changed(changes, words_a, words_b)
    lcs = sum(op.src_end - op.src_start for op in ops if op.tag == "equal")
    found = passages(ops, words_a) if explain else ()
    return Link(a_id, b_id, kind, jaccard, lcs / la, lcs / lb, share, found, None, changed)
