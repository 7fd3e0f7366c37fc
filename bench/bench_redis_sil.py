"""The service's Redis index with short-inside-long buckets and latest
versions (issue 13) against a base commit, side by side in one run.

Each measure runs in a fresh process per code tree (this checkout, and the
base commit extracted with ``git archive``), alternating rounds, each with
its own private redis-server:

* ``store``: BBC News articles (headline as title, text stored, as the
  service does) and every fifth one again under a dateline (a copy) through
  ``StoringDeduplicator`` on ``RedisIndex``: Redis bytes per article
  (``MEMORY USAGE`` of every key of the namespace, as ``bench_stored_text.py``;
  a warm-up namespace first loads the scripts and numba's kernels),
  round trips per add (socket writes) for articles without and with a
  duplicate, add wall latency p50/p90, and the CPU seconds of the Python
  process and of redis-server over the adds (this tree also with
  ``Params(short_in_long=False)``: no value buckets);
* ``eval``: the evaluation set (``bench/evalset.py``, ``--size``) in
  published order through the HTTP service (Flask test client, ``POST
  /v1/articles``, then each article's ``GET``): copies found per category
  (``copy_recall``: attached to their original's cluster), pair precision,
  and the ``latest`` the answers carry.

    python bench/bench_redis_sil.py --base 50ba7ad [--articles 2000] [--rounds 2] [--size small]
        [--tracks edited,...] [--rounds-only store|eval] [--out bench/results/redsil]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path("/work/shared/data")


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _articles(n: int):
    from dedup import Article

    out = []
    for f in sorted((DATA / "bbc-news").glob("*/*.txt"))[:n]:
        title, _, body = f.read_text(encoding="latin-1").strip().partition("\n")
        out.append(Article(f"bbc/{f.parent.name}/{f.stem}", body.strip(), title=title.strip(),
                           url=f"https://news.bbc.co.uk/2/hi/{f.parent.name}/{f.stem}.stm", source="BBC News"))
    return out


def worker_store(n: int, overrides: dict) -> dict:
    """One tree's ``store`` measure (see the module docstring), with ``Params(**overrides)``."""
    from conftest import RedisServer, redis_server_binary
    from redis_requests import SendCounter  # the checkout running this script's (a base tree has none)

    from dedup import Article, Params
    from dedup_service import layout
    from dedup_service.store import RedisIndex, StoringDeduplicator

    arts = _articles(n)
    stream = []
    for i, a in enumerate(arts):
        stream.append((a, False))
        if i % 5 == 4:
            stream.append((Article(a.id + "/copy", "LONDON (Reuters) - " + a.text, title=a.title, source="Reuters"), True))
    sent = SendCounter()
    server = RedisServer(redis_server_binary())
    try:
        client = server.client()
        params = Params(**overrides)
        warm = StoringDeduplicator(params, RedisIndex(client, params, namespace="warm-up", capacity=1000))
        for a, _ in stream[:60]:  # scripts loaded, numba's kernels compiled (or read from its cache)
            warm.add(a)
        idx = RedisIndex(client, params, namespace="bench", capacity=max(1000, len(stream)))
        d = StoringDeduplicator(params, idx)
        trips = {False: [], True: []}
        lat = {False: [], True: []}
        found = {False: 0, True: 0}
        cpu0, rcpu0 = time.process_time(), _cpu_of(server.proc.pid)
        for a, is_copy in stream:
            before, t = sent.n, time.perf_counter()
            m = d.add(a)
            lat[is_copy].append(time.perf_counter() - t)
            trips[is_copy].append(sent.n - before)
            found[is_copy] += bool(m.duplicates)
        cpu, rcpu = time.process_time() - cpu0, _cpu_of(server.proc.pid) - rcpu0
        nbytes = sum(client.memory_usage(k, samples=0) or 0 for k in idx.keys())
    finally:
        server.stop()
    everything = lat[False] + lat[True]
    q = lambda xs, p: statistics.quantiles(xs, n=100)[p - 1] * 1000  # noqa: E731
    return {
        "layout": layout.VERSION, "params": overrides, "articles": len(stream), "copies": len(lat[True]),
        "bytes_per_article": round(nbytes / len(stream)),
        "round_trips_no_duplicate": round(statistics.mean(trips[False]), 3),
        "round_trips_copy": round(statistics.mean(trips[True]), 3),
        "round_trips_max": max(trips[False] + trips[True]),
        "copies_linked": found[True], "originals_with_a_duplicate": found[False],
        "add_p50_ms": round(q(everything, 50), 3), "add_p90_ms": round(q(everything, 90), 3),
        "add_p50_ms_copy": round(q(lat[True], 50), 3),
        "python_cpu_s": round(cpu, 3), "redis_cpu_s": round(rcpu, 3),
        "cpu_ms_per_add": round(1000 * (cpu + rcpu) / len(stream), 3),
    }


