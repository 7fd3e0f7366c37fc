"""The numba MinHash against datasketch (the reference) and xxhash."""

import datasketch
import numpy as np
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.normalisation import tokens
from dedup.minhash import (
    NUMERIC_BIT, _xxh32, from_datasketch, jaccard, permutations, signature, signatures, to_datasketch,
)

words = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=12)
docs = st.lists(words, min_size=0, max_size=60)
# Whole texts: words, joiners, punctuation, spaces, non-ASCII, lone surrogates.
texts = st.text(alphabet=st.one_of(st.sampled_from(list("ab1_ .,'-:;\n\t\u00e9\u2014\u00bfZ")), st.characters()), max_size=200)


def reference(doc_words, num_perm=128, seed=1, k=5):
    """datasketch itself, fed the same shingles."""
    m = datasketch.MinHash(num_perm=num_perm, seed=seed, hashfunc=xxhash.xxh32_intdigest)
    kk = min(k, len(doc_words))
    for i in range(len(doc_words) - kk + 1 if doc_words else 0):
        m.update(" ".join(doc_words[i : i + kk]).encode("utf-8", "surrogatepass"))
    return m.hashvalues


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=5), st.sampled_from([16, 128]), st.integers(0, 2**32 - 1), st.integers(1, 7))
def test_signatures_equal_datasketch_fed_the_spec_tokeniser(batch, num_perm, seed, k):
    batch = [t.lower() for t in batch]
    sigs, ids = signatures(batch, num_perm, seed, k)
    for row, text, wid in zip(sigs, batch, ids):
        words = tokens(text)
        assert np.array_equal(row, reference(words, num_perm, seed, k))
        assert len(wid) == len(words)


@settings(deadline=None)
@given(st.binary(max_size=80))
def test_xxh32_equals_xxhash(data):
    buf = np.frombuffer(data, dtype=np.uint8) if data else np.zeros(0, np.uint8)
    assert _xxh32(buf, 0, len(data)) == xxhash.xxh32_intdigest(data)


@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 7), (256, 2**31)])
def test_permutations_are_datasketchs(num_perm, seed):
    a, b = permutations(num_perm, seed)
    ref = datasketch.MinHash(num_perm=num_perm, seed=seed).permutations
    assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])


def word_id(word: str) -> int:
    """Plain reference: FNV-1a 32, murmur3 fmix32, top bit = the word is a number."""
    h = 0x811C9DC5
    for c in word.encode("utf-8"):
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return (h & 0x7FFFFFFF) | (0x80000000 if set(word) <= set("0123456789.,") else 0)


@given(docs)
def test_word_ids_equal_reference(doc_words):
    text = " ".join(doc_words).lower()
    _, ids = signatures([text])
    assert ids[0].tolist() == [word_id(w) for w in tokens(text)]


def test_word_ids_flag_figures():
    _, ids = signatures(["shr 10 cts vs nine 1.5 1,000 sa1es 3rd covid19 5g"])
    assert [bool(x & NUMERIC_BIT) for x in ids[0]] == [False, True, False, False, False, True, True] + [False] * 4


def test_empty_text_has_empty_signature():
    sig = signature("")
    assert (sig == 2**32 - 1).all()


def test_round_trip_and_datasketch_lsh_finds_our_signatures():
    a = signature(" ".join(f"w{i}" for i in range(200)))
    b = signature(" ".join(f"w{i}" for i in range(190)) + " x y z")
    assert np.array_equal(from_datasketch(to_datasketch(a)), a)
    lsh = datasketch.MinHashLSH(threshold=0.5, num_perm=128)
    lsh.insert("a", to_datasketch(a))
    assert lsh.query(to_datasketch(b)) == ["a"]
    assert abs(jaccard(a, b) - to_datasketch(a).jaccard(to_datasketch(b))) < 1e-12


def test_from_datasketch_refuses_legacy_scheme():
    with pytest.raises(ValueError, match="affine32"):
        from_datasketch(datasketch.MinHash(num_perm=16, scheme="legacy"))
