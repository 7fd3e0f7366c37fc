"""Editors' decisions (dedup/decisions.py): the pure rules against plain
references, the clustering policy and the online Deduplicator with them,
``dedup batch --decisions``, and the service's routes on the private Redis
(respected by later adds, carried by export/reindex, the same stories as
batch given the exported decisions)."""

from __future__ import annotations

import json
from itertools import combinations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import Article, Deduplicator
from dedup.batch import cluster_articles
from dedup.cluster import GuardedUnionFind, cluster_links
from dedup.decisions import Decisions, allowed_links, parse_decision
from dedup.errors import DecisionConflict, InvalidDecision
from dedup.types import Link

STORY = ("The central bank raised its main interest rate by a quarter point on Thursday, the third increase this "
         "year, and said inflation was likely to stay high into next year as wages keep rising. ")
OTHER = ("Heavy rain flooded roads across the north of the country overnight, and rail services between the two "
         "largest cities were cancelled while crews cleared fallen trees from the lines. ")


def copy(prefix: str, body: str = STORY, n: int = 3) -> str:
    return f"{prefix.upper()} (AP) - " + body * n


# -- the records --------------------------------------------------------------
def test_records_are_normalised_so_the_same_decision_is_one():
    a = parse_decision({"decision": "not_duplicate", "ids": ["b", "a"]})
    assert a == parse_decision({"decision": "not_duplicate", "ids": ["a", "b"]}) == {"decision": "not_duplicate", "ids": ["a", "b"]}
    assert len(Decisions.from_records([a, {"decision": "not_duplicate", "ids": ["b", "a"]}])) == 1
    assert parse_decision({"decision": "split", "ids": ["y", "x", "y"], "from": "f"}) == {
        "decision": "split", "ids": ["x", "y"], "from": "f"}


@pytest.mark.parametrize("raw, why", [
    ([], "JSON object"), ({"decision": "merge"}, "must be one of"), ({"decision": "canonical", "id": ""}, "non-empty"),
    ({"decision": "canonical", "id": "a", "why": 1}, "unknown field"), ({"decision": "not_duplicate", "ids": ["a", "a"]}, "two different"),
    ({"decision": "not_duplicate", "ids": ["a", "b\x00"]}, "control characters"),
    ({"decision": "split", "ids": [str(i) for i in range(101)], "from": "f"}, "at most 100"),
    ({"decision": "split", "ids": "a", "from": "f"}, "list"),
])
def test_malformed_records_are_refused_saying_why(raw, why):
    with pytest.raises(InvalidDecision, match=why):
        parse_decision(raw)


def test_a_split_cannot_move_the_article_it_names_as_staying():
    with pytest.raises(DecisionConflict, match="cannot be in ids"):
        parse_decision({"decision": "split", "ids": ["f", "x"], "from": "f"})


def test_the_rules_a_decision_set_makes():
    d = Decisions.from_records([{"decision": "not_duplicate", "ids": ["a", "b"]},
                                {"decision": "split", "ids": ["x", "y"], "from": "f"},
                                {"decision": "canonical", "id": "y"}])
    assert d.forbids("b", "a") and d.forbids("x", "f") and d.forbids("f", "y") and not d.forbids("x", "y")
    assert d.named() == {"a", "b", "x", "y", "f"} and d.groups() == [["x", "y"]]
    # the pick wins over an earlier date and more words; without picks, the rule
    assert d.canonical(["x", "y"], [1.0, 2.0], [10, 5]) == 1
    assert d.canonical(["x", "z"], [1.0, 2.0], [10, 5]) == 0
    apart, together, pinned = d.for_positions(["f", "x", "y", "q"])
    assert apart == {0: {1, 2}, 1: {0}, 2: {0}} and together == [[1, 2]] and pinned == [False, False, True, False]


