"""ONE contract for every :class:`dedup.index.Index`: ``MemoryIndex`` and ``RedisIndex`` pass the same tests."""

from __future__ import annotations

import numpy as np
import pytest

from dedup import Deduplicator, Fingerprint, Index, Link, MemoryIndex, Params
from dedup.errors import NotFound
from dedup.index import MAX_CONTAINED, ROW_KEEP
from dedup.types import KINDS, Article, Passage
from dedup_service.store import RedisIndex

PARAMS = Params()


@pytest.fixture(params=["memory", "redis"])
def index(request) -> Index:
    if request.param == "memory":
        yield MemoryIndex(PARAMS)
        return
    ns = request.getfixturevalue("namespace")
    idx = RedisIndex(request.getfixturevalue("redis_client"), PARAMS, namespace=ns, capacity=1000)
    yield idx
    for key in idx.keys():  # whatever a test left: remove it through the API
        if key.startswith(idx.prefix + b"r"):
            idx.remove(idx._unpack(idx.client.get(key)).id)
    assert idx.keys() == []  # and nothing leaked


def cluster_of(index, doc_id):
    got = index.cluster(doc_id)
    return got[0] if got else None


def members(index, doc_id):
    """The member ids of the cluster holding ``doc_id`` (any member: ids are stable)."""
    got = index.cluster(doc_id)
    return [m[0] for m in got[1]] if got else []


def fp(doc_id: str, sig: np.ndarray | None = None, tokens=None, published=None, added=1_000.0) -> Fingerprint:
    if sig is None:
        sig = np.random.default_rng(abs(hash(doc_id)) % 2**32).integers(0, 2**32, PARAMS.num_perm, dtype=np.uint32)
    if tokens is None:
        tokens = np.arange(len(doc_id) + 3, dtype=np.uint32)
    return Fingerprint(doc_id, sig, np.asarray(tokens, dtype=np.uint32), published, added)


def near(sig: np.ndarray, keep_band: int = 0) -> np.ndarray:
    """A signature sharing only band ``keep_band`` with ``sig``."""
    _, rows = PARAMS.banding
    other = np.random.default_rng(int(sig[0]) + 7919 * keep_band).integers(0, 2**32, sig.shape[0], dtype=np.uint32)
    other[keep_band * rows:(keep_band + 1) * rows] = sig[keep_band * rows:(keep_band + 1) * rows]
    return other


def link(a: str, b: str, **kw) -> Link:
    return Link(a, b, kw.pop("kind", "near"), 0.5, 0.9, 0.8, kw.pop("score", 0.85), **kw)


def test_is_an_index(index):
    assert isinstance(index, Index)
    assert index.params == PARAMS


def test_add_returns_band_sharing_candidates_in_insertion_order(index):
    a = fp("d0")
    assert index.add(a) == []
    b = fp("d1", near(a.signature, 3))
    c = fp("d2", near(a.signature, 7))
    unrelated = fp("d3")
    assert [f.id for f in index.add(b)] == ["d0"]
    assert index.add(unrelated) == []
    assert [f.id for f in index.add(c)] == ["d0"]
    probe = fp("d4", a.signature)
    assert [f.id for f in index.candidates(probe)] == ["d0", "d1", "d2"]
    assert len(index) == 4  # candidates() did not write
    assert index.get("d4") is None


def test_get_round_trips_the_fingerprint(index):
    a = fp("d0", tokens=[1, 2, 2**32 - 1], published=1_700_000_000.5, added=1_700_000_100.25)
    index.add(a)
    got = index.get("d0")
    assert got.id == "d0"
    assert got.signature.dtype == np.uint32 and np.array_equal(got.signature, a.signature)
    assert np.array_equal(got.tokens, a.tokens) and got.tokens.dtype == np.uint32
    assert got.published == a.published and got.added == a.added
    assert index.get("d9") is None


def test_unicode_and_long_ids(index):
    long_id = "https://example.com/" + "x" * 300 + "/é✓"
    a = fp(long_id)
    index.add(a)
    assert index.get(long_id).id == long_id
    assert index.remove(long_id) and index.get(long_id) is None


def test_candidate_fingerprints_carry_tokens(index):
    a = fp("d0", tokens=[5, 6, 7])
    index.add(a)
    (got,) = index.add(fp("d1", a.signature))
    assert np.array_equal(got.tokens, [5, 6, 7])


def test_readd_replaces_and_excludes_itself(index):
    a = fp("d0")
    index.add(a)
    index.add(fp("d1", a.signature))
    index.link(link("d1", "d0"))
    new_sig = near(fp("d7").signature, 0)
    assert index.add(fp("d0", new_sig, tokens=[9])) == []  # neither itself nor its old neighbours
    assert np.array_equal(index.get("d0").tokens, [9])
    assert len(index) == 2
    assert index.links("d1") == [] and index.links("d0") == []  # its best match, the old d0, is gone
    assert members(index, "d0") == ["d0"] and members(index, "d1") == ["d1"]
    assert cluster_of(index, "d1") == "d0"  # the old story keeps its id while a member lives
    assert cluster_of(index, "d0") == "d0~2" == index.founded("d0")  # so the new one takes a fresh name
    assert [f.id for f in index.candidates(fp("x", a.signature))] == ["d1"]


