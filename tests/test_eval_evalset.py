"""The evaluation-set generator: deterministic, labelled by construction, gold labels sound."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
pytestmark = pytest.mark.skipif(not (DATA / "bbc-news").is_dir(), reason="shared/data corpora not available")


def _load():
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("evalset", ROOT / "bench" / "evalset.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


evalset = _load() if (DATA / "bbc-news").is_dir() else None


@pytest.fixture(scope="module")
def small():
    return evalset.build(DATA, "small")


def test_deterministic_and_seed_matters(small):
    assert evalset.build(DATA, "small") == small
    assert evalset.build(DATA, "small", seed=1) != small


def test_records_have_the_documented_fields(small):
    tracks = {"syndicated", "reworded", "negative", "edited", "multilingual"}
    documented = set(evalset.SYNDICATED_MAIN + evalset.REWORDED_MAIN + evalset.EDITED_MAIN + evalset.ML_MAIN) | {
        "original", "cut_and_paste", "light_revision", "semeval_same_story", "template_brief",
        "template_brief_copy", "independent_answer", "recurring_headline",
    }
    assert 500 <= len(small) <= 1000
    assert len({r["id"] for r in small}) == len(small)
    for r in small:
        assert {"id", "text", "title", "label", "category", "track"} <= set(r)
        assert r["track"] in tracks and r["category"] in documented and r["text"].strip()
        assert r["category"] in evalset.__doc__ or r["category"] == "original"
    assert {r["category"] for r in small} == documented
    json.dumps(small)


def test_gold_clusters_are_built_as_documented(small):
    by_label = defaultdict(list)
    for r in small:
        by_label[r["label"]].append(r)
    for label, members in by_label.items():
        assert len({m["track"] for m in members}) == 1, label  # a cluster lives in one track
        cats = Counter(m["category"] for m in members)
        if members[0]["source"] in ("bbc", "reuters", "semeval-ml") and members[0]["track"] != "negative":
            assert cats["original"] == 1 and len(members) <= 5
            assert all(m["id"] == label or m["id"].startswith(label + "-c") for m in members)
        if cats.keys() & {"semeval_same_story", "independent_answer", "recurring_headline"}:
            assert len(members) == 1  # hard negatives: each its own label
        if "template_brief" in cats:
            assert cats["template_brief"] == 1 and set(cats) <= {"template_brief", "template_brief_copy"}
    cs = [r for r in small if r["source"] == "clough-stevenson" and r["track"] == "reworded"]
    assert all(r["label"].startswith("cs-src-") for r in cs)


def test_truncated_copies_keep_40_to_80_percent(small):
    originals = {r["label"]: r for r in small if r["category"] == "original"}
    truncated = [r for r in small if r["category"] == "truncate"]
    assert len(truncated) >= 10
    for r in truncated:
        if r["transforms"] == ["truncate"]:
            ratio = len(r["text"].split()) / len(originals[r["label"]]["text"].split())
            assert 0.4 <= ratio <= 0.8 + 1e-9


def test_no_two_originals_with_different_labels_are_near_duplicates(small):
    copies = evalset.SYNDICATED_MAIN + evalset.REWORDED_MAIN + evalset.EDITED_MAIN + evalset.ML_MAIN
    originals = [r for r in small if r["category"] not in copies and r["category"] != "template_brief_copy"]
    briefs = {r["id"] for r in originals if r["category"] == "template_brief"}
    drop = evalset.near_duplicate_conflicts(
        {r["id"]: r["text"] for r in originals}, {r["id"]: r["label"] for r in originals},
        skip=lambda a, b: a in briefs and b in briefs,
    )
    assert drop == set()


def test_template_briefs_differ_in_figures(small):
    from evalset_corpora import _figures

    briefs = [r for r in small if r["category"] == "template_brief"]
    assert len(briefs) >= 30
    assert len({_figures(r["text"]) for r in briefs}) == len(briefs)
    assert sum(r["text"].startswith("Qtly div") for r in briefs) >= 5


def test_near_duplicate_conflicts_finds_containment():
    long = " ".join(f"word{i}" for i in range(200))
    texts = {"a": long, "b": " ".join(long.split()[:60]), "c": "something else entirely here and there now"}
    assert evalset.near_duplicate_conflicts(texts, {"a": 1, "b": 2, "c": 3}) == {"b"}
    assert evalset.near_duplicate_conflicts(texts, {"a": 1, "b": 1, "c": 3}) == set()


def test_small_set_quality_floors(small):
    """The issue-5 targets the detector meets on the small set, as CI floors."""
    from dedup.evaluation import run_evaluation

    ours = run_evaluation(small)["ours"]
    syn = ours["tracks"]["syndicated"]["pairwise"]
    assert syn["f1"] >= 0.98 and syn["precision"] >= 0.99
    assert ours["false_merges"].get("semeval_same_story", {"count": 0})["count"] == 0
    assert ours["categories"]["template_brief"]["precision"] >= 0.99
    assert ours["categories"]["reword"]["recall"] >= 0.9


def _by_label(records):
    out = defaultdict(list)
    for r in records:
        out[r["label"]].append(r)
    return out


def test_new_edit_categories_are_labelled_with_their_original(small):
    """Edited and multilingual copies sit in their original's cluster, on their own track, with what the category says."""
    from dedup.evaluation.transforms import script_of

    groups = _by_label(small)
    counts = Counter(r["category"] for r in small)
    for cat in evalset.EDITED_MAIN + evalset.ML_MAIN:
        assert counts[cat] >= 5, cat
    for r in small:
        if r["category"] not in evalset.EDITED_MAIN + evalset.ML_MAIN:
            continue
        orig = next(m for m in groups[r["label"]] if m["category"] == "original")
        assert r["track"] == orig["track"] == ("edited" if r["category"] in evalset.EDITED_MAIN else "multilingual")
        main = r["category"][3:] if r["category"].startswith("ml_") and r["category"] != "ml_plain" else r["category"]
        assert main in r["transforms"] or r["category"] == "ml_plain"
        n, no = len(r["text"].split()), len(orig["text"].split())
        if r["category"] == "short_from_long" and r["transforms"] == ["short_from_long"]:
            assert no >= 500 and 60 <= n <= 120
        if r["category"] == "update":
            assert no >= 150 and r["text"] != orig["text"]
        if r["track"] == "multilingual":
            assert script_of(orig["text"]) != "latin" and script_of(r["text"]) == script_of(orig["text"])
            if r["category"] == "ml_plain":
                assert set(r["transforms"]) <= set(evalset.ML_COSMETIC)
    published = [o for o in small if o["category"] == "original" and "\n\nPublished " in o["text"]]
    assert published and all(any(c["category"] == "update" for c in groups[o["label"]]) for o in published)


