"""Hot stories (issue 14): one 400-word story posted 1,000 times, and a flood
of template briefs, through ``Deduplicator`` on a ``RedisIndex`` against a
private redis-server.

Measures: the latency of adds 1-10 against adds 991-1000 of the same story
(median), Redis bytes per article in that cluster against articles with no
duplicate (``MEMORY USAGE`` of every key of the namespace), round trips per
add (socket writes counted), the first page of the cluster
(``GET /v1/clusters/<first id>`` through the Flask app, and its size), and
briefs per second against distinct articles per second, through
``Deduplicator.add`` and through one ``POST /v1/batch`` each (the Flask app
in-process, NDJSON as a feed posts it).

It runs on older releases as well (to compare): only the ``dedup`` and
``dedup_service`` packages installed in the running interpreter are used;
the text generators come from ``tests/hotload.py`` next to this file.

    python bench/bench_hot.py [--copies 1000] [--briefs 1000] [--out bench/results/hot.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import os
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # generators and RedisServer only: the packages are the installed ones

from conftest import RedisServer, redis_server_binary  # noqa: E402
from hotload import brief, copy_of, story  # noqa: E402

from dedup import Article, Deduplicator, Params  # noqa: E402
from dedup_service import layout  # noqa: E402
from dedup_service.store import RedisIndex  # noqa: E402


class Trips:
    """Socket writes to Redis (one per request; a pipeline would be one)."""

    def __init__(self) -> None:
        from redis.connection import AbstractConnection

        self.n, self._cls, self._send = 0, AbstractConnection, AbstractConnection.send_packed_command

        def send(conn, *a, **k):
            self.n += 1
            return self._send(conn, *a, **k)

        AbstractConnection.send_packed_command = send


def bytes_of(idx: RedisIndex) -> int:
    return sum(idx.client.memory_usage(k, samples=0) or 0 for k in idx.keys())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=1000)
    ap.add_argument("--briefs", type=int, default=1000)
    ap.add_argument("--singletons", type=int, default=200)
    ap.add_argument("--batch-chunk", type=int, default=200, help="articles per /v1/batch request")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    server = RedisServer(redis_server_binary())
    res: dict = {"layout_version": layout.VERSION, "copies": args.copies, "briefs": args.briefs,
                 "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        client, params = server.client(), Params()
        trips = Trips()
        hot = RedisIndex(client, params, namespace="hot", capacity=max(1000, args.copies))
        d, text, lat, per_add = Deduplicator(params, hot), story(1), [], []
        for i in range(args.copies):
            a = Article(f"c{i}", copy_of(text, i))
            n0, t0 = trips.n, time.perf_counter()
            m = d.add(a)
            lat.append(time.perf_counter() - t0)
            per_add.append(trips.n - n0)
            if i % 100 == 99:
                print(f"copy {i + 1}: {lat[-1] * 1000:.1f} ms, cluster {m.cluster}", file=sys.stderr)
        res["add_ms_first_10"] = round(statistics.median(lat[:10]) * 1000, 2)
        res["add_ms_last_10"] = round(statistics.median(lat[-10:]) * 1000, 2)
        res["last_over_first"] = round(res["add_ms_last_10"] / res["add_ms_first_10"], 2)
        res["round_trips_first_add"] = per_add[0]
        res["round_trips_copy_max_last_100"] = max(per_add[-100:])
        alone = RedisIndex(client, params, namespace="alone", capacity=1000)
        ds = Deduplicator(params, alone)
        for i in range(args.singletons):
            ds.add(Article(f"s{i}", story(10_000 + i)))
        res["bytes_per_article_hot"] = round(bytes_of(hot) / args.copies)
        res["bytes_per_article_singleton"] = round(bytes_of(alone) / args.singletons)
        res["hot_over_singleton"] = round(res["bytes_per_article_hot"] / res["bytes_per_article_singleton"], 2)

        from dedup_service.app import create_app

        app = create_app({"TESTING": True, "REDIS_URL": server.url, "DEFAULT_NAMESPACE": "hot",
                          "CAPACITY": max(1000, args.copies)})
        http = app.test_client()
        http.get("/v1/clusters/c0")  # warm
        t0 = time.perf_counter()
        r = http.get("/v1/clusters/c0")
        res["cluster_page_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        res["cluster_page_bytes"] = len(r.data)
        res["cluster_page_members"] = len(r.json["members"])
        res["cluster_by_member_status"] = http.get(f"/v1/clusters/c{args.copies // 2}").status_code

        # the same two floods through /v1/batch (NDJSON in and out, as a feed posts them), in chunks that
        # alternate between the two, so that both see the same load from the rest of the machine
        makers = {"distinct": lambda i: story(30_000 + i), "briefs": lambda i: brief(50_000 + i)}
        spent, lines = Counter(), {name: [] for name in makers}
        for start in range(0, args.briefs, args.batch_chunk):
            for name, make in makers.items():
                body = "".join(json.dumps({"id": f"{name}{i}", "text": make(i)}) + "\n"
                               for i in range(start, min(args.briefs, start + args.batch_chunk)))
                t0 = time.perf_counter()
                r = http.post(f"/v1/ns/batch-{name}/batch", data=body, content_type="application/x-ndjson")
                lines[name] += [json.loads(x) for x in r.data.splitlines()]
                spent[name] += time.perf_counter() - t0
        for name in makers:
            res[f"batch_{name}_per_s"] = round(args.briefs / spent[name], 1)
            res[f"batch_{name}_statuses"] = dict(Counter(x["status"] for x in lines[name]))
            res[f"batch_{name}_merged"] = sum(bool(x.get("duplicates")) for x in lines[name])
            print(f"/v1/batch {name}: {res[f'batch_{name}_per_s']}/s", file=sys.stderr)
        res["batch_briefs_over_distinct"] = round(res["batch_briefs_per_s"] / res["batch_distinct_per_s"], 2)
        app.extensions["dedup"].close()

        for name, make in (("distinct", lambda i: story(20_000 + i)), ("briefs", brief)):
            idx = RedisIndex(client, params, namespace=name, capacity=max(1000, args.briefs))
            dd, merged, most = Deduplicator(params, idx), 0, 0
            arts = [Article(f"{name}{i}", make(i)) for i in range(args.briefs)]
            t0 = time.perf_counter()
            for a in arts:
                n0 = trips.n
                merged += bool(dd.add(a).duplicates)
                most = max(most, trips.n - n0)
            dt = time.perf_counter() - t0
            res[f"round_trips_{name}_max"] = most
            res[f"{name}_per_s"] = round(args.briefs / dt, 1)
            res[f"{name}_merged"] = merged
            print(f"{name}: {res[f'{name}_per_s']}/s, merged {merged}", file=sys.stderr)
        res["briefs_over_distinct"] = round(res["briefs_per_s"] / res["distinct_per_s"], 2)
    finally:
        server.stop()
    res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(res, indent=2))
    if args.out:
        args.out.write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    main()
