"""``dedup.refine.code_points`` (a numba loop) against the plain numpy formula it replaced."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.minhash import NUMERIC_BIT, signatures
from dedup.refine import _FIGURE_BASE, _PLAIN_SPAN, FIGURE_WORDS, _is_figure_word, code_points


def plain_code_points(ids: np.ndarray) -> np.ndarray:
    ids = np.asarray(ids, dtype=np.uint32)
    figure = (ids & NUMERIC_BIT).astype(bool) | _is_figure_word(ids)
    cp = np.where(figure, _FIGURE_BASE + ids % np.uint32(0x20000), ids % np.uint32(_PLAIN_SPAN)).astype(np.uint32)
    cp += ((cp >= 0xD800) & ~figure) * np.uint32(0x800)
    return cp


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), max_size=300))
def test_code_points_as_the_numpy_formula(values):
    ids = np.array(values, dtype=np.uint32)
    assert np.array_equal(code_points(ids), plain_code_points(ids))


def test_code_points_of_words_figures_and_edges():
    words = signatures([" ".join(FIGURE_WORDS) + " putin signed 1,000 treaties on 5.5 friday"])[1][0]
    edges = np.array([0, 0xD7FF, 0xD800, 0xDFFF, _PLAIN_SPAN - 1, _PLAIN_SPAN, 2**31 - 1, 2**31, 2**32 - 1], np.uint32)
    for ids in (words, edges, words[::-1].copy(), np.empty(0, np.uint32)):
        got = code_points(ids)
        assert got.dtype == np.uint32 and np.array_equal(got, plain_code_points(ids))
    assert (code_points(words[: len(FIGURE_WORDS)]) >= _FIGURE_BASE).all()
