"""Batch candidate generation against a plain dict-of-buckets reference."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.lsh import CROWD, band_keys, candidate_pairs
from dedup.params import Params

P = Params(num_perm=16, bands=8, rows=2)


def reference_pairs(sigs, params, crowd=None):
    """Every pair sharing a band; with ``crowd``, a member with ``crowd`` or
    more before it in its bucket pairs only with the first and the one before."""
    bands, rows = params.banding
    found = set()
    for band in range(bands):
        buckets = {}
        for i, s in enumerate(sigs):
            buckets.setdefault(tuple(s[band * rows:(band + 1) * rows]), []).append(i)
        for members in buckets.values():
            for x, b in enumerate(members):
                before = members[:x] if crowd is None or x < crowd else [members[0], members[x - 1]]
                found.update((a, b) for a in before)
    return found


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=16, max_size=16), min_size=0, max_size=40))
def test_candidate_pairs_equal_reference(rows):
    sigs = np.array(rows, dtype=np.uint32).reshape(-1, 16)
    got = {tuple(p) for p in candidate_pairs(sigs, P, max_bucket=10**6).tolist()}
    assert got == reference_pairs(sigs, P)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2), min_size=16, max_size=16), min_size=0, max_size=40), st.integers(2, 6))
def test_crowded_buckets_give_their_first_and_previous_member_only(rows, crowd):
    sigs = np.array(rows, dtype=np.uint32).reshape(-1, 16)
    got = {tuple(p) for p in candidate_pairs(sigs, P, max_bucket=crowd).tolist()}
    assert got == reference_pairs(sigs, P, crowd)


def test_online_band_keys_agree_with_batch_buckets():
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 5, size=(30, 16), dtype=np.uint32)
    online = set()
    for i in range(30):
        for j in range(i + 1, 30):
            if set(band_keys(sigs[i], P)) & set(band_keys(sigs[j], P)):
                online.add((i, j))
    assert online == {tuple(p) for p in candidate_pairs(sigs, P, max_bucket=10**6).tolist()}


def test_huge_bucket_is_linked_as_star_and_chain_not_all_pairs():
    sigs = np.zeros((1000, 16), dtype=np.uint32)
    pairs = candidate_pairs(sigs, P)
    assert len(pairs) == CROWD * (CROWD - 1) // 2 + 2 * (1000 - CROWD)  # the first CROWD all pairs, then 2 each
    # still connected: every member reaches member 0
    assert {tuple(p) for p in pairs.tolist()} >= {(0, i) for i in range(1, 1000)}


def test_band_key_shape():
    keys = band_keys(np.arange(128, dtype=np.uint32), Params())
    assert len(keys) == Params().banding[0] and all(len(k) == 10 for k in keys)
    assert len(set(keys)) == len(keys)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=128, max_size=128))
def test_one_band_hash_online_and_batch(values):
    """The online index and batch hash a band with the same function."""
    from dedup.lsh import band_hashes, signature_band_hashes

    sig = np.array(values, dtype=np.uint32)
    bands, rows = Params().banding
    online = signature_band_hashes(sig, Params())
    batch = [band_hashes(sig[None, :], band, rows)[0] for band in range(bands)]
    assert online.tolist() == [int(h) for h in batch]
    assert [int.from_bytes(k[2:], "big") for k in band_keys(sig, Params())] == online.tolist()


def _reference_band_hash(sigs, band, rows):
    """The band hash written plainly in numpy (what batch used before the numba kernel)."""
    m1, m2, m3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
    block = sigs[:, band * rows:(band + 1) * rows].astype(np.uint64)
    h = np.full(block.shape[0], band, dtype=np.uint64) * m1
    for r in range(rows):
        h ^= block[:, r] + m1 + (h << np.uint64(6)) + (h >> np.uint64(2))
        h *= m2
        h ^= h >> np.uint64(31)
    h *= m3
    return h ^ (h >> np.uint64(29))


def test_band_hash_kernel_equals_the_plain_reference():
    """Batch buckets are unchanged by the kernel (so are `dedup batch` results)."""
    from dedup.lsh import band_hashes

    sigs = np.random.default_rng(1).integers(0, 2**32, size=(500, 128), dtype=np.uint32)
    for band in (0, 7, 27):
        assert np.array_equal(band_hashes(sigs, band, 4), _reference_band_hash(sigs, band, 4))
