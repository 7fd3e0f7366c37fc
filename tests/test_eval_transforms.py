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


# --- the edits added for the "edited" and "multilingual" tracks ---------------------------------------------

LONG = "\n\n".join([BODY] * 2).replace("TimeWarner", "Time Warner")
AR = ("قال رئيس الوزراء، إن الحكومة ستعلن خطة جديدة الأسبوع المقبل. وأضاف أن الخطة تشمل دعم الأسر. "
      "وكان البرلمان قد ناقش المسألة يوم الاثنين. ولم يصدر تعليق من المعارضة؟ وتوقع محللون أن تثير الخطة جدلا.")
ZH = "政府周一宣布了新的计划。该计划包括对家庭的支持，预计将在下个月实施。议会上周讨论了这一问题。反对派尚未发表评论！分析人士认为，这项计划会引发争议。"
RU = ("Правительство в понедельник объявило о новом плане. План включает поддержку семей. "
      "Парламент обсуждал этот вопрос на прошлой неделе. Оппозиция пока не дала комментариев. Аналитики ждут споров.")


def _sents(text):
    from dedup.evaluation.cosmetic import _sentences, script_of

    s = script_of(text)
    return [x for p in re.split(r"\n\s*\n", text) for x in _sentences(p, s)]


def test_script_detection():
    from dedup.evaluation.transforms import script_of

    assert [script_of(t) for t in (BODY, AR, ZH, RU)] == ["latin", "arabic", "cjk", "cyrillic"]


@pytest.mark.parametrize("text", [BODY, AR, ZH, RU])
def test_reorder_moves_two_or_more_paragraphs_and_keeps_every_sentence(text):
    for seed in range(15):
        out = apply_transforms(Doc(text), ["reorder"], random.Random(seed)).text
        assert sorted(_sents(out)) == sorted(_sents(text))
        paras = out.split("\n\n")
        assert len(paras) >= 3
        # the same multiset of paragraphs; at least two of them out of their reading order
        flat = _sents(text)
        order = [flat.index(_sents(p)[0]) for p in paras]
        assert sum(a > b for a, b in zip(order, order[1:])) >= 1 and order != sorted(order)


@pytest.mark.parametrize("text", [BODY, AR, ZH, RU])
def test_insert_adds_1_to_4_local_sentences_at_a_paragraph_boundary_in_the_texts_script(text):
    from dedup.evaluation.transforms import script_of

    for seed in range(15):
        out = apply_transforms(Doc(text), ["insert"], random.Random(seed)).text
        before, after = _sents(text), _sents(out)
        added = [s for s in after if s not in before]
        assert 1 <= len(added) <= 4 and len(after) == len(before) + len(added)
        assert [s for s in after if s in before] == before  # the story itself is untouched and in order
        assert all(script_of(s) == script_of(text) or script_of(text) == "latin" for s in added)
        assert after[0] == before[0]  # never before the lead
        paras = [_sents(p) for p in out.split("\n\n")]
        assert any(set(p) == set(added) for p in paras)  # the insertion is its own paragraph


@pytest.mark.parametrize("text", [BODY, AR, ZH, RU])
def test_delete_removes_1_to_3_sentences_not_the_lead(text):
    for seed in range(15):
        out = apply_transforms(Doc(text), ["delete"], random.Random(seed)).text
        before, after = _sents(text), _sents(out)
        assert 1 <= len(before) - len(after) <= 3
        assert after[0] == before[0] and [s for s in before if s in after] == after


def test_ml_sentences_end_at_the_scripts_own_stops():
    assert len(_sents(ZH)) == 5 and all(s[-1] in "。！？" for s in _sents(ZH))
    assert _sents(AR)[3].endswith("؟")
    assert _sents("他说 3.5 万人来了 a.com 了。好") == ["他说 3.5 万人来了 a.com 了。", "好"]


def test_ml_truncate_keeps_40_to_80_percent_of_characters_at_a_stop():
    for seed in range(15):
        out = apply_transforms(Doc(ZH * 3), ["truncate"], random.Random(seed)).text
        assert (ZH * 3).startswith(out) and 0.4 <= len(out) / len(ZH * 3) <= 0.8 and out[-1] in "。！？"


@pytest.mark.parametrize("name", ["dateline", "boilerplate"])
def test_ml_cosmetic_additions_are_in_the_texts_script(name):
    from dedup.evaluation.transforms import script_of

    for text in (AR, ZH, RU):
        out = apply_transforms(Doc(text), [name], random.Random(3)).text
        assert text.strip() in out
        extra = out.replace(text.strip(), "")
        assert script_of(extra) == script_of(text), extra


