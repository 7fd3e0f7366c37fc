"""End-to-end ``dedup batch`` speed and peak memory on synthetic feed dumps.

    .venv/bin/python bench/bench_batch.py [--sizes 10000,30000,100000] [--jobs 2] [--profile]

For each size, writes a dump with ``make_dump.py`` (seed 7; kept in
``--dump-dir`` and reused) and runs the installed CLI exactly as a user
would::

    dedup batch DUMP --clusters C --report R --jobs 2 --quiet

under ``/usr/bin/time -v``. It reports:

* articles/s = records in the dump / wall-clock seconds of the command
  (process start to exit: reading, fingerprinting, LSH, refinement,
  clustering, writing);
* peak memory, three ways: ``/usr/bin/time``'s maximum RSS (the largest
  *single* process of the tree); the peak of the *sum* of RSS over the
  process tree (parent + worker processes; counts pages shared after fork
  several times, so an upper bound); the peak of the sum of PSS (shared
  pages split between sharers: the fair total). The sums are sampled every
  0.1 s with psutil, so a spike shorter than that can be missed.
* the stage timings from the report.

Memory for 1,000,000 articles is *extrapolated* with a least-squares line
through (articles, peak PSS) of the sizes run, unless ``--sizes`` includes
1000000 (then it is measured). ``--profile`` also runs pyinstrument on
``dedup batch --jobs 1`` over the smallest dump (one process, so the
profile sees all work) and saves the text report.
Writes ``bench/results/batch.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, HERE)
from make_dump import code_version, write_results  # noqa: E402


def ensure_dump(n: int, dump_dir: str, seed: int, fresh: bool = False) -> str:
    path = os.path.join(dump_dir, f"dump-{n}-seed{seed}{'-fresh' if fresh else ''}.jsonl")
    if not os.path.exists(path):
        os.makedirs(dump_dir, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(HERE, "make_dump.py"), "--n", str(n), "--seed", str(seed),
                        "--out", path + ".part", *(["--fresh"] if fresh else [])], check=True)
        os.replace(path + ".part", path)
    return path


def _smaps(pid: int) -> dict:
    """Rss, Pss, Pss_Anon, Pss_File of one process (kB), from smaps_rollup."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return {k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in f if ":" in ln and "kB" in ln)}


def _sample(proc: psutil.Process, peak: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        rss = pss = anon = filed = 0
        try:
            kids = proc.children()
            if kids:
                peak.setdefault("main_pid", kids[0].pid)
            for p in [proc] + proc.children(recursive=True):
                try:
                    m = _smaps(p.pid)
                    rss, pss = rss + m["Rss"] * 1024, pss + m["Pss"] * 1024
                    anon, filed = anon + m.get("Pss_Anon", 0) * 1024, filed + m.get("Pss_File", 0) * 1024
                    if p.pid != proc.pid:  # not /usr/bin/time itself
                        ct = p.cpu_times()
                        peak["cpu"][p.pid] = ct.user + ct.system
                except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError, ProcessLookupError):
                    pass
        except psutil.NoSuchProcess:
            break
        peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
        peak["anon"], peak["file"] = max(peak["anon"], anon), max(peak["file"], filed)
        stop.wait(0.1)


