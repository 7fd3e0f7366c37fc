import json
from pathlib import Path

import pytest

from dedup import Article, Deduplicator, InvalidArticle, MemoryIndex, Params, TooLarge

SEED = [Article.from_dict(json.loads(line)) for line in Path(__file__).parent.parent.joinpath("seeds/sample.jsonl").open()]


def test_add_query_remove_on_the_seed():
    d = Deduplicator()
    got = [d.add(a) for a in SEED]
    assert [m.id for m in got[2].duplicates] if False else [link.a for link in got[2].duplicates] == ["3"]
    assert [link.b for link in got[2].duplicates] == ["2"]
    assert all(not m.duplicates for i, m in enumerate(got) if i != 2)
    assert got[2].cluster == d.index.cluster("2")[0] and got[2].canonical == "2"
    q = d.query(Article("x", SEED[1].text))
    assert {link.b for link in q.duplicates} == {"2", "3"} and len(d) == 5
    assert d.remove("3") and not d.remove("3")
    assert [link.b for link in d.query(Article("x", SEED[2].text)).duplicates] == ["2"]


def test_idempotent_retry_and_replacement():
    d = Deduplicator()
    assert d.add(SEED[1]).created
    again = d.add(SEED[1])
    assert not again.created and len(d) == 1
    replaced = d.add(Article("2", SEED[0].text))
    assert replaced.created and len(d) == 1


def test_canonical_prefers_earliest_published():
    d = Deduplicator()
    d.add(Article("late", SEED[2].text, published="2022-09-30T12:00:00Z"))
    m = d.add(Article("early", SEED[1].text, published="2022-09-30T09:00:00+00:00"))
    assert m.canonical == "early" and m.to_dict()["duplicates"][0]["id"] == "late"


def test_explain_and_dict_shape():
    d = Deduplicator()
    d.add(SEED[1])
    m = d.add(SEED[2], explain=True)
    dup = m.to_dict()["duplicates"][0]
    assert set(dup) == {"id", "kind", "jaccard", "containment", "score", "passages"}
    assert dup["passages"][0]["text"]


def test_bad_articles():
    d = Deduplicator(Params(max_text_bytes=100))
    with pytest.raises(TooLarge):
        d.add(Article("big", "word " * 100))
    with pytest.raises(InvalidArticle, match="no words"):
        d.add(Article("p", "!!! ... ---"))
    with pytest.raises(ValueError, match="other Params"):
        Deduplicator(Params(), MemoryIndex(Params(similarity=0.5)))


def test_candidate_removed_between_add_and_link_is_dropped_not_fatal():
    class Vanishing(MemoryIndex):
        def add(self, fp):
            found = super().add(fp)
            for other in found:  # another client deletes it right after the look-up
                self.remove(other.id)
            return found

    d = Deduplicator(index=Vanishing(Params()))
    d.add(SEED[1])
    m = d.add(SEED[2])
    assert m.duplicates == [] and m.cluster == "3" and len(d) == 1


def test_batch_only_reuse_pass_is_refused_online():
    with pytest.raises(ValueError, match="batch-only"):
        Deduplicator(Params(reuse=0.5))


def test_the_story_names_its_latest_version_online_as_in_batch():
    story = ("The storm killed 12 people on Monday and left 4,000 homes without power across the region, "
             "officials said, as rescue teams searched flooded villages for the missing. ") * 4
    arts = [Article("o", story, published="2024-01-01T00:00:00Z"),
            Article("u", story.replace("12 people", "15 people", 1), published="2024-01-02T00:00:00Z"),
            Article("c", "PARIS (AP) - " + story, published="2024-01-03T00:00:00Z")]
    d = Deduplicator()
    got = [d.add(a) for a in arts]
    assert [m.latest for m in got] == ["o", "u", "u"]  # c republishes the original: not a new version
    assert [m.canonical for m in got] == ["o", "o", "o"]
    from dedup.batch import cluster_articles

    assert cluster_articles(arts).clusters[0].latest == "u"


def test_an_article_built_with_the_wrong_types_is_refused_with_the_reason():
    """A new user's finding: ``add(Article("x", None))`` failed as a bare TypeError and
    ``Article(None, text)`` was stored under the id None."""
    d = Deduplicator()
    with pytest.raises(InvalidArticle, match="text must be a string, got NoneType"):
        d.add(Article("x", None))
    with pytest.raises(InvalidArticle, match="id must be a string, got NoneType"):
        d.add(Article(None, "Putin signed treaties on Friday to annex four regions of Ukraine."))
    with pytest.raises(InvalidArticle, match="id must be a string, got int"):
        d.query(Article(7, "Putin signed treaties on Friday to annex four regions of Ukraine."))
    assert len(d) == 0
