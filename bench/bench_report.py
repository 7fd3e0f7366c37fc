"""``dedup batch --html`` on a large synthetic run: the report's size, the
time to write it, and the time a browser takes to show it (not in CI).

    .venv/bin/python bench/bench_report.py --n 1000000 --fresh [--out bench/results/report]
    .venv/bin/python bench/bench_report.py --n 100000 --fresh --replicate 10   # a stand-in for 1M, see below

Steps, each timed:

1. the dump: ``bench/make_dump.py --n N [--fresh]`` (reused when it exists
   under ``/tmp/dedup-bench``);
2. the run, as ``dedup batch DUMP --html REPORT`` does it (the same library
   calls: :func:`dedup.cluster_articles` over the readers, then the texts
   of :func:`dedup.htmlreport.report_ids` read again, then
   :func:`dedup.htmlreport.write_html_report`); the clustering and the
   report are timed apart;
3. the report opened from disk in headless Chromium (``chromium`` and
   ``chromedriver`` from Debian, see ``tools/install-browser``) through
   selenium, ``--opens`` times in fresh browsers: the wall time of
   ``driver.get`` (returns at the load event) and the page's own
   Performance entries (first contentful paint, DOMContentLoaded, load,
   from navigation start).

``--replicate K`` stands in for a K times larger run where making and
clustering one is out of reach (a 1M-article dump takes about an hour to
write on the shared 2-core machine): the real run's clusters are repeated
K times under new ids (``<id>~r<k>``, their texts the originals'), and its
counts multiplied by K. 100,000 fresh articles repeated 10 times give
1,000,000 articles in about 170,000 clusters, the cluster count the real
1M fresh run found (bench/results/batch-fresh.md: 170,651), so the report
writes and the browser parses a 1M run's listing; the clusters shown side
by side are the real ones (the largest, and their replicas when sizes tie).

Results: ``OUT.json`` and ``OUT.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_dump import code_version, write_results

from dedup.batch import cluster_articles
from dedup.cli.readers import read_records
from dedup.htmlreport import SHOWN, report_ids, write_html_report
from dedup.normalisation import Normaliser
from dedup.params import Params

WORK = Path(os.environ.get("DEDUP_BENCH_DIR", "/tmp/dedup-bench"))


def make_dump(n: int, fresh: bool) -> Path:
    path = WORK / f"dump-{n}-seed7{'-fresh' if fresh else ''}.jsonl"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".part")  # an interrupted dump is never reused
        cmd = [sys.executable, str(Path(__file__).parent / "make_dump.py"), "--n", str(n), "--out", str(part)]
        subprocess.run(cmd + (["--fresh"] if fresh else []), check=True)
        part.rename(path)
    return path


def replicated(result, k: int):
    """The run's clusters ``k`` times under new ids, its counts times ``k`` (see the module docstring)."""
    from dataclasses import replace

    from dedup.batch import BatchResult

    if k == 1:
        return result
    n = len(result.clusters)

    def renamed(c, r):
        name = (lambda i: i) if r == 0 else (lambda i: f"{i}~r{r}")
        return replace(c, id=c.id + r * n, canonical=name(c.canonical), members=tuple(map(name, c.members)),
                       pairs=tuple(replace(p, a=name(p.a), b=name(p.b)) for p in c.pairs))

    stats = dict(result.stats)
    for key in ("clusters", "duplicates", "candidate_pairs", "confirmed_pairs"):
        if isinstance(stats.get(key), int):
            stats[key] *= k
    stats["cluster_sizes"] = {s: c * k for s, c in stats.get("cluster_sizes", {}).items()}
    stats["rejected_pairs"] = {why: c * k for why, c in stats.get("rejected_pairs", {}).items()}
    return BatchResult([renamed(c, r) for r in range(k) for c in result.clusters], result.n_articles * k,
                       result.skipped, result.n_skipped * k, stats)


def run(dump: Path, out: Path, shown: int, jobs: int, k: int) -> dict:
    params, normaliser = Params(), Normaliser()
    t0 = time.perf_counter()
    articles = (r.article for r in read_records(dump) if r.article is not None)
    result = replicated(cluster_articles(articles, params, jobs=jobs, progress=False, normaliser=normaliser), k)
    t1 = time.perf_counter()
    wanted = report_ids(result, shown)
    originals = {i.split("~r")[0] for i in wanted}
    read = {r.article.id: r.article for r in read_records(dump) if r.article is not None and r.article.id in originals}
    texts = {i: replace(read[i.split("~r")[0]], id=i) for i in wanted if i.split("~r")[0] in read}
    t2 = time.perf_counter()
    with open(out, "w", encoding="utf-8") as f:
        write_html_report(result, texts, f, facts={"input": str(dump)}, shown=shown, params=params, normaliser=normaliser)
    t3 = time.perf_counter()
    return {"articles": result.n_articles, "clusters": len(result.clusters),
            "duplicates": result.stats["duplicates"], "largest_cluster": max((len(c.members) for c in result.clusters), default=0),
            "cluster_seconds": round(t1 - t0, 2), "read_texts_seconds": round(t2 - t1, 2),
            "write_html_seconds": round(t3 - t2, 2), "html_bytes": out.stat().st_size}


