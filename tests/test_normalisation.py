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
    with pytest.raises(ValueError, match=r"boilerplate pattern 2 \('\(unclosed'\): invalid: .* at position 0"):
        Normaliser(boilerplate=("fine", "(unclosed"))  # the position is in the user's pattern, not the combined one


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


_HOUSE = Normaliser(boilerplate=("read more from the city desk on our website",))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "Read more from the city desk on our website.", "Sign up for news!", "WASHINGTON -- ", "Putin spoke.",
    "Ten people died.", "\n", " ", "Qtly div 12 cts",
]), max_size=12))
def test_idempotent_with_a_house_line(parts):
    once = _HOUSE("".join(parts))
    assert _HOUSE(once) == once


def test_a_house_line_goes_even_from_a_brief_shorter_than_it():
    footer = "Read more from the city desk on our website."
    assert _HOUSE("Div 12 cts\n" + footer) == "Div 12 cts"
    built_in = "Div 12 cts\nSign up for our daily markets newsletter today!"
    assert normalise(built_in) == built_in  # a built-in pattern would take over three quarters: kept
    assert _HOUSE(footer) == footer  # nothing would be left


def test_inline_boilerplate_only_where_it_opens_or_closes_a_paragraph():
    fox = "Fox News Flash top headlines are here. Check out what's clicking on Foxnews.com."
    middle = "The ministry said so. " + fox + " " + BODY
    assert fox in normalise(middle)
    assert normalise(fox + " " + BODY) == normalise(BODY) == normalise(BODY + " " + fox)


# -- any script: punctuation of every script splits words ------------------------------------

from dedup.minhash import NUMERIC_BIT, signatures  # noqa: E402

