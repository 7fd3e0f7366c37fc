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
in-process, NDJSON as a feed posts it; wall time, and the CPU seconds of
this process and of the redis-server, and the Redis commands per article,
``INFO commandstats``); then the evaluation set
(``bench/evalset.py``, ``--evalset``) through ``/v1/batch`` against
``cluster_articles`` (what ``dedup batch`` answers) on the same records:
the gold copies the batch path puts together that the service does not;
last, ``--mixed`` articles of ``bench/bench_service.py``'s stream stored,
then 300 more added: the share with candidates, with a confirmed link, and
the round trips per add (what ``bench_service`` reports at 100,000).

It runs on older releases as well (to compare): only the ``dedup`` and
``dedup_service`` packages installed in the running interpreter are used;
the text generators come from ``tests/hotload.py`` next to this file.

    python bench/bench_hot.py [--copies 1000] [--briefs 1000] [--evalset FILE.jsonl] [--mixed 5000] [--out bench/results/hot.json]
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
sys.path.insert(0, str(HERE))  # bench_service's article stream

from conftest import RedisServer, redis_server_binary  # noqa: E402
from hotload import brief, copy_of, story  # noqa: E402

from dedup import Article, Deduplicator, Params  # noqa: E402
from dedup.batch import cluster_articles  # noqa: E402
from dedup_service import layout  # noqa: E402
from dedup_service.store import RedisIndex  # noqa: E402
from redis_requests import SendCounter as Trips  # noqa: E402


def bytes_of(idx: RedisIndex) -> int:
    return sum(idx.client.memory_usage(k, samples=0) or 0 for k in idx.keys())


