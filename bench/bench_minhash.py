"""MinHash signatures per second: ours, datasketch and rensa, one run, same input.

    .venv/bin/python bench/bench_minhash.py [--n 5000] [--reps 5] [--slow-reps 3]

Input: the BBC News set has only 2,225 articles, so the 5,000 texts are all
2,225 BBC articles plus the first 2,775 Reuters-21578 bodies with 100+
words (see ``make_dump.benchmark_texts``). num_perm=128, seed=1, 5-word
shingles.

Every contender gets the SAME pre-built input, made once before timing:
``dedup.minhash.signatures`` takes each text in shingling form (words
joined by spaces; it cuts shingles and hashes them itself, and also returns
word ids), the others get per-document lists of the shingle strings (bytes
for datasketch). Building those lists is not timed for them (its cost is
reported as ``prep_shingle_lists``). Our ``normalise+tokenise+kernel`` row
starts from the raw text instead.

Contenders run single-threaded (``RAYON_NUM_THREADS=1`` for rensa; our
kernel is single-threaded). A second section (child process) measures the
two batched paths with 2 threads each. Repetitions are interleaved
(round-robin) so machine noise hits everyone alike; the median is reported.
Writes ``bench/results/minhash.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from itertools import chain
from statistics import median

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before rensa starts its pool
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..")]

import numpy as np  # noqa: E402
import rensa  # noqa: E402
import xxhash  # noqa: E402
from datasketch import MinHash  # noqa: E402

from dedup.minhash import signatures  # noqa: E402
from dedup.normalisation import normalise, tokens  # noqa: E402
from make_dump import benchmark_texts, code_version, write_results  # noqa: E402

P, SEED, K = 128, 1, 5
XXH = xxhash.xxh32_intdigest


def shingle_strings(text: str, k: int = K) -> list[str]:
    """The shingles ``dedup.minhash`` hashes: k consecutive words (all words if fewer)."""
    w = text.split(" ")
    if len(w) < k:
        return [" ".join(w)] if text else []
    return [" ".join(w[i : i + k]) for i in range(len(w) - k + 1)]


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    flags = next((ln.split(":", 1)[1].split() for ln in open("/proc/cpuinfo") if ln.startswith("flags")), [])
    pk = ("numpy", "numba", "datasketch", "rensa", "xxhash")
    return {"nproc": os.cpu_count(), "cpu": cpu, "simd": [f for f in ("avx2", "avx512f") if f in flags],
            "python": platform.python_version(), **{p: version(p) for p in pk}}


def contenders(raw, sf, shs, shb, flat, offsets):
    """name -> zero-argument callable computing all signatures."""

    def ours_full():
        return signatures([" ".join(tokens(normalise(t))) for t in raw], P, SEED, K)[0]

    def ds_update(hashfunc=XXH):
        out = []
        for doc in shb:
            m = MinHash(num_perm=P, seed=SEED, hashfunc=hashfunc)
            for b in doc:
                m.update(b)
            out.append(m.hashvalues)
        return out

    def rensa_update():
        out = []
        for doc in shs:
            m = rensa.RMinHash(P, SEED)
            m.update(doc)
            out.append(m.digest())
        return out

    def rensa_hash_then_flat():
        hashed = rensa.RMinHash.hash_token_sets(shs)
        offs = np.zeros(len(hashed) + 1, np.uint64)
        np.cumsum([len(h) for h in hashed], out=offs[1:])
        return rensa.RMinHash.digest_matrix_from_flat_token_hashes(
            np.fromiter(chain.from_iterable(hashed), np.uint64, int(offs[-1])), offs, P, SEED)

    return {
        "ours: kernel (shingling-form text)": lambda: signatures(sf, P, SEED, K)[0],
        "ours: normalise+tokenise+kernel (raw text)": ours_full,
        "datasketch: MinHash.update loop (xxh32)": ds_update,
        "datasketch: MinHash.bulk (xxh32)": lambda: MinHash.bulk(shb, num_perm=P, seed=SEED, hashfunc=XXH),
        "datasketch: MinHash.generator (xxh32)": lambda: list(
            MinHash.generator(shb, num_perm=P, seed=SEED, hashfunc=XXH)),
        "datasketch: MinHash.bulk (default sha1)": lambda: MinHash.bulk(shb, num_perm=P, seed=SEED),
        "rensa: RMinHash.update per doc": rensa_update,
        "rensa: digest_matrix_from_token_sets": lambda: rensa.RMinHash.digest_matrix_from_token_sets(shs, P, SEED),
        "rensa: hash_token_sets + digest_matrix_from_flat_token_hashes": rensa_hash_then_flat,
        "rensa: digest_matrix_from_flat_token_hashes (pre-hashed)": lambda: (
            rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, P, SEED)),
    }


SLOW = ("datasketch: MinHash.update loop (xxh32)",)


def timed(fns: dict, reps: int, slow_reps: int) -> dict:
    for fn in fns.values():  # warm-up: JIT, permutation caches, allocators
        fn() if fn is not fns.get(SLOW[0]) else None
    times: dict = {name: [] for name in fns}
    for r in range(reps):
        for name, fn in fns.items():
            if name in SLOW and r >= slow_reps:
                continue
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def prepare(n: int):
    raw, origin = benchmark_texts(n)
    sf = [" ".join(tokens(normalise(t))) for t in raw]
    t0 = time.perf_counter()
    shs = [shingle_strings(s) for s in sf]
    prep = time.perf_counter() - t0
    shb = [[s.encode("utf-8") for s in doc] for doc in shs]
    hashed = rensa.RMinHash.hash_token_sets(shs)
    offsets = np.zeros(len(hashed) + 1, np.uint64)
    np.cumsum([len(h) for h in hashed], out=offsets[1:])
    flat = np.fromiter(chain.from_iterable(hashed), np.uint64, int(offsets[-1]))
    return raw, sf, shs, shb, flat, offsets, origin, prep


def two_threads(n: int, reps: int) -> dict:
    """Child process (RAYON_NUM_THREADS=2): both batched paths on 2 threads."""
    _, sf, shs, *_ = prepare(n)
    half = len(sf) // 2
    pool = ThreadPoolExecutor(2)  # our kernel releases the GIL (numba nogil)
    fns = {
        "ours: kernel, 2 threads (two halves)": lambda: list(
            pool.map(lambda part: signatures(part, P, SEED, K)[0], (sf[:half], sf[half:]))),
        "rensa: digest_matrix_from_token_sets, RAYON_NUM_THREADS=2": lambda: (
            rensa.RMinHash.digest_matrix_from_token_sets(shs, P, SEED)),
    }
    return {k: median(w for w, _ in v) for k, v in timed(fns, reps, reps).items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--slow-reps", type=int, default=3, help="repetitions of the datasketch update loop")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "minhash"))
    ap.add_argument("--two-threads-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--report-only", action="store_true", help="rewrite OUT.md from OUT.json")
    args = ap.parse_args(argv)
    if args.report_only:
        with open(args.out + ".json") as f, open(args.out + ".md", "w") as g:
            g.write(report(json.load(f)))
        return 0
    if args.two_threads_child:
        print(json.dumps(two_threads(args.n, args.reps)))
        return 0

    load0, code = os.getloadavg()[0], code_version()  # at the start: others may edit the core meanwhile
    raw, sf, shs, shb, flat, offsets, origin, prep = prepare(args.n)
    n_sh = sum(map(len, shs))
    ours = signatures(sf, P, SEED, K)[0]  # same work check: ours == datasketch, bit for bit
    ds = np.array([m.hashvalues for m in MinHash.bulk(shb, num_perm=P, seed=SEED, hashfunc=XXH)], np.uint32)
    assert np.array_equal(ours, ds), "our signatures differ from datasketch's"
    upd = contenders(raw, sf, shs, shb, flat, offsets)["datasketch: MinHash.update loop (xxh32)"]()
    assert np.array_equal(ours, np.array(upd, np.uint32)), "differ from datasketch's update loop"
    assert np.array_equal(ours, contenders(raw, sf, shs, shb, flat, offsets)
                          ["ours: normalise+tokenise+kernel (raw text)"]())

    times = timed(contenders(raw, sf, shs, shb, flat, offsets), args.reps, args.slow_reps)
    rows = {}
    for name, tt in times.items():
        wall, cpu = median(w for w, _ in tt), median(c for _, c in tt)
        rows[name] = {"median_s": round(wall, 4), "cpu_median_s": round(cpu, 4), "reps": len(tt),
                      "signatures_per_s": round(len(raw) / wall, 1), "all_s": [round(w, 4) for w, _ in tt]}
    kern = rows["ours: kernel (shingling-form text)"]["median_s"]
    ratios = {f"ours kernel vs {k}": round(v["median_s"] / kern, 3) for k, v in rows.items() if not k.startswith("ours")}
    env = dict(os.environ, RAYON_NUM_THREADS="2")
    child = subprocess.run([sys.executable, __file__, "--two-threads-child", "--n", str(args.n),
                            "--reps", str(args.reps)], env=env, capture_output=True, text=True, check=True)
    two = json.loads(child.stdout.strip().splitlines()[-1])
    result = {
        "command": "python bench/bench_minhash.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(), "code": code, "input": {"texts": len(raw), **origin, "shingles": n_sh,
                                        "mean_words": round(float(np.mean([s.count(" ") + 1 for s in sf])), 1)},
        "params": {"num_perm": P, "seed": SEED, "shingle_size": K},
        "equal_to_datasketch": True, "prep_shingle_lists_s": round(prep, 4),
        "single_thread": rows, "ratio_other_time_over_ours_kernel": ratios,
        "two_threads_median_s": {k: round(v, 4) for k, v in two.items()},
        "loadavg_1min_before_after": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }
    write_results(args.out, result, report)
    return 0


def report(r: dict) -> str:
    m, i = r["machine"], r["input"]
    lines = [
        "# MinHash signatures per second", "",
        f"Command: `{r['command']}`  ", f"Machine: {m['nproc']} CPUs, {m['cpu']} ({', '.join(m['simd'])}); "
        f"Python {m['python']}, numpy {m['numpy']}, numba {m['numba']}, datasketch {m['datasketch']}, "
        f"rensa {m['rensa']}, xxhash {m['xxhash']}.  ", f"Code: commit {r['code']['commit']}"
        + (f", uncommitted changes in {r['code']['uncommitted_in_core']}" if r["code"]["uncommitted_in_core"] else "")
        + ".", "",
        f"Input: {i['texts']} texts = all {i['bbc']} BBC News articles + the first {i['reuters_100_words']} "
        "Reuters-21578 bodies with 100+ words (the issue asks for 5,000 BBC articles; the set has only 2,225). "
        f"{i['mean_words']} words per text on average after normalisation, {i['shingles']} 5-word shingles; "
        "num_perm=128, seed=1.", "",
        "Ours was checked equal, bit for bit, to datasketch's `MinHash` (xxh32, affine32) on every text "
        "(update loop and bulk). rensa computes a different sketch (R-MinHash / fast similarity sketching, "
        "FxHash): same input sets, not the same values.", "",
        "All contenders except `ours: normalise+...` get pre-built input: ours the shingling-form text, the "
        f"others per-document shingle lists, whose construction (Python split/join) took "
        f"{r['prep_shingle_lists_s']} s and is excluded from their times.", "",
        "## Single thread (RAYON_NUM_THREADS=1), median of interleaved repetitions", "",
        "| contender | median s | CPU s | reps | signatures/s | time / ours kernel | CPU time / ours kernel |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    kern = r["single_thread"]["ours: kernel (shingling-form text)"]
    for name, v in r["single_thread"].items():
        lines.append(f"| {name} | {v['median_s']} | {v['cpu_median_s']} | {v['reps']} | "
                     f"{v['signatures_per_s']:,.0f} | {v['median_s'] / kern['median_s']:.2f} | "
                     f"{v['cpu_median_s'] / kern['cpu_median_s']:.2f} |")
    load = r.get("loadavg_1min_before_after")
    busy = f" (load average {load[0]} -> {load[1]} on {m['nproc']} CPUs during this run)" if load else ""
    lines += ["", "A ratio above 1 means ours is faster; below 1, the other is faster. On a busy machine" + busy
              + ", the CPU-time ratio (median process CPU time) is the steadier of the two.", "",
              "## Two threads (child process, RAYON_NUM_THREADS=2), median seconds", ""]
    lines += [f"- {k}: {v} s ({i['texts'] / v:,.0f} signatures/s)" for k, v in r["two_threads_median_s"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
