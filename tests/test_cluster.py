from dedup.cluster import UnionFind, canonical_index, cluster_links


def test_union_find_reference():
    uf = UnionFind(6)
    for a, b in [(0, 1), (2, 3), (1, 3)]:
        uf.union(a, b)
    assert len({uf.find(x) for x in range(4)}) == 1 and uf.find(4) != uf.find(5)


def test_compilation_does_not_chain_two_stories():
    # 2 is a roundup containing stories 0 and 1, which are not copies of each other
    groups, dropped = cluster_links(3, [(0, 2, "contained"), (1, 2, "contained")], [100, 100, 400])
    assert groups == [] and dropped == {(0, 2), (1, 2)}


def test_compilation_guard_uses_where_the_texts_lie():
    # 2 contains 0 at words 0-100 and 1 at words 300-400: a roundup
    links = [(0, 2, "contained", (0, 100)), (1, 2, "contained", (300, 400))]
    assert cluster_links(3, links, [100, 100, 400])[0] == []
    # a copy cut to its first 40% and a copy that lost a paragraph overlap
    # in the original although neither contains the other
    links = [(0, 2, "contained", (0, 160)), (1, 2, "contained", (0, 400))]
    groups, dropped = cluster_links(3, links, [160, 330, 400])
    assert groups == [[0, 1, 2]] and not dropped


def test_nested_truncations_of_one_story_merge():
    # 0 is the first 40%, 1 the first 70% of story 2
    links = [(0, 2, "contained"), (1, 2, "contained"), (0, 1, "contained")]
    groups, dropped = cluster_links(3, links, [40, 70, 100])
    assert groups == [[0, 1, 2]] and not dropped


def test_near_links_merge_and_a_copy_of_a_copy_joins():
    groups, _ = cluster_links(5, [(0, 1, "near"), (1, 2, "exact"), (3, 4, "contained")], [50, 50, 50, 40, 90])
    assert sorted(groups) == [[0, 1, 2], [3, 4]]


def test_canonical_rule_earliest_then_longest_then_first():
    assert canonical_index([0, 1, 2], [20.0, 10.0, 10.0], [5, 5, 9]) == 2
    assert canonical_index([0, 1, 2], [None, None, None], [5, 9, 9]) == 1
    assert canonical_index([0, 1], [None, 1e9], [500, 5]) == 1  # a date beats no date


def test_a_cut_copy_matching_two_briefs_joins_only_its_best_match():
    # 0 and 1 are different briefs of 15 words; 2 is a 10-word cut that matches both
    links = [(2, 0, "near", (0, 10), 0.83), (2, 1, "near", (0, 10), 0.80)]
    groups, dropped = cluster_links(3, links, [15, 15, 10])
    assert groups == [[0, 2]] and dropped == {(1, 2)}


def test_near_links_of_similar_length_always_merge():
    links = [(0, 1, "near", None, 0.9), (1, 2, "near", None, 0.85)]
    assert cluster_links(3, links, [100, 95, 100])[0] == [[0, 1, 2]]


def test_online_links_apply_the_batch_guards_to_one_new_article():
    from dedup.cluster import online_links
    from dedup.types import Link

    def link(b, kind, score=0.9, span=None):
        return Link("new", b, kind, 0.5, 0.9, 0.9, score, (), span)

    # a shorter new text near two stories in different clusters: only its best
    near = [link("x", "near", 0.85), link("y", "near", 0.95)]
    kept, dropped = online_links(near, 50, {"x": (200, "cx"), "y": (200, "cy")})
    assert [k.b for k in kept] == ["y"] and [d.b for d in dropped] == ["x"]
    # ... or both when they are one story
    kept, _ = online_links(near, 50, {"x": (200, "c"), "y": (200, "c")})
    assert {k.b for k in kept} == {"x", "y"}
    # a new compilation containing two stories in different places: none
    roundup = [link("x", "contained", span=(0, 100)), link("y", "contained", span=(300, 400))]
    kept, dropped = online_links(roundup, 500, {"x": (100, "cx"), "y": (100, "cy")})
    assert kept == [] and len(dropped) == 2
    # two copies of one story in the same place of the new text: both
    same = [link("x", "contained", span=(0, 100)), link("y", "contained", span=(10, 100))]
    kept, _ = online_links(same, 500, {"x": (100, "cx"), "y": (90, "cy")})
    assert len(kept) == 2
    # texts of about the same length always merge
    kept, _ = online_links([link("x", "near"), link("y", "exact")], 100, {"x": (100, "cx"), "y": (100, "cy")})
    assert len(kept) == 2


def test_an_updated_story_inside_a_roundup_does_not_chain_stories():
    """A roundup holding story X (one figure changed) and an unrelated story Y
    must not merge X and Y: an update inside a longer text goes through the
    compilation guard like a contained copy."""
    from dedup import Article, cluster_articles

    x = ("The regional council said on Monday that 12 people were injured when a bus left the road near the "
         "northern bridge during heavy rain. Emergency crews worked through the night to free passengers, and "
         "the road stayed closed until the early morning while engineers checked the damaged barrier. "
         "Officials said the driver had been taken to hospital and police were questioning witnesses about "
         "the speed of the bus before the crash. The council promised a full review of safety on the route.")
    y = ("Shares in the country's largest bank rose sharply on Tuesday after it reported record profits for "
         "the third quarter and announced a new buyback programme. Analysts said lower funding costs and strong "
         "demand for mortgages had lifted earnings, although some warned that bad loans could rise next year as "
         "interest rates stay high. The bank's chief executive said the outlook remained uncertain but that "
         "the lender was well placed to keep paying dividends to its investors.")
    roundup = x.replace("12 people", "15 people") + "\n\n" + y
    res = cluster_articles([Article("X", x), Article("Y", y), Article("R", roundup)])
    assert not any({"X", "Y"} <= set(c.members) for c in res.clusters), [c.members for c in res.clusters]


