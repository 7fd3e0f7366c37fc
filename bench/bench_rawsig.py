"""Raw text to signatures, articles per CPU second, for whichever ``dedup`` is on ``PYTHONPATH``.

    PYTHONPATH=CHECKOUT python bench/bench_rawsig.py

Prints ``full normalise kernel`` (articles per CPU s, best of 5) on the 5,000 texts of
``bench_minhash.py``: normalise + lower + :func:`dedup.minhash.signatures`, normalise + lower alone,
the kernel alone. Run it alternately for two checkouts to compare them (``speed-issue15.md``).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_dump import benchmark_texts  # noqa: E402

from dedup.minhash import signatures  # noqa: E402
from dedup.normalisation import normalise  # noqa: E402


def best(f, reps: int = 5) -> float:
    r = 1e9
    for _ in range(reps):
        c = time.process_time()
        f()
        r = min(r, time.process_time() - c)
    return r


if __name__ == "__main__":
    raw, _ = benchmark_texts(5000)
    signatures(["a b"])
    full = best(lambda: signatures([normalise(t).lower() for t in raw]))
    norm = best(lambda: [normalise(t).lower() for t in raw])
    lowered = [normalise(t).lower() for t in raw]
    kern = best(lambda: signatures(lowered))
    print(f"{len(raw) / full:.0f} {len(raw) / norm:.0f} {len(raw) / kern:.0f}")
