"""datasketch pipeline: ``MinHash.bulk`` (128 permutations, seed 1, xxh32:
the configuration whose signatures ``dedup.minhash`` reproduces bit for bit;
datasketch's default sha1 is ~3x slower) over each document's word 5-gram
shingles, ``MinHashLSH(threshold=0.5)`` (its own band choice), insert all then
query all, keep candidates whose estimated Jaccard is at least 0.5,
union-find. Single-threaded.

    python bench/peers/datasketch_pipeline.py INPUT.jsonl CLUSTERS.jsonl
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import NUM_PERM, THRESHOLD, link_candidates, main, shingles, words  # noqa: E402

import xxhash  # noqa: E402
from datasketch import MinHash, MinHashLSH  # noqa: E402


def run(texts):
    shb = [[s.encode("utf-8") for s in shingles(words(t))] for t in texts]
    mhs = MinHash.bulk(shb, num_perm=NUM_PERM, seed=1, hashfunc=xxhash.xxh32_intdigest)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for i, m in enumerate(mhs):
            session.insert(i, m, check_duplication=False)
    return link_candidates(mhs, lsh.query)


if __name__ == "__main__":
    main(run)