SCRIPTS = {
    # Urdu: full stop U+06D4 and Arabic comma U+060C glued to words.
    "urdu": ("\u067e\u0627\u06a9\u0633\u062a\u0627\u0646 \u0645\u06cc\u06ba \u0628\u0627\u0631\u0634\u060c \u0633\u06cc\u0644\u0627\u0628 \u06a9\u0627 \u062e\u0637\u0631\u06c1\u06d4\u0644\u0627\u06c1\u0648\u0631",
             ["\u067e\u0627\u06a9\u0633\u062a\u0627\u0646", "\u0645\u06cc\u06ba", "\u0628\u0627\u0631\u0634", "\u0633\u06cc\u0644\u0627\u0628", "\u06a9\u0627", "\u062e\u0637\u0631\u06c1", "\u0644\u0627\u06c1\u0648\u0631"]),
    # Arabic: question mark U+061F, Arabic-Indic digits become figures.
    "arabic": ("\u0642\u062a\u0644 \u0663\u0665 \u0634\u062e\u0635\u0627\u061f\u0646\u0639\u0645",
               ["\u0642\u062a\u0644", "35", "\u0634\u062e\u0635\u0627", "\u0646\u0639\u0645"]),
    # Hindi: danda U+0964; vowel signs (marks) stay inside their word.
    "hindi": ("\u0926\u093f\u0932\u094d\u0932\u0940 \u092e\u0947\u0902 \u092c\u093e\u0930\u093f\u0936\u0964\u092e\u0941\u0902\u092c\u0908 \u0967\u0968",
              ["\u0926\u093f\u0932\u094d\u0932\u0940", "\u092e\u0947\u0902", "\u092c\u093e\u0930\u093f\u0936", "\u092e\u0941\u0902\u092c\u0908", "12"]),
    # Russian: guillemets, em dash, ellipsis.
    "russian": ("\u00ab\u0413\u0430\u0437\u043f\u0440\u043e\u043c\u00bb\u2014\u0446\u0435\u043d\u044b\u2026\u0440\u043e\u0441\u0442",
                ["\u0433\u0430\u0437\u043f\u0440\u043e\u043c", "\u0446\u0435\u043d\u044b", "\u0440\u043e\u0441\u0442"]),
    # Chinese: one word per character, ideographic full stop and comma split.
    "chinese": ("\u82f1\u56fd\u8857\u9053\u3002\u5783\u573e\uff0cG20\u3001\u300c\u5e74\u300d",
                ["\u82f1", "\u56fd", "\u8857", "\u9053", "\u5783", "\u573e", "g20", "\u5e74"]),
    # Japanese kana too; Korean Hangul keeps its space-separated words.
    "japanese": ("\u30cb\u30e5\u30fc\u30b9\u3067\u3059\u3002", ["\u30cb", "\u30e5", "\u30fc", "\u30b9", "\u3067", "\u3059"]),
    "korean": ("\uc11c\uc6b8 \ub274\uc2a4\u00b7\uc815\uce58.", ["\uc11c\uc6b8", "\ub274\uc2a4", "\uc815\uce58"]),
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_punctuation_of_every_script_splits_words(name):
    text, words = SCRIPTS[name]
    norm = normalise(text)
    assert tokens(norm) == words
    _, ids = signatures([norm.lower()])
    assert len(ids[0]) == len(words)  # the kernel cuts the same words
    assert normalise(norm) == norm


def test_digits_glued_to_letters_are_not_figures():
    norm = normalise("The 3rd covid19 wave hit 5g masts: 12 towers, 1,500 homes, 2.5 days.")
    _, ids = signatures([norm.lower()])
    figures = [w for w, i in zip(tokens(norm), ids[0]) if i & NUMERIC_BIT]
    assert figures == ["12", "1500", "2.5"]


def test_semeval_multilingual_sample_tokenises_like_the_kernel():
    import csv
    from pathlib import Path

    path = Path("/work/shared/data/semeval2022-task8-hfl-sample/training_set.csv")
    if not path.exists():
        pytest.skip("no shared data")
    csv.field_size_limit(10**9)
    with open(path, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["lang1"] in ("ar", "zh", "ru", "tr", "pl")][:60]
    texts = [normalise(r["text1"]) for r in rows]
    _, ids = signatures([t.lower() for t in texts])
    for t, wid in zip(texts, ids):
        words = tokens(t)
        assert len(wid) == len(words)
        assert not any(set(w) & set("\u060c\u06d4\u061f\u3002\u3001\u00ab\u00bb\u2014") for w in words)


@pytest.mark.parametrize("a,b", [
    ("Sales rose 5 pct to 10 mln dlrs.", "Sales rose 5% to 10 million dlrs."),
    ("Sales rose 5 per cent to 10 million dlrs.", "Sales rose 5 percent to 10 mln dlrs."),
    ("It hired 1,000 people.", "It hired 1000 people."),
    ("Profit was $3.5bn.", "Profit was $3.5 billion."),
    ("Profit was 3.5 bln dlrs.", "Profit was 3.5 billion dlrs."),
    ("A \u00a35m deal and a $50k fee.", "A \u00a35 million deal and a $50 thousand fee."),
    ("Debt of 1,234,567 dlrs, 2.5 trillion yen.", "Debt of 1234567 dlrs, 2.5 trillion yen."),
    ("It fell 5%.", "It fell 5 pct."),
])
def test_a_figure_is_its_value_not_its_spelling(a, b):
    assert tokens(normalise(a)) == tokens(normalise(b))


def test_figure_spelling_leaves_other_words_alone():
    text = "The column said 5 percentage points, the million-strong crowd, in 2004,2005 and 1,2,3."
    assert normalise(text) == text


def test_currency_signs_become_spaces_after_their_figures_are_spelled():
    # Like "$" (which the tokeniser drops), "€ £ ¥ ₹" never stay glued to a figure.
    assert normalise("\u20ac5") == "5"
    assert normalise("A \u20ac5m fee, \u00a34 and \u20b910") == "A 5 million fee, 4 and 10"
    assert tokens(normalise("\u20ac5m")) == tokens(normalise("$5 million")) == ["5", "million"]
    assert normalise("\u00a9 2024 and \u00ae") == "\u00a9 2024 and \u00ae"  # kept: boilerplate reads them


# -- the fast normaliser against a plain reference --------------------------------------------

import html as _html  # noqa: E402
import re as _re  # noqa: E402
import unicodedata as _ud  # noqa: E402

import dedup.normalisation as N  # noqa: E402


def _reference_table() -> dict[str, str]:
    """The full table of every plane 0-1 character the cleaner rewrites (what the code looks up per character)."""
    table = {}
    for cp in range(0x80, 0x20000):
        c = chr(cp)
        cat = _ud.category(c)
        if (cat[0] in "PS" and c not in "\u00a9\u00ae") or c in "\u1680\u2028\u2029":
            table[c] = " "
        elif cat == "Nd":
            table[c] = str(_ud.digit(c))
    table.update({"\u066b": ".", "\u066c": ",", "\u0640": ""})
    table.update({chr(k): v for k, v in N._QUOTES.items()})
    return table


_TABLE: dict[str, str] = {}


def _reference_clean_once(text: str) -> str:
    """One cleaning pass, step by step with no shortcut: each regex and each line in Python."""
    _TABLE or _TABLE.update(_reference_table())
    if "<" in text:
        text = N._TAG.sub(" ", N._BLOCK_TAG.sub("\n", text))
    text = _html.unescape(text)
    text = N._nonascii_patterns()[0].sub("", text)
    if not text.isascii():
        text = _ud.normalize("NFKC", text)
        for pat, sign in zip(N._CURRENCY_M[1:], "\u00a3\u20ac\u00a5\u20b9"):
            text = pat.sub(N._currency_m, text)
        text = "".join(_TABLE.get(c, c) for c in text.replace("`", "'"))
        text = N._nonascii_patterns()[1].sub(r" \g<0> ", text)
    text = N._DASH_RUN.sub(" -- ", text)
    return "\n".join(ln for ln in (" ".join(line.split()) for line in text.split("\n")) if ln)


def _reference_normalise(text: str, n: Normaliser = N._DEFAULT) -> str:
    cleaned = _reference_clean_once(text)
    for _ in range(20 if "<" in text or "&" in text else 0):  # markup: to the fixed point
        nxt = _reference_clean_once(cleaned)
        if nxt == cleaned:
            break
        cleaned = nxt
    stripped = cleaned
    while True:
        lines = stripped.split("\n")
        m = n._head.match(lines[0])
        if m:
            lines[0] = lines[0][m.end():].strip()
        last, lo = lines[-1], max(0, len(lines[-1]) - 400)
        for pos in ([lo] if lo == 0 else []) + [g.end() for g in N._SENTENCE_GAP.finditer(last, lo)]:
            if n._inline.fullmatch(last, pos):
                lines[-1] = last[:pos].strip()
                break
        k = len(lines)
        lines = [ln for i, ln in enumerate(lines) if ln and not n._bp.fullmatch(ln.strip(" .-"))
                 and not ((i < 2 or i >= k - 2) and n._byline.fullmatch(ln.strip(" .-")))]
        if lines and (m := N._VERSION_TAG.match(lines[0])) and m.end() < len(lines[0]):
            lines[0] = lines[0][m.end():]
        if lines and (m := N._DATELINE.match(lines[0]) or N._AGENCY_ONLY.match(lines[0])) and m.end() < len(lines[0]):
            lines[0] = lines[0][m.end():]
        nxt = "\n".join(lines).strip()
        if nxt == stripped:
            break
        stripped = nxt
    text = cleaned if len(stripped) * 4 < len(cleaned) else stripped
    text = N._THOUSANDS.sub("", text)
    text = N._CURRENCY_M[0].sub(N._currency_m, text)
    for u in ("%", "per cent", "percent", "bn", "bln", "mln", "mn"):
        text = _re.sub(_re.escape(u) + ("" if u == "%" else r"\b"), N._unit, text)
    return text


_NASTY = st.sampled_from(list(
    " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u2028\u2029\u3000\u200b\u0640\u0654\u0627\u00e9\u0301"
    "e<>&;/-.,'\"`%$\u00a3\u20ac5m09abAPUDTkbnl\u201c\u2014\u2026\u00bb\u061f\u06d4\u4e00\u3002\uff10\u0663"
    "\u00b2\ud800\ue000\U00020000\U0001f600\u00a9") + [
    "&amp;", "&lt;", "<p>", "</b>", "<!--", "-->", "per cent", "mln", "bn", "UPDATE 2-", "KYIV (AP) - ",
    "By John Smith", "Reuters", "---", "1,000", "Sign up for x", "Read more: y", "Putin spoke. "])


@settings(max_examples=600, deadline=None)
@given(st.lists(_NASTY, max_size=40).map("".join) | st.text())
def test_fast_normaliser_equals_the_plain_reference(text):
    assert normalise(text) == _reference_normalise(text)


def test_fast_normaliser_equals_the_plain_reference_on_real_news():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from make_dump import benchmark_texts

    try:
        texts, _ = benchmark_texts(600)
    except OSError:
        pytest.skip("no shared data")
    assert [normalise(t) for t in texts] == [_reference_normalise(t) for t in texts]


def test_word_classes_are_the_documented_sets():
    word, letter = _re.compile(f"[{N._W}]"), _re.compile(f"[{N._L}]")
    for cp in [*range(0x300), 0xD800, 0xFFFF, 0x10000, 0x10FFFF]:
        c = chr(cp)
        assert bool(word.match(c)) == (c.isascii() and (c.isalnum() or c == "_") or cp >= 0x80)
        assert bool(letter.match(c)) == (c.isascii() and (c.isalpha() or c == "_") or cp >= 0x80)
