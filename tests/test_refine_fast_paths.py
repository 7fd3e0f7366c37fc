"""Fast paths of :mod:`dedup.refine` against plain references (the rules as
they were written first): the figures guard of the order-free test (numpy,
not ``Counter``) and the shared-opening test's necessary condition
(``str.strip``, not a loop a word) give the same answer on every pair of
encoded texts."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.refine import MAX_CHANGES, MAX_FIGURE_SHARE, UPDATE_MIN_WORDS, WORDS_PER_CHANGE, _figures_kept, _may_open_with

_FIGURES = [chr(0xF0000 + k) for k in range(6)]  # encoded figures live in the private-use planes 15-16
_WORDS = [chr(0x4E00 + k) for k in range(8)] + _FIGURES


def reference(ta: str, tb: str) -> bool:
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    mine = Counter(c for c in short if c >= "\U000F0000")
    if not mine:
        return True
    n = sum((mine - Counter(c for c in long_ if c >= "\U000F0000")).values())
    if n == 0:
        return True
    if sum(mine.values()) > MAX_FIGURE_SHARE * len(short):
        return False
    return len(short) >= UPDATE_MIN_WORDS and n <= MAX_CHANGES and n * WORDS_PER_CHANGE <= len(short)


texts = st.lists(st.sampled_from(_WORDS), max_size=400).map("".join)
few_figures = st.lists(st.sampled_from(_WORDS[:8]), min_size=60, max_size=400).flatmap(
    lambda w: st.lists(st.tuples(st.integers(0, len(w) - 1), st.sampled_from(_FIGURES)), max_size=12).map(
        lambda put: "".join(dict(put).get(i, c) for i, c in enumerate(w))))


@settings(max_examples=400, deadline=None)
@given(texts, texts)
def test_figures_kept_is_the_counter_rule(ta, tb):
    assert _figures_kept(ta, tb) == reference(ta, tb)


@settings(max_examples=400, deadline=None)
@given(few_figures, few_figures)
def test_figures_kept_is_the_counter_rule_for_long_texts_with_few_figures(ta, tb):
    """Texts long enough and with figures few enough that the change count decides."""
    assert _figures_kept(ta, tb) == reference(ta, tb)


@settings(max_examples=400, deadline=None)
@given(texts, texts, st.integers(0, 80))
def test_may_open_with_is_every_word_found(copy, other, need):
    assert _may_open_with(copy, other, need) == all(w in other for w in copy[8:need])


@settings(max_examples=300, deadline=None)
@given(few_figures, st.lists(st.tuples(st.integers(0, 399), st.sampled_from(_WORDS)), max_size=30),
       st.floats(0, 1))
def test_aligning_first_gives_the_verdict_of_the_lcs_test_first(ta, edits, jaccard):
    """:func:`confirm` aligns a likely copy at once (``_ALIGN_FIRST``) instead of testing its
    LCS first: on every pair, and whatever the estimate says, the answer is the same."""
    import dedup.refine as refine
    from dedup.params import Params

    tb = "".join(dict(edits).get(i, c) for i, c in enumerate(ta))
    answers = []
    for first in (0.0, 2.0):  # always align first; never
        old, refine._ALIGN_FIRST = refine._ALIGN_FIRST, first
        try:
            answers.append(refine.confirm("a", ta, "b", tb, Params(), jaccard=jaccard))
        finally:
            refine._ALIGN_FIRST = old
    assert answers[0] == answers[1]


def _figures_only_here_reference(a: str, b: str, skip_a: list[int], skip_b: list[int]):
    """The values ``a`` holds more often than ``b`` (skipped offsets left out), by a loop a word."""
    fa = [i for i in range(len(a)) if a[i] >= "\U000F0000" and i not in skip_a]
    extra = Counter(a[i] for i in fa) - Counter(b[j] for j in range(len(b)) if b[j] >= "\U000F0000" and j not in skip_b)
    return [i for i in fa if a[i] in extra], extra


@settings(max_examples=400, deadline=None)
@given(texts, texts, st.data())
def test_figures_only_here_is_the_counter_rule(ta, tb, data):
    from dedup.refine import _figures_only_here

    skip_a = data.draw(st.lists(st.integers(0, max(len(ta) - 1, 0)), max_size=5)) if ta else []
    skip_b = data.draw(st.lists(st.integers(0, max(len(tb) - 1, 0)), max_size=5)) if tb else []
    assert _figures_only_here(ta, tb, skip_a, skip_b) == _figures_only_here_reference(ta, tb, skip_a, skip_b)