def run_batch(dump: str, jobs: int, out_dir: str) -> dict:
    clusters, report = os.path.join(out_dir, "clusters.jsonl"), os.path.join(out_dir, "report.json")
    cmd = [os.path.join(BIN, "dedup"), "batch", dump, "--clusters", clusters, "--report", report,
           "--jobs", str(jobs), "--quiet"]
    timefile = os.path.join(out_dir, "time.txt")
    code = code_version()  # per run: others may be editing the core meanwhile
    t0 = time.perf_counter()
    proc = psutil.Popen(["/usr/bin/time", "-v", "-o", timefile] + cmd)
    peak, stop = {"rss": 0, "pss": 0, "anon": 0, "file": 0, "cpu": {}}, threading.Event()
    load0 = os.getloadavg()[0]
    sampler = threading.Thread(target=_sample, args=(proc, peak, stop), daemon=True)
    sampler.start()
    rc = proc.wait()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if rc != 0:
        raise SystemExit(f"dedup batch failed ({rc}): {' '.join(cmd)}")
    gnu = open(timefile).read()
    main_pid = peak.get("main_pid")  # the dedup process; the others are its workers
    workers = [round(c, 2) for pid, c in peak["cpu"].items() if pid != main_pid]
    maxrss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", gnu).group(1))
    rep = json.load(open(report))
    stats = rep.get("stats", rep)
    n = sum(1 for _ in open(dump, "rb"))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", gnu).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", gnu).group(1))
    return {
        "command": " ".join(["dedup"] + cmd[1:]), "code": code, "articles": n, "wall_s": round(wall, 2),
        "articles_per_s": round(n / wall, 1), "max_single_process_rss_mb": round(maxrss_kb / 1024, 1),
        "peak_tree_rss_mb": round(peak["rss"] / 2**20, 1), "peak_tree_pss_mb": round(peak["pss"] / 2**20, 1),
        "peak_tree_pss_anon_mb": round(peak["anon"] / 2**20, 1), "peak_tree_pss_file_mb": round(peak["file"] / 2**20, 1),
        "user_s": user, "system_s": system, "articles_per_cpu_s": round(n / max(1e-9, user + system), 1),
        "loadavg_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "cpu_s_sampled": {"main": round(peak["cpu"].get(main_pid, 0.0), 2), "workers": workers},
        "stage_seconds": _find(stats, "seconds"), "candidate_pairs": _find(stats, "candidate_pairs"),
        "clusters": _find(stats, "clusters"), "duplicates": _find(stats, "duplicates"),
    }


def _find(d, key):
    """``key`` anywhere in a nested report (the report's layout is the CLI's business)."""
    if isinstance(d, dict):
        if key in d:
            return d[key]
        for v in d.values():
            got = _find(v, key)
            if got is not None:
                return got
    return None


