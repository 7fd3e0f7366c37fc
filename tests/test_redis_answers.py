"""The service's Redis index answers every add as the in-memory index does:
the same duplicates (ids, kinds, scores), clusters and canonical copies, on a
stream that mixes a template-brief flood, a hot story's copies, real stories
with every edit kind, and retries. It pins what speed work on the Redis path
(how candidates travel, when a pending flag is cleared) must not change."""

from __future__ import annotations

import pytest

from dedup import Article, Deduplicator, MemoryIndex, Params
from dedup_service.store import RedisIndex, StoringDeduplicator

from edit_kinds import DATA, build
from hotload import brief, copy_of, story

# The Redis index proposes no short-inside-long candidates yet: compare with those off.
PARAMS = Params(short_in_long=False)


def _stream() -> list[Article]:
    edits = [r for r in build(n=12, seed=5) if r["track"] != "multilingual"]
    arts, text = [], story(7)
    for i in range(max(len(edits), 120)):
        if i < len(edits):
            arts.append(Article(edits[i]["id"], edits[i]["text"]))
        arts.append(Article(f"brief{i}", brief(i)))
        if i % 3 == 0:
            arts.append(Article(f"copy{i}", copy_of(text, i)))
        if i % 25 == 24:  # a retry of an earlier brief and of an earlier copy: answered from what is stored
            arts += [Article(f"brief{i - 5}", brief(i - 5)), Article(f"copy{i - 6}", copy_of(text, i - 6))]
    return arts


@pytest.mark.skipif(not (DATA / "bbc-news").exists(), reason="needs ../shared/data")
def test_redis_answers_every_add_as_memory_does(redis_client, namespace):
    redis_index = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=2000)
    on_redis, in_memory = StoringDeduplicator(PARAMS, redis_index), Deduplicator(PARAMS, MemoryIndex(PARAMS))
    kinds, linked = set(), 0
    for a in _stream():
        got, want = on_redis.add(a), in_memory.add(a)
        assert (got.to_dict(), got.created) == (want.to_dict(), want.created), a.id
        kinds.update(link.kind for link in got.duplicates)
        linked += bool(got.duplicates)
    assert {"exact", "near", "update", "contained"} <= kinds and linked > 50  # the stream links, of several kinds
    assert redis_index.pending(100, 1e12) == []  # nothing left pending once what was deferred is written
    for key in redis_index.keys():
        redis_client.delete(key)
