"""``python -m bench.independent --size small|full --seed N --out FILE``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from bench.independent.build import SIZES, build_records, write_jsonl


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.independent", description=__doc__)
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="output JSONL path ('-' for stdout)")
    ap.add_argument("--data", default=None, help="shared data folder (default: <repo>/../shared/data)")
    a = ap.parse_args(argv)
    recs = build_records(a.size, a.seed, a.data)
    write_jsonl(recs, "/dev/stdout" if a.out == "-" else a.out)
    cats = Counter((r["track"], r["category"]) for r in recs)
    print(f"{len(recs)} records, {len({r['label'] for r in recs})} labels", file=sys.stderr)
    for (t, c), n in sorted(cats.items()):
        print(f"  {t:13s} {c:24s} {n}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