# -- the rules against plain references ----------------------------------------
@given(st.data())
@settings(max_examples=200, deadline=None)
def test_guarded_union_find_equals_explicit_sets(data):
    """Every union refused exactly when the two sets, written out, hold a pair ruled apart."""
    n = data.draw(st.integers(2, 12))
    pairs = data.draw(st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]), max_size=8))
    apart: dict[int, set[int]] = {}
    for a, b in pairs:
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    uf, sets = GuardedUnionFind(n, apart), [{i} for i in range(n)]
    for x, y in data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30)):
        sx = next(s for s in sets if x in s)
        sy = next(s for s in sets if y in s)
        refuse = sx is not sy and any(b in sy for a in sx for b in apart.get(a, ()))
        assert (uf.union(x, y) == -1) == refuse
        if sx is not sy and not refuse:
            sets.remove(sy)
            sx |= sy
    assert sorted(sorted(s) for s in sets) == sorted(sorted(i for i in range(n) if uf.find(i) == r) for r in {uf.find(i) for i in range(n)})


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_allowed_links_sees_a_story_through_its_named_members_only(data):
    """The online rule, given each story's named members only, decides as if it saw every member."""
    ids = [f"m{i}" for i in range(10)]
    story_of = {i: f"s{data.draw(st.integers(0, 3))}" for i in ids}
    records = [{"decision": "not_duplicate", "ids": list(p)}
               for p in data.draw(st.sets(st.sampled_from(list(combinations(ids + ["new"], 2))), max_size=6))]
    d = Decisions.from_records(records)
    partners = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6, unique=True))
    links = [Link("new", b, "near", 0.9, 0.9, 0.9, 1.0 - k / 100) for k, b in enumerate(partners)]
    named_in: dict[str, set[str]] = {}
    for i in d.named() & set(ids):
        named_in.setdefault(story_of[i], set()).add(i)
    kept, dropped = allowed_links(d, "new", links, story_of, named_in)
    # reference: whole stories, written out
    group, joined, want = {"new"}, set(), []
    for link in links:
        s = story_of[link.b]
        members = {i for i in ids if story_of[i] == s}
        if s in joined or not any(d.forbids(u, v) for u in group for v in members):
            joined.add(s)
            group |= members
            want.append(link)
    assert kept == want and len(kept) + len(dropped) == len(links)


# -- the clustering policy, the online path, batch -------------------------------
def test_cluster_links_keeps_apart_groups_together_and_refuses_merges():
    links = [(0, 1, "exact"), (1, 2, "exact"), (3, 4, "exact")]
    groups, _ = cluster_links(5, links, [10] * 5)
    assert groups == [[0, 1, 2], [3, 4]]
    refused: list = []
    groups, _ = cluster_links(5, links, [10] * 5, apart={0: {2}, 2: {0}}, together=[[2, 3]], refused=refused)
    assert sorted(groups) == [[0, 1], [2, 3, 4]] and refused == [(1, 2)]


def stream() -> list[Article]:
    return [Article("a", copy("paris")), Article("o", OTHER * 3), Article("b", copy("london")),
            Article("c", copy("rome") + " Shares fell."), Article("d", copy("oslo"))]


def stories(clusters) -> set[tuple[str, tuple[str, ...]]]:
    return {(c.canonical, tuple(sorted(c.members))) for c in clusters}


RULES = [{"decision": "not_duplicate", "ids": ["a", "b"]}, {"decision": "canonical", "id": "d"}]


def test_batch_and_the_online_deduplicator_respect_the_same_decisions():
    decisions = Decisions.from_records(RULES)
    assert stories(cluster_articles(stream()).clusters) == {("c", ("a", "b", "c", "d"))}  # no decision: one story
    batch = stories(cluster_articles(stream(), decisions=decisions).clusters)
    assert batch == {("d", ("a", "c", "d"))}  # b alone: a story of one is no cluster
    online = Deduplicator(decisions=decisions)
    for art in stream():
        online.add(art)
    got = {(canon, tuple(sorted(ms))) for _, canon, ms in map(online.story, "abcdo")}
    assert {s for s in got if len(s[1]) > 1} == batch
    assert online.story("b")[2] == ["b"]


def test_dedup_batch_reads_a_decisions_file(tmp_path):
    from dedup.cli import cli

    src = tmp_path / "dump.jsonl"
    src.write_text("".join(json.dumps({"id": a.id, "text": a.text}) + "\n" for a in stream()), encoding="utf-8")
    rules = tmp_path / "decisions.jsonl"
    rules.write_text("".join(json.dumps(r) + "\n" for r in RULES), encoding="utf-8")
    r = CliRunner().invoke(cli, ["batch", str(src), "--decisions", str(rules), "--quiet", "--jobs", "1",
                                 "--report", str(tmp_path / "report.json"), "--clusters", str(tmp_path / "c.jsonl")])
    assert r.exit_code == 0, r.output
    got = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert [(c["canonical"], sorted(c["members"])) for c in got] == [("d", ["a", "c", "d"])]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["decisions"] == 2 and report["links_refused_by_decisions"] >= 1
    rules.write_text(json.dumps(RULES[0]) + "\n{\"decision\": \"merge\"}\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["batch", str(src), "--decisions", str(rules), "--quiet"])
    assert r.exit_code == 1 and "line 2: invalid_decision" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["batch", str(src), "--decisions", str(rules), "--state", str(tmp_path / "s")])
    assert r.exit_code == 2 and "not supported with --state" in r.output