def open_in_chromium(report: Path, opens: int) -> list[dict]:
    from selenium import webdriver

    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_bin:
        raise SystemExit("bench_report: chromium and chromedriver are needed (tools/install-browser)")
    got = []
    for _ in range(opens):
        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
            opts.add_argument(arg)
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_bin), options=opts)
        try:
            driver.set_page_load_timeout(120)
            t0 = time.perf_counter()
            driver.get(report.as_uri())
            wall = time.perf_counter() - t0
            timing = driver.execute_script("""
                var nav = performance.getEntriesByType('navigation')[0];
                var paint = {};
                performance.getEntriesByType('paint').forEach(function (e) { paint[e.name] = e.startTime; });
                return {fcp: paint['first-contentful-paint'], first_paint: paint['first-paint'],
                        dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
                        sections: document.querySelectorAll('section.cluster').length};""")
            got.append({"get_wall_ms": round(wall * 1000), **{k: round(v) if isinstance(v, float) else v
                                                               for k, v in timing.items()}})
        finally:
            driver.quit()
    return got


def replica_note(r: dict) -> str:
    k = r.get("replicate", 1)
    if k == 1:
        return ""
    return (f"  \n**A stand-in for a {k}x larger run**: the real run's clusters repeated {k} times under new ids, "
            f"its counts times {k} (see the script's docstring); the clustering seconds are the real run's.")


def report(r: dict) -> str:
    run_, opens = r["run"], r["opens"]
    fcp = sorted(o["fcp"] for o in opens)
    rows = "\n".join(f"| {i + 1} | {o['fcp']} | {o['first_paint']} | {o['dom_content_loaded']} | {o['load']} | {o['get_wall_ms']} |"
                     for i, o in enumerate(opens))
    return f"""# dedup batch --html: a large run's report

Command: `{r['command']}`  
Machine: {r['machine']}, shared with other jobs (load average {r['load_before']} before, {r['load_after']} after).  
Code: commit {r['code']['commit']}{' (uncommitted changes in the core)' if r['code']['uncommitted_in_core'] else ''}.  
Dump: `{r['dump']}` ({r['dump_bytes'] / 1e9:.2f} GB).{replica_note(r)}

| articles | clusters | duplicates | largest cluster | shown side by side | report size | clustering s | texts read again s | HTML written s |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| {run_['articles']:,} | {run_['clusters']:,} | {run_['duplicates']:,} | {run_['largest_cluster']:,} | {r['shown']:,} | **{run_['html_bytes'] / 1e6:.1f} MB** | {run_['cluster_seconds']} | {run_['read_texts_seconds']} | {run_['write_html_seconds']} |

Opened from disk in headless {r['chromium']}, each time in a fresh browser (ms from navigation start):

| open | first contentful paint | first paint | DOMContentLoaded | load | `driver.get` wall |
|---:|---:|---:|---:|---:|---:|
{rows}

Median first contentful paint: **{fcp[len(fcp) // 2]} ms** (target: the report opens in under 5 s).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--fresh", action="store_true", help="make_dump --fresh (re-dealt paragraphs perturbed)")
    ap.add_argument("--shown", type=int, default=SHOWN, help="clusters side by side (default: the CLI's)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--opens", type=int, default=3)
    ap.add_argument("--replicate", type=int, default=1, help="repeat the run's clusters K times (a stand-in for a K times larger run)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "report"))
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    dump = make_dump(args.n, args.fresh)
    html = WORK / f"report-{args.n}x{args.replicate}.html"
    got = run(dump, html, args.shown, args.jobs, args.replicate)
    print(got, flush=True)
    opens = open_in_chromium(html, args.opens)
    chromium = subprocess.run(["chromium", "--version"], capture_output=True, text=True, check=False).stdout.strip().split(" built")[0]
    write_results(args.out, {
        "command": "python bench/bench_report.py " + " ".join(sys.argv[1:]), "machine": f"{os.cpu_count()} CPUs, {platform.machine()}",
        "code": code_version(), "dump": str(dump), "dump_bytes": dump.stat().st_size, "shown": args.shown, "replicate": args.replicate,
        "run": got, "opens": opens, "chromium": chromium,
        "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
    }, report)


if __name__ == "__main__":
    main()
