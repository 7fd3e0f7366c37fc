"""The independent evaluation-set generator (bench/independent): determinism, coverage, edit strengths, labels.

Needs the real corpora in ``<repo>/../shared/data`` (or ``/work/shared/data``); skips otherwise.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = next((p for p in (REPO.parent / "shared" / "data", Path("/work/shared/data")) if (p / "bbc-news").is_dir()), None)
pytestmark = pytest.mark.skipif(DATA is None, reason=f"real corpora not found at {REPO.parent / 'shared' / 'data'} (nor /work/shared/data)")

if DATA is not None:
    from bench.independent.build import MULTILINGUAL, NEGATIVE, REWORDED, SYNDICATED, build_records, write_jsonl
    from bench.independent.edits import CORRECTION_PREFIX
    from bench.independent.multilingual import ml_sentences
    from bench.independent.textutil import digits_of, figure_tokens, paragraphs, split_sentences, units


@pytest.fixture(scope="module")
def records():
    return build_records("small", seed=3, data_dir=DATA)


@pytest.fixture(scope="module")
def by_label(records):
    out = defaultdict(list)
    for r in records:
        out[r["label"]].append(r)
    return out


def _pairs(records, by_label, category):
    """(original, copy) pairs for one copy category."""
    out = []
    for r in records:
        if r["category"] == category:
            orig = [o for o in by_label[r["label"]] if o["category"] == "original"]
            assert len(orig) == 1, r["id"]
            out.append((orig[0], r))
    assert out, category
    return out


def test_same_seed_same_bytes(records, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(records, a)
    write_jsonl(build_records("small", seed=3, data_dir=DATA), b)
    assert a.read_bytes() == b.read_bytes()
    line = json.loads(a.read_text(encoding="utf-8").splitlines()[0])
    assert list(line) == ["id", "text", "title", "published", "label", "category", "track", "source"]


def test_every_category_present_and_size(records):
    cats = Counter(r["category"] for r in records)
    for c in ["original", *SYNDICATED, *REWORDED, *MULTILINGUAL, *NEGATIVE]:
        assert cats[c] >= 5, (c, cats[c])
    assert 500 <= len(records) <= 750
    assert {r["track"] for r in records} == {"syndicated", "multilingual", "reworded", "negative"}


def test_labels_consistent(records, by_label):
    assert len({r["id"] for r in records}) == len(records)
    for label, members in by_label.items():
        tracks = {m["track"] for m in members}
        assert len(tracks) == 1, label
        if tracks == {"negative"}:
            assert len(members) == 1, label  # every negative its own story
            assert label.startswith("neg:")
        else:
            assert sum(m["category"] == "original" for m in members) == 1, label
            assert 2 <= len(members) <= 4, label  # original + 1-3 copies
    # no record is a verbatim copy of another with a different label
    texts = Counter((r["title"], r["text"]) for r in records)
    assert max(texts.values()) == 1


def test_truncate_keeps_40_to_80_percent(records, by_label):
    for orig, cp in _pairs(records, by_label, "truncate"):
        ratio = len(cp["text"].split()) / len(orig["text"].split())
        assert 0.4 <= ratio <= 0.8, (cp["id"], ratio)
        assert orig["text"].startswith(cp["text"])
    for orig, cp in _pairs(records, by_label, "multilingual_truncate"):
        lang = orig["source"].split(":")[1]
        ratio = len(units(cp["text"], lang)) / len(units(orig["text"], lang))
        assert 0.4 <= ratio <= 0.8, (cp["id"], ratio)


def test_synonyms_change_5_to_15_percent(records, by_label):
    for orig, cp in _pairs(records, by_label, "synonyms"):
        a, b = orig["text"].split(), cp["text"].split()
        assert len(a) == len(b)
        changed = sum(x != y for x, y in zip(a, b)) / len(a)
        assert 0.05 <= changed <= 0.15, (cp["id"], changed)


def _strip_correction(text):
    return re.sub(rf"\n\n{CORRECTION_PREFIX}[^\n]*$", "", text)


def test_update_changes_1_to_3_figures(records, by_label):
    prefixed = corrected = 0
    for orig, cp in _pairs(records, by_label, "update"):
        assert len(orig["text"].split()) >= 150
        a, b = figure_tokens(orig["text"]), figure_tokens(_strip_correction(cp["text"]))
        assert len(a) == len(b), cp["id"]
        assert 1 <= sum(x != y for x, y in zip(a, b)) <= 3, cp["id"]
        prefixed += cp["title"].startswith(("UPDATE 1-", "UPDATE 2-"))
        corrected += CORRECTION_PREFIX in cp["text"]
        assert cp["published"] > orig["published"]
    assert prefixed and corrected


def test_figures_respelled_keeps_values(records, by_label):
    for orig, cp in _pairs(records, by_label, "figures_respelled"):
        assert cp["text"] != orig["text"]
        assert digits_of(cp["text"]) == digits_of(orig["text"]), cp["id"]
        # only figure spellings change: the words without digits/units are the same
        strip = lambda t: re.sub(r"[$£€%,]|\b(?:pct|percent|per cent|mln|million|bln|billion|dlrs|cts|cents)\b|(?<=\d)(?:bn|m)\b", "", t)  # noqa: E731
        assert "".join(strip(cp["text"]).split()) == "".join(strip(orig["text"]).split()), cp["id"]


def test_delete_removes_1_to_3_sentences(records, by_label):
    for orig, cp in _pairs(records, by_label, "delete"):
        a = [s for p in paragraphs(orig["text"]) for s in split_sentences(p)]
        b = [s for p in paragraphs(cp["text"]) for s in split_sentences(p)]
        assert 1 <= len(a) - len(b) <= 3, cp["id"]
        assert set(b) <= set(a)
    for orig, cp in _pairs(records, by_label, "multilingual_delete"):
        lang = orig["source"].split(":")[1]
        a, b = ml_sentences(orig["text"], lang), ml_sentences(cp["text"], lang)
        assert 1 <= len(a) - len(b) <= 3, cp["id"]


def test_insert_adds_at_most_a_paragraph(records, by_label):
    for orig, cp in _pairs(records, by_label, "insert"):
        a = [s for p in paragraphs(orig["text"]) for s in split_sentences(p)]
        b = [s for p in paragraphs(cp["text"]) for s in split_sentences(p)]
        assert 0 <= len(b) - len(a) <= 3, cp["id"]  # 0: a sentence glued to a source paragraph without a full stop
        wa, wb = Counter(orig["text"].split()), Counter(cp["text"].split())
        assert not wa - wb, cp["id"]  # nothing removed
        assert 5 <= sum((wb - wa).values()) <= 90, cp["id"]  # 1-3 sentences, or one short paragraph


def test_reorder_moves_paragraphs_only(records, by_label):
    for orig, cp in _pairs(records, by_label, "reorder"):
        a, b = paragraphs(orig["text"]), paragraphs(cp["text"])
        assert sorted(a) == sorted(b) and a != b
        assert sum(x != y for x, y in zip(a, b)) >= 2


def test_multilingual_scripts_and_insert_punctuation(records, by_label):
    langs = Counter(r["source"].split(":")[1] for r in records if r["track"] == "multilingual" and r["category"] == "original")
    assert set(langs) == {"ar", "ru", "zh"}
    for orig, cp in _pairs(records, by_label, "multilingual_insert"):
        assert len(cp["text"]) > len(orig["text"])
        if orig["source"].endswith(":zh"):
            assert "。" in cp["text"]


def test_negative_bodies_not_reused(records):
    # a body used as a negative is never also an original (it would be a real duplicate with another label)
    neg = {r["text"][-300:] for r in records if r["track"] == "negative"}
    orig = {r["text"][-300:] for r in records if r["category"] == "original"}
    assert not neg & orig