def test_a_page_of_members_is_found_by_the_story_name_an_add_answered(index):
    """GET /v1/clusters/<cluster>: the name an add answers finds its story,
    after its founder is gone and when a fresh name was given (tester: both
    were 404, or gave the other story); an article's id still finds its own."""
    a = fp("d0")
    index.add(a)
    index.add(fp("d1", a.signature))
    index.link(link("d1", "d0"))
    index.remove("d0")
    page = index.members("d0")
    assert page is not None and page.cluster == "d0" and [m[0] for m in page.members] == ["d1"]
    index.add(fp("d0", near(fp("d7").signature, 0), tokens=[9]))  # the founder's id again, other words
    assert index.founded("d0") == "d0~2"
    assert [m[0] for m in index.members("d0~2").members] == ["d0"] and index.members("d0~2").cluster == "d0~2"
    assert [m[0] for m in index.members("d0").members] == ["d1"]  # the name first: story d0, not d0's story
    assert index.members("d1").cluster == "d0" and index.members("nope") is None


def test_a_story_name_is_never_held_by_two_live_stories(index):
    """A founder removed while its story lives, its id added again: a fresh
    name, never a stored id; a name is free again once its story is gone."""
    a = fp("d0")
    index.add(a)
    index.add(fp("d1", a.signature))
    index.link(link("d1", "d0"))
    index.remove("d0")
    index.add(fp("d0~2"))  # an article's own id: its story is named by it
    index.add(fp("d0"))
    assert [cluster_of(index, i) for i in ("d1", "d0~2", "d0")] == ["d0", "d0~2", "d0~3"]
    assert index.founded("d0") == "d0~3"
    index.remove("d1")
    index.remove("d0")
    index.add(fp("d0"))
    assert cluster_of(index, "d0") == "d0" == index.founded("d0")


def test_a_pending_retry_whose_candidates_are_gone_keeps_its_fresh_name(index):
    """A founder's id posted again takes a fresh name and stays pending (its
    link step failed); its only candidate is removed; the retry finds no
    candidate and answers the story it is in: the fresh name, not the id."""
    a = fp("d0")
    index.add(a)
    index.add(fp("d1", a.signature))
    index.link(link("d1", "d0"))
    index.remove("d0")
    assert [f.id for f in index.add(fp("d0", a.signature))] == ["d1"]  # pending: no attach (the link step failed)
    assert index.founded("d0") == "d0~2"
    index.remove("d1")
    assert index.add(fp("d0", a.signature)) == []  # the retry: nothing left to confirm
    assert index.founded("d0") == cluster_of(index, "d0") == "d0~2"


def test_a_founders_id_re_posted_many_times_always_takes_the_next_name(index):
    """An article re-posted under its id with other words, 70 times, each
    version picked up by another outlet (so every earlier story lives): each
    re-post takes the next fresh name, never refused (the Redis index gave
    up after 56 names, 503 'concurrent writers'), and a name once given is
    not given again while the story named by the id lives."""
    a = fp("A")
    index.add(a)
    index.add(fp("B", a.signature))
    index.link(link("B", "A"))
    for k in range(2, 72):
        version = fp(f"A-version-{k}", tokens=[k])
        assert index.add(fp("A", version.signature, tokens=[k])) == []  # the old A is replaced
        assert index.founded("A") == cluster_of(index, "A") == f"A~{k}"
        index.add(fp(f"C{k}", version.signature, tokens=[k]))
        index.link(link(f"C{k}", "A"))  # its story outlives the next re-post
    index.remove("C71")
    index.remove("A")  # the story "A~71" is gone
    index.add(fp("A", tokens=[1]))
    assert index.founded("A") == "A~72"  # "A~71" is not given again while the story "A" lives
    assert cluster_of(index, "B") == "A" and cluster_of(index, "C2") == "A~2"


def test_a_fresh_name_skips_stored_ids_however_many(index):
    """Sixty stored articles whose ids are the fresh names ``A~2`` ...
    ``A~61`` (another publisher's ids): the founder's id posted again takes
    ``A~62`` (the Redis index refused it: 503 after 56 names)."""
    a = fp("A")
    index.add(a)
    index.add(fp("B", a.signature))
    index.link(link("B", "A"))
    index.remove("A")
    for k in range(2, 62):
        index.add(fp(f"A~{k}"))
    index.add(fp("A", tokens=[1]))
    assert index.founded("A") == cluster_of(index, "A") == "A~62"


