"""``dedup`` against its peers (gaoya, rensa, datasketch), side by side in one run.

    python bench/bench_peers.py --sizes 7000,100000 --repeats 3     # from the repository root
    python bench/bench_peers.py --sizes 7000,100000 --repeats 3 --big-repeats 1   # one round at 100k

Sections (``--sections``, default all):

* ``batch``: whole processes on the same JSONL input, wall time measured
  from outside (interpreter start, imports, JSON reading, work, writing the
  clusters to a file): ``dedup batch INPUT --jobs 2 -q --clusters OUT`` and
  the three peer pipelines of ``bench/peers/`` (gaoya, rensa, datasketch;
  each does the same simple normalisation, see ``peers/common.py``).
  Contenders are interleaved (one run of each per round, the order rotated
  every round); the ratio ours/peer is taken within each round (paired) and
  its median reported. Inputs: ``7000`` = the first 7,000 records of
  ``bench/evalset.py --size full`` (real news articles and their labelled
  copies), any other size = ``make_dump.py --fresh`` (synthetic, seed 7).
* ``online``: in memory, one thread, over the 7,000-record stream:
  ``Deduplicator().add`` (query + insert in one call) vs rensa
  ``RMinHashLSH`` query + insert and gaoya ``query`` + ``insert_document``
  per document (normalisation included for everyone): ops/s, p50/p99.
* ``signatures``: raw text -> datasketch-identical signatures on the 5,000
  texts of ``bench_minhash.py``, normalisation included, and the kernel alone.
* ``startup``: ``dedup --help``, a warm ``dedup batch seeds/sample.jsonl -q``,
  and the first one with an empty numba cache (``NUMBA_CACHE_DIR`` pointed at
  a new temporary directory: shared cache files are never deleted).
* ``memory``: peak PSS summed over the process tree of ours at the largest
  size (psutil, sampled every 0.1 s), plus peak summed RSS.
* ``profile``: ``py-spy record --subprocesses --format raw`` of ours at the
  largest size, classified into cost centres.

Writes ``bench/results/peers.json`` (every number, every repetition, load
averages, commit) and ``bench/results/peers.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from importlib.metadata import version
from statistics import median

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
RESULTS = os.path.join(HERE, "results")
sys.path[:0] = [HERE, os.path.join(HERE, "peers")]

import psutil  # noqa: E402

from make_dump import code_version  # noqa: E402

PY = sys.executable
CONTENDERS = ("ours", "gaoya", "rensa", "datasketch")
EVAL_FULL = "/tmp/eval_full.jsonl"


def load() -> float:
    return round(os.getloadavg()[0], 2)


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    pk = ("numpy", "numba", "datasketch", "rensa", "gaoya", "xxhash", "py-spy")
    vers = {}
    for p in pk:
        try:
            vers[p] = version(p)
        except Exception:  # noqa: BLE001
            vers[p] = None
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), **vers}


# ---------------------------------------------------------------- inputs

def eval_input(n: int, work: str) -> str:
    if not os.path.exists(EVAL_FULL):
        subprocess.run([PY, os.path.join(HERE, "evalset.py"), "--size", "full", "--out", EVAL_FULL], check=True)
    path = os.path.join(work, f"eval-first-{n}.jsonl")
    with open(EVAL_FULL, encoding="utf-8") as f, open(path, "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            if i >= n:
                break
            g.write(line)
    return path


def make_input(n: int, work: str, dump_dir: str) -> tuple[str, str]:
    if n == 7000:
        return eval_input(n, work), "first 7,000 records of `bench/evalset.py --size full` (real news + labelled copies)"
    from bench_batch import ensure_dump
    return ensure_dump(n, dump_dir, 7, fresh=True), f"`make_dump.py --n {n} --seed 7 --fresh` (synthetic)"


def count_lines(path: str) -> int:
    with open(path, "rb") as f:
        return sum(1 for ln in f if ln.strip())


# ---------------------------------------------------------------- batch

def command(name: str, inp: str, out: str) -> list[str]:
    if name == "ours":
        return [os.path.join(BIN, "dedup"), "batch", inp, "--jobs", "2", "-q", "--clusters", out]
    return [PY, os.path.join(HERE, "peers", f"{name}_pipeline.py"), inp, out]


def run_process(cmd: list[str], env: dict | None = None) -> dict:
    """Wall and CPU (user+sys of the whole reaped tree) of one process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    l0 = load()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode()[-2000:]}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "load_before": l0, "load_after": load(),
            "stdout": p.stdout.decode()[-500:].strip()}


