"""Fast paths of :mod:`dedup.refine` against plain references (the rules as
they were written first): the figures guard of the order-free test (numpy,
not ``Counter``), the shared-opening test's necessary condition
(``str.strip``, not a loop a word) and the figures one text holds more often
than the other give the same answer on every pair of encoded texts; and
:func:`~dedup.refine.confirm` answers the same whether it aligns a pair at
once or tests its LCS first."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

import dedup.refine as refine
from dedup.params import Params
from dedup.refine import (MAX_CHANGES, MAX_FIGURE_SHARE, UPDATE_MIN_WORDS, WORDS_PER_CHANGE, _figures_kept,
                          _figures_only_here, _may_open_with)

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


def _edited(rng, t: str) -> str:
    """``t`` as syndication edits it: words changed, inserted, deleted, then a lead or a tail
    cut, a new lead or tail, paragraphs moved, or the opening taken and the rest its own."""
    w = list(t)
    for _ in range(rng.choice([0, 1, 3, 10, 40])):
        op, i = rng.random(), rng.randrange(len(w) + 1)
        if op < 0.33 and w:
            w[min(i, len(w) - 1)] = rng.choice(_WORDS)
        elif op < 0.66:
            w.insert(i, rng.choice(_WORDS))
        elif w:
            del w[min(i, len(w) - 1)]
    r, n = rng.random(), len(w)
    if r < 0.2:
        w = w[rng.randrange(n // 2 + 1):]
    elif r < 0.4:
        w = w[: rng.randrange(n // 2, n + 1)]
    elif r < 0.55:
        w = [rng.choice(_WORDS) for _ in range(rng.randint(1, 40))] + w
    elif r < 0.65:
        w += [rng.choice(_WORDS) for _ in range(rng.randint(1, 200))]
    elif r < 0.8:
        cuts = sorted(rng.sample(range(n + 1), min(rng.randint(2, 6), n + 1)))
        blocks = [w[i:j] for i, j in zip([0, *cuts], [*cuts, n])]
        rng.shuffle(blocks)
        w = [x for b in blocks for x in b]
    elif r < 0.92:
        w = w[: rng.randint(20, 120)] + [rng.choice(_WORDS) for _ in range(rng.randint(20, 300))]
    return "".join(w)


@settings(max_examples=400, deadline=None)
@given(st.randoms(use_true_random=False))
def test_aligning_first_gives_the_verdict_of_the_lcs_test_first(rng):
    """:func:`confirm` aligns a likely copy at once (``_ALIGN_FIRST``) instead of testing its
    LCS first: on every pair (every verdict: failing pairs, contained, reused, openings),
    with any parameters and with passages asked for, the answer is the same."""
    ta = "".join(rng.choice(_WORDS[: rng.choice([4, 8])] + _FIGURES[: rng.randint(0, 6)])
                 for _ in range(rng.randint(1, 300)))
    tb = _edited(rng, ta) or ta
    if rng.random() < 0.5:
        ta, tb = tb, ta
    params = Params(figures_guard=rng.random() < 0.8, order_free=rng.choice([None, 0.8]),
                    similarity=rng.choice([0.8, 0.6, 0.95]), containment=rng.choice([0.85, 0.7]),
                    min_contained_tokens=rng.choice([30, 5]))
    explain = rng.random() < 0.3
    words_a = [f"w{ord(c):x}" for c in ta] if explain else None
    words_b = [f"w{ord(c):x}" for c in tb] if explain else None
    jaccard = rng.random()
    answers = []
    for first in (0.0, 2.0):  # always align first; never
        old, refine._ALIGN_FIRST = refine._ALIGN_FIRST, first
        try:
            answers.append(refine.confirm("a", ta, "b", tb, params, jaccard=jaccard, explain=explain,
                                          words_a=words_a, words_b=words_b))
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
    skip_a = data.draw(st.lists(st.integers(0, max(len(ta) - 1, 0)), max_size=5)) if ta else []
    skip_b = data.draw(st.lists(st.integers(0, max(len(tb) - 1, 0)), max_size=5)) if tb else []
    assert _figures_only_here(ta, tb, skip_a, skip_b) == _figures_only_here_reference(ta, tb, skip_a, skip_b)


def test_aligning_first_keeps_the_lead_check_of_contained_pairs():
    """A follow-up that repeats most of a story under a lead of its own is not ``contained``
    (its lead is not aligned), on both paths."""
    import random

    rng = random.Random(5)
    story = "".join(chr(0x4E00 + rng.randrange(2000)) for _ in range(600))
    follow_up = "".join(chr(0x6000 + rng.randrange(2000)) for _ in range(40)) + story[300:560]  # 87% of it inside
    answers = []
    for first in (0.0, 2.0):
        old, refine._ALIGN_FIRST = refine._ALIGN_FIRST, first
        try:
            answers.append(refine.confirm("a", story, "b", follow_up, Params(order_free=None), jaccard=0.6))
        finally:
            refine._ALIGN_FIRST = old
    assert answers[0] == answers[1] == refine.Verdict.TOO_DIFFERENT