def test_a_removed_best_matchs_partners_are_told_their_cluster(index):
    """B and C linked to A; A is removed: B and C have no best link but
    share a cluster, so their story names a partner (the canonical copy,
    or the oldest other member for the canonical itself); the founder of
    a cluster, whom others linked to, has one too; a lone article none."""
    a = fp("A")
    index.add(a)
    index.add(fp("B", a.signature, tokens=np.arange(9)))
    index.add(fp("C", a.signature, tokens=np.arange(12)))  # the most words: the canonical copy
    index.link(link("B", "A"))
    index.link(link("C", "A"))
    assert index.story("A").best is None and index.story("A").partner == "C"
    index.remove("A")
    b, c = index.story("B"), index.story("C")
    assert (b.best, b.partner, b.canonical) == (None, "C", "C")
    assert (c.best, c.partner) == (None, "B")  # the canonical itself: the oldest other member
    index.remove("B")
    assert index.story("C").partner is None  # alone now
    index.add(fp("D"))
    assert index.story("D").partner is None


def test_link_merges_clusters_into_the_oldest(index):
    for i in range(4):
        index.add(fp(f"d{i}"))
    assert index.link(link("d1", "d2")) == "d1"
    assert index.link(link("d3", "d0")) == "d0"
    assert members(index, "d1") == ["d1", "d2"]
    assert index.link(link("d2", "d3")) == "d0"
    assert members(index, "d0") == ["d0", "d1", "d2", "d3"]
    assert {cluster_of(index, f"d{i}") for i in range(4)} == {"d0"}  # the older cluster's id survived
    assert index.link(link("d0", "d1")) == "d0"  # same cluster: no change


def test_an_article_stores_only_its_best_link_with_passages(index):
    index.add(fp("d0"))
    index.add(fp("d1"))
    lk = link("d1", "d0", kind="contained", score=0.93, passages=(Passage(0, 5, 2, 7, "five words of the text"),),
              span=(2, 40))
    index.link(lk)
    assert index.links("d1") == [lk]
    assert index.links("d0") == []  # one direction: links stay linear in articles
    assert index.links("d9") == []
    index.add(fp("d2"))
    plain = link("d2", "d1", kind="exact", score=1.0, span=(0, 7))
    index.link(plain)
    assert index.links("d2") == [plain]


def test_link_unknown_id_raises_not_found(index):
    index.add(fp("d0"))
    for bad in (link("d0", "d9"), link("d9", "d0")):
        with pytest.raises(NotFound, match="d9"):
            index.link(bad)
    assert index.links("d0") == []  # nothing half-written


@pytest.mark.parametrize("kind", KINDS)
def test_every_link_kind_round_trips(index, kind):
    index.add(fp("d0"))
    index.add(fp("d1"))
    for lk in (link("d1", "d0", kind=kind), link("d1", "d0", kind=kind, span=(3, 9)),
               link("d1", "d0", kind=kind, span=(1, 4), changed=(("340", "350"), ("tuesday", "#17")),
                    passages=(Passage(0, 3, 1, 4, "profit rose to"),))):
        index.link(lk)
        assert index.links("d1") == [lk] and index.story("d1").best == lk


def test_remove_forgets_everywhere_and_cluster_lives_on(index):
    a = fp("d0")
    for i, f in enumerate([a, fp("d1", a.signature), fp("d2", a.signature)]):
        index.add(f)
    index.link(link("d1", "d0"))
    index.link(link("d2", "d0"))
    assert index.remove("d0") is True
    assert index.remove("d0") is False
    assert index.get("d0") is None and len(index) == 2
    assert cluster_of(index, "d1") == "d0" and cluster_of(index, "d2") == "d0"  # the id survives its founder
    assert members(index, "d1") == ["d1", "d2"]
    assert index.links("d1") == [] and index.links("d2") == []  # their best match is gone; they stay together
    assert [f.id for f in index.candidates(fp("x", a.signature))] == ["d1", "d2"]
    index.remove("d1")
    assert cluster_of(index, "d2") == "d0" and members(index, "d2") == ["d2"]
    assert cluster_of(index, "d1") is None and members(index, "d1") == []


def test_unknown_ids(index):
    assert cluster_of(index, "nope") is None
    assert members(index, "nope") == []
    assert index.remove("nope") is False
    assert len(index) == 0


def test_deduplicator_runs_on_the_index(index):
    text = "The central bank raised interest rates by a quarter point on Thursday, citing inflation. " * 4
    d = Deduplicator(PARAMS, index)
    first = d.add(Article("d0", text))
    second = d.add(Article("d1", "LONDON (Reuters) - " + text))
    assert first.created and second.created
    assert [x.b for x in second.duplicates] == ["d0"]
    assert second.cluster == "d0" and members(index, "d0") == ["d0", "d1"]
    again = d.add(Article("d1", "LONDON (Reuters) - " + text))
    assert again.created is False and again.cluster == "d0"
    q = d.query(Article("d2", text))
    assert sorted(x.b for x in q.duplicates) == ["d0", "d1"] and q.cluster == "d0"
    assert len(index) == 2


