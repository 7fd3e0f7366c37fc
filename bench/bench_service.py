"""Load-test the HTTP service on loopback, next to datasketch's Redis MinHashLSH.

What it does (bounded: every phase has a count, nothing leaves 127.0.0.1):

1. starts two private redis-servers (one for us, one for datasketch) and
   ``dedup serve``'s gunicorn (2 workers) on free loopback ports;
2. stores ``--articles`` synthetic news articles (default 100,000: sentences
   of BBC and Reuters-21578 texts from /work/shared/data recombined, 20%
   edited copies of earlier ones) through ``POST /v1/batch`` on two streams;
3. times ``--timed`` single ``POST /v1/articles`` (a fifth with 1 client, a
   fifth with 2, the rest with ``--clients`` keep-alive clients: req/s, p50,
   p99) and ``--queries`` ``POST /v1/duplicates``;
4. counts Redis round trips per insert in-process (the same Deduplicator +
   RedisIndex code path, socket writes counted) and reads Redis memory
   (``INFO memory`` before/after, ``MEMORY USAGE`` by key kind on a sample;
   the service stores title, url, source and the compressed text by
   default: ``about_bytes_per_article``);
5. inserts the first ``--datasketch-n`` of the same signatures into
   ``datasketch.MinHashLSH`` with its Redis storage, and runs the same
   queries: inserts/s, queries/s, round trips, bytes per article.

Results go to ``bench/results/service.md`` and ``service.json``.

Usage::

    .venv/bin/python bench/bench_service.py            # full run (~10 min)
    .venv/bin/python bench/bench_service.py --articles 5000 --timed 500 --datasketch-n 1000
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from html import unescape
from pathlib import Path
from typing import Self

import numpy as np
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import RedisServer, free_port, redis_server_binary  # noqa: E402
from dedup import Article, Deduplicator, Params  # noqa: E402
from dedup.minhash import to_datasketch  # noqa: E402
from dedup_service.store import RedisIndex  # noqa: E402
from redis_requests import SendCounter  # noqa: E402

DATA = Path("/work/shared/data")
NS = "bench"


# -- synthetic articles --------------------------------------------------------
def _sentences() -> list[str]:
    texts = [p.read_text(errors="replace") for p in sorted((DATA / "bbc-news").glob("*/*.txt"))]
    for sgm in sorted((DATA / "reuters21578").glob("*.sgm")):
        raw = sgm.read_bytes().decode("latin-1")
        texts += [unescape(b) for b in re.findall(r"<BODY>(.*?)</BODY>", raw, re.S)]
    out = []
    for t in texts:
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(t.split())) if len(s.split()) >= 6]
    return out


class Articles:
    """Deterministic synthetic stream: article ``i`` is 8-16 random corpus
    sentences, or (20%) an edited copy of an earlier article."""

    def __init__(self, seed: int = 7) -> None:
        self.sentences = _sentences()
        self.seed = seed
        self._plan: list[list[int]] = []

    def get(self, i: int) -> dict:
        while len(self._plan) <= i:
            rnd = random.Random(self.seed * 1_000_003 + len(self._plan))
            j = len(self._plan)
            if j > 10 and rnd.random() < 0.2:
                src = self._plan[rnd.randrange(max(0, j - 5000), j)]
                plan = [-1 - abs(src[0])] + list(src[1:]) if rnd.random() < 0.5 else list(src[:-1] or src)
            else:
                plan = [rnd.randrange(len(self.sentences)) for _ in range(rnd.randint(8, 16))]
            self._plan.append(plan)
        plan = self._plan[i]
        parts = [("LONDON (Reuters) - " + self.sentences[-1 - k]) if k < 0 else self.sentences[k] for k in plan]
        return {"id": f"a{i}", "text": " ".join(parts), "published": "2024-05-01T00:00:00Z"}


# -- the service -----------------------------------------------------------------
def start_service(redis_url: str, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEDUP_", "PROMETHEUS_"))}
    env.update(DEDUP_DEFAULT_NAMESPACE=NS, DEDUP_RETENTION_DAYS="36500", DEDUP_MAX_BATCH_BYTES="200000000")
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from dedup.cli.serve import serve_command; "
            f"serve_command(['--port', '{port}', '--workers', '2', '--threads', '4', '--redis-url', {redis_url!r}])")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the service did not start")


def batch_load(port: int, gen: Articles, start: int, stop: int, streams: int = 2, chunk: int = 2000) -> float:
    """Store articles [start, stop) through /v1/batch on ``streams`` connections; returns seconds."""
    ranges = [(a, min(a + chunk, stop)) for a in range(start, stop, chunk)]
    lock, errors = threading.Lock(), Counter()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with lock:
                if not ranges:
                    return
                a, b = ranges.pop(0)
                body = "".join(json.dumps(gen.get(i)) + "\n" for i in range(a, b)).encode()
            conn.request("POST", "/v1/batch", body, {"Content-Type": "application/x-ndjson"})
            for line in conn.getresponse().read().splitlines():
                status = json.loads(line)["status"]
                if status >= 400:
                    errors[status] += 1

    gen.get(stop - 1)  # build the plan before the threads start
    t = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(streams)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        print("batch errors:", dict(errors), file=sys.stderr)
    return time.perf_counter() - t


def timed_posts(port: int, bodies: list[bytes], path: str, clients: int) -> tuple[float, np.ndarray, Counter]:
    """POST every body with ``clients`` keep-alive connections; returns (seconds, latencies ms, statuses)."""
    queue = list(enumerate(bodies))
    lock, lat, statuses = threading.Lock(), np.zeros(len(bodies)), Counter()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if not queue:
                    return
                i, body = queue.pop()
            t = time.perf_counter()
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            lat[i] = (time.perf_counter() - t) * 1000
            with lock:
                statuses[r.status] += 1

    t = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t, lat, statuses


# -- CPU split ------------------------------------------------------------------------
def _cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` (``/proc/<pid>/stat``; a pid gone meanwhile counts 0)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _group(pgid: int) -> list[int]:
    """The processes of process group ``pgid`` (gunicorn's master and workers)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
    return out


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine so far (``/proc/stat``: all but idle and iowait)."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


class CpuSplit:
    """CPU seconds over a phase of the load generator (this process), the service (gunicorn's group),
    our redis-server and everything else on the machine (the other helpers' work)."""

    def __init__(self, service_pgid: int, redis_pid: int) -> None:
        self.pgid, self.redis_pid = service_pgid, redis_pid

    def _now(self) -> dict[str, float]:
        return {"load_generator": time.process_time(), "service": _cpu_seconds(_group(self.pgid)),
                "redis": _cpu_seconds([self.redis_pid]), "machine": _machine_busy(), "wall": time.perf_counter()}

    def __enter__(self) -> Self:
        self.t0 = self._now()
        return self

    def __exit__(self, *exc) -> None:
        t1 = self._now()
        d = {k: t1[k] - self.t0[k] for k in t1}
        own = d["load_generator"] + d["service"] + d["redis"]
        # cores used on average over the phase, by whom
        self.cores = {k: round(d[k] / d["wall"], 2) for k in ("load_generator", "service", "redis")}
        self.cores["others"] = round(max(0.0, d["machine"] - own) / d["wall"], 2)


# -- round trips and memory ---------------------------------------------------------
def script_calls(client: redis.Redis) -> int:
    """Scripts run by clients so far (INFO commandstats; the commands a script runs are counted under
    their own names, so only EVALSHA/EVAL tell how many requests clients made)."""
    stats = client.info("commandstats")
    return sum(stats.get(k, {}).get("calls", 0) for k in ("cmdstat_evalsha", "cmdstat_eval"))


def memory_by_kind(client: redis.Redis, prefix: bytes, sample_every: int = 10) -> dict[str, float]:
    """Estimated bytes per key kind (MEMORY USAGE on every ``sample_every``-th key)."""
    out: Counter = Counter()
    for n, key in enumerate(client.scan_iter(match=prefix.replace(b"{", b"\\{").replace(b"}", b"\\}") + b"*", count=2000)):
        if n % sample_every == 0:
            out[chr(key[len(prefix)])] += (client.memory_usage(key, samples=0) or 0) * sample_every
    return dict(out)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--timed", type=int, default=5_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--datasketch-n", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "service")
    a = ap.parse_args(argv)
    gen = Articles()
    params = Params()
    ours, theirs = RedisServer(redis_server_binary()), RedisServer(redis_server_binary())
    port = free_port()
    res: dict = {"articles": a.articles, "timed": a.timed, "clients": a.clients, "params": params.to_dict(),
                 "redis": ours.client().info("server")["redis_version"], "cpus": os.cpu_count(),
                 "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    service = None
    try:
        rc = ours.client()
        mem0 = rc.info("memory")["used_memory"]
        service = start_service(ours.url, port)
        load_n = a.articles - a.timed
        res["load_seconds"] = round(batch_load(port, gen, 0, load_n, streams=4), 1)
        res["load_articles_per_s"] = round(load_n / res["load_seconds"], 1)
        print(f"loaded {load_n} in {res['load_seconds']} s", file=sys.stderr)

        # datasketch runs interleaved with our timed phases (a slice of its inserts after each), so that
        # both sides see the same load from the other helpers on the machine: ratios are per phase
        ds = Datasketch(theirs, gen, params, a.datasketch_n)
        slices = iter(np.array_split(np.arange(a.datasketch_n), 3))
        bodies = [json.dumps(gen.get(i)).encode() for i in range(load_n, a.articles)]
        res["sweep"] = []
        for clients in (1, 2):  # latency without queueing first: part of the timed articles
            part, bodies = bodies[: a.timed // 5], bodies[a.timed // 5:]
            with CpuSplit(service.pid, ours.proc.pid) as cpu:
                secs, lat, _ = timed_posts(port, part, "/v1/articles", clients)
            ds_rate = ds.insert(next(slices))
            res["sweep"].append({"clients": clients, "n": len(part), "req_per_s": round(len(part) / secs, 1),
                                 "p50_ms": round(float(np.percentile(lat, 50)), 2),
                                 "p99_ms": round(float(np.percentile(lat, 99)), 2), "cores": cpu.cores,
                                 "datasketch_inserts_per_s": ds_rate,
                                 "over_datasketch": round(len(part) / secs / ds_rate, 2),
                                 "loadavg": [round(x, 2) for x in os.getloadavg()]})
        calls0 = script_calls(rc)
        with CpuSplit(service.pid, ours.proc.pid) as cpu:
            secs, lat, st = timed_posts(port, bodies, "/v1/articles", a.clients)
        ds_rate = ds.insert(next(slices))
        res["evalsha_per_post"] = round((script_calls(rc) - calls0) / len(bodies), 2)
        res["post"] = {"n": len(bodies), "seconds": round(secs, 2), "req_per_s": round(len(bodies) / secs, 1),
                       "p50_ms": round(float(np.percentile(lat, 50)), 2), "p99_ms": round(float(np.percentile(lat, 99)), 2),
                       "statuses": dict(st), "cores": cpu.cores, "datasketch_inserts_per_s": ds_rate,
                       "over_datasketch": round(len(bodies) / secs / ds_rate, 2),
                       "loadavg": [round(x, 2) for x in os.getloadavg()]}
        qbodies = [json.dumps({**gen.get(i), "id": f"q{i}"}).encode() for i in range(0, a.articles, max(1, a.articles // a.queries))][: a.queries]
        secs, lat, st = timed_posts(port, qbodies, "/v1/duplicates", a.clients)
        res["query"] = {"n": len(qbodies), "req_per_s": round(len(qbodies) / secs, 1),
                        "p50_ms": round(float(np.percentile(lat, 50)), 2), "p99_ms": round(float(np.percentile(lat, 99)), 2),
                        "statuses": dict(st)}
        res["datasketch"] = ds.query(qbodies)
        print("timed:", res["post"], res["query"], file=sys.stderr)

        index = RedisIndex(rc, params, namespace=NS)
        stored = len(index)
        mem1 = rc.info("memory")["used_memory"]
        kinds = memory_by_kind(rc, index.prefix)
        res["memory"] = {"stored": stored, "used_memory_delta": mem1 - mem0,
                         "bytes_per_article": round((mem1 - mem0) / stored, 1),
                         "tokens_bytes_per_article": round(kinds.get("t", 0) / stored, 1),
                         # title, url, source and the compressed text (the service stores them by default)
                         "about_bytes_per_article": round(kinds.get("a", 0) / stored, 1),
                         "by_kind_per_article": {k: round(v / stored, 1) for k, v in sorted(kinds.items())}}
        res["memory"]["index_and_signature_bytes_per_article"] = round(
            res["memory"]["bytes_per_article"] - res["memory"]["tokens_bytes_per_article"]
            - res["memory"]["about_bytes_per_article"], 1)
        res["memory"]["lsh_and_signature_bytes_per_article"] = round(sum(kinds.get(k, 0) for k in "bir") / stored, 1)
        print("memory:", res["memory"], file=sys.stderr)

        # round trips: the request handler's code path, in-process, on the loaded index
        d = Deduplicator(params, RedisIndex(rc, params, namespace=NS, retention=36500 * 86400.0))
        d.add(Article.from_dict({**gen.get(a.articles), "id": "warm"}))
        counter, n_rt = SendCounter(), 300
        try:
            t = time.perf_counter()
            for i in range(a.articles + 1, a.articles + 1 + n_rt):
                d.add(Article.from_dict(gen.get(i)))
            inproc = time.perf_counter() - t
            add_only = counter.n
            counter.n = 0
            for i in range(a.articles + 1, a.articles + 1 + n_rt):
                d.index.add(d.fingerprint(Article.from_dict({**gen.get(i), "id": f"x{i}"}))[0])
            index_add, counter.n = counter.n, 0
            for i in range(0, n_rt * 10, 10):
                d.query(Article.from_dict({**gen.get(i), "id": f"q{i}"}))
            query_rt = counter.n
        finally:
            counter.close()
        res["round_trips"] = {"per_insert_deduplicator": round(add_only / n_rt, 2),
                              "per_index_add": round(index_add / n_rt, 2),
                              "per_query_deduplicator": round(query_rt / n_rt, 2),
                              "inprocess_inserts_per_s": round(n_rt / inproc, 1)}
        print("round trips:", res["round_trips"], file=sys.stderr)
        print("datasketch:", res["datasketch"], file=sys.stderr)
    finally:
        if service is not None:
            os.killpg(service.pid, signal.SIGTERM)
            service.wait(30)
        ours.stop()
        theirs.stop()
    res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    write_results(res, a.out)
    return res


class Datasketch:
    """datasketch's MinHashLSH on its own Redis, fed the same signatures (MinHash precomputed, in-process)
    in slices, so that its inserts run between our timed phases; then the same queries."""

    def __init__(self, server: RedisServer, gen: Articles, params: Params, n: int) -> None:
        from datasketch import MinHashLSH

        self.gen, self.params, self.d = gen, params, Deduplicator(params)
        self.mins = [to_datasketch(self.d.fingerprint(Article.from_dict(gen.get(i)))[0].signature, params.seed)
                     for i in range(n)]
        self.client = server.client()
        self.mem0 = self.client.info("memory")["used_memory"]
        self.lsh = MinHashLSH(num_perm=params.num_perm, params=params.banding,
                              storage_config={"type": "redis", "basename": b"ds",
                                              "redis": {"host": "127.0.0.1", "port": server.port}})
        self.seconds, self.trips, self.rates = 0.0, 0, []

    def insert(self, which: np.ndarray) -> float:
        """Insert the articles ``which``; their inserts/s."""
        counter = SendCounter()
        try:
            t = time.perf_counter()
            for i in which.tolist():
                self.lsh.insert(f"a{i}", self.mins[i])
            dt = time.perf_counter() - t
        finally:
            counter.close()
        self.seconds, self.trips = self.seconds + dt, self.trips + counter.n
        self.rates.append(round(len(which) / dt, 1))
        return self.rates[-1]

    def query(self, qbodies: list[bytes]) -> dict:
        """The same queries as ours; the whole run's figures."""
        qmins = [to_datasketch(self.d.fingerprint(Article.from_dict(json.loads(b)))[0].signature, self.params.seed)
                 for b in qbodies]
        counter = SendCounter()
        try:
            t = time.perf_counter()
            for m in qmins:
                self.lsh.query(m)
            q = time.perf_counter() - t
        finally:
            counter.close()
        n = len(self.mins)
        mem1 = self.client.info("memory")["used_memory"]
        return {"n": n, "inserts_per_s": round(n / self.seconds, 1), "insert_ms": round(self.seconds / n * 1000, 2),
                "inserts_per_s_by_slice": self.rates,
                "round_trips_per_insert": round(self.trips / n, 1), "queries_per_s": round(len(qmins) / q, 1),
                "round_trips_per_query": round(counter.n / len(qmins), 1),
                "bytes_per_article": round((mem1 - self.mem0) / n, 1)}


def write_results(res: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    p, q, m, r, ds = res["post"], res["query"], res["memory"], res["round_trips"], res["datasketch"]
    lines = [
        "# Service benchmark (loopback, gunicorn 2 workers x 4 threads, private redis-server)",
        "",
        f"Command: `.venv/bin/python bench/bench_service.py --articles {res['articles']} --timed {res['timed']}"
        f" --clients {res['clients']} --datasketch-n {ds['n']}`; Redis {res['redis']}, {res['cpus']} CPUs"
        " (load generator, gunicorn and both Redis servers share them).",
        "",
        "| measure | dedup service | datasketch MinHashLSH (Redis storage) |",
        "|---|---|---|",
        f"| stored articles | {m['stored']:,} | {ds['n']:,} (bounded: ~{ds['insert_ms']:.0f} ms per insert) |",
        f"| inserts/s | {p['req_per_s']} (HTTP POST /v1/articles, {res['clients']} clients, incl. normalising, MinHash, confirming) "
        f"| {ds['inserts_per_s']} (in-process `insert`, MinHash precomputed) |",
        f"| insert latency p50 / p99 | {p['p50_ms']} / {p['p99_ms']} ms | {ds['insert_ms']} ms mean |",
        f"| ratio to datasketch's slice run right after (inserts/s) | {p['over_datasketch']}x | {p['datasketch_inserts_per_s']} |",
        *[f"| with {w['clients']} client(s): inserts/s, p50 / p99; ratio | {w['req_per_s']}, {w['p50_ms']} / {w['p99_ms']} ms "
          f"({w['n']} posts); {w['over_datasketch']}x | {w['datasketch_inserts_per_s']} |" for w in res["sweep"]],
        f"| queries/s | {q['req_per_s']} (HTTP POST /v1/duplicates; p50 {q['p50_ms']}, p99 {q['p99_ms']} ms) | {ds['queries_per_s']} |",
        f"| Redis round trips per insert | {r['per_index_add']} for `RedisIndex.add`; {r['per_insert_deduplicator']} for the whole "
        f"`Deduplicator.add` | {ds['round_trips_per_insert']} |",
        f"| Redis round trips per query | {r['per_query_deduplicator']} for `Deduplicator.query` (1 for the candidate look-up) | {ds['round_trips_per_query']} |",
        f"| Redis bytes per article (all) | {m['bytes_per_article']} | {ds['bytes_per_article']} (no signature, no tokens stored) |",
        f"| of which everything but word ids | {m['index_and_signature_bytes_per_article']} (target < 1,500 for index + signature) | - |",
        f"| of which LSH buckets + id map + records with signatures | {m['lsh_and_signature_bytes_per_article']} (MEMORY USAGE) | - |",
        f"| of which word ids (tokens) | {m['tokens_bytes_per_article']} | - |",
        "",
        f"Load average (1/5/15 min) at start {res['loadavg_start']}, at end {res['loadavg_end']}: the machine is shared. "
        f"Bulk load of {res['articles'] - res['timed']:,} articles through `/v1/batch` (4 streams): "
        f"{res['load_seconds']} s ({res['load_articles_per_s']}/s). Statuses of the timed posts: {p['statuses']}.",
        "Datasketch's inserts run in three slices, each right after one of our timed phases (1, 2, then"
        f" {res['clients']} clients), so each ratio compares runs that saw the same machine load.",
        "CPU split (cores used on average during each timed phase: load generator = this process, service ="
        " gunicorn's workers, redis = our redis-server, others = the rest of the machine): "
        + "; ".join(f"{w['clients']} client(s) {w['cores']} (load average {w['loadavg']})"
                    for w in [*res["sweep"], {**p, "clients": res["clients"]}]) + ".",
        f"Memory by key kind (bytes per article, MEMORY USAGE on 1 key in 10): {m['by_kind_per_article']}.",
        "Round trips are counted as request writes on redis-py connections (a pipeline is one), in-process on"
        " the same code path as the request handler. Server-side cross-check over the timed HTTP posts"
        f" (INFO commandstats, EVALSHA calls per post; the retention sweep and the add are two scripts"
        f" pipelined in one round trip): {res['evalsha_per_post']}.",
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