def test_latest_version_is_the_first_copy_of_the_version_published_last():
    from types import SimpleNamespace as L

    from dedup.cluster import latest_version

    when = {"o": (1.0, 0), "u": (2.0, 1), "c": (3.0, 2), "t": (4.0, 3)}
    # c republishes the original after the update u; t is a truncated copy of o (contained)
    links = [L(a="o", b="u", kind="update"), L(a="o", b="c", kind="exact"), L(a="u", b="c", kind="update"),
             L(a="t", b="o", kind="contained", containment_ab=0.97, containment_ba=0.4)]
    assert latest_version("o", links, when) == "u"
    assert latest_version("o", links[1:2] + links[3:], when) == "o"  # no update: the canonical copy
    u2 = [*links, L(a="v", b="u", kind="update"), L(a="w", b="v", kind="near")]
    assert latest_version("o", u2, {**when, "v": (5.0, 4), "w": (6.0, 5)}) == "v"
    reordered = [L(a="o", b="u", kind="update"), L(a="o", b="r", kind="reused"), L(a="r", b="u", kind="update")]
    assert latest_version("o", reordered, {**when, "r": (9.0, 4)}) == "u"  # r: o's passages moved, o's figures
    assert latest_version("o", reordered, {**when, "r": (None, 4)}) == "u"  # undated: the same
    # c reuses passages of both o and u (a brief cut after the update): it may carry either's figures and
    # joins neither, so it never merges o's version with u's (which would hide the update)
    both = [L(a="o", b="u", kind="update"), L(a="o", b="c", kind="reused"), L(a="u", b="c", kind="reused")]
    assert latest_version("o", both, {**when, "c": (9.0, 4)}) == "u"
    # r (dated between o and u) reuses both: r would join o's version and u r's; a copy of a copy that
    # joins stays apart, so the update is never folded into the original's version
    assert latest_version("o", both, {"o": (1.0, 0), "c": (2.0, 1), "u": (3.0, 2)}) == "u"
    undated = {"o": (None, 0), "u": (None, 1)}
    assert latest_version("o", links[:1], undated) == "u"  # ties: the later in input order


def test_a_text_inside_unrelated_stories_joins_none_of_them():
    # 3 (a brief that is mostly a house footer) lies inside stories 0, 1 and 2, which share nothing else
    links = [(3, 0, "contained"), (3, 1, "contained"), (3, 2, "contained")]
    groups, dropped = cluster_links(4, links, [300, 320, 340, 58])
    assert groups == [] and dropped == {(0, 3), (1, 3), (2, 3)}


def test_a_text_inside_related_containers_joins_them():
    # 3 lies inside 0 and 1, which are one story by a confirmed link between them: a near link
    # between texts of about the same length, or one containing the other
    for between, lengths in (((0, 1, "near"), [300, 290, 58]), ((1, 0, "contained"), [300, 200, 58])):
        groups, dropped = cluster_links(3, [(2, 0, "contained"), (2, 1, "contained"), between], lengths)
        assert groups == [[0, 1, 2]] and not dropped, between


def test_a_text_inside_a_heavily_edited_story_joins_all_its_copies():
    # 3 lies inside 0, 1 and 2; 2 (shorter) is near 0 and 1, which stage 2 cannot tell apart
    # (it joins 0, its best): the links through 2 still make the containers one story
    links = [(3, 0, "contained"), (3, 1, "contained"), (3, 2, "contained"), (2, 0, "near", None, 0.9),
             (2, 1, "near", None, 0.8)]
    groups, _ = cluster_links(4, links, [300, 200, 150, 58])
    assert groups == [[0, 1, 2, 3]]


def test_a_brief_in_its_story_and_in_a_digest_joins_its_story():
    # 0 and 1 are stories, 2 and 3 their briefs (each inside its story), 4 a digest of the two
    # briefs: the digest is a compilation, so it neither merges them nor makes them ambiguous
    links = [(2, 0, "contained", (0, 60)), (3, 1, "contained", (0, 60)),
             (2, 4, "contained", (0, 60)), (3, 4, "contained", (60, 120))]
    groups, dropped = cluster_links(5, links, [300, 310, 60, 60, 120])
    assert sorted(groups) == [[0, 2], [1, 3]] and dropped == {(2, 4), (3, 4)}


def test_a_brief_in_two_cut_copies_of_one_story_joins_them():
    # 3 (the lede) lies inside 1 and 2, two copies of story 0 cut short at different places;
    # 3 inside 0 itself was not proposed: 0 contains both containers, so they are one story
    links = [(1, 0, "contained", (0, 300)), (2, 0, "contained", (0, 320)),
             (3, 1, "contained", (0, 60)), (3, 2, "contained", (0, 60))]
    groups, dropped = cluster_links(4, links, [600, 300, 320, 60])
    assert groups == [[0, 1, 2, 3]] and not dropped
