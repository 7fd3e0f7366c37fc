"""Whole ``dedup batch`` runs of two or more checkouts on one dump, alternating, CPU seconds compared.

    python bench/bench_versus.py DUMP --checkout new=/work/wt-speed --checkout base=/work/wt-base \\
        [--python base=/work/wt-base/.venv/bin/python] [--entry base=service.cli] [--rounds 2] [--jobs 2] [--out bench/results/versus]

Each run is ``python -c 'dedup.cli.main()' batch DUMP --jobs J -q --clusters C`` with ``PYTHONPATH`` set
to the checkout (so its ``dedup`` package, and its own numba cache beside the sources, is the one
imported; each run's working directory is a temporary folder, so a package in the
current directory cannot shadow the checkout's), in rounds: every checkout once per round, in turn, so the machine's load hits them alike.
CPU = user + system seconds of the whole process tree (``resource.getrusage(RUSAGE_CHILDREN)``,
which counts the worker processes once they are reaped); wall seconds are shown too, but on a shared
machine only the CPU ratio is steady. One untimed run per checkout first fills its numba cache.
Writes OUT.json and OUT.md; the clusters of each checkout's last run are compared byte for byte.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from statistics import median

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_dump import write_results  # noqa: E402

_MAIN = "import sys; from {} import main; sys.argv[0] = 'dedup'; main()"


def run(python: str, checkout: str, dump: str, jobs: int, clusters: str, entry: str = "dedup.cli") -> dict:
    env = dict(os.environ, PYTHONPATH=checkout)
    env.pop("DEDUP_REDIS_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load, t0 = os.getloadavg()[0], time.perf_counter()
    subprocess.run([python, "-c", _MAIN.format(entry), "batch", dump, "--jobs", str(jobs), "-q", "--clusters", clusters],
                   env=env, check=True, stdout=subprocess.DEVNULL, cwd=os.path.dirname(clusters))
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_before": round(load, 2)}


def count_lines(path: str) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def commit(checkout: str) -> str:
    got = subprocess.run(["git", "-C", checkout, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "-C", checkout, "status", "--porcelain", "--untracked-files=no", "dedup"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return got.stdout.strip() + (" (uncommitted changes)" if dirty else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump")
    ap.add_argument("--checkout", action="append", default=[], help="NAME=PATH (two or more)")
    ap.add_argument("--python", action="append", default=[], help="NAME=INTERPRETER (default: this one)")
    ap.add_argument("--entry", action="append", default=[],
                    help="NAME=MODULE holding the CLI's main() (default dedup.cli; service.cli before 50bab77's layout)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-warm-up", action="store_true", help="no untimed first run (caches already warm)")
    ap.add_argument("--report-only", action="store_true", help="rewrite OUT.md from OUT.json")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "versus"))
    args = ap.parse_args(argv)
    if args.report_only:
        with open(args.out + ".json") as f:
            result = json.load(f)
        for k in ("median_cpu_s", "median_wall_s"):
            result[k] = {n: round(v, 2) for n, v in result[k].items()}
        write_results(args.out, result, report)
        return 0
    checkouts = dict(c.split("=", 1) for c in args.checkout)
    pythons = {n: sys.executable for n in checkouts} | dict(p.split("=", 1) for p in args.python)
    entries = {n: "dedup.cli" for n in checkouts} | dict(e.split("=", 1) for e in args.entry)
    tmp = tempfile.mkdtemp(prefix="dedup-versus-")
    out = {n: os.path.join(tmp, f"clusters-{n}.jsonl") for n in checkouts}
    for name, path in {} if args.skip_warm_up else checkouts.items():  # untimed: numba cache, page cache of the dump
        run(pythons[name], path, args.dump, args.jobs, out[name], entries[name])
    runs: dict[str, list[dict]] = {n: [] for n in checkouts}
    for r in range(args.rounds):
        for name, path in (checkouts.items() if r % 2 == 0 else reversed(checkouts.items())):
            runs[name].append(run(pythons[name], path, args.dump, args.jobs, out[name], entries[name]))
            print(name, r, runs[name][-1], flush=True)
    names = list(checkouts)
    first = names[0]
    result = {
        "command": "python bench/bench_versus.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "dump": args.dump, "records": count_lines(args.dump), "jobs": args.jobs,
        "checkouts": {n: {"path": p, "commit": commit(p), "python": pythons[n], "entry": entries[n]} for n, p in checkouts.items()},
        "runs": runs,
        "median_cpu_s": {n: round(median(x["cpu_s"] for x in v), 2) for n, v in runs.items()},
        "median_wall_s": {n: round(median(x["wall_s"] for x in v), 2) for n, v in runs.items()},
        # per round, paired: this checkout's CPU over the first one's
        "cpu_ratio_to_" + first: {n: round(median(a["cpu_s"] / b["cpu_s"] for a, b in zip(runs[n], runs[first])), 3)
                                  for n in names},
        "same_clusters_as_" + first: {n: filecmp.cmp(out[n], out[first], shallow=False) for n in names},
    }
    write_results(args.out, result, report)
    return 0


def report(r: dict) -> str:
    names = list(r["checkouts"])
    first = names[0]
    lines = [f"# `dedup batch` of {len(names)} checkouts on one dump, alternating", "",
             f"Command: `{r['command']}`", "",
             f"Dump: `{r['dump']}` ({r['records']:,} records), `--jobs {r['jobs']}`. CPU = user + system s of the "
             "whole process tree; the ratio is the median of the per-round ratios (paired).", "",
             f"| checkout | commit | median CPU s | CPU / {first} | median wall s | clusters identical to {first}'s |",
             "|---|---|---:|---:|---:|---|"]
    for n in names:
        lines.append(f"| {n} | `{r['checkouts'][n]['commit']}` | {r['median_cpu_s'][n]} | "
                     f"{r['cpu_ratio_to_' + first][n]} | {r['median_wall_s'][n]} | {r['same_clusters_as_' + first][n]} |")
    lines += ["", "Runs (CPU s / wall s / 1-min load average before):", ""]
    for n in names:
        lines.append(f"* {n}: " + ", ".join(f"{x['cpu_s']} / {x['wall_s']} / {x['load_before']}" for x in r["runs"][n]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