def fit(points: list[tuple[int, float]], at: int) -> tuple[float, float, float]:
    """Least-squares ``y = a + b*x``; returns ``(a, b, y(at))``."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points) or 1.0
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    a = my - b * mx
    return a, b, a + b * at


def profile(dump: str, out_dir: str, dest: str) -> str:
    cmd = [os.path.join(BIN, "pyinstrument"), "-r", "text", "-o", dest, os.path.join(BIN, "dedup"), "batch", dump,
           "--clusters", os.path.join(out_dir, "p-clusters.jsonl"), "--report", os.path.join(out_dir, "p-report.json"),
           "--jobs", "1", "--quiet"]
    subprocess.run(cmd, check=True)
    return " ".join(["pyinstrument"] + cmd[1:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,30000,100000")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dump-dir", default="/tmp/dedup-bench")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--fresh", action="store_true", help="dumps made with make_dump.py --fresh (no recycled passages)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "batch"))
    ap.add_argument("--report-only", action="store_true", help="rewrite OUT.md from OUT.json")
    args = ap.parse_args(argv)
    if args.report_only:
        with open(args.out + ".json") as f, open(args.out + ".md", "w") as g:
            g.write(report(json.load(f)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = []
    for n in sizes:
        dump = ensure_dump(n, args.dump_dir, args.seed, args.fresh)
        r = run_batch(dump, args.jobs, args.dump_dir)
        print(json.dumps(r), file=sys.stderr)
        runs.append(r)
    result = {"command": "python bench/bench_batch.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": {"nproc": os.cpu_count(), "mem_total_gb": round(psutil.virtual_memory().total / 2**30, 1)},
              "code": code_version(),
              "runs": runs}
    if 1_000_000 not in sizes and len(runs) >= 2:
        ex = {"method": "least-squares line through (articles, peak) of the runs, evaluated at 1,000,000"}
        for key in ("peak_tree_pss_mb", "peak_tree_pss_anon_mb"):
            a, b, y = fit([(r["articles"], r[key]) for r in runs], 1_000_000)
            ex[key] = {"intercept_mb": round(a, 1), "mb_per_1000_articles": round(b * 1000, 3), "at_1M_mb": round(y, 1)}
        result["extrapolated_1M"] = ex
    if args.profile:
        dest = args.out + "-profile.txt"
        result["profile"] = {"command": profile(ensure_dump(min(sizes), args.dump_dir, args.seed), args.dump_dir, dest),
                             "file": os.path.relpath(dest, ROOT)}
    write_results(args.out, result, report)
    return 0


def report(r: dict) -> str:
    c = r["code"]
    lines = ["# dedup batch: end to end", "", f"Command: `{r['command']}`  ",
             f"Machine: {r['machine']['nproc']} CPUs, {r['machine']['mem_total_gb']} GB RAM, shared with other "
             "jobs (see the load average column: above 2, the two cores were oversubscribed).  ",
             f"Code: commit {c['commit']}" + (f", uncommitted changes in {c['uncommitted_in_core']}"
                                              if c["uncommitted_in_core"] else "") + ".", "",
             "| articles | wall s | articles/s | CPU s (user+sys) | articles per CPU s | CPU s main / workers "
             "| load avg | peak PSS MB (anon / file) | peak RSS sum MB | max 1-proc RSS MB | candidate pairs "
             "| clusters |", "|---:|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|"]
    for x in r["runs"]:
        cs = x["cpu_s_sampled"]
        lines.append(
            f"| {x['articles']:,} | {x['wall_s']} | **{x['articles_per_s']:,.0f}** | {x['user_s'] + x['system_s']:.1f} "
            f"| {x['articles_per_cpu_s']:,.0f} | {cs['main']} / {' + '.join(map(str, cs['workers']))} "
            f"| {x['loadavg_1min_before_after'][0]} -> {x['loadavg_1min_before_after'][1]} "
            f"| **{x['peak_tree_pss_mb']}** ({x['peak_tree_pss_anon_mb']} / {x['peak_tree_pss_file_mb']}) "
            f"| {x['peak_tree_rss_mb']} | {x['max_single_process_rss_mb']} | {x['candidate_pairs']:,} "
            f"| {x['clusters']:,} |")
    lines += ["", "Articles per CPU s = articles / (user+sys of the whole process tree). With the machine to itself, "
              "2 cores could at best run 2 x that many articles a second (an upper bound, not a measurement: it "
              "assumes the main process and the workers overlap perfectly): "
              + ", ".join(f"{x['articles']:,}: {2 * x['articles_per_cpu_s']:,.0f}/s" for x in r["runs"]) + ".",
              "", "PSS anon = private memory; PSS file = mapped files (the memory-mapped word-id spool, libraries): "
              "page cache the kernel can drop and re-read. The anon and file peaks are taken separately. "
              "CPU s per process are sampled (last value seen before each process ended).", "",
              "Stage seconds (from the report):"]
    lines += [f"- {x['articles']:,}: {x['stage_seconds']}" for x in r["runs"]]
    if "extrapolated_1M" in r:
        e = r["extrapolated_1M"]
        lines += ["", f"**1,000,000 articles: extrapolated, not measured.** {e['method']}:"]
        for key, name in (("peak_tree_pss_mb", "peak PSS"), ("peak_tree_pss_anon_mb", "peak anonymous PSS")):
            lines.append(f"- {name}: {e[key]['intercept_mb']} MB + {e[key]['mb_per_1000_articles']} MB per 1,000 "
                         f"articles = **{e[key]['at_1M_mb']:,.0f} MB**")
    if "profile" in r:
        lines += ["", f"Profile: `{r['profile']['command']}` -> `{r['profile']['file']}`"]
    lines += ["", f"Each command: `{r['runs'][0]['command']}` (under `/usr/bin/time -v`)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
