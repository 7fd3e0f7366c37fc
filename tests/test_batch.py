"""Batch clustering: the seed, parallel = serial, skips, a real corpus slice."""

import json
from pathlib import Path

import pytest

from dedup import Article, Params, cluster_articles

ROOT = Path(__file__).parent.parent
SEED = [Article.from_dict(json.loads(line)) for line in ROOT.joinpath("seeds/sample.jsonl").open()]
BBC = ROOT.parent / "shared" / "data" / "bbc-news"


def test_seed_gives_exactly_one_cluster_of_lines_2_and_3():
    res = cluster_articles(SEED)
    assert [(c.canonical, c.members) for c in res.clusters] == [("2", ("2", "3"))]
    assert res.clusters[0].pairs[0].kind == "exact"


def _bbc(limit=None):
    if not BBC.exists():
        pytest.skip("../shared/data is not beside the repo")
    files = sorted(BBC.glob("*/*.txt"))[:limit]
    return [Article(f"{f.parent.name}/{f.stem}", f.read_bytes().decode("utf-8", "replace")) for f in files]


def test_parallel_equals_serial_and_finds_bbcs_natural_copies():
    arts = _bbc(600)
    one = cluster_articles(arts, jobs=1, chunk_size=64)
    two = cluster_articles(arts, jobs=2, chunk_size=64)
    assert [c.to_dict() for c in one.clusters] == [c.to_dict() for c in two.clusters]
    members = {m for c in one.clusters for m in c.members}
    # business/ has natural byte-identical re-publications (see SOURCE.md)
    texts = {}
    for a in arts:
        texts.setdefault(a.text, []).append(a.id)
    identical = [ids for ids in texts.values() if len(ids) > 1]
    assert identical and all(set(ids) <= members for ids in identical)


def test_skipped_articles_are_counted_and_reported():
    seen = []
    res = cluster_articles(
        SEED + [Article("p", "... !!!"), Article("big", "word " * 300)],
        Params(max_text_bytes=1000), on_skip=lambda i, why: seen.append((i, why)),
    )
    assert res.n_skipped == len(seen) == len(res.skipped)
    assert {i for i, _ in seen} >= {"p", "big"}
    assert res.stats["skipped"] == res.n_skipped


def test_empty_input():
    res = cluster_articles([])
    assert res.clusters == [] and res.n_articles == 0


def test_truncated_and_edited_copies_join_with_wire_original():
    story = SEED[2].text
    words = story.split()
    arts = [
        Article("orig", story, published="2022-09-30T10:00:00Z"),
        Article("cut", " ".join(words[: len(words) // 2]), published="2022-09-30T11:00:00Z"),
        Article("dateline", "MOSCOW (AP) \u2014 " + story.replace('"', "\u201c"), published="2022-09-30T09:00:00Z"),
        Article("other", SEED[0].text),
    ]
    (c,) = cluster_articles(arts).clusters
    assert set(c.members) == {"orig", "cut", "dateline"} and c.canonical == "dateline"
    kinds = {frozenset((p.a, p.b)): p.kind for p in c.pairs}
    assert kinds[frozenset(("orig", "cut"))] == "contained"


def test_plain_dicts_are_accepted_like_articles():
    dicts = [json.loads(line) for line in ROOT.joinpath("seeds/sample.jsonl").open()]
    assert [c.to_dict() for c in cluster_articles(dicts).clusters] == [c.to_dict() for c in cluster_articles(SEED).clusters]


def test_a_bad_record_among_many_is_skipped_and_reported_not_fatal():
    seen = []
    bad = [{"id": "notext"}, {"id": "num", "text": 12}, 42, Article("weird", 12), {"text": "   "}]
    res = cluster_articles(SEED[:2] + bad + SEED[2:], on_skip=lambda i, why: seen.append((i, why)))
    assert [c.members for c in res.clusters] == [("2", "3")] and res.n_articles == 5
    assert seen == [("notext", "missing field 'text'"), ("num", "field 'text' must be a string, got number"),
                    ("item 5", "expected an Article or a mapping, got int"),
                    ("weird", "text must be a string, got int"), ("item 7", "field 'text' is empty")]
    assert res.n_skipped == 5 and res.skipped == seen


def test_a_chunk_of_only_too_large_texts_is_skipped():
    big = "word " * 3000  # 15,000 bytes; the seed's texts are under 10,000
    res = cluster_articles([Article("big1", big), Article("big2", big)] + SEED, Params(max_text_bytes=10_000),
                           chunk_size=2)
    assert res.n_skipped == 2 and res.n_articles == 5


def test_a_brief_cut_from_a_long_story_is_found_with_short_in_long():
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).parent))
    import pytest as _pytest
    from edit_kinds import DATA, lead_of_longest

    from dedup.batch import cluster_articles
    from dedup.params import Params

    if not (DATA / "bbc-news").exists():
        _pytest.skip("needs ../shared/data")
    long_, short = lead_of_longest()
    records = [{"id": "long", "text": long_}, {"id": "short", "text": short}]
    res = cluster_articles(records, Params(short_in_long=True))
    assert [c.members for c in res.clusters] == [("long", "short")]
    assert res.stats["short_in_long_candidates"] == 1