def test_cluster_gives_each_members_facts_in_one_look_up(index):
    a = fp("d0", tokens=np.arange(50, dtype=np.uint32), published=1_700_000_000.0)
    b = fp("d1", sig=a.signature, tokens=np.arange(70, dtype=np.uint32))
    index.add(a)
    index.add(b)
    assert index.cluster("d1") == ("d1", [("d1", None, 70)])
    index.link(Link("d1", "d0", "near", 1.0, 1.0, 0.7, 0.8))
    assert index.cluster("d1") == ("d0", [("d0", 1_700_000_000.0, 50), ("d1", None, 70)])
    assert index.cluster("nope") is None


def test_readd_with_the_same_words_is_a_no_op(index):
    a = fp("d0")
    assert index.add(a) == []
    index.add(fp("d1", a.signature))
    index.link(link("d1", "d0"))
    assert index.add(fp("d0", a.signature)) is None  # a retry: nothing written
    assert len(index) == 2 and [lk.b for lk in index.links("d1")] == ["d0"]
    assert cluster_of(index, "d1") == "d0"


# -- hot stories and template briefs: bounded work per add (issue 14) ------------
from hotload import brief, copy_of, story  # noqa: E402

from dedup.cluster import canonical_index  # noqa: E402
from dedup.index import BUCKET_KEEP, CROWD, MAX_CANDIDATES, REPRESENTATIVES  # noqa: E402


@pytest.fixture
def confirms(monkeypatch):
    """How many confirmations each Deduplicator call ran (the costly part of an add)."""
    import dedup.deduplicator as mod

    counter, real = [0], mod.confirm

    def counting(*a, **kw):
        counter[0] += 1
        return real(*a, **kw)

    monkeypatch.setattr(mod, "confirm", counting)
    return counter


def test_a_hot_story_is_confirmed_against_a_few_representatives(index, confirms):
    """300 copies of one story: each add confirms at most REPRESENTATIVES
    candidates (the story's), whatever the story's size; one cluster; one
    stored link per copy."""
    d, text, most = Deduplicator(PARAMS, index), story(1), 0
    for i in range(300):
        confirms[0] = 0
        m = d.add(Article(f"c{i}", copy_of(text, i)))
        most = max(most, confirms[0])
        assert m.cluster == "c0" and (i == 0 or len(m.duplicates) == 1)
    assert most <= REPRESENTATIVES
    assert index.story("c299").cluster == "c0" and len(members(index, "c150")) == 300
    assert sum(len(index.links(f"c{i}")) for i in range(300)) == 299  # linear: one link per copy


def test_a_flood_of_template_briefs_stays_bounded_and_apart(index, confirms):
    """2,000 briefs from one template (other companies and figures): at
    most MAX_CANDIDATES confirmations per add, and no brief merged."""
    d, most = Deduplicator(PARAMS, index), 0
    for i in range(2000):
        confirms[0] = 0
        m = d.add(Article(f"b{i}", brief(i)))
        most = max(most, confirms[0])
        assert m.duplicates == [] and m.cluster == f"b{i}"
    assert 0 < most <= MAX_CANDIDATES
    assert members(index, "b1999") == ["b1999"]


def test_candidates_are_bounded_per_story_and_in_all(index):
    """Articles each sharing one band with the query (no bucket crowded):
    each a story of its own, so at most MAX_CANDIDATES, most collisions
    first, then the oldest, in insertion order; linked into one story, at
    most REPRESENTATIVES: its oldest and the others with most collisions."""
    sig, (bands, rows) = fp("s0").signature, PARAMS.banding
    n = 2 * MAX_CANDIDATES
    two = near(sig, 0)
    two[rows:2 * rows] = sig[rows:2 * rows]
    for i in range(n):
        index.add(fp(f"s{i}", near(sig, i % bands) if i != n - 1 else two))
    got = [f.id for f in index.candidates(fp("q", sig))]
    assert got == [f"s{i}" for i in range(MAX_CANDIDATES - 1)] + [f"s{n - 1}"]  # s63 shares two bands
    for i in range(1, n):
        index.link(link(f"s{i}", "s0"))
    got = [f.id for f in index.candidates(fp("q", sig))]
    assert len(got) == REPRESENTATIVES and got[0] == "s0" and got[-1] == f"s{n - 1}"


