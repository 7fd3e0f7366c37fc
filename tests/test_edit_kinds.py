"""Each edit wire editors make is found; each hard negative is kept apart (real BBC / Reuters / SemEval text)."""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import edit_kinds as ek  # noqa: E402

from dedup import Article, Deduplicator  # noqa: E402
from dedup.batch import cluster_articles  # noqa: E402
from dedup.minhash import jaccard, signatures  # noqa: E402
from dedup.normalisation import normalise, tokens  # noqa: E402
from dedup.params import Params  # noqa: E402
from dedup.refine import confirm  # noqa: E402
from dedup.report import name_figures  # noqa: E402
from dedup.types import Link  # noqa: E402

if not (ek.DATA / "bbc-news").exists():
    pytest.skip("no shared data", allow_module_level=True)

STORIES = ek.bbc_stories()[:12]
P = Params()


def check(a: str, b: str, **kw):
    """``confirm`` as the product calls it: ``b`` stands for the stored article,
    whose words the index does not keep (only ``a``'s words, for explain)."""
    ta, tb = normalise(a), normalise(b)
    s, w = signatures([ta.lower(), tb.lower()])
    return confirm("a", w[0], "b", w[1], P, jaccard=jaccard(s[0], s[1]), words_a=tokens(ta), **kw)


