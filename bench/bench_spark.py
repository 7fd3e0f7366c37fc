"""``dedup spark`` with ``local[2]`` next to ``dedup batch --jobs 2`` on the same synthetic dump.

    .venv/bin/python bench/bench_spark.py [--sizes 100000] [--dump-dir /tmp/dedup-bench]

For each size: the dump of ``make_dump.py`` (seed 7, ``--fresh`` if asked, reused
from ``--dump-dir``), then, one after the other on the same machine:

* ``dedup batch DUMP --clusters C --report R --jobs 2 --quiet``: wall-clock
  seconds of the command;
* the Spark pipeline (:func:`dedup.spark.pipeline.run`) in this process on
  a ``local[2]`` session (driver memory ``--driver-memory``, 3g by default): wall-clock seconds of ``run``
  (the session's start, ~10 s of JVM, is timed apart), its stage timings,
  and the shuffle bytes written and read, summed over every stage from
  Spark's own monitoring REST API (``/api/v1/applications/<id>/stages``);
* whether the two give byte-identical clusters files.

Writes ``bench/results/spark.{json,md}``, keeping the runs of other sizes
already there (each run records its own commit and load average) and the
hand-written part of ``spark.md`` (from its first ``## `` heading on: the
extrapolation to 100 million articles, whose assumptions are stated there).
"""

from __future__ import annotations

import argparse
import filecmp
import glob
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, HERE)
from bench_batch import ensure_dump
from make_dump import code_version, write_results


def run_batch(dump: str, work: str) -> dict:
    clusters, report = os.path.join(work, "batch-clusters.jsonl"), os.path.join(work, "batch-report.json")
    t = time.perf_counter()
    subprocess.run([os.path.join(BIN, "dedup"), "batch", dump, "--clusters", clusters, "--report", report,
                    "--jobs", "2", "--quiet"], check=True)
    seconds = time.perf_counter() - t
    with open(report) as f:
        rep = json.load(f)
    return {"seconds": round(seconds, 1), "stages": rep["seconds"], "clusters": rep["clusters"],
            "candidate_pairs": rep["candidate_pairs"], "clusters_file": clusters}


def _shuffle_bytes(sc) -> dict:
    url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/stages?status=complete"
    with urllib.request.urlopen(url, timeout=30) as r:
        stages = json.load(r)
    return {"shuffle_write_bytes": sum(s.get("shuffleWriteBytes", 0) for s in stages),
            "shuffle_read_bytes": sum(s.get("shuffleReadBytes", 0) for s in stages),
            "input_bytes": sum(s.get("inputBytes", 0) for s in stages), "spark_stages": len(stages),
            "largest_stage_shuffle_write": max((s.get("shuffleWriteBytes", 0) for s in stages), default=0)}


def run_spark(dump: str, work: str, driver_memory: str = "3g") -> dict:
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable  # PySpark 4's workers read their Python from here only
    from pyspark.sql import SparkSession

    from dedup.normalisation import Normaliser
    from dedup.params import Params
    from dedup.spark.pipeline import SparkRun, run

    t = time.perf_counter()
    session = (SparkSession.builder.master("local[2]").appName("dedup-bench")
               .config("spark.pyspark.python", sys.executable).config("spark.driver.memory", driver_memory)
               .config("spark.ui.port", "0").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    start = time.perf_counter() - t
    out = os.path.join(work, "spark-out")
    shutil.rmtree(out, ignore_errors=True)
    try:
        t = time.perf_counter()
        report = run(session.sparkContext, SparkRun(dump, out, Params(), Normaliser()))
        seconds = time.perf_counter() - t
        shuffle = _shuffle_bytes(session.sparkContext)
    finally:
        session.stop()
    clusters = os.path.join(work, "spark-clusters.jsonl")
    with open(clusters, "wb") as dst:
        for part in sorted(glob.glob(os.path.join(out, "clusters", "part-*"))):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, dst)
    state = sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "state", "**", "*"), recursive=True)
                if os.path.isfile(p))
    return {"seconds": round(seconds, 1), "session_start_seconds": round(start, 1), "stages": report["seconds"],
            "clusters": report["clusters"], "candidate_pairs": report["candidate_pairs"],
            "confirmed_pairs": report["confirmed_pairs"], "components": report["components"],
            "largest_component": report["largest_component"], "component_rounds": report["component_rounds"],
            "partitions": report["partitions"], "state_bytes": state, **shuffle, "clusters_file": clusters}


