"""The look-up groups its candidates by cluster through the joined bitmap
(``P J``): an article that never joined another's cluster is read as its own
root without a record read. Checked against ``MemoryIndex`` (which keeps the
roots in memory) on a stream of merges, removals and a split, with internal
ids far apart (past ``layout.JOINED_READ``: the records are read instead)."""

from __future__ import annotations

import numpy as np
import pytest

from dedup import Fingerprint, Link, Params
from dedup.index import MemoryIndex
from dedup_service import layout
from dedup_service.store import RedisIndex

PARAMS = Params()


def _sig(seed: int, base: np.ndarray | None = None, keep: int = 0) -> np.ndarray:
    """A random signature, or one sharing its first ``keep`` bands with ``base``."""
    sig = np.random.default_rng(seed).integers(0, 2**32, PARAMS.num_perm, dtype=np.uint32)
    if base is not None:
        rows = PARAMS.banding[1]
        sig[: keep * rows] = base[: keep * rows]
    return sig


def _joined(index: RedisIndex, client) -> set[int]:
    bits = client.get(index.prefix + b"J") or b""
    return {8 * i + j for i, byte in enumerate(bits) for j in range(8) if byte & (128 >> j)}


@pytest.mark.parametrize("gap", [0, 2 * layout.JOINED_READ])
def test_candidates_are_grouped_by_cluster_as_in_memory(redis_client, namespace, gap):
    redis_idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    memory = MemoryIndex(PARAMS)
    base = _sig(1)
    # a story of 8 copies (one cluster: only its oldest + 2 most collided are candidates) among look-alikes
    stream = []
    for i in range(24):
        kind = "copy" if i % 3 == 0 else "alike"
        stream.append((f"{kind}{i}", _sig(100 + i, base, keep=20 if kind == "copy" else 1 + i % 5), kind))
    for i, (doc_id, sig, kind) in enumerate(stream):
        if gap and i % 4 == 2:  # internal ids far apart: the bitmap span is too wide to read
            redis_client.hincrby(redis_idx.prefix + b"m", "s", gap)
        fp = Fingerprint(doc_id, sig, np.arange(5, dtype=np.uint32), None, 1_000.0 + i)
        got = [[f.id for f in idx.add(fp)] for idx in (redis_idx, memory)]
        assert got[0] == got[1], doc_id
        copies = [f for f in got[1] if f.startswith("copy")]
        if kind == "copy" and copies:
            for idx in (redis_idx, memory):
                idx.attach(doc_id, [Link(doc_id, copies[0], "near", 0.9, 0.9, 0.9, 0.9)])
        if i == 15:  # the story's founder leaves; its cluster (and name) stay
            assert redis_idx.remove("copy0") and memory.remove("copy0")
    story = redis_idx.cluster("copy3")
    assert story[0] == "copy0" and len(story[1]) == 7
    # exactly the articles whose root is another's have their bit set
    expected = {int.from_bytes(redis_client.hget(redis_idx._idkey(m)[0], redis_idx._idkey(m)[1]), "big")
                for m, _, _ in story[1] if m != "copy0"}
    assert _joined(redis_idx, redis_client) == expected
    for doc_id, _, _ in stream:
        redis_idx.remove(doc_id)
    assert redis_idx.keys() == []  # the bitmap goes with the namespace's last article