def test_a_crowded_bucket_gives_its_oldest_and_newest(index):
    """Same-signature articles, more than BUCKET_KEEP, each a story of its
    own (look-alikes that every confirmation rejected): every bucket is
    crowded, so a query meets only the oldest entry the buckets hold and
    the newest; an article sharing one crowded band with them and its other
    bands with its copy still meets its copy."""
    sig = fp("s0").signature
    n = BUCKET_KEEP + 20
    for i in range(n):
        index.add(fp(f"s{i}", sig))
    assert CROWD <= BUCKET_KEEP
    assert [f.id for f in index.candidates(fp("q", sig))] == [f"s{n - BUCKET_KEEP}", f"s{n - 1}"]
    mixed = sig.copy()
    _, rows = PARAMS.banding
    mixed[rows:] = fp("own-words").signature[rows:]  # band 0 is the crowd's, the rest its own
    index.add(fp("mid", mixed))
    index.add(fp("mid-copy", mixed))
    got = [f.id for f in index.candidates(fp("q2", mixed))]
    assert got == [f"s{n + 2 - BUCKET_KEEP}", "mid", "mid-copy"]  # the crowd's oldest and newest, and the copy


def test_a_retry_meets_what_its_first_add_met_in_a_crowded_bucket(index):
    """Seven look-alikes and N share band 0 (a boilerplate band); C shares
    only that band with N. C's first add meets the crowd's oldest and its
    newest, N; a retry (its link never stored) and a query of the stored C
    leave C itself out before the crowd rule, so they meet N again."""
    sig = fp("base").signature
    for k in range(CROWD - 1):
        index.add(fp(f"o{k}", _band0(sig, 100 + k)))
        index.attach(f"o{k}", [])
    n_sig = _band0(sig, 500)
    index.add(fp("N", n_sig))
    index.attach("N", [])
    c = fp("C", _band0(sig, 900), tokens=np.arange(9, dtype=np.uint32))
    assert [f.id for f in index.add(c)] == ["o0", "N"]
    assert [f.id for f in index.add(c)] == ["o0", "N"]  # the retry: C stays pending until attached
    assert [f.id for f in index.candidates(c)] == ["o0", "N"]


def test_a_re_added_article_is_left_out_of_a_crowded_bucket_before_the_rule(index):
    """X, then Y sharing only X's band 0 with it, in a bucket of CROWD: X
    re-added with other words (still sharing band 0) meets Y, as it would if
    X had never been there."""
    sig = fp("base").signature
    for k in range(CROWD - 2):
        index.add(fp(f"o{k}", _band0(sig, 200 + k)))
        index.attach(f"o{k}", [])
    index.add(fp("X", _band0(sig, 300)))
    index.attach("X", [])
    index.add(fp("Y", _band0(sig, 301)))
    index.attach("Y", [])
    again = fp("X", _band0(sig, 302), tokens=np.arange(12, dtype=np.uint32))
    assert [f.id for f in index.add(again)] == [*(f"o{k}" for k in range(CROWD - 2)), "Y"]


def _band0(sig: np.ndarray, seed: int) -> np.ndarray:
    """A random signature sharing only band 0 with ``sig``."""
    _, rows = PARAMS.banding
    other = np.random.default_rng(seed).integers(0, 2**32, sig.shape[0], dtype=np.uint32)
    other[:rows] = sig[:rows]
    return other


def test_cluster_ids_are_stable(index):
    """A cluster keeps its founder's id while any member lives (even after
    the founder and the canonical copy are deleted); on a merge the older
    cluster's id survives."""
    for i in range(3):
        index.add(fp(f"x{i}", published=100.0 + i))
    for i in range(3):
        index.add(fp(f"y{i}"))
    index.link(link("x1", "x0"))
    index.link(link("x2", "x1"))
    index.link(link("y1", "y0"))
    index.link(link("y2", "y0"))
    assert index.story("x2").canonical == "x0"
    assert index.remove("x0")
    assert [index.story(f"x{i}").cluster for i in (1, 2)] == ["x0", "x0"]
    assert index.story("x2").canonical == "x1"  # picked again when the canonical copy leaves
    assert index.link(link("y2", "x2")) == "x0"  # the older cluster's id survives the merge
    assert {index.story(m).cluster for m in ("x1", "x2", "y0", "y1", "y2")} == {"x0"}
    assert members(index, "y1") == ["x1", "x2", "y0", "y1", "y2"]
    for m in ("x1", "y0", "x2", "y1"):
        index.remove(m)
        assert index.story("y2").cluster == "x0"
    assert members(index, "y2") == ["y2"]


def test_story_canonical_follows_the_canonical_rule(index):
    """The index's bounded canonical is dedup.cluster.canonical_index's choice."""
    pubs = [None, 300.0, 200.0, None, 200.0]
    for i, p in enumerate(pubs):
        index.add(fp(f"m{i}", tokens=np.arange(10 + i, dtype=np.uint32), published=p))
        if i:
            index.link(link(f"m{i}", "m0"))
        _, ms = index.cluster("m0")
        best = ms[canonical_index(range(len(ms)), [m[1] for m in ms], [m[2] for m in ms])][0]
        assert index.story("m0").canonical == best
    assert index.story("m0").canonical == "m4"  # earliest date, then most words


