"""``dedup.buckets.Buckets`` (numba tables) against plain Python buckets, and
``MemoryIndex`` on them against ``MemoryIndex`` on the plain ones: the same
answers, op by op."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import Article, Deduplicator, Params
from dedup.buckets import OLDEST, STOCK, Buckets
from dedup.index import CROWD, MemoryIndex

from edit_kinds import DATA, brief, build, truncate

_GONE = "stock"


class PlainBuckets:
    """The reference: per position a dict key -> list of docs (oldest first) or ``"stock"``."""

    def __init__(self, positions: int, keep: int, policy: int, crowd: int = 0) -> None:
        self.keep, self.policy, self.crowd = keep, policy, crowd
        self.maps: list[dict] = [{} for _ in range(positions)]

    def _met(self, bucket: list[int]) -> list[int]:
        """What a bucket gives: all of it, or a crowded one its oldest and newest."""
        return [bucket[0], bucket[-1]] if self.crowd and len(bucket) >= self.crowd else list(bucket)

    @staticmethod
    def _answer(hits: list[int], min_count: int, exclude: int = -1) -> tuple[list[int], list[int]]:
        got = sorted((d, c) for d, c in Counter(hits).items() if c >= min_count and d != exclude)
        return [d for d, _ in got], [c for _, c in got]

    def put(self, doc, keys, min_count=1):
        hits = []
        for m, k in zip(self.maps, keys.tolist()):
            bucket = m.get(k)
            if bucket is None:
                m[k] = [doc]
            elif bucket == _GONE:
                continue
            elif len(bucket) < self.keep:
                hits += self._met(bucket)
                bucket.append(doc)
            elif self.policy == OLDEST:
                hits += self._met(bucket)
                bucket.append(doc)
                del bucket[0]
            else:
                m[k] = _GONE
        return self._answer(hits, min_count)

    def get(self, keys, min_count=1, exclude=-1):
        hits = []
        for m, k in zip(self.maps, keys.tolist()):
            bucket = m.get(k)
            if bucket is not None and bucket != _GONE:
                hits += self._met([d for d in bucket if d != exclude])
        return self._answer(hits, min_count, exclude)

    def remove(self, doc, keys):
        for m, k in zip(self.maps, keys.tolist()):
            bucket = m.get(k)
            if bucket is not None and bucket != _GONE and doc in bucket:
                bucket.remove(doc)
                if not bucket:
                    del m[k]


_KEY = st.sampled_from([0, 1, 2, 3, 2**32 - 1, 2**63, 2**64 - 1])


@settings(max_examples=300, deadline=None)
@given(policy=st.sampled_from([OLDEST, STOCK]), keep=st.integers(2, 6), min_count=st.integers(1, 3),
       crowd=st.sampled_from([0, 0, 2, 3, 4]),
       ops=st.lists(st.tuples(st.sampled_from(["put", "put", "get", "remove"]), st.lists(_KEY, min_size=3, max_size=3),
                              st.integers(0, 40)), max_size=60))
def test_buckets_answer_as_plain_buckets(policy, keep, min_count, crowd, ops):
    crowd = crowd if policy == OLDEST else 0
    fast = Buckets(3, keep, policy, slots=4, crowd=crowd)  # 4 slots: rehashes early
    plain = PlainBuckets(3, keep, policy, crowd)
    stored: dict[int, np.ndarray] = {}
    doc = 0
    for op, keys, pick in ops:
        ks = np.array(keys, np.uint64)
        if op == "put":
            assert fast.put(doc, ks, min_count) == plain.put(doc, ks, min_count)
            stored[doc] = ks
            doc += 1
        elif op == "get":
            exclude = pick if pick in stored else -1
            assert fast.get(ks, min_count, exclude) == plain.get(ks, min_count, exclude)
        elif stored:
            gone = sorted(stored)[pick % len(stored)]
            fast.remove(gone, stored[gone])
            plain.remove(gone, stored.pop(gone))
    for ks in stored.values():
        assert fast.get(ks) == plain.get(ks)


def test_buckets_grow_and_keep_answering():
    rng = np.random.default_rng(5)
    fast, plain = Buckets(16, 16, STOCK, slots=4), PlainBuckets(16, 16, STOCK)
    rows = [rng.integers(0, 3000, 16, dtype=np.uint64) for _ in range(3000)]
    for d, ks in enumerate(rows):
        assert fast.put(d, ks, 2) == plain.put(d, ks, 2)
        if d % 3 == 0:
            fast.remove(d // 2, rows[d // 2])
            plain.remove(d // 2, rows[d // 2])
    assert fast._keys.shape[1] > 4 * 64  # it grew several times
    assert all(fast.get(ks, 1) == plain.get(ks, 1) for ks in rows[::7])


def _plain_index(params: Params) -> MemoryIndex:
    index = MemoryIndex(params)
    index._bands = PlainBuckets(index._bands.positions, index._bands.keep, index._bands.policy, index._bands.crowd)
    index._values = PlainBuckets(index._values.positions, index._values.keep, index._values.policy)
    return index


def _stream(seed: int = 3) -> list[Article]:
    """Stories and their edited copies, briefs cut from them (short inside long),
    70 near-copies of one story (full band buckets, stock values), shuffled."""
    rng = random.Random(seed)
    recs = build(n=25, seed=seed)
    longs = [r["text"] for r in recs if r["category"] == "original" and len(r["text"].split()) > 400][:15]
    recs += [{"id": f"brief-{i}", "text": brief(t, rng)} for i, t in enumerate(longs)]
    hot = recs[0]["text"]
    recs += [{"id": f"hot-{i}", "text": f"UPDATE {i}: " + truncate(hot, rng)} for i in range(70)]
    rng.shuffle(recs)
    return [Article(r["id"], r["text"]) for r in recs]


@pytest.mark.skipif(not (DATA / "bbc-news").exists(), reason="needs ../shared/data")
@pytest.mark.parametrize("short_in_long", [True, False])
def test_memory_index_answers_as_on_plain_buckets(short_in_long):
    params = Params(short_in_long=short_in_long)
    fast, plain = Deduplicator(params, MemoryIndex(params)), Deduplicator(params, _plain_index(params))
    arts = _stream()
    contained = 0
    for k, a in enumerate(arts):
        m1, m2 = fast.add(a), plain.add(a)
        assert m1 == m2, a.id
        contained += any(link.kind == "contained" for link in m1.duplicates)
        if k % 9 == 0:  # a retry, a replacement, a removal, a query
            assert fast.add(a) == plain.add(a)
            other = arts[(k * 7) % len(arts)]
            assert fast.add(Article(a.id, other.text)) == plain.add(Article(a.id, other.text))
            gone = arts[(k * 5) % (k + 1)].id
            assert fast.remove(gone) == plain.remove(gone)
            assert fast.query(other) == plain.query(other)
    assert len(fast) == len(plain) > 100
    assert all(fast.story(a.id) == plain.story(a.id) for a in arts)
    bands = plain.index._bands.maps
    assert any(len(b) == plain.index._bands.keep for m in bands for b in m.values())  # full band buckets
    assert plain.index._bands.crowd == CROWD  # so crowded ones too
    if short_in_long:
        assert contained > 0
        assert any(b == _GONE for m in plain.index._values.maps for b in m.values())  # stock values


def test_a_crowded_bucket_gives_its_oldest_and_newest_only():
    b = Buckets(1, 8, OLDEST, crowd=4)
    key = np.array([5], np.uint64)
    for doc in range(3):
        b.put(doc, key)
    assert b.get(key) == ([0, 1, 2], [1, 1, 1])  # 3 < crowd: all of it
    assert b.put(3, key) == ([0, 1, 2], [1, 1, 1])
    assert b.get(key) == ([0, 3], [1, 1])  # 4: crowded
    assert b.put(4, key) == ([0, 3], [1, 1])
    with pytest.raises(ValueError):
        Buckets(1, 8, STOCK, crowd=4)
    with pytest.raises(ValueError):
        Buckets(1, 8, OLDEST, crowd=1)
