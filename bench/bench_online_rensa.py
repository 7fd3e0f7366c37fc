"""Online, in memory, one article at a time: ``Deduplicator.add`` against rensa's ``RMinHashLSH``.

    python bench/bench_online_rensa.py --n 10000 --rounds 5     # from the repository root

The same stream for everyone: the first ``--n`` records of a
``make_dump.py`` dump (``--input``, else ``make_dump.py --n N --seed 7``:
real BBC/Reuters paragraphs, ~30% wire copies published after their
story), in input order. Each contender runs in a fresh process of this
interpreter (the order rotated every round); after an untimed warm-up (ours:
300 adds into a throwaway deduplicator; rensa: one sketch) it
times every operation with ``perf_counter_ns`` (wall) and
``thread_time_ns`` (CPU of the thread: on a shared machine wall latency
holds other processes' time slices, CPU latency does not) and the whole
loop with ``process_time``. ops/s is operations per CPU second of the loop;
the ratio ours/rensa is taken within each round and its median reported.

Two comparisons, because the two sides do different work:

* **full path**, raw text in, answer out. Ours: ``Deduplicator().add``
  (defaults) normalises the text (news-aware: markup, datelines, bylines,
  boilerplate, figures, Unicode), fingerprints it (datasketch-compatible
  MinHash, 128 values, word 5-gram shingles, word ids), looks up bounded
  LSH candidates (28 bands of 4 rows, threshold ~0.43) and short-inside-long
  candidates (per-value buckets), confirms every candidate on the words
  (alignment, guards), applies the clustering guards and stores the article
  in its cluster. rensa: ``RMinHash(128, seed 1).update`` of the distinct
  word 5-gram shingles after a plain lower-case / split on non-word
  characters (``bench/peers/common.py``), ``RMinHashLSH(0.5, 128, 32
  bands).query``, keep the candidates whose estimated Jaccard is >= 0.5
  (its only confirmation), ``insert``; it keeps no clusters.
* **like for like**, sketch + query + insert from text already normalised
  (outside the timing), no confirmation, no clusters. Ours:
  ``dedup.minhash.signatures`` of the normalised text (it tokenises
  itself) and ``MemoryIndex.add`` (LSH and short-inside-long candidates,
  then insert). rensa: ``update`` with the shingles made beforehand,
  ``query``, ``insert``.

``--base TREE`` adds ours' full path with another tree's ``dedup`` package
(``PYTHONPATH``; e.g. the commit before this work), against the same rensa runs.

Writes ``bench/results/online_rensa.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from statistics import median

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "peers")]

from make_dump import code_version, write_results  # noqa: E402

CONTENDERS = {
    "ours_full": "ours, full path: Deduplicator().add",
    "rensa_full": "rensa, full path: simple normalisation + RMinHash + RMinHashLSH query + Jaccard >= 0.5 + insert",
    "ours_core": "ours, like for like: signatures + MemoryIndex.add (normalised text given)",
    "rensa_core": "rensa, like for like: RMinHash.update + RMinHashLSH query + insert (shingles given)",
}
PAIRS = (("full path", "ours_full", "rensa_full"), ("like for like", "ours_core", "rensa_core"))
BASE = "base_full"  # with --base TREE: ours_full with that tree's dedup package


def _texts(path: str, n: int) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if len(out) == n:
                break
    return out


def _timed(ops) -> dict:
    """Run each zero-argument call of ``ops``; per-operation wall and CPU latency, loop CPU."""
    wall, cpu = [], []
    tw, tc = time.perf_counter_ns, time.thread_time_ns
    c0 = time.process_time()
    for op in ops:
        w0, c1 = tw(), tc()
        op()
        cpu.append(tc() - c1)
        wall.append(tw() - w0)
    loop_cpu = time.process_time() - c0
    wall.sort()
    cpu.sort()
    n = len(wall)

    def q(xs, f):
        return round(xs[min(n - 1, int(n * f))] / 1e6, 4)

    return {"n": n, "cpu_s": round(loop_cpu, 3), "ops_per_cpu_s": round(n / loop_cpu, 1),
            "ops_per_wall_s": round(n / (sum(wall) / 1e9), 1),
            "p50_ms": q(wall, 0.5), "p99_ms": q(wall, 0.99), "max_ms": round(wall[-1] / 1e6, 3),
            "cpu_p50_ms": q(cpu, 0.5), "cpu_p99_ms": q(cpu, 0.99), "cpu_max_ms": round(cpu[-1] / 1e6, 3)}


def child(which: str, path: str, n: int) -> dict:
    """One contender over the stream, in this process."""
    recs = _texts(path, n)
    texts = [r["text"] for r in recs]
    if which.startswith(("ours", "base")):
        from dedup import Article, Deduplicator, Params
        from dedup.index import Fingerprint, MemoryIndex
        from dedup.minhash import signatures
        from dedup.normalisation import Normaliser

        warm = Deduplicator()  # numba cache loads and first calls (growth included), outside the timing
        for r in recs[:300]:
            warm.add(Article(id=str(r["id"]), text=r["text"]))
        if which in ("ours_full", BASE):
            d = Deduplicator()
            arts = [Article(id=str(r["id"]), text=r["text"], published=r.get("published") or None) for r in recs]
            return _timed(lambda a=a: d.add(a) for a in arts)
        params, norm = Params(), Normaliser()
        lowered = [norm(t).lower() for t in texts]
        index = MemoryIndex(params)

        def core(i: int, text: str) -> None:
            sigs, words = signatures([text], params.num_perm, params.seed, params.shingle_size)
            index.add(Fingerprint(str(i), sigs[0], words[0]))

        return _timed(lambda i=i, t=t: core(i, t) for i, t in enumerate(lowered))
    import rensa

    from common import NUM_PERM, THRESHOLD, shingles, words

    lsh, mhs = rensa.RMinHashLSH(THRESHOLD, NUM_PERM, 32), []
    warm = rensa.RMinHash(NUM_PERM, 1)
    warm.update(shingles(words(texts[0])))
    if which == "rensa_full":
        def full(i: int, text: str) -> None:
            m = rensa.RMinHash(NUM_PERM, 1)
            m.update(shingles(words(text)))
            _ = [j for j in lsh.query(m) if m.jaccard(mhs[j]) >= THRESHOLD]
            lsh.insert(i, m)
            mhs.append(m)

        return _timed(lambda i=i, t=t: full(i, t) for i, t in enumerate(texts))
    shs = [shingles(words(t)) for t in texts]

    def core_r(i: int, sh: list[str]) -> None:
        m = rensa.RMinHash(NUM_PERM, 1)
        m.update(sh)
        lsh.query(m)
        lsh.insert(i, m)

    return _timed(lambda i=i, s=s: core_r(i, s) for i, s in enumerate(shs))


def run(which: str, path: str, n: int, base: str | None = None) -> dict:
    env = {**os.environ, "RAYON_NUM_THREADS": "1"}
    if which == BASE:
        env["PYTHONPATH"] = base
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", which, "--input", path, "--n", str(n)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(r: dict) -> str:
    s = r["summary"]
    lines = [
        "# Online, in memory: `Deduplicator.add` vs rensa `RMinHashLSH`", "",
        f"`{r['command']}`; commit `{r['code']['commit']}`; {r['n']:,} records of `{r['input']}` "
        f"(make_dump, ~30% wire copies), one thread, each contender a fresh process, {r['rounds']} rounds with "
        f"the order rotated, load average {min(r['loads']):.1f}-{max(r['loads']):.1f} on {os.cpu_count()} cores. "
        f"Python {r['python']}, rensa {r['versions']['rensa']}, numba {r['versions']['numba']}.", "",
        "ops/s = operations per CPU second of the loop (`process_time`); latency per operation in wall time "
        "(`perf_counter_ns`, holds other processes' time slices on this shared machine) and in the thread's CPU "
        "time (`thread_time_ns`); medians over rounds; ratio = median of the per-round ratios of ops/s.", "",
        "| contender | ops/s | p50 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    names = {**CONTENDERS, BASE: f"ours at `{r.get('base_commit')}` (before this work), full path"}
    for k in s:
        name, x = names[k], s[k]
        lines.append(f"| {name} | {x['ops_per_cpu_s']:,.0f} | {x['p50_ms']:.3f} | {x['p99_ms']:.3f} | "
                     f"{x['max_ms']:.1f} | {x['cpu_p50_ms']:.3f} | {x['cpu_p99_ms']:.3f} |")
    lines += ["", "| comparison | ours / rensa, ops/s (median of rounds) | per round |", "|---|---:|---|"]
    for label, o, p in PAIRS:
        lines.append(f"| {label} | **{r['ratios'][label]:.2f}x** | {', '.join(f'{x:.2f}' for x in r['per_round'][label])} |")
    if BASE in s:
        lines.append(f"| full path, ours at `{r['base_commit']}` / rensa | {r['ratios']['base']:.2f}x | "
                     f"{', '.join(f'{x:.2f}' for x in r['per_round']['base'])} |")
    lines += ["", "What each side does: see the docstring of `bench/bench_online_rensa.py` (ours normalises, "
              "fingerprints, finds LSH and short-inside-long candidates, confirms each on the words and keeps "
              "clusters; rensa sketches the shingles it is given and checks the estimated Jaccard).", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", help="JSON Lines with id, text (default: make_dump.py --n N --seed 7)")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dump-dir", default="/tmp/dedup-bench")
    ap.add_argument("--base", help="also time ours_full with this tree's dedup package (PYTHONPATH)")
    ap.add_argument("--child", choices=[*CONTENDERS, BASE], help=argparse.SUPPRESS)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "online_rensa"))
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.input, a.n)))
        return
    if a.input is None:
        from bench_batch import ensure_dump

        a.input = ensure_dump(a.n, a.dump_dir, 7)
    names = list(CONTENDERS) + ([BASE] if a.base else [])
    rounds, loads = {k: [] for k in names}, []
    for r in range(a.rounds):
        loads.append(round(os.getloadavg()[0], 2))
        for k in names[r % len(names):] + names[:r % len(names)]:
            rounds[k].append(run(k, a.input, a.n, a.base and os.path.abspath(a.base)))
            print(f"round {r} {k:11s} {rounds[k][-1]}", flush=True)
    per_round = {label: [o["ops_per_cpu_s"] / p["ops_per_cpu_s"] for o, p in zip(rounds[ko], rounds[kp])]
                 for label, ko, kp in PAIRS}
    if a.base:
        per_round["base"] = [b["ops_per_cpu_s"] / p["ops_per_cpu_s"] for b, p in zip(rounds[BASE], rounds["rensa_full"])]
    summary = {k: {m: median(x[m] for x in rounds[k]) for m in rounds[k][0] if m != "n"} for k in names}
    result = {"command": "python bench/bench_online_rensa.py " + " ".join(sys.argv[1:]), "code": code_version(),
              "input": os.path.basename(a.input), "n": rounds[names[0]][0]["n"], "rounds": a.rounds, "loads": loads,
              "python": platform.python_version(), "versions": {p: version(p) for p in ("rensa", "numba", "numpy")},
              "contenders": CONTENDERS, "runs": rounds, "summary": summary,
              "per_round": {k: [round(x, 3) for x in v] for k, v in per_round.items()},
              "ratios": {k: round(median(v), 3) for k, v in per_round.items()},
              "base_commit": a.base and subprocess.run(["git", "-C", a.base, "rev-parse", "--short", "HEAD"],
                                                       capture_output=True, text=True).stdout.strip()}
    write_results(a.out, result, report)


if __name__ == "__main__":
    main()