def test_ml_typography_changes_only_punctuation():
    for seed in range(10):
        for text in (ZH, ZH.translate(str.maketrans("，。！", ",.!"))):
            out = apply_transforms(Doc(text), ["typography"], random.Random(seed)).text
            assert re.sub(r"[\W_]", "", out) == re.sub(r"[\W_]", "", text)
    assert apply_transforms(Doc(ZH), ["typography"], random.Random(0)).text != ZH
    ru = apply_transforms(Doc('Он сказал "да" - и ушёл.'), ["typography"], random.Random(0)).text
    assert ru == "Он сказал «да» — и ушёл."


def test_synonyms_replace_5_to_15_percent_of_words():
    import difflib

    from dedup.evaluation.transforms import synonym_slots

    text = BODY + ("\n\nOfficials said the government announced a new plan after talks with companies last week. "
                   "The deal includes support for people who lost jobs, and prices are expected to rise soon. "
                   "Police reported that the city was quiet, but the minister warned that costs could increase again.")
    n = len(text.split())
    assert synonym_slots(text) >= 0.15 * n
    seen = set()
    for seed in range(30):
        out = apply_transforms(Doc(text), ["synonyms"], random.Random(seed)).text
        a, b = text.split(), out.split()
        ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        changed = sum(i2 - i1 for t, i1, i2, _, _ in ops if t != "equal")  # original words replaced
        assert len(b) >= len(a)  # words replaced (a synonym may be two words), never dropped
        assert 0.05 * n - 1 <= changed <= 0.15 * n + 1, changed
        seen.add(changed)
    assert max(seen) > 0.10 * n  # beyond reword's 10%


def test_figures_respelled_keeps_values():
    text = ("Profit rose 5 pct to 10 mln dlrs, or 1,250,000 shares, and sales were $3.5 billion; "
            "the unit earned 1.5 billion dlrs, up 12.5% on 2,000 stg. Costs fell 3 percent to 450 mln stg.")
    forms = set()

    def values(t):
        t = t.replace(",", "")
        v = []
        for num, unit in re.findall(r"(\d+(?:\.\d+)?) ?(%|pct|percent|per cent|mln|million|m\b|bln|billion|bn)?", t):
            scale = {"mln": 1e6, "million": 1e6, "m": 1e6, "bln": 1e9, "billion": 1e9, "bn": 1e9}.get(unit, 1)
            v.append(float(num) * scale)
        return v

    for seed in range(30):
        out = apply_transforms(Doc(text), ["figures_respelled"], random.Random(seed)).text
        assert out != text and values(out) == values(text), out
        forms |= set(re.findall(r"\d(%| pct| percent| per cent|mln| mln| million|bn| bln| billion|m\b)", out))
        assert ("$" in out) or ("dlrs" in out) or ("dollars" in out)
    assert {"%", " pct", " percent", " million", "bn"} <= forms
    plain = Doc("Nothing to re-spell in this sentence at all.")
    assert apply_transforms(plain, ["figures_respelled"], random.Random(0)) == plain


def test_update_changes_1_to_3_figures_or_days_and_may_add_prefix_and_correction():
    import difflib

    prefixed = corrected = 0
    for seed in range(40):
        out = apply_transforms(DOC, ["update"], random.Random(seed))
        a, b = BODY.split(), out.text.split()
        ops = [(a[i1:i2], b[j1:j2]) for t, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if t != "equal"]
        core = [o for o in ops if o[0]]  # replacements; a correction line is a pure insertion at the end
        assert 1 <= len(core) <= 3 and all(len(x) == len(y) == 1 for x, y in core)
        for (x,), (y,) in core:
            assert re.sub(r"\d", "0", x) != x or x.strip(".,'s") in ("Monday", "Tuesday")
        prefixed += out.title.startswith(("UPDATE 1-", "UPDATE 2-"))
        corrected += "corrected" in out.text.lower() or "Corrects" in out.text or "Correction:" in out.text
        assert out.title.endswith(DOC.title)
    assert 5 <= prefixed <= 35 and 3 <= corrected <= 30


def test_update_moves_a_published_line_one_day_on():
    doc = Doc(BODY + "\n\nPublished 12 March 2024", "T")
    outs = [apply_transforms(doc, ["update"], random.Random(s)).text for s in range(10)]
    assert all("Published 13 March 2024" in o for o in outs)
    end = Doc(BODY + "\n\nPublished 31 December 2023")
    assert "Published 1 January 2024" in apply_transforms(end, ["update"], random.Random(0)).text
    # paragraph edits keep the line last
    for name in ("reorder", "insert", "delete"):
        assert apply_transforms(doc, [name], random.Random(1)).text.endswith("\n\nPublished 12 March 2024")


def test_short_from_long_is_a_60_to_120_word_brief_of_the_storys_sentences():
    story = "\n\n".join([BODY.replace("76%", f"{k}%") for k in range(6)])  # 500+ words
    assert len(story.split()) >= 500
    for seed in range(20):
        out = apply_transforms(Doc(story), ["short_from_long"], random.Random(seed)).text
        assert 60 <= len(out.split()) <= 120
        sents = _sents(out)
        assert sents[0] == _sents(story)[0] and all(s in _sents(story) for s in sents)