def test_a_pending_article_is_offered_again_until_attached(index):
    """add() leaves an article with candidates pending; a retry returns the
    candidates again (repair) until attach(); then a retry is None. A retry
    applies a changed published."""
    a = fp("p0")
    index.add(a)
    b = fp("p1", a.signature, published=5.0)
    assert [f.id for f in index.add(b)] == ["p0"]
    assert [f.id for f in index.add(b)] == ["p0"]  # the link step never came: offered again
    story_, kept = index.attach("p1", [link("p1", "p0"), link("p1", "gone")])
    assert story_.cluster == "p0" and [lk.b for lk in kept] == ["p0"]
    assert index.add(fp("p1", a.signature, published=9.0)) is None  # linked: nothing to redo
    assert index.get("p1").published == 9.0 and index.story("p1").best == link("p1", "p0")
    assert index.add(fp("p2")) == [] and index.add(fp("p2")) is None  # no candidate: never pending
    with pytest.raises(NotFound):
        index.attach("nope", [])


def test_cluster_pages(index):
    sig = fp("g0").signature
    for i in range(120):
        index.add(fp(f"g{i}", sig))
        if i:
            index.link(link(f"g{i}", "g0"))
    first = index.members("g77")
    assert (first.cluster, first.size, first.start, first.next) == ("g0", 120, 0, 50)
    assert [m[0] for m in first.members] == [f"g{i}" for i in range(50)]
    assert first.members[0][3] is None and first.members[1][3] == link("g1", "g0")
    last = index.members("g0", 100, 50)
    assert [m[0] for m in last.members] == [f"g{i}" for i in range(100, 120)] and last.next is None
    alone = index.add(fp("solo")) or index.members("solo")
    assert (alone.cluster, alone.size, [m[0] for m in alone.members]) == ("solo", 1, ["solo"])
    assert index.members("nope") is None


# -- short inside long (Params.short_in_long) and latest versions: both indexes ------------------------------
def _sharing(sig: np.ndarray, at: range, seed: int) -> np.ndarray:
    """A random signature equal to ``sig`` at the positions ``at`` only
    (past the banded ones: no LSH band is shared)."""
    other = np.random.default_rng(seed).integers(0, 2**32, sig.shape[0], dtype=np.uint32)
    other[at] = sig[at]
    return other


_UNBANDED = PARAMS.banding[0] * PARAMS.banding[1]  # the first MinHash position no band reads


def words(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.uint32)


def test_a_short_text_inside_a_long_one_is_a_candidate(index):
    """A 90-word brief sharing 8 single MinHash values (no band) with a
    700-word story is proposed (dedup.index.short_in_long); 3 values, a
    20-word text, or a text over half the other's size are not."""
    long_ = fp("long", tokens=words(700))
    assert index.add(long_) == []
    at = range(_UNBANDED, _UNBANDED + 8)
    brief = fp("brief", _sharing(long_.signature, at, 1), tokens=words(90))
    assert [f.id for f in index.add(brief)] == ["long"]
    assert [f.id for f in index.candidates(fp("q", _sharing(long_.signature, at, 2), tokens=words(90)))] == ["long"]
    assert index.candidates(fp("weak", _sharing(long_.signature, at[:3], 3), tokens=words(90))) == []
    assert index.candidates(fp("tiny", _sharing(long_.signature, at, 4), tokens=words(20))) == []
    peer = fp("peer", _sharing(long_.signature, at, 5), tokens=words(600))
    assert [f.id for f in index.candidates(peer)] == ["brief"]  # not long: about the same size
    index.remove("long")
    assert index.candidates(fp("q", _sharing(long_.signature, at, 2), tokens=words(90))) == []  # its values left too


def test_short_in_long_candidates_are_bounded_and_a_stock_value_gives_none(index):
    """ROW_KEEP long texts sharing values: a brief gets the MAX_CONTAINED
    with most collisions (then oldest), in insertion order; one more long
    text makes those values stock: no candidate from them, for adds and
    queries alike, until every text holding them is gone."""
    base = fp("base-sig").signature
    for i in range(ROW_KEEP):  # text i shares 8 + i % 3 values
        index.add(fp(f"L{i}", _sharing(base, range(_UNBANDED, _UNBANDED + 8 + i % 3), 10 + i), tokens=words(700)))
    brief = _sharing(base, range(_UNBANDED, _UNBANDED + 10), 99)
    got = [f.id for f in index.candidates(fp("b", brief, tokens=words(90)))]
    most = sorted(range(ROW_KEEP), key=lambda i: (-(8 + i % 3), i))[:MAX_CONTAINED]
    assert got == [f"L{i}" for i in sorted(most)]
    index.add(fp("L-more", _sharing(base, range(_UNBANDED, _UNBANDED + 10), 77), tokens=words(700)))
    assert index.candidates(fp("b", brief, tokens=words(90))) == []
    assert index.add(fp("b", brief, tokens=words(90))) == []


