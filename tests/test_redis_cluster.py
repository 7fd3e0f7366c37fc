"""The store and the service on a real 3-master Redis Cluster (issue 18).

The Index contract suite, the API tests and the store's own tests of round
trips, repair and what a person reads run here again, unchanged: they are
imported from their modules, and this module's fixtures (``index``,
``redis_client``, ``app``) put them on the cluster (``conftest.redis_cluster``:
``redis-server --cluster-enabled yes`` x3 joined by ``redis-cli --cluster
create``; skipped only without redis-cli). Then: several namespaces spread
over every master, each in one slot; ``dedup load`` (``tests/test_load.py``),
``dedup export`` / ``reindex`` and the generation marker on the cluster.
"""

from __future__ import annotations

import numpy as np
import pytest
from redis.cluster import RedisCluster

import test_api
import test_index_contract
import test_load
import test_store
from dedup import Params
from dedup_service.store import RedisIndex

PARAMS = Params()

#: Tests that build their own client on the single private server, not on the cluster.
_SINGLE_SERVER_ONLY = {"test_retention_expires_articles_through_the_api", "test_storing_the_text_can_be_turned_off",
                       "test_a_query_answers_the_stored_fields_of_its_duplicates_in_its_own_round_trips"}
_FROM_STORE = {  # the store's tests that run unchanged on any client
    "test_round_trips_per_add_do_not_grow_with_the_story", "test_a_retry_repairs_an_add_whose_link_step_failed",
    "test_repair_links_what_a_dropped_link_step_left_half_linked", "test_title_url_and_source_come_back_with_the_article_its_duplicates_and_its_cluster",
    "test_the_original_text_is_stored_compressed_and_read_on_request", "test_a_stored_update_link_lists_its_changed_figures",
    "test_bytes_per_article_in_a_hot_story_stay_near_a_singletons", "test_remove_everything_leaves_no_key",
    "test_one_round_trip_per_add",
}
for _module, _names in ((test_index_contract, None), (test_api, None), (test_store, _FROM_STORE)):
    for _name, _obj in vars(_module).items():
        if _name.startswith("test_") and callable(_obj) and _name not in _SINGLE_SERVER_ONLY and \
                (_names is None or _name in _names):
            globals()[_name] = _obj
confirms = test_index_contract.confirms  # a fixture the contract tests use
feed, state = test_load.feed, test_load.state  # the load tests' feed and its batch state
test_a_loaded_state_equals_the_same_articles_posted_one_by_one = \
    test_load.test_a_loaded_state_equals_the_same_articles_posted_one_by_one
test_an_interrupted_load_goes_on_where_it_stopped = test_load.test_an_interrupted_load_goes_on_where_it_stopped


@pytest.fixture(scope="module")
def redis_client(redis_cluster) -> RedisCluster:
    """The cluster's client, where the single server's would be."""
    client = redis_cluster.client()
    yield client
    client.close()


@pytest.fixture
def index(redis_client, namespace):
    idx = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    yield idx
    for key in idx.keys():
        if key.startswith(idx.prefix + b"r"):
            idx.remove(idx._unpack(idx.client.get(key)).id)
    assert idx.keys() == []


@pytest.fixture
def app(redis_cluster, namespace, monkeypatch):
    """The app on the cluster, configured as an operator would: DEDUP_REDIS_CLUSTER, a URL naming one node."""
    from dedup_service.app import create_app

    monkeypatch.setenv("DEDUP_REDIS_CLUSTER", "true")
    monkeypatch.setenv("DEDUP_REDIS_URL", redis_cluster.nodes[1].url)
    app = create_app({"TESTING": True, "DEFAULT_NAMESPACE": namespace, "MAX_TEXT_BYTES": 20_000, "CAPACITY": 1000})
    assert isinstance(app.extensions["dedup"].client, RedisCluster)
    yield app
    app.extensions["dedup"].close()


@pytest.fixture
def cli_env(redis_cluster) -> dict:
    """The commands' configuration for the ``app`` below: the cluster, named by one node."""
    return {"DEDUP_REDIS_URL": redis_cluster.nodes[2].url, "DEDUP_REDIS_CLUSTER": "true", "DEDUP_CAPACITY": "1000",
            "DEDUP_MAX_TEXT_BYTES": "20000"}


def _slot_owner(redis_cluster) -> dict[int, int]:
    """slot -> port of the master serving it."""
    owner = {}
    for start, end, (_host, port, *_rest), *_ in redis_cluster.nodes[0].client().execute_command("CLUSTER", "SLOTS"):
        owner.update(dict.fromkeys(range(start, end + 1), port))
    return owner


