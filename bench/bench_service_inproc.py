"""The service's code path without HTTP: ``Deduplicator`` on a ``RedisIndex``
(private redis-server), in one process, so that two trees can be compared
without gunicorn's and the load generator's noise.

    python bench/bench_service_inproc.py ROOT N Q add|query

loads ``N`` articles of ``bench_service.Articles`` one by one, warms on
:data:`WARM` operations, then times ``Q`` adds of new articles (``add``), or
queries of every ``N // Q``-th stored text under a new id, at most ``Q``
less the warm-up (``query``, as ``bench_service.py``'s timed queries), and prints
the rate and the EVALSHA calls of the timed phase. ``ROOT`` is the tree
whose ``dedup``/``dedup_service`` to import (run with that tree's venv).
"""
import sys
import time

WARM = 50  # operations before the timed ones

root, N, Q, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sys.path[:0] = [root, root + "/bench", root + "/tests"]

import bench_service as bs  # noqa: E402
from conftest import RedisServer, redis_server_binary  # noqa: E402
from dedup import Article, Deduplicator, Params  # noqa: E402
from dedup_service.store import RedisIndex  # noqa: E402

gen = bs.Articles()
srv = RedisServer(redis_server_binary())
try:
    rc, p = srv.client(), Params()
    d = Deduplicator(p, RedisIndex(rc, p, namespace="q", retention=36500 * 86400.0))
    for i in range(N):
        d.add(Article.from_dict(gen.get(i)))
    if mode == "add":
        arts, op = [Article.from_dict(gen.get(i)) for i in range(N, N + Q + WARM)], d.add
    else:
        arts = [Article.from_dict({**gen.get(i), "id": f"q{i}"}) for i in range(0, N, max(1, N // Q))][:Q]
        op = d.query
    for a in arts[:WARM]:
        op(a)
    timed = arts[WARM:]
    rc.config_resetstat()
    t = time.perf_counter()
    for a in timed:
        op(a)
    dt = time.perf_counter() - t
    calls = rc.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
    print(f"{mode} {len(timed)} after {N} stored: {len(timed) / dt:.1f}/s, "
          f"{1000 * dt / len(timed):.2f} ms each, {calls} EVALSHA")
finally:
    srv.stop()
