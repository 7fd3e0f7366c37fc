"""Sizing on Redis Cluster (issue 18): bytes per article, articles per GB and
adds per second with 1, 2 and 3 masters, next to a single (non-cluster)
redis-server, in one run.

Each setting gets a fresh server or cluster (``tests/conftest.py``'s
``RedisServer`` / ``RedisClusterServers``: 3 masters joined by ``redis-cli
--cluster create``, fewer by CLUSTER ADDSLOTS), and the same load: real BBC
News articles (shared data folder) plus republished copies of a quarter of
them (another dateline and credit line), spread round-robin over
``--namespaces`` namespaces (a namespace lives in one slot, so only several
namespaces can use several masters), posted by ``--clients`` threads through
the service's own ``StoringDeduplicator`` on ``RedisIndex`` (title, url,
source and compressed text stored: the service's default).

* bytes per article: the sum over masters of ``used_memory`` after the load
  minus before, divided by the articles stored; articles per GB = 1e9 / that.
* adds per second: articles / wall time of the load, all clients together.

On this 2-core machine the clients, the Python confirmation work and every
redis-server share the same two cores: the figures show the design's
overhead on Redis Cluster (routing, one slot per namespace), not what a
master (a machine of its own) can take.

    python bench/bench_cluster_sizing.py [--articles 2000] [--out bench/results/cluster_sizing.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from bench_stored_text import articles, emit  # noqa: E402
from conftest import RedisClusterServers, RedisServer, redis_server_binary  # noqa: E402
from hotload import copy_of  # noqa: E402

from dedup import Article, Params  # noqa: E402
from dedup_service import layout  # noqa: E402
from dedup_service.store import RedisIndex, StoringDeduplicator  # noqa: E402


def load(n: int) -> list[Article]:
    """``n`` articles: BBC stories, and a copy of every fourth one."""
    base = articles(n)
    out: list[Article] = []
    for i, a in enumerate(base):
        out.append(a)
        if i % 4 == 0:
            out.append(Article(a.id + "/copy", copy_of(a.text, i), title=a.title, source="Agency"))
    return out[:n]


def run(setting: str, masters: int, arts: list[Article], namespaces: int, clients: int) -> dict:
    binary = redis_server_binary()
    if masters:
        servers = RedisClusterServers(binary, masters)
        client, nodes = servers.client(), [n.client() for n in servers.nodes]
    else:
        servers = RedisServer(binary)
        client = servers.client()
        nodes = [client]
    try:
        params = Params()
        capacity = max(100, len(arts) // namespaces)  # shards sized for what each namespace holds
        dedups = [StoringDeduplicator(params, RedisIndex(client, params, namespace=f"ns{i}", capacity=capacity))
                  for i in range(namespaces)]
        dedups[0].add(Article("warm-up", "loads the scripts on every master " * 5))
        dedups[0].remove("warm-up")
        before = sum(n.info("memory")["used_memory"] for n in nodes)
        share = [arts[c::clients] for c in range(clients)]
        done, errors = [0] * clients, []

        def post(c: int) -> None:
            try:
                for j, a in enumerate(share[c]):
                    dedups[(j * clients + c) % namespaces].add(a)
                    done[c] += 1
            except Exception as e:  # noqa: BLE001 - reported in the results, not swallowed
                errors.append(repr(e))

        threads = [threading.Thread(target=post, args=(c,)) for c in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        stored = sum(len(d.index) for d in dedups)
        used = sum(n.info("memory")["used_memory"] for n in nodes) - before
        per_master = [n.dbsize() for n in nodes]
        res = {"setting": setting, "masters": masters, "articles": sum(done), "stored": stored,
               "adds_per_s": round(sum(done) / wall, 1), "bytes_per_article": round(used / stored),
               "articles_per_gb": round(1e9 / (used / stored)), "keys_per_master": per_master, "errors": errors[:3]}
        print(json.dumps(res), file=sys.stderr)
        return res
    finally:
        client.close()
        servers.stop()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--namespaces", type=int, default=6)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if not shutil.which("redis-cli"):
        raise SystemExit("redis-cli is not on PATH: it is needed to create the 3-master cluster")
    arts = load(args.articles)
    res: dict = {"layout_version": layout.VERSION, "articles": len(arts), "namespaces": args.namespaces,
                 "clients": args.clients, "cores": __import__("os").cpu_count(),
                 "note": "clients, confirmation and every redis-server share the machine's cores: "
                         "this shows the overhead of Redis Cluster, not a master's capacity",
                 "runs": []}
    for setting, masters in (("single server", 0), ("cluster, 1 master", 1), ("cluster, 2 masters", 2),
                             ("cluster, 3 masters", 3)):
        res["runs"].append(run(setting, masters, arts, args.namespaces, args.clients))
    return emit(res, args.out)


if __name__ == "__main__":
    main()
