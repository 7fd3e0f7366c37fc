"""The look-up groups its candidates by cluster through the joined bitmap
(``P J``): an article that never joined another's cluster is read as its own
root without a record read. Checked against ``MemoryIndex`` (which keeps the
roots in memory) on a stream of merges, removals and a split, with internal
ids far apart (in several chunks of the bitmap, ``layout.JOINED_CHUNK``).
The bitmap's chunks stay bounded by the live articles: removals and
retention clear bits and drop the chunks left all-zero."""

from __future__ import annotations

import numpy as np
import pytest

from dedup import Fingerprint, Link, Params
from dedup.index import MemoryIndex
from dedup_service import layout
from dedup_service.store import RedisIndex

PARAMS = Params()


def _sig(seed: int, base: np.ndarray | None = None, keep: int = 0, bands: tuple[int, ...] = ()) -> np.ndarray:
    """A random signature, or one sharing its first ``keep`` bands (or the ``bands``) with ``base``."""
    sig = np.random.default_rng(seed).integers(0, 2**32, PARAMS.num_perm, dtype=np.uint32)
    if base is not None:
        rows = PARAMS.banding[1]
        sig[: keep * rows] = base[: keep * rows]
        for b in bands:
            sig[b * rows:(b + 1) * rows] = base[b * rows:(b + 1) * rows]
    return sig


def _chunks(index: RedisIndex) -> dict[bytes, bytes]:
    """The joined bitmap's keys (everything under ``P J``) and their values."""
    return {k: index.client.get(k) for k in index.keys() if k.startswith(index.prefix + b"J")}


def _joined(index: RedisIndex, client) -> set[int]:
    got = set()
    for key, bits in _chunks(index).items():
        assert len(key) == len(index.prefix) + 1 + layout.IID and len(bits) <= layout.JOINED_CHUNK // 8
        first = int.from_bytes(key[-layout.IID:], "big")
        assert first % layout.JOINED_CHUNK == 0
        got |= {first + 8 * i + j for i, byte in enumerate(bits) for j in range(8) if byte & (128 >> j)}
    return got


def _iid(index: RedisIndex, doc_id: str) -> int:
    idkey, digest, _ = index._idkey(doc_id)
    return int.from_bytes(index.client.hget(idkey, digest), "big")


@pytest.mark.parametrize("gap", [0, 3 * layout.JOINED_CHUNK])
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
        if gap and i % 4 == 2:  # internal ids far apart: in chunks of their own
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


def _pair(index: RedisIndex, name: str, seed: int, added: float) -> None:
    """Two copies of one story: the second joins the first's cluster (its bit is set)."""
    sig = _sig(seed)
    for doc_id in (f"{name}a", f"{name}b"):
        index.add(Fingerprint(doc_id, sig, np.arange(5, dtype=np.uint32), None, added))
    index.attach(f"{name}b", [Link(f"{name}b", f"{name}a", "exact", 1.0, 1.0, 1.0, 1.0)])


def test_the_joined_bitmap_stays_bounded_by_the_live_articles(redis_client, namespace):
    """Many stories added and deleted, their iids far apart: no bitmap key
    grows past one chunk, and the chunks are those of the live joined
    articles only (one string of every iid ever added, before)."""
    index = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    for r in range(40):
        _pair(index, f"s{r}-", 1000 + r, 1_000.0 + r)
        if r % 10:  # all but every tenth story deleted again
            assert index.remove(f"s{r}-a") and index.remove(f"s{r}-b")
        redis_client.hincrby(index.prefix + b"m", "s", layout.JOINED_CHUNK)  # the next story in a chunk of its own
    live = {_iid(index, f"s{r}-b") for r in range(0, 40, 10)}
    chunks = _chunks(index)
    assert max(map(len, chunks.values())) <= layout.JOINED_CHUNK // 8  # no bitmap key past one chunk
    assert sum(map(len, chunks.values())) <= len(live) * layout.JOINED_CHUNK // 8
    assert len(chunks) == len(live) and _joined(index, redis_client) == live
    for r in range(0, 40, 10):
        index.remove(f"s{r}-b")
    assert _chunks(index) == {}  # a chunk left all-zero is deleted, though its other article lives
    for r in range(0, 40, 10):
        index.remove(f"s{r}-a")
    assert index.keys() == []


def test_retention_drops_the_chunks_of_expired_articles(redis_client, namespace):
    """The purge removes expired articles as a deletion does: the chunks
    wholly older than the retention horizon go with them."""
    clock = type("Clock", (), {"t": 1_000_000.0, "__call__": lambda self: self.t})()
    index = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000, retention=3600, clock=clock)
    for r in range(6):
        _pair(index, f"old{r}-", 2000 + r, clock.t)
        redis_client.hincrby(index.prefix + b"m", "s", layout.JOINED_CHUNK)
    clock.t += 7200
    _pair(index, "new-", 3000, clock.t)
    index.purge_expired()
    assert sum(map(len, _chunks(index).values())) <= layout.JOINED_CHUNK // 8  # the new story's chunk only
    assert _joined(index, redis_client) == {_iid(index, "new-b")} and len(_chunks(index)) == 1
    for doc_id in ("new-a", "new-b"):
        index.remove(doc_id)
    assert index.keys() == []


def _getranges(client) -> int:
    stats = client.info("commandstats")
    return stats.get("cmdstat_getrange", {}).get("calls", 0)


@pytest.mark.parametrize("spread", [False, True])
def test_a_briefs_look_up_reads_each_chunk_once_in_one_round_trip(redis_client, namespace, redis_requests, spread):
    """Template briefs, each alone in its story, iids in one chunk or spread
    over four (ids wider apart than one bitmap range): the look-up groups
    them by cluster with one bitmap read per chunk and no record read, in
    one round trip (a record read per brief past the old single bitmap's
    read span, before). Each brief shares two of the probe's bands, and no
    bucket is crowded (dedup.index.CROWD)."""
    index = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    base, bands = _sig(7), PARAMS.banding[0]
    briefs = []
    for i in range(40):
        if spread and i % 10 == 0 and i:
            redis_client.hincrby(index.prefix + b"m", "s", 3 * layout.JOINED_CHUNK)
        doc_id = f"brief{i}"
        sig = _sig(500 + i, base, bands=(i % bands, (i + 1) % bands))
        index.add(Fingerprint(doc_id, sig, np.arange(5, dtype=np.uint32), None, 1_000.0 + i))
        index.attach(doc_id, [])
        briefs.append(doc_id)
    index.settle()
    probe = Fingerprint("probe", base, np.arange(5, dtype=np.uint32), None, 2_000.0)
    index.candidates(probe)  # the script is loaded
    before = _getranges(redis_client)
    redis_requests.n = 0
    got = index.candidates(probe)
    assert redis_requests.n == 1
    reads = _getranges(redis_client) - before  # GETRANGE calls inside the script
    chunks = {layout.joined_chunk(_iid(index, b))[0] for b in briefs}  # every brief shares two of the probe's bands
    assert len(got) >= 10 and len(chunks) == (4 if spread else 1)
    assert reads == len(chunks) + len(got)  # a chunk read each, and each candidate's about value head
    for doc_id in briefs:
        index.remove(doc_id)
    assert index.keys() == []
