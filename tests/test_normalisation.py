"""Normalisation: what it removes, what it keeps, and its properties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.normalisation import Normaliser, clean, normalise, tokens

BODY = ("Russian President Vladimir Putin signed treaties Friday to annex occupied areas of Ukraine "
        "and said he would use all available means to protect the territory. ") * 3


@pytest.mark.parametrize("prefix", [
    "KYIV, Ukraine (AP) \u2014 ", "KYIV, Ukraine (AP) -- ", "LONDON (Reuters) - ", "WASHINGTON -- ",
    "NEW YORK, March 3 - ", "(AP) -- ", "By Jane Smith, Associated Press\n", "By JOHN DOE\n",
    "Fox News Flash top headlines are here. Check out what's clicking on Foxnews.com. ",
    "<p>", "Sign up for our morning newsletter!\n",
])
def test_leading_wire_matter_is_removed(prefix):
    assert normalise(prefix + BODY) == normalise(BODY)


@pytest.mark.parametrize("suffix", [
    "\nCopyright 2022 The Associated Press. All rights reserved. This material may not be published, broadcast, rewritten or redistributed.",
    " Copyright 2022 The Associated Press. All rights reserved.",
    "\nRead more: Why the war matters",
    "\nAssociated Press writers Jill Lawless and Danica Kirka contributed to this report.",
    "\nReporting by Jane Doe; Editing by John Roe",
    "\nReuter",
    "</p>",
    "\n(c) Copyright Thomson Reuters 2005. Click For Restrictions.",
    " (c) Copyright Thomson Reuters 2005. Click For Restrictions.",
])
def test_trailing_boilerplate_is_removed(suffix):
    assert normalise(BODY + suffix) == normalise(BODY)


def test_typography_and_markup_variants_normalise_alike():
    plain = 'Putin said "treat ... with respect" - and it\'s final & binding.'
    fancy = "<b>Putin</b> said \u201ctreat \u2026 with respect\u201d \u2014 and it\u2019s final &amp; binding."
    assert tokens(normalise(plain)) == tokens(normalise(fancy))


def test_body_sentences_that_look_like_datelines_are_kept():
    text = "The U.S. said on Monday that talks would resume. " * 3
    assert normalise(text) == text.strip()
    assert normalise("NATO allies met in Brussels on Monday to discuss aid. " * 3).startswith("NATO allies")


def test_short_brief_loses_its_boilerplate():
    brief = "Qtly div 12-1/2 cts vs 12-1/2 cts prior\nPay April One\nRecord March 13"
    assert normalise(brief + "\nSign up for our daily markets newsletter today!") == normalise(brief)


def test_story_about_boilerplate_keeps_its_lines():
    text = "Sign up for the draft now.\nRead more: the rules.\nAll rights reserved."
    assert normalise(text) == text  # removing them would take more than three quarters


def test_user_patterns_extend_the_list():
    n = Normaliser(boilerplate=(r"subscribe to the daily brief.*",))
    assert n("Subscribe to the Daily Brief today\n" + BODY) == normalise(BODY)
    with pytest.raises(ValueError, match="invalid pattern"):
        Normaliser(boilerplate=("(unclosed",))


def test_tokens_keep_figures_whole():
    assert tokens("Profits rose 76% to $1.13bn, the U.S. firm's best; 1,000 jobs.") == [
        "profits", "rose", "76", "to", "1.13bn", "the", "u.s", "firm's", "best", "1,000", "jobs"]


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_idempotent_and_total_on_any_unicode(text):
    once = normalise(text)
    assert normalise(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "KYIV, Ukraine (AP) \u2014 ", "Sign up for news!", "Copyright 2020 The Associated Press. All rights reserved.",
    "Read more: x", "<p>", "</p>", "&amp;", "\u201c", "\n", "By Jane Roe", "WASHINGTON -- ", "Reuter",
    "Putin spoke.", "Ten people died.", " ",
]), max_size=12))
def test_idempotent_on_wire_fragments(parts):
    once = normalise("".join(parts))
    assert normalise(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1), st.text(min_size=1))
def test_never_removes_more_than_three_quarters(head, body):
    text = "Sign up for news!\n" + head + "\n" + body
    assert len(normalise(text)) * 4 >= len(clean(text))


def test_inline_boilerplate_only_where_it_opens_or_closes_a_paragraph():
    fox = "Fox News Flash top headlines are here. Check out what's clicking on Foxnews.com."
    middle = "The ministry said so. " + fox + " " + BODY
    assert fox in normalise(middle)
    assert normalise(fox + " " + BODY) == normalise(BODY) == normalise(BODY + " " + fox)