def test_namespaces_spread_over_every_master_each_in_one_slot(redis_cluster, redis_client):
    from redis.crc import key_slot

    owner = _slot_owner(redis_cluster)
    ports = {n.port for n in redis_cluster.nodes}
    assert set(owner.values()) == ports and len(ports) == 3
    names, covered = [], set()
    for i in range(200):  # the first few namespace names that put one on each master
        port = owner[key_slot(f"dd{{spread{i}}}".encode())]
        if port not in covered:
            covered.add(port)
            names.append(f"spread{i}")
    names += [f"many{i}" for i in range(9)]
    rng = np.random.default_rng(3)
    idxs = [RedisIndex(redis_client, PARAMS, namespace=ns, capacity=100) for ns in names]
    for idx in idxs:
        sig = rng.integers(0, 2**32, PARAMS.num_perm, dtype=np.uint32)
        for j in range(3):
            idx.add(test_index_contract.fp(f"{idx.namespace}-{j}", sig if j else None))
        idx.link(test_index_contract.link(f"{idx.namespace}-1", f"{idx.namespace}-0"))
    held = {n.port: set(n.client().scan_iter(match="dd{*", count=1000)) for n in redis_cluster.nodes}
    assert all(held.values()), {p: len(k) for p, k in held.items()}  # every master holds keys
    for idx in idxs:
        keys = idx.keys()
        slots = {key_slot(k) for k in keys}
        assert len(slots) == 1 and len(keys) > 5  # one namespace, one slot
        assert set(keys) <= held[owner[slots.pop()]]  # on the master that serves that slot
    for idx in idxs:
        for j in range(3):
            idx.remove(f"{idx.namespace}-{j}")
        assert idx.keys() == []


def test_dedup_serve_on_the_cluster(redis_cluster, tmp_path):
    """``dedup serve --redis-cluster --redis-url <one node>`` serves posts;
    without a URL, or with no node answering, it says so in one line."""
    import json
    import subprocess
    import sys
    import urllib.request

    from click.testing import CliRunner

    from conftest import free_port
    from dedup.cli.serve import serve_command
    from test_serve_cli import _ready

    r = CliRunner().invoke(serve_command, ["--dev", "--redis-cluster"])
    assert r.exit_code == 1 and "--redis-cluster needs --redis-url" in r.output
    r = CliRunner().invoke(serve_command, ["--dev", "--redis-cluster", "--redis-url", "redis://127.0.0.1:1/0"])
    assert r.exit_code == 1 and r.output.startswith("Error: configuration: redis cluster at") and "Traceback" not in r.output
    port = free_port()
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("DEDUP_")}
    proc = subprocess.Popen([sys.executable, "-c", "from dedup.cli import main; main()", "serve", "--dev", "--redis-cluster", "--port", str(port),
                             "--redis-url", redis_cluster.nodes[2].url], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from _processes import wait_until

        wait_until(lambda: _ready(f"http://127.0.0.1:{port}/readyz"), 60)
        body = json.dumps({"id": "served", "text": test_api.story(77), "title": "On the cluster"}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/ns/served/articles", body,
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 201
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/ns/served/articles/served", timeout=10) as resp:
            assert json.load(resp)["title"] == "On the cluster"
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/ns/served/articles/served", method="DELETE")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 204
    finally:
        proc.terminate()
        proc.wait(15)


def test_export_then_reindex_on_the_cluster(app, redis_client, namespace, feed, cli_env, tmp_path):
    from click.testing import CliRunner

    from dedup.cli import cli

    path, rows = feed
    stored = test_load._post_all(app, namespace, rows)
    dump = tmp_path / "ns.jsonl"
    r = CliRunner().invoke(cli, ["export", "-n", namespace, "-o", str(dump)], env=cli_env, catch_exceptions=False)
    assert r.exit_code == 0 and f"exported {stored} articles" in r.output, r.output
    r = CliRunner().invoke(cli, ["reindex", str(dump), "-n", namespace + "-b"], env=cli_env, catch_exceptions=False)
    assert r.exit_code == 0 and f"{stored} stored" in r.output, r.output
    before = test_load._contents(redis_client, f"dd{{{namespace}}}".encode())
    assert test_load._contents(redis_client, f"dd{{{namespace}-b}}".encode()) == before and len(before) > 3 * stored
    assert test_load._answers(app, namespace + "-b", rows) == test_load._answers(app, namespace, rows)


def test_the_generation_marker_tells_when_the_cluster_lost_its_data(app, redis_cluster, redis_client):
    """``/readyz`` says ``data_lost`` once the master holding the marker
    (one key, ``dd:generation``, in its own slot) restarted empty; every
    master is emptied here (FLUSHALL), the marker removed at the end so the
    other tests' apps start on a fresh one."""
    from redis.crc import key_slot

    c = app.test_client()
    first = c.get("/readyz").json
    assert first["status"] == "ready" and first["data_lost"] is None
    owner = _slot_owner(redis_cluster)[key_slot(b"dd:generation")]
    assert next(n for n in redis_cluster.nodes if n.port == owner).client().exists(b"dd:generation")
    assert c.get("/readyz").json["generation"] == first["generation"]  # kept while the data is
    try:
        for n in redis_cluster.nodes:
            n.client().flushall()
        lost = c.get("/readyz").json
        assert lost["generation"] != first["generation"]
        assert lost["data_lost"]["previous_generation"] == first["generation"] and lost["data_lost"]["detected_at"]
    finally:
        redis_client.delete(b"dd:generation")