# -- the service (real Redis) ------------------------------------------------------
def post(client, doc_id, text, **kw):
    r = client.post("/v1/articles", json={"id": doc_id, "text": text}, **kw)
    assert r.status_code in (200, 201), r.json
    return r.json


def decide(client, record, status=201, **kw):
    r = client.post("/v1/decisions", json=record, **kw)
    assert r.status_code == status, r.json
    return r.json


def members(client, doc_id):
    return sorted(m["id"] for m in client.get(f"/v1/clusters/{doc_id}?limit=1000").json["members"])


def test_a_pair_marked_not_duplicate_is_kept_apart_by_every_later_add(client):
    post(client, "a", copy("paris"))
    assert [d["id"] for d in client.post("/v1/duplicates", json={"id": "b", "text": copy("london")}).json["duplicates"]] == ["a"]
    got = decide(client, {"decision": "not_duplicate", "ids": ["b", "a"]})
    assert got == {"decision": {"decision": "not_duplicate", "ids": ["a", "b"]}, "moved": [], "superseded": []}
    assert decide(client, {"decision": "not_duplicate", "ids": ["a", "b"]}, status=200)["decision"] == got["decision"]
    assert client.post("/v1/duplicates", json={"id": "b", "text": copy("london")}).json["duplicates"] == []
    assert post(client, "b", copy("london"))["cluster"] == "b"
    post(client, "c", copy("rome"))  # a copy of both: joins one story only
    post(client, "d", copy("oslo"))
    assert members(client, "a") == ["a", "c", "d"] and members(client, "b") == ["b"]


def test_marking_a_stored_pair_moves_one_out_and_it_stays_out(client):
    post(client, "a", copy("paris"))
    post(client, "b", copy("london"))
    post(client, "c", copy("rome"))
    assert members(client, "a") == ["a", "b", "c"]
    got = decide(client, {"decision": "not_duplicate", "ids": ["a", "c"]})
    assert got["moved"] == ["c"]  # not the story's founder
    assert members(client, "a") == ["a", "b"] and members(client, "c") == ["c"]
    post(client, "d", copy("oslo"))
    assert "c" not in members(client, "d")


def test_a_split_moves_a_set_out_as_one_story_and_later_adds_do_not_rejoin_it(client):
    for i, city in enumerate(["paris", "london", "rome", "oslo"]):
        post(client, f"s{i}", copy(city))
    got = decide(client, {"decision": "split", "ids": ["s2", "s3"], "from": "s0"})
    assert got["moved"] == ["s2", "s3"]
    assert members(client, "s0") == ["s0", "s1"] and members(client, "s2") == ["s2", "s3"]
    assert client.get("/v1/clusters/s2").json["cluster"] == "s2"
    post(client, "s4", copy("kyiv"))  # a copy of both stories
    assert sorted([members(client, "s0"), members(client, "s2")]) in (
        [["s0", "s1", "s4"], ["s2", "s3"]], [["s0", "s1"], ["s2", "s3", "s4"]])
    decide(client, {"decision": "split", "ids": ["s0"], "from": "s1"}, status=409)  # s0 founded the story
    decide(client, {"decision": "split", "ids": ["s1", "s2"], "from": "s0"}, status=409)  # not one story
    decide(client, {"decision": "split", "ids": ["nobody"], "from": "s0"}, status=404)
    decide(client, {"decision": "not_duplicate", "ids": ["s5", "s6"]})
    decide(client, {"decision": "split", "ids": ["s5", "s6"], "from": "s0"}, status=409)  # ruled apart