def test_the_story_names_its_latest_version(index):
    """story().latest and attach()'s story are dedup.cluster.latest_version
    over the cluster's best links: the canonical copy until an update; then
    the first copy of the version published last; a copy of the original
    republished later is still the original's version; a copy of the update
    published before it names that version, until its date moves."""
    for i, p in (("o", 1.0), ("u", 3.0), ("c", 4.0), ("e", 2.5), ("v", 5.0)):
        index.add(fp(i, published=p))
    assert index.story("o").latest == "o"
    assert index.attach("c", [link("c", "o", kind="exact")])[0].latest == "o"  # no update: the canonical copy
    assert index.attach("u", [link("u", "o", kind="update")])[0].latest == "u"
    assert index.story("c").latest == "u" and index.story("o").canonical == "o"
    assert index.attach("e", [link("e", "u", kind="near")])[0].latest == "e"  # u's version, first published as e
    assert index.attach("v", [link("v", "e", kind="update")])[0].latest == "v"
    assert [index.story(i).latest for i in "oucev"] == ["v"] * 5
    index.remove("v")
    assert index.story("o").latest == "e"
    assert index.add(fp("e", published=6.0)) is None  # a retry that moves e after u: u is its version's first
    assert index.story("o").latest == "u"


def test_a_copy_with_paragraphs_moved_is_the_originals_version_not_the_latest(index):
    """A ``reused`` link (the same passages in another order, no figure changed) joins a version
    as ``exact`` and ``near`` do: the reordered copy, published after the update, is not its latest."""
    for i, p in (("o", 1.0), ("u", 2.0), ("r", 3.0)):
        index.add(fp(i, published=p))
    index.attach("u", [link("u", "o", kind="update")])
    assert index.attach("r", [link("r", "o", kind="reused")])[0].latest == "u"
    assert [index.story(i).latest for i in "our"] == ["u"] * 3


def test_latest_version_through_the_deduplicator(index):
    story = ("The storm killed 12 people on Monday and left 4,000 homes without power across the region, "
             "officials said, as rescue teams searched flooded villages for the missing. ") * 4
    arts = [Article("o", story, published="2024-01-01T00:00:00Z"),
            Article("u", story.replace("12 people", "15 people", 1), published="2024-01-02T00:00:00Z"),
            Article("c", "PARIS (AP) - " + story, published="2024-01-03T00:00:00Z")]
    d = Deduplicator(PARAMS, index)
    assert [d.add(a).latest for a in arts] == ["o", "u", "u"]
    assert d.add(arts[2]).latest == "u"  # a retry reads it back


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_redis_answers_as_memory_on_a_random_stream(redis_client, namespace, seed):
    """The two indexes side by side on one random stream of long texts,
    briefs sharing single values with them, copies, links of every kind,
    retries with another date and removals: the same candidates (short-inside-long ones included), clusters,
    canonical copies and latest versions after every step."""
    rng = np.random.default_rng(seed)
    mem = MemoryIndex(PARAMS)
    red = RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    bases = [fp(f"base{i}").signature for i in range(6)]
    stored: list[str] = []
    fps: dict[str, Fingerprint] = {}
    for step in range(160):
        base = bases[rng.integers(len(bases))]
        shape = rng.integers(3)
        if shape == 0:  # a long text with some of the base's values (briefs are contained in it)
            sig, n = _sharing(base, rng.choice(np.arange(_UNBANDED, PARAMS.num_perm), rng.integers(0, 20)), step), 700
        elif shape == 1:  # a brief
            sig, n = _sharing(base, rng.choice(np.arange(_UNBANDED, PARAMS.num_perm), rng.integers(2, 14)), step), 90
        else:  # a copy (shares bands)
            sig, n = _sharing(base, np.arange(0, PARAMS.num_perm), step), int(rng.integers(30, 800))
            sig[rng.integers(PARAMS.num_perm)] ^= 1
        f = fp(f"d{step}", sig, tokens=words(n), published=float(rng.integers(0, 50)) if rng.random() < 0.8 else None)
        fps[f.id] = f
        got = [mem.add(f), red.add(f)]
        ids = [[x.id for x in g] for g in got]
        assert ids[0] == ids[1], step
        stored.append(f.id)
        if ids[0]:
            kinds = rng.choice(["exact", "near", "update", "contained", "reused"], len(ids[0]))
            links = [link(f.id, b, kind=str(k)) for b, k in zip(ids[0], kinds)][: rng.integers(0, 3)]
            a, b = mem.attach(f.id, links), red.attach(f.id, links)
            assert a == b, step
        if rng.random() < 0.1:  # a retry with another date: canonical copies and versions' first copies move
            old = fps[str(rng.choice(stored))]
            again = fp(old.id, old.signature, tokens=old.tokens, published=float(rng.integers(0, 50)))
            assert mem.add(again) == red.add(again), step  # None: linked
        if rng.random() < 0.08 and len(stored) > 5:  # a removal: canonical copies, first copies, listed versions move
            gone = str(stored.pop(int(rng.integers(len(stored)))))
            assert mem.remove(gone) and red.remove(gone), step
        for x in rng.choice(stored, 3):
            assert mem.story(str(x)) == red.story(str(x)), (step, x)
    for x in stored:
        red.remove(x)
    assert red.keys() == []