def test_recurring_headlines_share_a_title_not_a_story(small):
    rh = [r for r in small if r["category"] == "recurring_headline"]
    by_title = Counter(r["title"] for r in rh)
    assert len(by_title) >= 3 and all(k >= 2 for k in by_title.values())
    assert len({r["label"] for r in rh}) == len(rh)


def test_multilingual_originals_are_not_near_copies_by_characters(small):
    from evalset_corpora import char_shingles

    ml = [r for r in small if r["track"] == "multilingual" and r["category"] == "original"]
    assert len(ml) >= 20
    assert evalset.near_duplicate_conflicts({r["id"]: r["text"] for r in ml}, {r["id"]: r["label"] for r in ml},
                                            shingler=char_shingles) == set()


def test_edit_records_do_not_disturb_the_older_ones(small):
    """The edited/multilingual/recurring records come from their own random stream: the rest keeps its bytes and order."""
    before = evalset.build(DATA, "small", edits=False)
    new = {"edited", "multilingual"}
    rest = [r for r in small if r["track"] not in new and r["category"] != "recurring_headline"]
    assert rest == before and len(rest) < len(small)


def test_clough_full_keeps_heavy_answers_apart_and_names_each_question():
    from evalset_corpora import clough_stevenson

    plain, full = clough_stevenson(DATA), clough_stevenson(DATA, full=True)
    assert Counter(r["category"] for r in full) == {"original": 5, "cut_and_paste": 19, "light_revision": 19,
                                                   "heavy_revision": 19, "independent_answer": 38}
    without = [{k: v for k, v in r.items() if k != "question"} for r in full if r["category"] != "heavy_revision"]
    assert without == plain  # the same records otherwise, in the same order
    assert all("question" not in r for r in plain)  # the evaluation set's bytes do not change
    sources = {r["id"] for r in full if r["category"] == "original"}
    assert {r["question"] for r in full} == sources
    for r in full:
        if r["category"] in ("heavy_revision", "independent_answer"):
            assert r["label"] == r["id"]  # neither in its source's gold cluster
        else:
            assert r["label"] == r["question"]