EDITS = {
    "reorder": lambda s, r, d: ek.reorder(s, r),
    "insert": lambda s, r, d: ek.insert(s, r, d),
    "delete": lambda s, r, d: ek.delete(s, r),
    "respell": lambda s, r, d: ek.respell(s, r),
    "update": lambda s, r, d: ek.update(s, r),
    "truncate": lambda s, r, d: ek.truncate(s, r),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_each_edit_kind_is_found(kind):
    rng = random.Random(5)
    for i, story in enumerate(STORIES[:8]):
        copy = EDITS[kind](story, rng, STORIES[-1 - i])
        got = check(story, copy)
        assert isinstance(got, Link), (kind, i, got)


def test_one_changed_figure_or_update_tag_is_an_update_that_names_the_figures():
    story = STORIES[0]
    later = ek.update(story, random.Random(1))
    got = check(story, later, explain=True)
    assert got.kind == "update" and got.changed and all(old != new for old, new in got.changed)
    # Online (explain): the new article's figures by their words, the stored one's by word offset.
    d = Deduplicator()
    d.add(Article("old", story))
    link = d.add(Article("new", later), explain=True).duplicates[0]
    assert link.kind == "update" and link.changed
    new_words, old_words = tokens(normalise(later)), tokens(normalise(story))
    assert all(set(mine.split()) <= set(new_words) for mine, _ in link.changed)
    assert all(theirs.startswith("#") for _, theirs in link.changed)
    # Batch: offsets in the run, words once the input is read again (what dedup batch does).
    arts = [Article("old", story), Article("new", later)]
    res = cluster_articles(arts)
    (pair,) = res.clusters[0].pairs
    assert pair.kind == "update" and all(x.startswith("#") for c in pair.changed for x in c)
    assert name_figures(res, arts) == 1
    (pair,) = res.clusters[0].pairs
    olds, news = zip(*pair.changed)
    assert all(set(o.split()) <= set(old_words) for o in olds) and all(set(n.split()) <= set(new_words) for n in news)
    assert all(o != n for o, n in pair.changed)
    for tag in ("UPDATE 1-", "UPDATE 2-", "UPDATED 7: "):
        assert check(story, tag + story).kind == "exact"
    stamped = check(story + "\nPublished 12 March 2024", story + "\nPublished 13 March 2024")
    assert stamped.kind == "exact"


def test_a_later_version_with_paragraphs_moved_is_an_update_naming_its_figures():
    """Figures updated and two or more paragraphs moved (the generators of
    ``edit_kinds``, one after the other): the same ``update`` kind, the same
    changed figures (old -> new) as the in-order update, and the later
    version is its cluster's latest, in batch and online."""
    found = 0
    for i, story in enumerate(STORIES[:8]):
        rng = random.Random(100 + i)
        later = ek.update(story, rng)
        moved = ek.reorder(later, rng)
        assert ek.paragraphs(moved) != ek.paragraphs(later) and sorted(ek.paragraphs(moved)) == sorted(ek.paragraphs(later))
        in_order = check(story, later, explain=True, words_b=tokens(normalise(later)))
        if in_order.kind != "update":  # the change was not a figure to the tokeniser (``578m``)
            continue
        got = check(story, moved, explain=True, words_b=tokens(normalise(moved)))
        assert got.kind == "update", (i, got)
        assert sorted(got.changed) == sorted(in_order.changed), i
        assert all(old != new for old, new in got.changed)
        arts = [Article("old", story, published="2024-03-11T09:00:00Z"), Article("new", moved, published="2024-03-11T15:00:00Z")]
        (c,) = cluster_articles(arts).clusters
        assert (c.canonical, c.latest) == ("old", "new"), i
        d = Deduplicator()
        d.add(Article("old", story, published="2024-03-11T09:00:00Z"))
        m = d.add(Article("new", moved, published="2024-03-11T15:00:00Z"), explain=True)
        assert [x.kind for x in m.duplicates] == ["update"] and m.duplicates[0].changed
        assert (m.canonical, m.latest) == ("old", "new"), i
        found += 1
    assert found >= 6


def test_update_tags_do_not_split_a_story_in_batch():
    story = STORIES[1]
    arts = [Article(f"v{i}", f"UPDATED {i}: " + story) for i in range(8)]
    assert [len(c.members) for c in cluster_articles(arts).clusters] == [8]


def test_a_follow_up_with_a_new_lead_over_background_is_not_a_copy():
    story, other = STORIES[2], STORIES[3]
    paras = ek.paragraphs(story)
    follow = ek.join(ek.paragraphs(other)[:4] + paras[1:3])
    assert not isinstance(check(story, follow), Link)


def test_template_briefs_stay_apart():
    briefs = [
        "Qtly div 10 cts vs 10 cts prior\nPay April 1\nRecord March 15",
        "Qtly div 12 cts vs 12 cts prior\nPay April 15\nRecord March 31",
        "Shr 15 cts vs nine cts\nNet 1,200,000 vs 800,000\nRevs 15.2 mln vs 12.1 mln",
        "Shr 20 cts vs 12 cts\nNet 1,500,000 vs 900,000\nRevs 17.1 mln vs 13.4 mln",
    ]
    for a in briefs:
        for b in briefs:
            if a != b:
                assert not isinstance(check(a, b), Link)
    a, b = briefs[2], briefs[2].replace("15.2 mln", "15.2 million").replace("1,200,000", "1200000")
    assert check(a, b).kind == "exact"  # the same figures spelled another way


def test_semeval_same_story_pairs_are_not_merged():
    import csv

    csv.field_size_limit(10**9)
    path = ek.DATA / "semeval2022-task8-en-fulltext" / "corpus_en_notes.csv"
    if not path.exists():
        pytest.skip("no SemEval data")
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cols = [c for c in rows[0] if "text" in c.lower()][:2]
    for r in rows:
        a, b = r[cols[0]], r[cols[1]]
        if a and b and a != b:
            assert not isinstance(check(a, b), Link)


def test_a_brief_cut_from_a_long_story_is_found_online_and_in_batch():
    rng = random.Random(3)
    longs = [s for s in ek.bbc_stories(min_words=600, max_words=2000)][:8]
    pairs = [(s, ek.brief(s, rng)) for s in longs]
    assert all(60 <= len(b.split()) <= 150 and 4 * len(b.split()) < len(s.split()) for s, b in pairs)
    found = {}
    for on in (True, False):
        p = Params(short_in_long=on)
        online = batch = 0
        for i, (s, b) in enumerate(pairs):
            d = Deduplicator(p)
            d.add(Article(f"long{i}", s))
            online += [x.kind for x in d.add(Article(f"brief{i}", b)).duplicates] == ["contained"]
            batch += [c.members for c in cluster_articles([Article(f"long{i}", s), Article(f"brief{i}", b)], p).clusters] == [(f"long{i}", f"brief{i}")]
        found[on] = (online, batch)
    assert found[True] == (len(pairs), len(pairs))
    assert found[False][0] < len(pairs) and found[False][1] < len(pairs)  # LSH alone misses some
