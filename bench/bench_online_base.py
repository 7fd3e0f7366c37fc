"""Online add latency of this tree against another commit's, side by side in one run.

    python bench/bench_online_base.py --base /work/wt-base-detect --input /tmp/eval_full.jsonl --n 7000 --rounds 5

The issue's budget: online add p50 within 20% of the commit before the
detection work (``4386658``; check it out with ``git worktree add --detach
DIR 4386658``). Each contender is a fresh process of the same interpreter
and libraries with ``PYTHONPATH`` pointed at its tree, so only the
``dedup`` package differs. In each process: 300 untimed adds into a
throwaway deduplicator (numba cache loads, first calls), then ``Deduplicator().add`` (in memory: fingerprint, bounded
candidates, confirmation, clustering guards, insertion) of the first ``--n``
records in input order, each timed with ``perf_counter_ns`` (wall) and
``thread_time_ns`` (the thread's CPU time) (``--new-params``:
``Params`` overrides for this tree only). Contenders
alternate, the order swapped every round; the ratio new/base of p50 is
taken within each round and its median reported, with every round's
figures and the load average. Writes ``bench/results/online_base.json``
and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from statistics import median

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

_CHILD = r"""
import json, sys, time
from dedup import Article, Deduplicator, Params
path, n, params = sys.argv[1], int(sys.argv[2]), Params(**json.loads(sys.argv[3]))
recs = []
with open(path, encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        recs.append(Article(id=str(r["id"]), text=r["text"], published=r.get("published") or None))
        if len(recs) == n:
            break
warm = Deduplicator()  # numba cache loads and first calls, growth included, outside the timing
for a in recs[:300]:
    warm.add(a)
d, lat, cpu, tn, tc = Deduplicator(params), [], [], time.perf_counter_ns, time.thread_time_ns
c0 = time.process_time()
for a in recs:
    t0, c1 = tn(), tc()
    d.add(a)
    cpu.append(tc() - c1)
    lat.append(tn() - t0)
loop = time.process_time() - c0
lat.sort()
cpu.sort()
q = lambda xs, f: xs[int(len(xs) * f)] / 1e6
print(json.dumps({"n": len(lat), "p50_ms": q(lat, 0.5), "p90_ms": q(lat, 0.9), "p99_ms": q(lat, 0.99),
                  "mean_ms": sum(lat) / len(lat) / 1e6, "cpu_p50_ms": q(cpu, 0.5), "cpu_p99_ms": q(cpu, 0.99),
                  "ops_per_cpu_s": len(lat) / loop}))
"""


def run(tree: str, path: str, n: int, params: str = "{}") -> dict:
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, "-c", _CHILD, path, str(n), params], env=env, cwd="/tmp",
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def commit(tree: str) -> str:
    return subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="the other commit's tree")
    ap.add_argument("--input", required=True, help="JSON Lines with id, text (and published)")
    ap.add_argument("--n", type=int, default=7000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--new-params", default="{}", help="JSON of Params overrides for this tree, e.g. "
                    '\'{"short_in_long": false}\'')
    ap.add_argument("--out", default=os.path.join(HERE, "results", "online_base"))
    a = ap.parse_args()
    trees = {"base": os.path.abspath(a.base), "new": ROOT}
    rounds = []
    for r in range(a.rounds):
        order = ["base", "new"] if r % 2 == 0 else ["new", "base"]
        got = {"load": os.getloadavg()[0]}
        for k in order:
            got[k] = run(trees[k], a.input, a.n, a.new_params if k == "new" else "{}")
        got["ratio_p50"] = got["new"]["p50_ms"] / got["base"]["p50_ms"]
        got["ratio_mean"] = got["new"]["mean_ms"] / got["base"]["mean_ms"]
        got["ratio_cpu_p50"] = got["new"]["cpu_p50_ms"] / got["base"]["cpu_p50_ms"]
        rounds.append(got)
        print(f"round {r}: base p50 {got['base']['p50_ms']:.3f} ms, new p50 {got['new']['p50_ms']:.3f} ms, "
              f"ratio {got['ratio_p50']:.3f} (mean {got['ratio_mean']:.3f}, CPU p50 {got['ratio_cpu_p50']:.3f}), "
              f"load {got['load']:.1f}", flush=True)
    res = {"commits": {k: commit(t) for k, t in trees.items()}, "input": a.input, "n": a.n,
           "new_params": json.loads(a.new_params), "rounds": rounds,
           "median_ratio_p50": median(x["ratio_p50"] for x in rounds),
           "median_ratio_mean": median(x["ratio_mean"] for x in rounds),
           "median_ratio_cpu_p50": median(x["ratio_cpu_p50"] for x in rounds)}
    with open(a.out + ".json", "w") as f:
        json.dump(res, f, indent=2)

    def m(k: str, f: str) -> float:
        return median(x[k][f] for x in rounds)

    lines = [f"# Online add, in memory: `{res['commits']['new']}` (new) vs `{res['commits']['base']}` (base)", "",
             (f"`python bench/bench_online_base.py --base TREE --input {os.path.basename(a.input)} --n {a.n} "
              f"--rounds {a.rounds} --new-params '{a.new_params}'`; {rounds[0]['new']['n']:,} adds per run, median of "
              f"{a.rounds} alternating rounds (load average {min(x['load'] for x in rounds):.1f}-"
              f"{max(x['load'] for x in rounds):.1f} on 2 cores)."), "",
             "| | base | new | new / base (median of per-round ratios) |", "|---|---:|---:|---:|",
             f"| p50 | {m('base', 'p50_ms'):.3f} ms | {m('new', 'p50_ms'):.3f} ms | **{res['median_ratio_p50']:.2f}** |",
             f"| p90 | {m('base', 'p90_ms'):.3f} ms | {m('new', 'p90_ms'):.3f} ms | |",
             f"| p99 | {m('base', 'p99_ms'):.3f} ms | {m('new', 'p99_ms'):.3f} ms | |",
             f"| mean | {m('base', 'mean_ms'):.3f} ms | {m('new', 'mean_ms'):.3f} ms | {res['median_ratio_mean']:.2f} |",
             f"| CPU p50 | {m('base', 'cpu_p50_ms'):.3f} ms | {m('new', 'cpu_p50_ms'):.3f} ms | "
             f"{res['median_ratio_cpu_p50']:.2f} |",
             f"| CPU p99 | {m('base', 'cpu_p99_ms'):.3f} ms | {m('new', 'cpu_p99_ms'):.3f} ms | |",
             f"| adds per CPU s | {m('base', 'ops_per_cpu_s'):,.0f} | {m('new', 'ops_per_cpu_s'):,.0f} | |", "",
             "p50/p90/p99/mean: wall time per add (`perf_counter_ns`; on a shared machine it holds other "
             "processes' time slices); CPU: the thread's CPU time per add (`thread_time_ns`).", ""]
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
