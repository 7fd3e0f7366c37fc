"""gaoya pipeline: ``MinHashStringIndex`` (32-bit hashes, 128 = 32 bands x 4,
word 5-grams, Jaccard threshold 0.5), ``par_bulk_insert_docs`` then
``par_bulk_query`` (rayon threads, all cores), union-find.

    python bench/peers/gaoya_pipeline.py INPUT.jsonl CLUSTERS.jsonl

The text is normalised in Python like every peer's (``common.words``) and
handed over as space-joined words; gaoya's own word analyzer then cuts the
5-grams. Its query already drops candidates whose estimated Jaccard
(signature agreement) is under the threshold.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import K, THRESHOLD, UnionFind, main, words  # noqa: E402

import gaoya  # noqa: E402


def run(texts):
    docs = [" ".join(words(t)) for t in texts]
    index = gaoya.minhash.MinHashStringIndex(hash_size=32, jaccard_threshold=THRESHOLD, num_bands=32, band_size=4,
                                             num_hashes=128, analyzer="word", lowercase=False, ngram_range=(K, K))
    ids = list(range(len(docs)))
    index.par_bulk_insert_docs(ids, docs)
    uf, pairs = UnionFind(len(docs)), 0
    for i, found in enumerate(index.par_bulk_query(docs)):
        for j in found:
            if j != i:
                pairs += j > i
                uf.union(i, j)
    return uf, pairs


if __name__ == "__main__":
    main(run)
