"""dedup.offsets against a plain reference: texts built from pieces whose
positions are known, each piece normalised on its own (the slow, obvious
way), then compared with the map of the whole text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import Article, Deduplicator
from dedup.normalisation import normalise, tokens
from dedup.offsets import char_passages, text_map

# Body pieces: plain words, words with typography, entities, figures.
WORDS = ["shares", "rose", "Monday", "central", "bank", "Kyiv", "officials", "said", "l'été", "über",
         "“quoted”", "don’t", "caf&eacute;", "R&amp;D", "5%", "$10m", "1,000", "3.5", "naïve", "東京",
         "(brackets)", "end.", "comma,"]
# What may sit between two pieces: spaces, tags, line breaks.
GAPS = [" ", "  ", " <b> ", "</p>\n<p>", "\n", " \u00a0 "]


def build(pieces: list[str], gaps: list[str], dateline: bool, boilerplate: bool) -> tuple[str, list[tuple[int, int]]]:
    """The text and each piece's span in it."""
    text, spans = "LONDON (Reuters) - " if dateline else "", []
    for i, piece in enumerate(pieces):
        if i:
            text += gaps[i % len(gaps)]
        spans.append((len(text), len(text) + len(piece)))
        text += piece
    if boilerplate:
        text += "\nAdvertisement\nAll rights reserved."
    return text, spans


def reference(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, tuple[int, int]]]:
    """Every normalised word of the body, with the span of the piece it came from."""
    return [(w, span) for span in spans for w in tokens(normalise(text[span[0]:span[1]]))]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=6, max_size=40), st.lists(st.sampled_from(GAPS), min_size=1, max_size=5),
       st.booleans(), st.booleans())
def test_every_word_maps_into_the_piece_it_came_from(pieces, gaps, dateline, boilerplate):
    text, spans = build(pieces, gaps, dateline, boilerplate)
    ref = reference(text, spans)
    m = text_map(text)
    assert [w for w, _ in ref] == tokens(normalise(text))  # the construction is what the normaliser sees
    assert len(m) == len(ref)
    for i, (word, (lo, hi)) in enumerate(ref):
        s, e = int(m.starts[i]), int(m.ends[i])
        assert lo <= s <= e <= hi, (word, text[lo:hi], text[s:e])
        assert s < e or word in ("pct", "million"), (word, text[lo:hi])  # only added words may be empty
    if dateline:
        assert any(text[s:e].startswith("LONDON") for s, e in m.removed)
    if boilerplate:
        assert any("Advertisement" in text[s:e] for s, e in m.removed)


def test_plain_words_map_exactly():
    text = "KYIV, Ukraine (AP) — Officials said on Monday that the “talks” would resume.\n\nAdvertisement"
    m = text_map(text)
    got = [text[s:e] for s, e in zip(m.starts, m.ends)]
    assert got == ["Officials", "said", "on", "Monday", "that", "the", "talks", "would", "resume"]
    assert [text[s:e] for s, e in m.removed] == ["KYIV, Ukraine (AP)", "Advertisement"]


def test_rewritten_figures_and_entities_keep_their_pieces():
    text = "Profit was $10m, up 5% from 1,000 caf&eacute;s."
    m = text_map(text)
    got = dict(zip(tokens(normalise(text)), (text[s:e] for s, e in zip(m.starts, m.ends))))
    assert got["10"] == got["million"] == "$10m"
    assert got["5"] == "5" and got["pct"] in ("%", "5%")
    assert got["1000"] == "1,000" and got["cafés"] == "caf&eacute;s"


def test_span_refuses_words_outside_the_text():
    m = text_map("one two three")
    assert m.span(0, 3) == (0, 13)
    with pytest.raises(ValueError):
        m.span(2, 4)
    with pytest.raises(ValueError):
        m.span(1, 1)


def test_passages_of_a_real_link_cover_their_words_in_both_originals():
    body = ("The central bank raised interest rates by a quarter point on Thursday, its third increase this year, "
            "citing stubborn inflation in services and a labour market that has barely cooled. ") * 2
    a = "<p>Officials said: " + body.replace("quarter", "“quarter”") + "</p><p>Advertisement</p>"
    b = "FRANKFURT (Reuters) - " + body + "\nReporting by Jane Doe; Editing by John Roe"
    d = Deduplicator()
    d.add(Article("a", a))
    link = d.add(Article("b", b), explain=True).duplicates[0]
    assert link.passages
    spans = char_passages(link.passages, text_map(b), text_map(a))  # link.a is "b": the new article
    for p, sp in zip(link.passages, spans):
        assert tokens(normalise(b[sp["char_start"]:sp["char_end"]])) == p.text.split()
        assert tokens(normalise(a[sp["their_char_start"]:sp["their_char_end"]])) == p.text.split()