def report_md(result: dict) -> str:
    lines = ["# `dedup spark` (local[2]) next to `dedup batch --jobs 2`", "",
             "Written by `bench/bench_spark.py` (each size run on its own, batch then Spark, at the commit and "
             "load average given); the sections below the stage seconds are by hand.", "",
             ("| articles | commit | load average | batch s | spark s (+ session start) | spark / batch "
             "| shuffle written | shuffle read | state on disk | candidate pairs | clusters | identical clusters |"),
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        b, s = r["batch"], r["spark"]
        version, machine = r.get("version", result["version"]), r.get("machine", result["machine"])
        lines.append(f"| {r['n']:,}{' fresh' if r.get('fresh') else ''} | {version.get('commit', '?')} | {machine} | {b['seconds']} | "
                     f"{s['seconds']} (+{s['session_start_seconds']}) | "
                     f"{s['seconds'] / b['seconds']:.1f}x | {s['shuffle_write_bytes'] / 1e6:,.0f} MB | "
                     f"{s['shuffle_read_bytes'] / 1e6:,.0f} MB | {s['state_bytes'] / 1e6:,.0f} MB | "
                     f"{s['candidate_pairs']:,} | {s['clusters']:,} | {r['identical']} |")
    lines += ["", "Stage seconds:", ""]
    for r in result["runs"]:
        lines.append(f"* {r['n']:,}{' fresh' if r.get('fresh') else ''}: batch {r['batch']['stages']}; spark {r['spark']['stages']} "
                     f"({r['spark']['partitions']} partitions; components: "
                     f"{r['spark']['components']:,}, largest {r['spark']['largest_component']}, "
                     f"{r['spark']['component_rounds']} rounds)")
    return "\n".join(lines) + "\n"


def _earlier(out: str) -> tuple[list[dict], str]:
    """The runs already in ``OUT.json`` (each with its commit and machine) and
    the hand-written part of ``OUT.md`` (from its first ``## `` heading)."""
    runs, notes = [], ""
    if os.path.exists(out + ".json"):
        with open(out + ".json") as f:
            old = json.load(f)
        runs = [{"version": old["version"], "machine": old["machine"], **r} for r in old["runs"]]
    if os.path.exists(out + ".md"):
        with open(out + ".md") as f:
            text = f.read()
        notes = text[text.index("\n## ") + 1:] if "\n## " in text else ""
    return runs, notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--dump-dir", default="/tmp/dedup-bench")
    ap.add_argument("--work", default="/tmp/dedup-bench-spark")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "spark"))
    ap.add_argument("--fresh", action="store_true",
                    help="make_dump.py --fresh: every story written anew (the dump bench_batch's scaling runs use), "
                         "so candidate pairs grow with the input, not faster")
    ap.add_argument("--driver-memory", default="3g")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    runs, notes = _earlier(args.out)
    for n in (int(x) for x in args.sizes.split(",")):
        dump = ensure_dump(n, args.dump_dir, 7, fresh=args.fresh)
        batch = run_batch(dump, args.work)
        spark = run_spark(dump, args.work, args.driver_memory)
        load = os.getloadavg()
        runs = [r for r in runs if (r["n"], r.get("fresh", False)) != (n, args.fresh)] + [{
            "n": n, "fresh": args.fresh, "dump": os.path.basename(dump), "driver_memory": args.driver_memory, "version": code_version(), "machine": f"{os.cpu_count()} cores, load average {load[0]:.1f} at the end",
            "batch": batch, "spark": spark,
            "identical": filecmp.cmp(batch["clusters_file"], spark["clusters_file"], shallow=False)}]
        print(json.dumps(runs[-1]), flush=True)
        # written after each size, so a larger size that fails keeps the smaller ones' figures
        latest = runs[-1]
        runs.sort(key=lambda r: (r.get("fresh", False), r["n"]))
        result = {"version": latest["version"], "machine": latest["machine"], "runs": runs}
        write_results(args.out, result, lambda res: report_md(res) + ("\n" + notes if notes else ""))


if __name__ == "__main__":
    main()
