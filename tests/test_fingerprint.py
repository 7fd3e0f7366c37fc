"""One fingerprint pipeline: the online deduplicator and batch workers agree."""

import json
from pathlib import Path

import numpy as np
import pytest

from dedup import Article, Deduplicator, InvalidArticle, Params, TooLarge
from dedup.corpus import FingerprintChunk
from dedup.fingerprint import NO_WORDS, fingerprint_texts
from dedup.normalisation import Normaliser
from dedup.refine import code_points

ROOT = Path(__file__).parent.parent
TEXTS = [json.loads(line)["text"] for line in ROOT.joinpath("seeds/sample.jsonl").open()]


def test_online_and_batch_fingerprints_are_the_same():
    params = Params(max_text_bytes=1100)  # the sample's texts are under 1,100 bytes
    texts = TEXTS + ["!!! ...", "word " * 300]
    d = Deduplicator(params)
    chunk = FingerprintChunk(params, Normaliser())(texts)
    assert chunk.rejected == [(5, NO_WORDS), (6, "text is 1500 bytes; the limit is 1100")]
    starts = np.r_[0, np.cumsum(chunk.lengths)]
    for k, i in enumerate(chunk.kept):
        fp, _ = d.fingerprint(Article(str(i), texts[i]))
        assert np.array_equal(fp.signature, chunk.signatures[k])
        assert np.array_equal(code_points(fp.tokens), chunk.code_points[starts[k] : starts[k + 1]])
    with pytest.raises(InvalidArticle, match="no words"):
        d.fingerprint(Article("p", texts[5]))
    with pytest.raises(TooLarge):
        d.fingerprint(Article("big", texts[6]))


def test_rejections_come_in_input_order_and_nothing_is_lost():
    got = fingerprint_texts(["x " * 600, "...", TEXTS[0], "", TEXTS[1]], Params(max_text_bytes=1100), Normaliser())
    assert got.kept == [2, 4] and [i for i, _ in got.rejected] == [0, 1, 3]
    assert got.signatures.shape == (2, 128) and len(got.words) == len(got.texts) == 2


def test_only_rejected_texts():
    got = fingerprint_texts(["x " * 600], Params(max_text_bytes=1000), Normaliser())
    assert got.kept == [] and got.signatures.shape == (0, 128) and got.words == []
