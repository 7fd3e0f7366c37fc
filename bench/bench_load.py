"""``dedup load`` of a batch run's state next to posting the same articles through ``POST /v1/batch``.

    .venv/bin/python bench/bench_load.py [--n 20000] [--rounds 2] [--dump-dir /tmp/dedup-bench]

One run, on loopback, nothing else shared:

1. the synthetic dump of ``make_dump.py`` (seed 7, reused from ``--dump-dir``)
   and ``dedup batch DUMP --state STATE`` (timed apart: it is not part of
   either path);
2. a private redis-server and ``dedup serve`` (gunicorn, as
   ``bench_service.py`` starts it), the command configured alike (``DEDUP_*``);
3. ``--rounds`` alternating rounds, each into a fresh namespace: ``dedup
   load STATE DUMP --order input`` (its own process) and the dump posted in input order
   to ``/v1/ns/<ns>/batch`` in NDJSON requests of 1,000 lines, one after the
   other on one connection (the service adds the articles one at a time,
   two Redis round trips each). Per
   round: wall seconds, articles/s, CPU seconds of the processes doing the
   work (the ``dedup load`` process or the service's gunicorn group; the
   redis-server in both), and for the load its pipelined round trips;
4. after each pair of rounds, the two namespaces' keys counted by kind
   (they must be equal; ``tests/test_load.py`` compares every value).

Writes ``bench/results/load.{json,md}``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

from bench_batch import ensure_dump  # noqa: E402
from bench_service import _cpu_seconds, _group, start_service  # noqa: E402
from conftest import RedisServer, free_port, redis_server_binary  # noqa: E402
from make_dump import code_version, write_results  # noqa: E402

ENV = {"DEDUP_RETENTION_DAYS": "36500"}  # as bench_service.start_service configures the service


def _env(redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEDUP_", "PROMETHEUS_"))}
    return {**env, **ENV, "DEDUP_REDIS_URL": redis_url}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_load(state: str, dump: str, ns: str, redis_url: str, redis_pid: int) -> dict:
    cpu0, rcpu0, t = _children_cpu(), _cpu_seconds([redis_pid]), time.perf_counter()
    r = subprocess.run([str(Path(sys.executable).parent / "dedup"), "load", state, dump, "--namespace", ns, "--order", "input"],
                       env=_env(redis_url), capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    m = re.search(r"(\d+) stored, (\d+) already there, (\d+) refused \((\d+) round trips\)", r.stderr)
    stored, trips = int(m[1]), int(m[4])
    return {"path": "dedup load", "namespace": ns, "stored": stored, "wall_s": round(wall, 1),
            "articles_per_s": round(stored / wall, 1), "round_trips": trips,
            "round_trips_per_article": round(trips / stored, 3),
            "cpu_s": {"worker": round(_children_cpu() - cpu0, 1), "redis": round(_cpu_seconds([redis_pid]) - rcpu0, 1)}}


def run_post(dump: str, ns: str, port: int, pgid: int, redis_pid: int, chunk: int = 1000) -> dict:
    with open(dump, "rb") as f:
        lines = f.readlines()
    cpu0, rcpu0, t = _cpu_seconds(_group(pgid)), _cpu_seconds([redis_pid]), time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
    statuses = Counter()
    for start in range(0, len(lines), chunk):  # in order, one request at a time (a whole dump in one request
        body = b"".join(lines[start:start + chunk])  # deadlocks: the answers fill the socket while it is sent)
        conn.request("POST", f"/v1/ns/{ns}/batch", body, {"Content-Type": "application/x-ndjson"})
        statuses.update(json.loads(line)["status"] for line in conn.getresponse().read().splitlines())
    wall = time.perf_counter() - t
    stored = statuses[201]
    return {"path": "POST /v1/batch", "namespace": ns, "stored": stored, "statuses": dict(statuses),
            "wall_s": round(wall, 1), "articles_per_s": round(stored / wall, 1),
            "cpu_s": {"worker": round(_cpu_seconds(_group(pgid)) - cpu0, 1),
                      "redis": round(_cpu_seconds([redis_pid]) - rcpu0, 1)}}


def key_kinds(client, ns: str) -> dict[str, int]:
    prefix = f"dd{{{ns}}}".encode()
    return dict(sorted(Counter(chr(k[len(prefix)]) for k in client.scan_iter(match=prefix + b"*", count=5000)).items()))


def report_md(res: dict) -> str:
    lines = ["# `dedup load` of a batch state next to `POST /v1/batch`", "",
             f"Commit {res['version']['commit']}; {res['machine']}. Written by `bench/bench_load.py` "
             f"(`{res['command']}`): {res['n']:,} articles of `make_dump.py` (seed 7), "
             f"`dedup batch --state` first ({res['batch_state_s']} s, not counted), then alternating rounds, "
             "each into a fresh namespace of one private redis-server.", "",
             "| round | path | articles stored | wall s | articles/s | CPU s (worker + redis) | round trips per article |",
             "|---|---|---|---|---|---|---|"]
    for k, r in enumerate(res["rounds"]):
        cpu = r["cpu_s"]
        lines.append(f"| {k // 2 + 1} | {r['path']} | {r['stored']:,} | {r['wall_s']} | {r['articles_per_s']} | "
                     f"{cpu['worker']} + {cpu['redis']} | {r.get('round_trips_per_article', 2.0 if 'POST' in r['path'] else '')} |")
    s = res["summary"]
    lines += ["", f"**Load / post, same run: {s['speedup_wall']}x the articles per second (wall), "
              f"{s['cpu_ratio']}x the CPU seconds (worker + redis) per article.** Keys by kind equal in every pair of rounds: "
              f"{s['keys_equal']}.", "",
              "Posting through /v1/batch is two Redis round trips per article (the count is the service's: "
              "`ADD` then `ATTACH`, see bench/results/service.md), plus HTTP parsing and the answer; the load "
              "reads the dump and fingerprints every text again (the state keeps no word ids nor texts), "
              "confirms as a POST does, and pipelines the writes.", "",
              "Read the seconds with the load average in mind (a shared 2-core machine); the two paths ran "
              "alternately in one run, so their ratio is the figure to use."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--dump-dir", default="/tmp/dedup-bench")
    ap.add_argument("--work", default="/tmp/dedup-bench-load")
    ap.add_argument("--out", default=str(HERE / "results" / "load"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    dump = ensure_dump(args.n, args.dump_dir, 7)
    state = os.path.join(args.work, f"state-{args.n}")
    t = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "dedup"), "batch", dump, "--state", state, "--clusters",
                    os.path.join(args.work, "clusters.jsonl"), "--jobs", "2", "--quiet"], check=True)
    batch_s = round(time.perf_counter() - t, 1)
    server = RedisServer(redis_server_binary())
    port = free_port()
    service = start_service(server.url, port)
    client = server.client()
    rounds, equal = [], True
    try:
        redis_pid = int(client.info("server")["process_id"])
        for k in range(args.rounds):
            pair = []
            for which in (("load", "post") if k % 2 == 0 else ("post", "load")):
                ns = f"{which}{k}"
                r = (run_load(state, dump, ns, server.url, redis_pid) if which == "load"
                     else run_post(dump, ns, port, service.pid, redis_pid))
                r["keys"] = key_kinds(client, ns)
                print(json.dumps(r), flush=True)
                pair.append(r)
            equal &= pair[0]["keys"] == pair[1]["keys"]
            rounds += sorted(pair, key=lambda r: r["path"] != "dedup load")
    finally:
        os.killpg(service.pid, 15)
        service.wait(30)
        server.stop()
    loads = [r for r in rounds if r["path"] == "dedup load"]
    posts = [r for r in rounds if r["path"] != "dedup load"]
    rate = lambda rs: sum(r["stored"] for r in rs) / sum(r["wall_s"] for r in rs)  # noqa: E731
    cpu = lambda rs: sum(r["cpu_s"]["worker"] + r["cpu_s"]["redis"] for r in rs)  # noqa: E731
    load = os.getloadavg()
    res = {"version": code_version(), "machine": f"{os.cpu_count()} cores, load average {load[0]:.1f} at the end",
           "command": "python bench/bench_load.py " + " ".join(sys.argv[1:]), "n": args.n, "batch_state_s": batch_s,
           "rounds": rounds, "summary": {"load_articles_per_s": round(rate(loads), 1),
                                         "post_articles_per_s": round(rate(posts), 1),
                                         "speedup_wall": round(rate(loads) / rate(posts), 2),
                                         "cpu_ratio": round((cpu(loads) / sum(r["stored"] for r in loads)) / (cpu(posts) / sum(r["stored"] for r in posts)), 2), "keys_equal": equal}}
    write_results(args.out, res, report_md)


if __name__ == "__main__":
    main()
