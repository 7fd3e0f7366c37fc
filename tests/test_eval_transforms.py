"""Syndication transforms: deterministic per seed and doing what their name says."""

from __future__ import annotations

import html
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.evaluation.transforms import COSMETIC, CONTENT, TRANSFORMS, Doc, apply_transforms

BODY = (
    "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn for the three months to December. "
    "The firm said it \"now owns\" 8% of Google - a big stake.\n\n"
    "TimeWarner's film division saw profits slump 27% to $284m... Its chief executive said the company "
    "would try to buy more shares. People expected the results to show a rise in sales.\n\n"
    "AOL lost 464,000 subscribers in the fourth quarter. However, the main internet business also "
    "started to help the group. The firm told analysts that the problem was small.\n\n"
    "Time Warner also has to restate 2000 and 2003 results following a probe by the SEC, which is close "
    "to concluding. The company said it would book the sale of its stake in AOL Europe as a loss."
)
DOC = Doc(BODY, "Ad sales boost Time Warner profit")
WORDS = re.compile(r"\S+")
sentences = st.lists(
    st.lists(st.sampled_from("the firm said sales rose in March and profit fell while people bought cars".split()), min_size=3, max_size=12).map(
        lambda ws: " ".join(ws).capitalize() + "."
    ),
    min_size=2,
    max_size=30,
)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_deterministic_for_a_seed_and_changes_something(name):
    a = apply_transforms(DOC, [name], random.Random(7))
    b = apply_transforms(DOC, [name], random.Random(7))
    assert a == b
    assert a != DOC
    seeds = {apply_transforms(DOC, [name], random.Random(s)) for s in range(20)}
    assert len(seeds) > 1, "the seed must matter"


def test_all_categories_are_documented_and_split():
    assert set(COSMETIC) | set(CONTENT) == set(TRANSFORMS)
    assert not set(COSMETIC) & set(CONTENT)
    with pytest.raises(ValueError, match="unknown transformation"):
        apply_transforms(DOC, ["shuffle"], random.Random(0))


@settings(max_examples=100, deadline=None)
@given(sentences, st.integers(0, 10**6))
def test_truncate_keeps_40_to_80_percent_of_words(sents, seed):
    text = " ".join(sents)
    n = len(text.split())
    out = apply_transforms(Doc(text), ["truncate"], random.Random(seed)).text
    if n < 5:
        return
    kept = out.split()
    assert text.startswith(out)
    assert 0.4 * n <= len(kept) <= 0.8 * n
    assert kept == text.split()[: len(kept)]


def test_truncate_prefers_sentence_end():
    for seed in range(30):
        out = apply_transforms(DOC, ["truncate"], random.Random(seed)).text
        assert out.endswith((".", "...")), out[-40:]


@settings(max_examples=100, deadline=None)
@given(sentences, st.integers(0, 10**6))
def test_whitespace_keeps_the_words(sents, seed):
    text = "\n\n".join(" ".join(sents[k : k + 3]) for k in range(0, len(sents), 3))
    assert apply_transforms(Doc(text), ["whitespace"], random.Random(seed)).text.split() == text.split()


@pytest.mark.parametrize("name", ["dateline", "byline", "wire_credit", "boilerplate", "editor_note"])
def test_additions_keep_the_story_verbatim(name):
    for seed in range(10):
        out = apply_transforms(DOC, [name], random.Random(seed))
        assert BODY.strip() in out.text and len(out.text) > len(BODY)


def test_dateline_and_byline_look_like_wire_copy():
    lines = {apply_transforms(DOC, ["dateline"], random.Random(s)).text.split(BODY[:20])[0] for s in range(40)}
    assert any(re.fullmatch(r"[A-Z ]+(, [A-Za-z]+)? \((AP|Reuters|AFP|PA)\) \u2014 ", x) for x in lines)
    assert any(x.endswith(" -- ") for x in lines)
    by = apply_transforms(DOC, ["byline"], random.Random(1)).text.split("\n")[0]
    assert re.fullmatch(r"by [a-z]+ [a-z]+, [a-z ]+", by.lower())


def test_typography_curly_quotes_dashes_ellipsis():
    out = apply_transforms(DOC, ["typography"], random.Random(0)).text
    assert "\u201cnow owns\u201d" in out and "TimeWarner\u2019s" in out and "\u2026" in out
    assert re.search(" [\u2013\u2014] ", out)
    back = out.replace("\u2026", "...").replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    assert re.sub("[\u2013\u2014]", "-", back).split() == BODY.split()


def test_html_round_trips_to_the_same_words():
    out = apply_transforms(DOC, ["html"], random.Random(2)).text
    assert "<p>" in out and ("&#8217;" in out or "&rsquo;" in out or "&#39;" in out)
    plain = html.unescape(re.sub(r"<[^>]+>", " ", out)).replace("\u2019", "'").replace("\xa0", " ")
    assert plain.split() == BODY.split()


def test_drop_paragraph_drops_exactly_one_non_lead_paragraph():
    paras = BODY.split("\n\n")
    for seed in range(10):
        out = apply_transforms(DOC, ["drop_paragraph"], random.Random(seed)).text.split("\n\n")
        assert len(out) == len(paras) - 1 and out[0] == paras[0]
        assert all(p in paras for p in out)


def test_headline_changes_only_the_title():
    for seed in range(10):
        out = apply_transforms(DOC, ["headline"], random.Random(seed))
        assert out.text == BODY and out.title != DOC.title
        assert DOC.title.lower() in out.title.lower()


def _changed_words(a: str, b: str) -> int:
    wa, wb = a.split(), b.split()
    assert len(wa) == len(wb)
    return sum(x != y for x, y in zip(wa, wb))


def test_reword_touches_5_to_10_percent_of_words():
    n = len(BODY.split())
    for seed in range(20):
        out = apply_transforms(DOC, ["reword"], random.Random(seed)).text
        changed = _changed_words(BODY, out)
        # a swap changes two words; a synonym may be two words long (counted by position)
        assert 1 <= changed <= 2 * 0.10 * n + 1


def test_ocr_noise_touches_1_to_2_percent_of_words_with_known_confusions():
    long = " ".join([BODY] * 5)
    n = len(long.split())
    for seed in range(20):
        out = apply_transforms(Doc(long), ["ocr_noise"], random.Random(seed)).text
        changed = _changed_words(long, out)
        assert round(0.01 * n) <= changed <= round(0.02 * n) + 1
        for x, y in zip(long.split(), out.split()):
            if x != y:
                assert abs(len(x) - len(y)) <= 1


def test_stacking_puts_content_changes_first_and_html_last():
    out = apply_transforms(DOC, ["html", "dateline", "truncate"], random.Random(4)).text
    assert out.startswith("<p>") or out.startswith("<strong>") or out.startswith("<p><strong>")
    assert len(html.unescape(re.sub(r"<[^>]+>", " ", out)).split()) < len(BODY.split())
