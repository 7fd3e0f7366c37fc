"""A bounded soak: concurrent posts, concurrent copies and deletes against a
real gunicorn (2 workers), with a retention window of seconds.

    python -m pytest -m soak -s -p no:cacheprovider tests/reliability    # DEDUP_TEST_SOAK_SECONDS (default 180)

Zero 5xx and zero lost connections; every copy posted concurrently with
another copy of the same story finds the story (no missed pair); p50/p99
latency printed; once the retention window has passed and the sweep has
run, the namespace holds no key at all (as many as at the start: none).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import Counter

import pytest

from harness import gunicorn, managed_redis, soak_requested, story  # noqa: F401 - fixtures

pytestmark = pytest.mark.soak

SECONDS = float(os.environ.get("DEDUP_TEST_SOAK_SECONDS", "180"))
RETENTION = 8.0  # seconds


def test_soak(soak_requested, managed_redis, gunicorn):
    r = managed_redis("--appendonly", "yes", "--appendfsync", "always")
    server = gunicorn(workers=2, threads=8, REDIS_URL=r.url, RETENTION_DAYS=RETENTION / 86400, DEFAULT_NAMESPACE="soak")
    start_keys = r.client().dbsize()
    statuses, latencies, missed, lock = Counter(), [], [], threading.Lock()
    deadline = time.monotonic() + SECONDS

    def call(method, path, body=None):
        t0 = time.perf_counter()
        try:
            got = server.request(method, path, body, timeout=30)
        except OSError as e:
            with lock:
                statuses[type(e).__name__] += 1
            return None
        with lock:
            statuses[got.status] += 1
            latencies.append(time.perf_counter() - t0)
        return got

    def worker(k: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            seed = k * 1_000_000 + n
            n += 1
            orig = call("POST", "/v1/articles", {"id": f"o{seed}", "text": story(seed)})
            if orig is None or orig.status != 201:
                continue
            answers = [None, None]
            barrier = threading.Barrier(2)

            def copy(i):
                barrier.wait()
                answers[i] = call("POST", "/v1/articles", {"id": f"c{seed}-{i}", "text": f"UPDATE {i} - " + story(seed)})

            pair = [threading.Thread(target=copy, args=(i,)) for i in range(2)]
            for t in pair:
                t.start()
            for t in pair:
                t.join()
            for i, a in enumerate(answers):
                if a is None or a.status != 201 or a.json["cluster"] != f"o{seed}" or not a.json["duplicates"]:
                    missed.append((seed, i, a and a.status, a and a.json))
            if n % 3 == 0:
                call("DELETE", f"/v1/articles/c{seed}-0")
            if n % 5 == 0:
                call("GET", f"/v1/clusters/o{seed}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(RETENTION + 1.5)  # every article is past the window and its retention bucket
    from dedup_service.app import create_app

    app = create_app({"REDIS_URL": r.url, "RETENTION_DAYS": RETENTION / 86400})
    index = app.extensions["dedup"].index("soak")
    purged = index.purge_expired(limit=10**9)
    left = index.keys()
    app.extensions["dedup"].close()
    lat = sorted(latencies)
    p50, p99 = statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]
    sent = sum(statuses.values())
    print(f"\nsoak {SECONDS:.0f}s, 2 workers x 8 threads, 4 clients (+2 concurrent copies each): {sent} requests, "
          f"statuses {dict(statuses)}, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, missed pairs {len(missed)}, "
          f"purged at the end {purged}, namespace keys left {len(left)}, redis keys {start_keys} -> "
          f"{r.client().dbsize()}")
    assert not [s for s in statuses if not isinstance(s, int) or s >= 500], statuses
    assert missed == [], missed[:3]
    assert left == []
    assert r.client().dbsize() == start_keys + 1  # + the generation marker, made by the first request
