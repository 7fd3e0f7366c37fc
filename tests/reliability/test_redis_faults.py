"""Redis killed (``kill -9``) under a stream of writes, and Redis restarted empty."""

from __future__ import annotations

import threading
import time

import pytest
from harness import gunicorn, managed_redis, story, wait_for  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def _post_stream(server, prefix: str, stop: threading.Event, acked: dict, statuses: list) -> None:
    """Post distinct articles one after the other until ``stop``; record every answer."""
    n = 0
    while not stop.is_set():
        doc = {"id": f"{prefix}-{n}", "text": story(n)}
        try:
            r = server.post("/v1/articles", doc, timeout=10)
            statuses.append(r.status)
            if r.status in (200, 201):
                acked[doc["id"]] = r.json
            elif r.status == 503:
                assert r.headers.get("retry-after") == "1" and r.json["error"]["code"] == "store_unavailable"
                time.sleep(0.05)
        except OSError as e:
            statuses.append(type(e).__name__)
        n += 1


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_redis_kill9_loses_no_acknowledged_article(managed_redis, gunicorn, fsync):
    """Every 201 survives ``kill -9`` of Redis (AOF); during the outage only
    503s; writes succeed again without restarting the service.

    ``everysec`` passes too: Redis write()s the AOF before it replies, so a
    killed *process* loses nothing; only a machine crash (power, kernel)
    loses what was not fsynced yet, up to about two seconds of writes, and
    that cannot be caused on loopback. ``always`` survives that as well."""
    r = managed_redis("--appendonly", "yes", "--appendfsync", fsync)
    server = gunicorn(workers=2, threads=4, REDIS_URL=r.url, REDIS_TIMEOUT=0.5, RETENTION_DAYS=0)
    stop, acked, statuses = threading.Event(), {}, []
    writers = [threading.Thread(target=_post_stream, args=(server, f"w{i}", stop, acked, statuses)) for i in range(3)]
    for t in writers:
        t.start()
    try:
        wait_for(lambda: len(acked) >= 60, 60, "60 acknowledged articles")
        r.kill9()
        before = len(statuses)
        wait_for(lambda: statuses[before:].count(503) >= 6, 30, "503s during the outage")
        r.start()  # same port, same data folder: Redis replays its AOF
        after = len(acked)
        wait_for(lambda: len(acked) >= after + 30, 60, "writes accepted again after the restart")
    finally:
        stop.set()
        for t in writers:
            t.join()
    assert set(statuses) <= {200, 201, 503}, sorted(set(map(str, statuses)))
    lost = [i for i in acked if server.request("GET", f"/v1/articles/{i}").status != 200]
    assert lost == [], f"{len(lost)} of {len(acked)} acknowledged articles lost: {lost[:5]}"
    print(f"\nredis kill -9 (appendfsync {fsync}): {len(statuses)} requests, {statuses.count(503)} x 503, "
          f"{len(acked)} acknowledged, {len(lost)} lost")


def test_redis_restarted_empty_is_noticed_on_readyz_and_in_the_logs(managed_redis, gunicorn):
    """A Redis that comes back without its data: /readyz says so (data_lost,
    a new generation) and each worker logs a warning; writes go on."""
    r = managed_redis()  # no persistence at all
    server = gunicorn(workers=1, threads=2, REDIS_URL=r.url, REDIS_TIMEOUT=0.5)
    ready = server.request("GET", "/readyz").json
    assert ready["data_lost"] is None
    assert server.post("/v1/articles", {"id": "a", "text": story(1)}).status == 201
    r.restart_empty()
    got = wait_for(lambda: (x := server.request("GET", "/readyz")).status == 200 and x.json, 20, "readyz")
    assert got["generation"] != ready["generation"]
    assert got["data_lost"]["previous_generation"] == ready["generation"]
    assert "redis restarted empty or was flushed" in server.output()
    assert server.request("GET", "/v1/articles/a").status == 404  # gone, and said so above
    assert server.post("/v1/articles", {"id": "b", "text": story(2)}).status == 201