def worker_eval(size: str, tracks: list[str]) -> dict:
    """One tree's ``eval`` measure through the HTTP service (see the module
    docstring), on the records of ``tracks`` (all when empty)."""
    from conftest import RedisServer, redis_server_binary
    from evalset import build

    from dedup.evaluation.metrics import evaluate
    from dedup_service.app import create_app

    records = [r for r in build(DATA, size) if not tracks or r["track"] in tracks]
    feed = sorted(records, key=lambda r: r.get("published") or "~")
    server = RedisServer(redis_server_binary())
    try:
        app = create_app({"TESTING": True, "REDIS_URL": server.url, "DEFAULT_NAMESPACE": "eval",
                          "CAPACITY": max(1000, len(feed))})
        client = app.test_client()
        latest, refused = {}, 0
        for r in feed:
            body = {k: r[k] for k in ("id", "text", "title", "published") if r.get(k) is not None}
            got = client.post("/v1/articles", json=body)
            if got.status_code != 201:
                refused += 1
                continue
            latest[r["id"]] = got.json.get("latest")
        clusters: dict[str, list[str]] = {}
        for r in feed:
            got = client.get(f"/v1/articles/{r['id']}")
            if got.status_code == 200:
                clusters.setdefault(got.json["cluster"], []).append(r["id"])
        app.extensions["dedup"].close()
    finally:
        server.stop()
    res = evaluate(records, [c for c in clusters.values() if len(c) > 1])
    cats = {c: {k: v[k] for k in ("copies", "copies_attached", "copy_recall")}
            for c, v in res["categories"].items() if v["copies"]}
    updates = [r for r in records if r.get("category") == "update"]
    return {"size": size, "tracks": tracks or "all", "records": len(records), "refused": refused,
            "pair_precision": res["pairwise"]["precision"],
            "pair_recall": res["pairwise"]["recall"], "categories": cats,
            "answers_with_latest": sum(v is not None for v in latest.values()),
            "updates_named_latest": sum(latest.get(r["id"]) == r["id"] for r in updates), "updates": len(updates)}


def _base_tree(commit: str, where: Path) -> Path:
    """The base commit's files under ``where`` (``git archive``), importable as
    ``dedup`` and ``dedup_service`` ahead of the editable install."""
    tar = where / "base.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(tar), commit], check=True)
    tree = where / "base"
    with tarfile.open(tar) as t:
        t.extractall(tree, filter="data")
    (tree / "dedup_service").symlink_to("service")
    return tree


def _run(tree: Path, what: str, arg: str, params: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DEDUP_REDIS_URL"}
    out = subprocess.run([sys.executable, __file__, "--worker", what, "--tree", str(tree), "--arg", arg,
                          "--params", json.dumps(params or {})], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main", help="the commit to compare with")
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--size", default="small", help="evaluation set size (bench/evalset.py)")
    ap.add_argument("--tracks", default="", help="evaluation set tracks to stream, comma-separated (default: all)")
    ap.add_argument("--rounds-only", choices=("store", "eval"), help="run only that measure")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "redsil")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--arg", help=argparse.SUPPRESS)
    ap.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        sys.path[:0] = [str(args.tree), str(args.tree / "tests"), str(args.tree / "bench")]
        if args.worker == "store":
            got = worker_store(int(args.arg), json.loads(args.params))
        else:
            size, _, tracks = args.arg.partition(":")
            got = worker_eval(size, [t for t in tracks.split(",") if t])
        import dedup
        import dedup_service

        for m in (dedup, dedup_service):  # the tree's code was measured, not the editable install's
            assert Path(m.__file__).resolve().is_relative_to(args.tree.resolve()), m.__file__
        print(json.dumps(got))
        return got
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    base = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base], capture_output=True,
                          text=True, check=True).stdout.strip()
    res: dict = {"command": " ".join(["python bench/bench_redis_sil.py", *(argv or sys.argv[1:])]),
                 "commit": commit, "base": base, "load_average_start": os.getloadavg(), "store": {}, "eval": {}}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"ours": ROOT, "base": _base_tree(args.base, Path(tmp))}
        runs = {"ours": ("ours", {}), "base": ("base", {}), "ours_sil_off": ("ours", {"short_in_long": False})}
        for r in range(args.rounds if args.rounds_only != "eval" else 0):
            order = list(runs) if r % 2 == 0 else list(reversed(runs))
            for name in order:
                tree, params = runs[name]
                got = _run(trees[tree], "store", str(args.articles), params)
                res["store"].setdefault(name, []).append(got)
                print(name, "store", got, file=sys.stderr)
        for name in ("ours", "base") if args.rounds_only != "store" else ():
            res["eval"][name] = _run(trees[name], "eval", f"{args.size}:{args.tracks}")
            print(name, "eval", res["eval"][name], file=sys.stderr)
    res["load_average_end"] = os.getloadavg()
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
