"""rensa pipeline: one ``RMinHash`` (128 permutations) per document updated
with its word 5-gram shingles, ``RMinHashLSH`` (threshold 0.5, 32 bands of
4), insert all then query all, keep candidates whose estimated Jaccard is at
least 0.5 (what gaoya's query does itself), union-find. Single-threaded.

    python bench/peers/rensa_pipeline.py INPUT.jsonl CLUSTERS.jsonl
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import NUM_PERM, THRESHOLD, link_candidates, main, shingles, words  # noqa: E402

import rensa  # noqa: E402


def run(texts):
    lsh = rensa.RMinHashLSH(THRESHOLD, NUM_PERM, 32)
    mhs = []
    for i, t in enumerate(texts):
        m = rensa.RMinHash(NUM_PERM, 1)
        m.update(shingles(words(t)))
        lsh.insert(i, m)
        mhs.append(m)
    return link_candidates(mhs, lsh.query)


if __name__ == "__main__":
    main(run)