def bench_batch(sizes, repeats, slow_repeats, work, dump_dir, big_repeats=None) -> list[dict]:
    out = []
    for n in sizes:
        inp, desc = make_input(n, work, dump_dir)
        docs = count_lines(inp)
        print(f"[batch] {n}: {inp} ({docs} records)", flush=True)
        runs: dict[str, list] = {c: [] for c in CONTENDERS}
        clusters = {}
        for r in range(big_repeats if n > 20000 and big_repeats is not None else repeats):
            order = CONTENDERS[r % 4:] + CONTENDERS[:r % 4]
            for c in order:
                if c == "datasketch" and n > 20000 and r >= slow_repeats:
                    runs[c].append(None)
                    continue
                res_path = os.path.join(work, f"clusters-{c}-{n}.jsonl")
                res = run_process(command(c, inp, res_path))
                res["round"], res["position"] = r, order.index(c)
                clusters[c] = count_lines(res_path)
                runs[c].append(res)
                print(f"  round {r} {c:10s} {res['wall_s']:8.2f} s wall {res['cpu_s']:8.2f} s cpu  load {res['load_before']}",
                      flush=True)
        row = {"size": n, "records": docs, "input": desc, "path": inp, "runs": runs, "clusters_written": clusters,
               "contenders": {}}
        for c in CONTENDERS:
            ok = [x for x in runs[c] if x]
            walls, cpus = [x["wall_s"] for x in ok], [x["cpu_s"] for x in ok]
            entry = {"median_wall_s": round(median(walls), 3), "docs_per_s": round(docs / median(walls), 1),
                     "docs_per_cpu_s": round(docs / median(cpus), 1), "rounds": len(ok)}
            if c != "ours":  # paired: ratio within each round where both ran
                pr = [p["wall_s"] / o["wall_s"] for o, p in zip(runs["ours"], runs[c]) if o and p]
                pc = [p["cpu_s"] / o["cpu_s"] for o, p in zip(runs["ours"], runs[c]) if o and p]
                entry["ours_over_peer_wall"] = round(median(pr), 3)  # >1: ours faster
                entry["ours_over_peer_cpu"] = round(median(pc), 3)
                entry["paired_wall_ratios"] = [round(x, 3) for x in pr]
            row["contenders"][c] = entry
        out.append(row)
    return out


# ---------------------------------------------------------------- online

