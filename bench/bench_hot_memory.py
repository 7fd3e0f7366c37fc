"""One story picked up N times, in memory: does ``Deduplicator.add`` grow with the story?

    python bench/bench_hot_memory.py --n 3000 --base /path/to/old/tree   # from the repository root

Each copy is the same wire story with a dateline of its own and one word
changed; with ``--updates`` (the second run) half the copies after the fifth
carry the story's update (a figure changed). Each run is a fresh process of
this interpreter (``PYTHONPATH`` set to ``--base`` for the other tree), CPU
time of the thread per add (``thread_time_ns``), medians of 100 adds at
several points of the stream. Writes ``bench/results/hot-memory.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE]

from make_dump import code_version, write_results  # noqa: E402

STORY = ("The storm killed 12 people on Monday and left 4,000 homes without power across the region, "
         "officials said, as rescue teams searched flooded villages for the missing. ") * 4


def child(n: int, updates: bool) -> dict:
    from dedup import Article, Deduplicator

    rng = random.Random(1)
    d, lat = Deduplicator(), []
    for i in range(n):
        src = STORY.replace("12 people", "15 people", 1) if updates and i >= 5 and rng.random() < 0.5 else STORY
        words = src.split()
        j = rng.randrange(len(words))
        words[j] += "x"
        art = Article(f"c{i}", f"CITY{i} (AP) - " + " ".join(words),
                      published=f"2024-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z")
        t = time.thread_time_ns()
        d.add(art)
        lat.append(time.thread_time_ns() - t)
    points = [k for k in (0, 100, 500, 1000, 2000, n - 100) if k + 100 <= n]
    med = {str(k): round(sorted(lat[k:k + 100])[50] / 1e6, 4) for k in points}
    return {"median_ms_from": med, "story_size": len(d.index.cluster("c0")[1])}


def run(n: int, updates: bool, base: str | None) -> dict:
    env = dict(os.environ)
    if base:
        env["PYTHONPATH"] = base
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--n", str(n),
                          *(["--updates"] if updates else [])], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--base", help="another tree whose dedup package to run beside this one")
    ap.add_argument("--updates", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "hot-memory"))
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.n, a.updates)))
        return
    rows = []
    for updates in (False, True):
        for tree in ([None, a.base] if a.base else [None]):
            got = run(a.n, updates, tree)
            rows.append({"tree": tree or "this tree", "updates": updates, **got})
            print(rows[-1], file=sys.stderr)
    res = {"command": " ".join(["python", *sys.argv]), "code": code_version(), "n": a.n, "rows": rows}
    write_results(a.out, res, report)


def report(res: dict) -> str:
    rows = res["rows"]
    lines = ["# One story picked up N times, in memory (`bench/bench_hot_memory.py`)", "",
             f"`{res['command']}`; commit `{res['code']['commit']}`; CPU ms per `Deduplicator.add`, "
             "median of the 100 adds from each point of the stream.", "",
             "| tree | copies with the update | " + " | ".join(f"from add {k}" for k in rows[0]["median_ms_from"]) +
             " | story size |", "|---|---|" + "---:|" * (len(rows[0]["median_ms_from"]) + 1)]
    for r in rows:
        lines.append(f"| {r['tree']} | {'half' if r['updates'] else 'none'} | " +
                     " | ".join(f"{v:.3f}" for v in r["median_ms_from"].values()) + f" | {r['story_size']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