def test_a_canonical_pick_sticks_through_later_adds(client):
    post(client, "a", copy("paris"))
    post(client, "b", copy("london") + " More words to make it the most complete.")
    assert client.get("/v1/clusters/a").json["canonical"] == "b"
    decide(client, {"decision": "canonical", "id": "a"})
    assert client.get("/v1/clusters/a").json["canonical"] == "a"
    r = client.post("/v1/articles", json={"id": "c", "text": copy("rome"), "published": "2001-01-01"})
    assert r.json["canonical"] == "a"  # an earlier date does not override an editor's pick
    got = decide(client, {"decision": "canonical", "id": "c"})
    assert got["superseded"] == [{"decision": "canonical", "id": "a"}]
    assert client.get("/v1/clusters/a").json["canonical"] == "c"
    assert client.get("/v1/decisions").json["decisions"] == [{"decision": "canonical", "id": "c"}]


def test_decisions_are_listed_in_order_as_json_and_json_lines(client):
    made = [{"decision": "not_duplicate", "ids": [f"x{i}", f"y{i}"]} for i in range(5)]
    for r in made:
        decide(client, r)
    page1 = client.get("/v1/decisions?limit=2").json
    assert page1["decisions"] == made[:2] and page1["next"] == 2
    assert client.get("/v1/decisions?cursor=4").json == {"decisions": made[4:], "cursor": 4, "next": None}
    r = client.get("/v1/decisions?format=ndjson&limit=2")
    assert r.mimetype == "application/x-ndjson" and [json.loads(x) for x in r.data.decode().splitlines()] == made
    assert client.get("/v1/decisions?format=xml").status_code == 400
    assert client.post("/v1/decisions", data="{", content_type="application/json").json["error"]["code"] == "invalid_json"
    assert client.post("/v1/decisions", json={"decision": "merge"}).json["error"]["code"] == "invalid_decision"


def test_decisions_respect_api_keys_and_namespaces(redis_server, namespace):
    from dedup_service.app import create_app

    app = create_app({"REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace, "CAPACITY": 1000,
                      "API_KEYS": {"k1": [namespace], "k2": [namespace + "x"]}})
    c = app.test_client()
    rec = {"decision": "not_duplicate", "ids": ["a", "b"]}
    assert c.post("/v1/decisions", json=rec).status_code == 401
    assert c.post("/v1/decisions", json=rec, headers={"X-API-Key": "k2"}).status_code == 403
    assert c.post(f"/v1/ns/{namespace}/decisions", json=rec, headers={"X-API-Key": "k2"}).status_code == 403
    for route in ("/v1/decisions", "/v1/search?q=a", "/v1/activity"):
        assert c.get(route, headers={"X-API-Key": "k2"}).status_code == 403
    assert c.post("/v1/decisions", json=rec, headers={"X-API-Key": "k1"}).status_code == 201
    assert c.get(f"/v1/ns/{namespace}x/decisions", headers={"X-API-Key": "k2"}).json["decisions"] == []
    assert app.extensions["dedup"].index(namespace + "x").keys() == []  # nothing written in the other namespace
    app.extensions["dedup"].close()


def test_the_service_and_batch_given_its_exported_decisions_give_the_same_stories(client, tmp_path):
    """Decisions made as the articles arrive (before and after the pair they name was stored), exported as
    JSON Lines, then ``dedup batch --decisions`` over the same articles: the same stories, the same canonicals."""
    from dedup.cli import cli

    arts = [Article(f"n{i}", copy(city, STORY if i % 3 else OTHER)) for i, city in
            enumerate(["paris", "rome", "london", "oslo", "kyiv", "lima", "baku", "doha", "riga"])]
    post(client, arts[0].id, arts[0].text)
    decide(client, {"decision": "not_duplicate", "ids": ["n1", "n2"]})  # before either is stored
    for a in arts[1:5]:
        post(client, a.id, a.text)
    decide(client, {"decision": "canonical", "id": "n4"})
    decide(client, {"decision": "not_duplicate", "ids": ["n0", "n3"]})  # both stored, one story: n3 leaves
    for a in arts[5:]:
        post(client, a.id, a.text)
    service = set()
    for a in arts:
        c = client.get(f"/v1/clusters/{a.id}?limit=1000").json
        if c["size"] > 1:
            service.add((c["canonical"], tuple(sorted(m["id"] for m in c["members"]))))
    rules = tmp_path / "decisions.jsonl"
    rules.write_bytes(client.get("/v1/decisions?format=ndjson").data)
    src = tmp_path / "dump.jsonl"
    src.write_text("".join(json.dumps({"id": a.id, "text": a.text}) + "\n" for a in arts), encoding="utf-8")  # the service's order
    out = tmp_path / "clusters.jsonl"
    r = CliRunner().invoke(cli, ["batch", str(src), "--decisions", str(rules), "--clusters", str(out), "--quiet", "--jobs", "1"])
    assert r.exit_code == 0, r.output
    batch = {(c["canonical"], tuple(sorted(c["members"]))) for c in map(json.loads, out.read_text().splitlines())}
    assert batch == service and len(service) >= 2