def bench_online(repeats: int, work: str) -> dict:
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    import gaoya
    import rensa

    from common import NUM_PERM, THRESHOLD, K, shingles, words
    from dedup import Article, Deduplicator

    recs = [json.loads(ln) for ln in open(eval_input(7000, work), encoding="utf-8")]
    arts = [Article(id=str(r["id"]), text=r["text"]) for r in recs]
    texts = [r["text"] for r in recs]
    Deduplicator().add(Article(id="warm", text=texts[0]))  # numba cache load / JIT, outside timing

    def ours():
        d = Deduplicator()
        lat, tn = [], time.perf_counter_ns
        for a in arts:
            t0 = tn()
            d.add(a)
            lat.append(tn() - t0)
        return lat

    def rensa_run():
        lsh, mhs = rensa.RMinHashLSH(THRESHOLD, NUM_PERM, 32), []
        lat, tn = [], time.perf_counter_ns
        for i, t in enumerate(texts):
            t0 = tn()
            m = rensa.RMinHash(NUM_PERM, 1)
            m.update(shingles(words(t)))
            _ = [j for j in lsh.query(m) if m.jaccard(mhs[j]) >= THRESHOLD]
            lsh.insert(i, m)
            mhs.append(m)
            lat.append(tn() - t0)
        return lat

    def gaoya_run():
        index = gaoya.minhash.MinHashStringIndex(hash_size=32, jaccard_threshold=THRESHOLD, num_bands=32, band_size=4,
                                                 num_hashes=128, analyzer="word", lowercase=False, ngram_range=(K, K))
        lat, tn = [], time.perf_counter_ns
        for i, t in enumerate(texts):
            t0 = tn()
            doc = " ".join(words(t))
            _ = index.query(doc)
            index.insert_document(i, doc)
            lat.append(tn() - t0)
        return lat

    fns = {"ours: Deduplicator.add": ours, "rensa: RMinHash + RMinHashLSH query+insert": rensa_run,
           "gaoya: MinHashStringIndex query+insert_document": gaoya_run}
    names = list(fns)
    rounds: dict[str, list] = {k: [] for k in names}
    loads = []
    for r in range(repeats):
        loads.append(load())
        for k in names[r % 3:] + names[:r % 3]:
            lat = sorted(fns[k]())
            tot = sum(lat) / 1e9
            rounds[k].append({"total_s": round(tot, 3), "ops_per_s": round(len(lat) / tot, 1),
                              "p50_ms": round(lat[len(lat) // 2] / 1e6, 4),
                              "p99_ms": round(lat[int(len(lat) * 0.99)] / 1e6, 4),
                              "max_ms": round(lat[-1] / 1e6, 3)})
            print(f"[online] round {r} {k:50s} {rounds[k][-1]}", flush=True)
    summary = {}
    ours_k = names[0]
    for k in names:
        s = {m: round(median(x[m] for x in rounds[k]), 4) for m in ("ops_per_s", "p50_ms", "p99_ms")}
        if k != ours_k:
            s["ours_over_peer_ops"] = round(median(o["ops_per_s"] / p["ops_per_s"]
                                                   for o, p in zip(rounds[ours_k], rounds[k])), 3)
        summary[k] = s
    return {"docs": len(texts), "rounds": rounds, "summary": summary, "loads": loads}


# ---------------------------------------------------------------- signatures

def bench_signatures(repeats: int) -> dict:
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    import numpy as np
    import rensa
    import xxhash
    from datasketch import MinHash

    from common import shingles, words
    from dedup.minhash import signatures
    from dedup.normalisation import normalise, tokens
    from make_dump import benchmark_texts

    raw, _ = benchmark_texts(5000)
    lowered = [normalise(t).lower() for t in raw]

    # datasketch-identical: check a sample bit for bit before timing
    sigs, _ = signatures(lowered[:200], 128, 1, 5)
    for i in range(200):
        w = tokens(lowered[i])
        sh = [" ".join(w[j:j + 5]) for j in range(len(w) - 4)] if len(w) >= 5 else [" ".join(w)]
        m = MinHash(num_perm=128, seed=1, hashfunc=xxhash.xxh32_intdigest)
        for s in sh:
            m.update(s.encode("utf-8"))
        assert np.array_equal(m.hashvalues.astype(np.uint32), sigs[i]), i

    fns = {
        "ours: normalise + kernel (raw text, the product path)":
            lambda: signatures([normalise(t).lower() for t in raw], 128, 1, 5),
        "ours: normalise alone": lambda: [normalise(t).lower() for t in raw],
        "ours: kernel alone (normalised text)": lambda: signatures(lowered, 128, 1, 5),
        "rensa: simple normalisation + digest_matrix_from_token_sets (not datasketch-compatible)":
            lambda: rensa.RMinHash.digest_matrix_from_token_sets([shingles(words(t)) for t in raw], 128, 1),
    }
    for f in fns.values():
        f()
    rows: dict[str, list] = {k: [] for k in fns}
    names = list(fns)
    for r in range(repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:
            c0, t0 = time.process_time(), time.perf_counter()
            fns[k]()
            rows[k].append({"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0})
    out = {}
    for k in names:
        w, c = median(x["wall_s"] for x in rows[k]), median(x["cpu_s"] for x in rows[k])
        best = min(x["cpu_s"] for x in rows[k])
        out[k] = {"median_wall_s": round(w, 4), "median_cpu_s": round(c, 4), "articles_per_s_wall": round(len(raw) / w),
                  "articles_per_cpu_s": round(len(raw) / c), "best_articles_per_cpu_s": round(len(raw) / best),
                  "reps": [{k2: round(v2, 4) for k2, v2 in x.items()} for x in rows[k]]}
        print(f"[signatures] {k:70s} {out[k]}", flush=True)
    return {"texts": len(raw), "checked_identical_to_datasketch": 200, "reps": repeats, "results": out, "load": load()}


# ---------------------------------------------------------------- start-up

def bench_startup(repeats: int, work: str) -> dict:
    dedup = os.path.join(BIN, "dedup")
    sample = os.path.join(ROOT, "seeds", "sample.jsonl")
    out = os.path.join(work, "sample-clusters.jsonl")
    batch = [dedup, "batch", sample, "-q", "--clusters", out]
    run_process(batch)  # make sure the regular cache is warm
    res: dict[str, list] = {"dedup --help": [], "dedup batch seeds/sample.jsonl -q (warm numba cache)": [],
                            "dedup batch seeds/sample.jsonl -q (empty numba cache)": []}
    for k in ("gaoya", "rensa", "datasketch"):
        res[f"{k} pipeline on seeds/sample.jsonl"] = []
    for r in range(repeats):
        res["dedup --help"].append(run_process([dedup, "--help"])["wall_s"])
        res["dedup batch seeds/sample.jsonl -q (warm numba cache)"].append(run_process(batch)["wall_s"])
        for k in ("gaoya", "rensa", "datasketch"):
            res[f"{k} pipeline on seeds/sample.jsonl"].append(run_process(command(k, sample, out))["wall_s"])
    cold_repeats = max(1, min(2, repeats))
    for r in range(cold_repeats):
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as d:
            env = dict(os.environ, NUMBA_CACHE_DIR=d)
            res["dedup batch seeds/sample.jsonl -q (empty numba cache)"].append(run_process(batch, env)["wall_s"])
    summary = {k: round(median(v), 3) for k, v in res.items()}
    for k, v in summary.items():
        print(f"[startup] {k:55s} {v:7.2f} s", flush=True)
    return {"runs": res, "median_wall_s": summary, "load": load(),
            "numba_cache": "dedup/__pycache__/*.nbi, *.nbc beside dedup/minhash.py and dedup/lsh.py (cache=True); "
                           "the cold run sets NUMBA_CACHE_DIR to an empty temporary directory"}


# ---------------------------------------------------------------- memory

def _tree_sample(proc: psutil.Process, peak: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        pss = rss = uss = 0
        try:
            procs = [proc] + proc.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for p in procs:
            try:
                m = p.memory_full_info()
                pss, rss, uss = pss + m.pss, rss + m.rss, uss + m.uss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        peak["pss"], peak["rss"], peak["uss"] = max(peak["pss"], pss), max(peak["rss"], rss), max(peak["uss"], uss)
        peak["procs"] = max(peak["procs"], len(procs))
        stop.wait(0.1)


def bench_memory(n: int, work: str, dump_dir: str) -> dict:
    inp, _ = make_input(n, work, dump_dir)
    cmd = command("ours", inp, os.path.join(work, "clusters-mem.jsonl"))
    peak, stop = {"pss": 0, "rss": 0, "uss": 0, "procs": 0}, threading.Event()
    l0, t0 = load(), time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    th = threading.Thread(target=_tree_sample, args=(proc, peak, stop), daemon=True)
    th.start()
    rc = proc.wait()
    stop.set()
    th.join()
    if rc:
        raise SystemExit(f"memory run failed: {rc}")
    mb = {k: round(v / 2**20, 1) for k, v in peak.items() if k != "procs"}
    print(f"[memory] {n}: peak PSS {mb['pss']} MB, summed RSS {mb['rss']} MB, USS {mb['uss']} MB", flush=True)
    return {"size": n, "command": " ".join(["dedup"] + cmd[1:]), "peak_pss_mb": mb["pss"], "peak_rss_sum_mb": mb["rss"],
            "peak_uss_sum_mb": mb["uss"], "max_processes": peak["procs"], "wall_s": round(time.perf_counter() - t0, 2),
            "load_before": l0, "load_after": load()}


# ---------------------------------------------------------------- profile

#: (cost centre, regular expression on a frame "function (file:line)"), checked from the leaf up
CENTRES = [
    ("numba: JIT / cache load", r"[(/\\](numba|llvmlite)[/\\]"),
    ("JSON reading (parent)", r"[(/\\]json[/\\]|dedup[/\\]cli[/\\]readers\.py"),
    ("normalisation", r"dedup[/\\]normalisation\.py"),
    ("MinHash kernel (incl. its front end)", r"dedup[/\\]minhash\.py"),
    ("refinement (confirmation, rapidfuzz)", r"dedup[/\\]refine\.py|rapidfuzz"),
    ("LSH", r"dedup[/\\](lsh|index)\.py"),
    ("clustering", r"dedup[/\\]cluster\.py"),
    ("IPC: pickling, pool, queues", r"multiprocessing|pickle|queue\.py|threading\.py|selectors|connection\.py"),
    ("batch glue (dedup/batch.py)", r"dedup[/\\]batch\.py"),
    ("writing clusters / CLI", r"dedup[/\\]cli|dedup[/\\]types\.py|click"),
]


def classify(stack: list[str]) -> str:
    if any("importlib._bootstrap" in f for f in stack):
        if any(re.search(r"[(/\\](numba|llvmlite|scipy)[/\\]", f) for f in stack):
            return "imports: numba/llvmlite (and the scipy/numpy.ma they pull in)"
        return "imports: other modules"
    for frame in reversed(stack):
        for name, pat in CENTRES:
            if re.search(pat, frame):
                return name
    return "other"


def parse_profile(path: str) -> dict:
    """py-spy ``--format raw`` (collapsed stacks) -> samples per cost centre, per process."""
    centres, per_proc, leaves, lines = Counter(), defaultdict(Counter), Counter(), Counter()
    total = 0
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if not line:
            continue
        stack_s, _, count = line.rpartition(" ")
        try:
            c = int(count)
        except ValueError:
            continue
        frames = stack_s.split(";")
        proc = frames[0] if frames and frames[0].startswith("process") else "?"
        stack = frames[1:] if proc != "?" else frames
        name = classify(stack)
        centres[name] += c
        per_proc[proc][name] += c
        if stack:
            leaves[re.sub(r":\d+\)$", ")", stack[-1])] += c
        ours = [f for f in stack if "dedup/" in f and "dedup/cli" not in f]
        if ours:
            lines[ours[-1]] += c
        total += c
    return {"samples": total,
            "centres": {k: {"samples": v, "share": round(v / total, 4)} for k, v in centres.most_common()},
            "processes": {p: {"samples": sum(v.values()), "centres": dict(v.most_common())} for p, v in per_proc.items()},
            "top_leaf_functions": [{"frame": k, "share": round(v / total, 4)} for k, v in leaves.most_common(25)],
            "top_core_lines": [{"frame": k, "share": round(v / total, 4)} for k, v in lines.most_common(25)]}


def bench_profile(n: int, work: str, dump_dir: str, rate: int) -> dict:
    """py-spy over every process of ours. ``py-spy record --subprocesses`` (0.4.3) saw only the parent here, not
    the fork()ed pool workers, so one ``py-spy record --pid`` is attached to the parent and to every child as it
    appears (polled every 20 ms), and the raw stacks are concatenated, each prefixed with its process."""
    inp, _ = make_input(n, work, dump_dir)
    out = os.path.join(RESULTS, "peers-profile.txt")
    pyspy = shutil.which("py-spy", path=BIN + os.pathsep + os.environ.get("PATH", ""))
    cmd = command("ours", inp, os.path.join(work, "clusters-prof.jsonl"))
    spies, parts = [], []
    l0, t0 = load(), time.perf_counter()

    def spy(pid: int, role: str):
        part = os.path.join(work, f"prof-{pid}.txt")
        parts.append((pid, role, part))
        spies.append(subprocess.Popen([pyspy, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate),
                                       "--nonblocking", "-o", part], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))

    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    spy(proc.pid, "parent")
    seen = {proc.pid}
    while proc.poll() is None:
        try:
            for c in proc.children(recursive=True):
                if c.pid not in seen:
                    seen.add(c.pid)
                    spy(c.pid, "worker")
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    for s in spies:
        try:
            s.wait(timeout=30)
        except subprocess.TimeoutExpired:
            s.terminate()
    with open(out, "w", encoding="utf-8") as g:
        for pid, role, part in parts:
            if os.path.exists(part):
                for line in open(part, encoding="utf-8", errors="replace"):
                    if line.strip():
                        g.write(f"process {pid} ({role});{line}")
    parsed = parse_profile(out)
    print(f"[profile] {parsed['samples']} samples over {len(parsed['processes'])} processes", flush=True)
    for k, v in parsed["centres"].items():
        print(f"  {k:45s} {v['share']:.1%}", flush=True)
    return {"size": n, "command": f"py-spy record --pid P --format raw --rate {rate} --nonblocking, for P in the "
            "process tree of: " + " ".join(["dedup"] + cmd[1:]), "rate_hz": rate,
            "wall_s": round(wall, 2), "load_before": l0, **parsed}


# ---------------------------------------------------------------- report

def fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


def markdown(res: dict) -> str:
    L = [f"# dedup vs its peers ({res['started'][:10]})", "",
         f"Commit `{res['code']['commit']}`"
         + (f" (uncommitted changes in the core: {len(res['code']['uncommitted_in_core'])} files)"
            if res['code']['uncommitted_in_core'] else " (core clean)")
         + f"; {res['machine']['nproc']} CPUs ({res['machine']['cpu']}), Python {res['machine']['python']}; "
         f"1-minute load average {res['load_start']} at the start, {res.get('load_end')} at the end (shared machine: "
         "compare the ratios within this run, not seconds across runs). Whole run: "
         f"{res.get('total_s', 0) / 60:.1f} min.", "",
         f"Command: `{res['command']}`", "",
         "Versions: " + ", ".join(f"{k} {v}" for k, v in res["machine"].items()
                                   if k not in ("nproc", "cpu", "python")), ""]
    if "batch" in res:
        L += ["## Whole processes, same JSONL input (docs/s = records / median wall s)", "",
              "Ratio = ours/peer speed, the median of the per-round ratios (paired; above 1 = ours faster). "
              "CPU ratio = peer's CPU s / ours (user+sys of the whole process tree).", "",
              "| input | records | ours docs/s | gaoya docs/s (ours x) | rensa docs/s (ours x) | datasketch docs/s (ours x) |",
              "|---|---:|---:|---:|---:|---:|"]
        for row in res["batch"]:
            c = row["contenders"]
            cells = [f"{fmt(c[p]['docs_per_s'])} ({c[p]['ours_over_peer_wall']:.2f}x)" for p in ("gaoya", "rensa", "datasketch")]
            L.append(f"| {row['input']} | {row['records']:,} | {fmt(c['ours']['docs_per_s'])} | " + " | ".join(cells) + " |")
        L += ["", "| input | ours docs/CPU-s | gaoya (ours x, CPU) | rensa (ours x, CPU) | datasketch (ours x, CPU) | clusters written: ours / gaoya / rensa / datasketch |",
              "|---|---:|---:|---:|---:|---|"]
        for row in res["batch"]:
            c = row["contenders"]
            cells = [f"{fmt(c[p]['docs_per_cpu_s'])} ({c[p]['ours_over_peer_cpu']:.2f}x)" for p in ("gaoya", "rensa", "datasketch")]
            cw = " / ".join(str(row["clusters_written"].get(p, "?")) for p in CONTENDERS)
            L.append(f"| {row['records']:,} | {fmt(c['ours']['docs_per_cpu_s'])} | " + " | ".join(cells) + f" | {cw} |")
        L += ["", "Per-run wall seconds (round: ours / gaoya / rensa / datasketch, load before the round's first run):", ""]
        for row in res["batch"]:
            for r in range(len(row["runs"]["ours"])):
                ws = [row["runs"][p][r] for p in CONTENDERS]
                ld = min((w["position"], w["load_before"]) for w in ws if w)[1]
                L.append(f"* {row['records']:,}, round {r}: " + " / ".join(f"{w['wall_s']:.2f}" if w else "-" for w in ws)
                         + f" (load {ld})")
        L.append("")
    if "online" in res:
        o = res["online"]
        L += [f"## Online, in memory, one thread ({o['docs']:,} records of the 7k stream, add = query + insert)", "",
              "| contender | ops/s | p50 ms | p99 ms | ours/peer ops/s (paired median) |", "|---|---:|---:|---:|---:|"]
        for k, s in o["summary"].items():
            L.append(f"| {k} | {fmt(s['ops_per_s'])} | {s['p50_ms']:.3f} | {s['p99_ms']:.3f} | "
                     f"{s.get('ours_over_peer_ops', '') and format(s.get('ours_over_peer_ops'), '.2f') + 'x'} |")
        L.append("")
    if "signatures" in res:
        s = res["signatures"]
        L += [f"## Raw text -> signatures ({s['texts']:,} texts of `bench_minhash.py`, one thread)", "",
              f"Ours checked bit for bit against datasketch (`MinHash`, xxh32, seed 1) on the first "
              f"{s['checked_identical_to_datasketch']} texts before timing.", "",
              f"{s.get('reps', '?')} interleaved repetitions; CPU time of this process (`time.process_time`); "
              "on this oversubscribed machine even CPU time varies ~1.7x between repetitions of the same work, so "
              "the best repetition is the closest to a per-core capacity.", "",
              "| path | articles per CPU s (best) | articles per CPU s (median) | articles/s (wall, median) |",
              "|---|---:|---:|---:|"]
        for k, v in s["results"].items():
            L.append(f"| {k} | {v.get('best_articles_per_cpu_s', 0):,} | {v['articles_per_cpu_s']:,} | "
                     f"{v['articles_per_s_wall']:,} |")
        if s.get("rerun"):
            L += ["", f"(This section was re-run alone: {s['rerun']}.)"]
        L.append("")
    if "startup" in res:
        L += ["## Start-up (median wall s)", "", "| command | wall s |", "|---|---:|"]
        for k, v in res["startup"]["median_wall_s"].items():
            L.append(f"| `{k}` | {v:.2f} |")
        L += ["", f"numba cache: {res['startup']['numba_cache']}.", ""]
    if "memory" in res:
        m = res["memory"]
        L += [f"## Peak memory, ours at {m['size']:,}", "",
              f"`{m['command']}`: peak PSS summed over the process tree **{m['peak_pss_mb']:,} MB** "
              f"(summed RSS {m['peak_rss_sum_mb']:,} MB, summed USS {m['peak_uss_sum_mb']:,} MB; up to "
              f"{m['max_processes']} processes; psutil `memory_full_info` every 0.1 s; wall {m['wall_s']} s, load {m['load_before']}).", ""]
    if "profile" in res:
        p = res["profile"]
        L += [f"## Where our time goes (py-spy, all processes, {p['size']:,} articles)", "",
              f"`{p['command']}` ({p['samples']:,} samples at {p['rate_hz']} Hz over {len(p['processes'])} processes; "
              "each sample is attributed to the innermost frame that matches a cost centre; idle waits are not sampled). "
              "Raw stacks: `bench/results/peers-profile.txt`.", "",
              "| cost centre | share of samples |", "|---|---:|"]
        roles: dict = defaultdict(Counter)
        for proc, v in p["processes"].items():
            roles["parent" if "(parent)" in proc else "workers"].update(v["centres"])
        tot = {r: sum(c.values()) or 1 for r, c in roles.items()}
        L[-2:] = ["| cost centre | share of all samples | in the parent | in the workers |", "|---|---:|---:|---:|"]
        for k, v in p["centres"].items():
            L.append(f"| {k} | {v['share']:.1%} | {roles['parent'][k] / p['samples']:.1%} | "
                     f"{roles['workers'][k] / p['samples']:.1%} |")
        L += ["", "Within each kind of process: " + "; ".join(
            f"{r} ({tot[r]:,} samples): " + ", ".join(f"{k} {c / tot[r]:.0%}" for k, c in roles[r].most_common(5))
            for r in ("parent", "workers") if r in roles)]
        L += ["", "Top leaf frames:", ""]
        L += [f"* {x['share']:.1%} `{x['frame']}`" for x in p["top_leaf_functions"][:12]]
        if p.get("top_core_lines"):
            L += ["", "Top lines of the core (the innermost `dedup/` frame of each sample, with what it calls):", ""]
            L += [f"* {x['share']:.1%} `{x['frame']}`" for x in p["top_core_lines"][:15]]
        L.append("")
    L += ["## Fairness", "",
          "* Ours does more work than the peers: news-aware normalisation (HTML, boilerplate, datelines, bylines, "
          "typography), a low LSH threshold (for truncated copies) and the confirmation of every candidate pair on the "
          "words; each peer gets the same simple normalisation (lower-case, split on non-word characters, "
          "`bench/peers/common.py`) and keeps LSH candidates whose estimated Jaccard (signature agreement) is >= 0.5.",
          "* Threads: ours `--jobs 2` (2 worker processes); gaoya's `par_bulk_*` use rayon threads on all cores; rensa "
          "and datasketch pipelines are single-threaded (neither offers a parallel pipeline API here).",
          "* datasketch uses `MinHash.bulk` with xxh32 (the configuration ours reproduces; its default sha1 is ~3x "
          "slower) and `MinHashLSH`'s own band choice for threshold 0.5; gaoya and rensa use 32 bands x 4 rows.",
          "* rensa's R-MinHash and gaoya's hashes are not datasketch-compatible (cheaper sketches); ours is bit for bit.",
          "* Clusters written are listed for sanity only: the peers' outputs are not evaluated for quality here "
          "(`dedup eval` does that for ours).", ""]
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="7000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--slow-repeats", type=int, default=None,
                    help="rounds datasketch runs at sizes over 20k (default: all)")
    ap.add_argument("--sections", default="batch,online,signatures,startup,memory,profile")
    ap.add_argument("--big-repeats", type=int, default=None,
                    help="rounds at sizes over 20k, every contender (default: --repeats)")
    ap.add_argument("--dump-dir", default="/tmp/dedup-bench")
    ap.add_argument("--profile-rate", type=int, default=50)
    ap.add_argument("--out", default=os.path.join(RESULTS, "peers"))
    ap.add_argument("--merge", action="store_true",
                    help="replace only the sections run in an existing OUT.json (the rest of that run is kept)")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")]
    sections = a.sections.split(",")
    work = tempfile.mkdtemp(prefix="dedup-peers-")
    t0 = time.perf_counter()
    res = {"command": "python bench/bench_peers.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "code": code_version(), "machine": machine(),
           "load_start": load(), "sizes": sizes, "repeats": a.repeats}

    base = json.load(open(a.out + ".json")) if a.merge else None

    def save():
        if base is not None:  # keep the original run's header; only the sections run now are replaced
            json.dump({**base, **{k: res[k] for k in sections if k in res}}, open(a.out + ".json", "w"), indent=1)
            open(a.out + ".md", "w").write(markdown({**base, **{k: res[k] for k in sections if k in res}}))
            return
        res["load_end"], res["total_s"] = load(), round(time.perf_counter() - t0, 1)
        json.dump(res, open(a.out + ".json", "w"), indent=1)
        open(a.out + ".md", "w").write(markdown(res))

    if "batch" in sections:
        res["batch"] = bench_batch(sizes, a.repeats, a.slow_repeats if a.slow_repeats is not None else a.repeats,
                                   work, a.dump_dir, a.big_repeats)
        save()
    if "online" in sections:
        res["online"] = bench_online(a.repeats, work)
        save()
    if "signatures" in sections:
        res["signatures"] = bench_signatures(max(a.repeats, 7))
        if a.merge:
            res["signatures"]["rerun"] = f"{res['started']}, load {res['load_start']}, `{res['command']}`"
        save()
    if "startup" in sections:
        res["startup"] = bench_startup(max(a.repeats, 3), work)
        save()
    if "memory" in sections:
        res["memory"] = bench_memory(max(sizes), work, a.dump_dir)
        save()
    if "profile" in sections:
        res["profile"] = bench_profile(max(sizes), work, a.dump_dir, a.profile_rate)
        save()
    shutil.rmtree(work, ignore_errors=True)
    print(f"done in {(time.perf_counter() - t0) / 60:.1f} min -> {a.out}.{{json,md}}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
