"""The in-memory index keeps canonical copies and versions as articles come
(:mod:`dedup.versions`): an add to a story picked up 1,000 times reads a
bounded number of its members, and answers as the whole-story rule does."""

from __future__ import annotations

import random

from dedup import Article, Deduplicator
from dedup.cluster import canonical_index, latest_version
from dedup.index import MemoryIndex

STORY = ("The storm killed 12 people on Monday and left 4,000 homes without power across the region, "
         "officials said, as rescue teams searched flooded villages for the missing. ") * 4


def _copies(n: int, seed: int = 1):
    """``n`` copies of STORY, half of them of its update (15 dead), each with a dateline and one word changed."""
    rng = random.Random(seed)
    for i in range(n):
        src = STORY if i < 5 or rng.random() < 0.5 else STORY.replace("12 people", "15 people", 1)
        words = src.split()
        j = rng.randrange(len(words))
        words[j] += "x"
        yield Article(f"c{i}", f"CITY{i} (AP) - " + " ".join(words),
                      published=f"2024-01-01T{i // 120:02d}:{i % 60:02d}:00Z" if rng.random() < 0.9 else None)


class _Counting(dict):
    """The index's articles, counting how many are read."""

    reads = 0

    def __getitem__(self, key):
        _Counting.reads += 1
        return super().__getitem__(key)


def test_an_add_to_a_story_of_1000_copies_reads_few_of_them():
    d = Deduplicator()
    arts = list(_copies(1001))
    for a in arts[:-1]:
        d.add(a)
    assert len(d.index.cluster("c0")[1]) == 1000
    d.index._docs = _Counting(d.index._docs)  # every member the add looks at is read from here
    got = d.add(arts[-1])
    assert got.duplicates and got.cluster == "c0"
    assert _Counting.reads <= 30, _Counting.reads  # the whole story would be 1,000 reads


def test_the_kept_versions_answer_as_the_whole_story_rule():
    d = Deduplicator()
    idx = d.index
    for a in _copies(400, seed=2):
        d.add(a)
        if a.id in ("c100", "c250", "c251"):  # removals move canonical and first copies
            d.remove("c3" if a.id == "c100" else a.id)
    members = [m for m, _, _ in idx.cluster("c0")[1]]
    docs = [idx.get(m) for m in members]
    canon = members[canonical_index(range(len(docs)), [x.published for x in docs], [len(x.tokens) for x in docs])]
    links = [lk for lk in (idx._best_link(m) for m in members) if lk is not None]
    assert {lk.kind for lk in links} >= {"near", "update"}
    when = {m: (x.published, idx._order[m]) for m, x in zip(members, docs)}
    story = idx.story("c0")
    assert story.canonical == canon
    assert story.latest == latest_version(canon, links, when, cut_copies=False)