def redis_cpu(client) -> float:
    """CPU seconds the redis-server has used (user + system)."""
    cpu = client.info("cpu")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def redis_commands(client) -> Counter:
    """Commands the redis-server has run, by name (``INFO commandstats``;
    those a script runs counted one by one, the script call itself not)."""
    got = client.info("commandstats")
    return Counter({k.removeprefix("cmdstat_"): v["calls"] for k, v in got.items()
                    if k not in ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_info")})


def post_batch(http, ns: str, records: list[dict]) -> list[dict]:
    """One ``POST /v1/ns/<ns>/batch`` of ``records`` (NDJSON); its answer lines."""
    body = "".join(json.dumps(r) + "\n" for r in records)
    r = http.post(f"/v1/ns/{ns}/batch", data=body, content_type="application/x-ndjson")
    return [json.loads(x) for x in r.data.splitlines()]


def mixed_round_trips(client, params: Params, trips: Trips, stored: int, n: int = 300) -> dict:
    """``stored`` articles of ``bench_service``'s stream, then ``n`` more
    through ``Deduplicator.add``: per add, the share with candidates, with a
    confirmed link (both as the index saw them), and the round trips."""
    from bench_service import Articles

    gen, idx = Articles(), RedisIndex(client, params, namespace="mixed", capacity=max(1000, stored),
                                      retention=36500 * 86400.0)
    d, seen = Deduplicator(params, idx), Counter()
    for i in range(stored + 1):
        d.add(Article.from_dict(gen.get(i)))  # the last one warms the scripts
    add, attach = idx.add, idx.attach

    def counting_add(fp):
        got = add(fp)
        seen["candidates"] += bool(got)
        return got

    def counting_attach(doc_id, links):
        seen["linked"] += bool(links)
        return attach(doc_id, links)

    idx.add, idx.attach = counting_add, counting_attach
    n0 = trips.n
    for i in range(stored + 1, stored + 1 + n):
        d.add(Article.from_dict(gen.get(i)))
    return {"stored": stored, "adds": n, "with_candidates": round(seen["candidates"] / n, 3),
            "with_a_link": round(seen["linked"] / n, 3), "round_trips_per_add": round((trips.n - n0) / n, 3)}


def copies_lost(http, app, records: list[dict], chunk: int) -> dict:
    """The evaluation set through ``/v1/batch`` against ``cluster_articles``
    on the same records: gold copy pairs (same label) each path puts in one
    cluster, and those the batch path has that the service lacks."""
    posted = [{k: r[k] for k in ("id", "text", "title", "published") if r.get(k) is not None} for r in records]
    for start in range(0, len(posted), chunk):
        post_batch(http, "evalset", posted[start : start + chunk])
    idx = app.extensions["dedup"].index("evalset")
    ids = [r["id"] for r in records]
    online = {i: (s.cluster if s is not None else i) for i, s in zip(ids, idx.stories(ids))}
    batch = {i: i for i in ids}
    for c in cluster_articles(posted).clusters:
        for m in c.members:
            batch[m] = c.id
    gold: dict[str, list[str]] = {}
    for r in records:
        gold.setdefault(r["label"], []).append(r["id"])
    pairs = [(a, b) for group in gold.values() for j, a in enumerate(group) for b in group[j + 1 :]]
    by_batch = {p for p in pairs if batch[p[0]] == batch[p[1]]}
    by_service = {p for p in pairs if online[p[0]] == online[p[1]]}
    false_service = sum(1 for c in Counter(online.values()).values() for _ in range(c * (c - 1) // 2)) - len(by_service)
    return {"records": len(records), "gold_pairs": len(pairs), "found_by_batch": len(by_batch),
            "found_by_service": len(by_service), "lost_against_batch": len(by_batch - by_service),
            "lost_examples": sorted(by_batch - by_service)[:10], "service_only": len(by_service - by_batch),
            "service_pairs_not_gold": false_service}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=1000)
    ap.add_argument("--briefs", type=int, default=1000)
    ap.add_argument("--singletons", type=int, default=200)
    ap.add_argument("--batch-chunk", type=int, default=200, help="articles per /v1/batch request")
    ap.add_argument("--evalset", type=Path, help="labelled JSONL (bench/evalset.py) for the copies-lost check")
    ap.add_argument("--mixed", type=int, default=0, help="bench_service articles stored before counting round trips")
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
        spent, cpu, rcpu, lines = Counter(), Counter(), Counter(), {name: [] for name in makers}
        commands = {name: Counter() for name in makers}
        for start in range(0, args.briefs, args.batch_chunk):
            for name, make in makers.items():
                records = [{"id": f"{name}{i}", "text": make(i)} for i in range(start, min(args.briefs, start + args.batch_chunk))]
                k0 = redis_commands(client)
                r0, c0, t0 = redis_cpu(client), time.process_time(), time.perf_counter()
                lines[name] += post_batch(http, f"batch-{name}", records)
                spent[name] += time.perf_counter() - t0
                cpu[name] += time.process_time() - c0
                rcpu[name] += redis_cpu(client) - r0
                commands[name] += redis_commands(client) - k0
        for name in makers:
            res[f"batch_{name}_per_s"] = round(args.briefs / spent[name], 1)
            res[f"batch_{name}_cpu_ms"] = {"service": round(cpu[name] / args.briefs * 1000, 3),
                                           "redis": round(rcpu[name] / args.briefs * 1000, 3)}
            res[f"batch_{name}_redis_commands"] = {"per_article": round(sum(commands[name].values()) / args.briefs, 1),
                                                   **{c: round(n / args.briefs, 1) for c, n in commands[name].most_common(4)}}
            res[f"batch_{name}_statuses"] = dict(Counter(x["status"] for x in lines[name]))
            res[f"batch_{name}_merged"] = sum(bool(x.get("duplicates")) for x in lines[name])
            print(f"/v1/batch {name}: {res[f'batch_{name}_per_s']}/s, CPU ms per article {res[f'batch_{name}_cpu_ms']}, "
                  f"Redis commands per article {res[f'batch_{name}_redis_commands']}", file=sys.stderr)
        res["batch_briefs_over_distinct"] = round(res["batch_briefs_per_s"] / res["batch_distinct_per_s"], 2)
        res["batch_briefs_over_distinct_cpu"] = round((cpu["distinct"] + rcpu["distinct"]) / (cpu["briefs"] + rcpu["briefs"]), 2)
        if args.evalset is not None:
            records = [json.loads(x) for x in args.evalset.read_text().splitlines() if x.strip()]
            res["evalset"] = {"file": args.evalset.name, **copies_lost(http, app, records, args.batch_chunk)}
            print("evaluation set:", res["evalset"], file=sys.stderr)
        app.extensions["dedup"].close()

        if args.mixed:
            res["mixed"] = mixed_round_trips(client, params, trips, args.mixed)
            print("bench_service's stream:", res["mixed"], file=sys.stderr)

        # the same two floods through Deduplicator.add, in chunks that alternate as above
        makers = {"distinct": lambda i: story(20_000 + i), "briefs": brief}
        dds = {name: Deduplicator(params, RedisIndex(client, params, namespace=name, capacity=max(1000, args.briefs)))
               for name in makers}
        spent, merged, most = Counter(), Counter(), Counter()
        for start in range(0, args.briefs, args.batch_chunk):
            for name, make in makers.items():
                arts = [Article(f"{name}{i}", make(i)) for i in range(start, min(args.briefs, start + args.batch_chunk))]
                t0 = time.perf_counter()
                for a in arts:
                    n0 = trips.n
                    merged[name] += bool(dds[name].add(a).duplicates)
                    most[name] = max(most[name], trips.n - n0)
                spent[name] += time.perf_counter() - t0
        for name in makers:
            res[f"round_trips_{name}_max"] = most[name]
            res[f"{name}_per_s"] = round(args.briefs / spent[name], 1)
            res[f"{name}_merged"] = merged[name]
            print(f"{name}: {res[f'{name}_per_s']}/s, merged {merged[name]}", file=sys.stderr)
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