def test_export_and_reindex_carry_the_decisions(app, client, namespace):
    from dedup_service.export import export_lines, read_export, replay

    for i, city in enumerate(["paris", "london", "rome"]):
        post(client, f"e{i}", copy(city))
    decide(client, {"decision": "not_duplicate", "ids": ["e0", "e2"]})
    decide(client, {"decision": "canonical", "id": "e1"})
    index = app.extensions["dedup"].index(namespace)
    lines = list(export_lines(index))
    assert [json.loads(x) for x in lines[1:3]] == [{"decision": "not_duplicate", "ids": ["e0", "e2"]},
                                                    {"decision": "canonical", "id": "e1"}]
    other = app.extensions["dedup"].index(namespace + "-copy")
    replay(other, read_export(lines, other.params))
    assert other.decisions() == index.decisions()
    for i in range(3):
        mine, theirs = index.story(f"e{i}"), other.story(f"e{i}")
        assert (theirs.cluster, theirs.canonical) == (mine.cluster, mine.canonical)
    assert index.story("e2").cluster != index.story("e0").cluster and index.story("e0").canonical == "e1"


# -- search and activity -------------------------------------------------------
def test_search_finds_titles_by_words_and_ids_newest_first_in_pages(client):
    for i in range(7):
        client.post("/v1/articles", json={"id": f"t{i}", "text": OTHER * 2 + f" Item {i}." + " x" * i,
                                          "title": f"Flood warning number {i}" if i % 2 else f"Rates story {i}"})
    got = client.get("/v1/search?q=FLOOD warn").json
    assert [x["id"] for x in got["results"]] == ["t5", "t3", "t1"] and got["next"] is None
    page = client.get("/v1/search?q=flood&limit=2").json
    assert [x["id"] for x in page["results"]] == ["t5", "t3"] and page["next"]
    assert [x["id"] for x in client.get(f"/v1/search?q=flood&limit=2&cursor={page['next']}").json["results"]] == ["t1"]
    assert [x["id"] for x in client.get("/v1/search?q=t4").json["results"]] == ["t4"]  # an id
    assert client.get("/v1/search?q=%20").status_code == 400
    assert client.get("/v1/search").status_code == 400


def test_activity_lists_the_newest_articles_and_counts(client):
    for i in range(4):
        post(client, f"r{i}", OTHER * 2 + f" Note {i}." + " y" * i)
    decide(client, {"decision": "canonical", "id": "r1"})
    got = client.get("/v1/activity?limit=3").json
    assert [x["id"] for x in got["recent"]] == ["r3", "r2", "r1"]
    assert got["articles"] == 4 and got["decisions"] == 1 and got["pending"] == 0
    client.delete("/v1/articles/r3")
    assert [x["id"] for x in client.get("/v1/activity?limit=3").json["recent"]] == ["r2", "r1"]  # the newest 3 ids


def test_an_adds_round_trips_with_decisions_do_not_grow_with_the_story(client, redis_requests):
    """Four more round trips when the namespace has decisions, whatever the size of the story joined."""
    trips = {}
    for size in (3, 60):
        ns = {"X-Dedup-Namespace": f"grow{size}-{id(client)}"}
        for i in range(size):
            post(client, f"g{i}", f"DESK {i} - " + STORY * 3, headers=ns)
        plain = {"X-Dedup-Namespace": ns["X-Dedup-Namespace"] + "p"}
        for i in range(size):
            post(client, f"g{i}", f"DESK {i} - " + STORY * 3, headers=plain)
        decide(client, {"decision": "not_duplicate", "ids": ["g0", f"g{size - 1}"]}, headers=ns)
        for name, headers in (("decided", ns), ("plain", plain)):
            redis_requests.n = 0
            assert post(client, "new", "WIRE - " + STORY * 3, headers=headers)["duplicates"]
            trips[size, name] = redis_requests.n
    assert trips[3, "decided"] == trips[60, "decided"] == trips[3, "plain"] + 4 == trips[60, "plain"] + 4