def test_stored_tells_whether_the_id_is_stored_with_the_same_words(index):
    """A query of a stored text leaves the text out of its own candidates;
    ``stored`` says it has been seen (from the same call's reply in Redis)."""
    a = fp("a", tokens=np.arange(50, dtype=np.uint32))
    assert not index.stored(a)
    index.add(a)
    assert [c.id for c in index.candidates(a)] == [] and index.stored(a)
    other_words = fp("a", a.signature, tokens=np.arange(1, 51, dtype=np.uint32))
    index.candidates(other_words)
    assert not index.stored(other_words)
    assert not index.stored(fp("b", a.signature, tokens=a.tokens))


@pytest.mark.parametrize("old, new", [("4 percent", "4.25 percent"), ("by 12 percent", "by 15 percent")])
def test_a_copy_cut_short_is_not_the_latest_version(index, old, new):
    """A copy of the original cut short, published after the update, is not
    the latest version: cut after the changed figure it keeps the
    original's and is the original's version; cut before it, it is
    contained in both versions and joins neither (it merged them, naming the
    original the latest). Batch, and both indexes through the Deduplicator,
    agree."""
    from dedup.batch import cluster_articles

    story = ("The European Central Bank raised its main interest rate by a quarter of a percentage point on "
             "Thursday, its tenth consecutive increase, and signalled that borrowing costs would stay high. "
             "The move takes the deposit rate to 4 percent, the highest level since the euro was launched. "
             "Policymakers said inflation was expected to remain too high for too long, although it had eased "
             "from the peaks reached last autumn when energy prices soared across the continent. Economists "
             "had been split before the meeting, with some arguing that the bank should pause to assess the "
             "effect of its earlier moves on lending and growth, which has stalled in the largest economies. "
             "The president of the bank told reporters that the decision had not been unanimous but that a "
             "solid majority had backed it, and declined to say whether this would be the last increase. "
             "Markets had priced in roughly even odds of a rise, and the euro gained against the dollar after "
             "the announcement while government bond yields fell in Germany, Italy and Spain. Banks welcomed "
             "the higher margins the rates bring, but warned that demand for mortgages had dropped by 12 percent.")
    cut = " ".join(story.split()[:110])
    arts = [Article("wire", story, published="2024-09-14T10:00:00Z"),
            Article("update1", story.replace(old, new), published="2024-09-14T13:00:00Z"),
            Article("cut", cut, published="2024-09-14T14:00:00Z")]
    d = Deduplicator(PARAMS, index)
    got = [d.add(a) for a in arts]
    assert [lk.kind for lk in got[1].duplicates] == ["update"] and got[2].duplicates[0].kind in ("contained", "update")
    assert [m.latest for m in got] == ["wire", "update1", "update1"]
    assert cluster_articles(arts, PARAMS).clusters[0].latest == "update1"


def test_a_relinked_update_side_whose_date_moves_ranks_as_in_redis(redis_client, namespace):
    """The reviewer's case: c is listed as an update's side, then links near to o (joining o's
    version, still listed), then is added again with a date. Redis ranks the listed copies by
    the score they were listed with; so must memory."""
    mem, red = MemoryIndex(PARAMS), RedisIndex(redis_client, PARAMS, namespace=namespace, capacity=1000)
    sig = lambda i: np.random.default_rng(sum(map(ord, i))).integers(0, 2**32, PARAMS.num_perm, dtype=np.uint32)  # noqa: E731
    made = {i: Fingerprint(i, sig(i), np.arange(n, dtype=np.uint32), p, 1000.0)
            for i, p, n in (("o", 0.0, 30), ("u", 5.0, 40), ("c", None, 40))}
    for ix in (mem, red):
        for f in made.values():
            ix.add(f)
        ix.attach("c", [Link("c", "u", "update", .5, .9, .8, .85)])
        ix.link(Link("c", "o", "near", .5, .9, .8, .85))
    assert mem.story("o") == red.story("o")
    again = Fingerprint("c", made["c"].signature, made["c"].tokens, 4.0, 1000.0)
    mem.add(again)
    red.add(again)
    try:
        assert mem.story("o") == red.story("o")
    finally:
        for x in made:
            red.remove(x)
