"""Cluster names are unique among live clusters: a story keeps its
founder's id as its name while any member lives, so a new article posted
under that id (after the founder's removal, or as a replacement with other
words) founds a story with a fresh name (``<id>~2``, ...), one at a time
and through the pipelined load alike (key for key), and an editor's split
names its new story the same way."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from dedup import Article

sys.path.insert(0, str(Path(__file__).parent))
from test_load import _contents

_WORDS = [f"w{i}" for i in range(3000)]


def _story(seed: int, n: int = 90) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(_WORDS) for _ in range(n)) + "."


def _copy(seed: int) -> str:
    return "LONDON (Reuters) - " + _story(seed)


def _post(c, ns: str, doc_id: str, text: str) -> dict:
    got = c.post(f"/v1/ns/{ns}/articles", json={"id": doc_id, "text": text})
    assert got.status_code in (200, 201), got.json
    return got.json


def _cluster_of(c, ns: str, doc_id: str) -> tuple[str, list[str]]:
    """The article's story as a client follows it: the ``cluster`` its read
    answers, then that cluster's page by name, which must hold the article."""
    name = c.get(f"/v1/ns/{ns}/articles/{doc_id}").json["cluster"]
    got = c.get(f"/v1/ns/{ns}/clusters/{name}?limit=1000").json
    members = sorted(m["id"] for m in got["members"])
    assert got["cluster"] == name and doc_id in members, (doc_id, name, got["cluster"], members)
    return name, members


def _assert_unique(c, ns: str, ids: list[str]) -> dict[str, list[str]]:
    """Every live article's cluster: one name never stands for two member sets."""
    seen: dict[str, list[str]] = {}
    for i in ids:
        name, members = _cluster_of(c, ns, i)
        assert seen.setdefault(name, members) == members, f"two live clusters are named {name!r}"
    return seen


def test_a_founders_id_posted_again_after_its_removal_founds_a_story_of_another_name(client, namespace):
    ns = namespace
    _post(client, ns, "A", _story(1))
    assert _post(client, ns, "B", _copy(1))["cluster"] == "A"
    assert client.delete(f"/v1/ns/{ns}/articles/A").status_code in (200, 204)
    assert _cluster_of(client, ns, "B") == ("A", ["B"])  # the story keeps its name without its founder
    got = _post(client, ns, "A", _story(2))  # an unrelated article under the founder's id
    assert got["cluster"] == "A~2" and got["duplicates"] == []
    assert _post(client, ns, "C", _copy(2))["cluster"] == "A~2"
    assert _cluster_of(client, ns, "B") == ("A", ["B"])
    assert _post(client, ns, "A~2", _story(3))["cluster"] == "A~2~2"  # an id that names a live story
    _assert_unique(client, ns, ["A", "B", "C", "A~2"])
    # once the story named "A" is gone, the name is free again
    client.delete(f"/v1/ns/{ns}/articles/B")
    client.delete(f"/v1/ns/{ns}/articles/A")  # "A~2" lives on with C
    assert _post(client, ns, "A", _story(4))["cluster"] == "A"
    assert _cluster_of(client, ns, "C") == ("A~2", ["C"])
    _assert_unique(client, ns, ["A", "C", "A~2"])


def test_a_fresh_name_is_never_a_stored_articles_id(client, namespace):
    """``A~2`` is a stored article's id (its own story's name): the new
    story under ``A`` takes ``A~3``."""
    ns = namespace
    _post(client, ns, "A", _story(1))
    _post(client, ns, "B", _copy(1))
    client.delete(f"/v1/ns/{ns}/articles/A")
    assert _post(client, ns, "A~2", _story(5))["cluster"] == "A~2"  # no live story holds that name
    assert _post(client, ns, "A", _story(2))["cluster"] == "A~3"
    _assert_unique(client, ns, ["A", "B", "A~2"])


def test_a_replaced_founder_leaves_its_story_the_name(client, namespace):
    """A founder posted again with other words (the replace path): its old
    story keeps ``A``; the new text founds ``A~2``; a copy of the old text
    joins ``A`` again, and merges keep the older story's name."""
    ns = namespace
    _post(client, ns, "A", _story(1))
    _post(client, ns, "B", _copy(1))
    assert _post(client, ns, "A", _story(2))["cluster"] == "A~2"
    assert _cluster_of(client, ns, "B") == ("A", ["B"])
    assert _post(client, ns, "A", _copy(1))["cluster"] == "A"  # replaced again, by the old story: joins it
    _assert_unique(client, ns, ["A", "B"])
    assert _post(client, ns, "D", _story(2))["cluster"] == "D"  # "A~2" died with its only member: no trace


def test_names_are_unique_after_a_split(app, client, namespace):
    """A story split off by an editor is named by its oldest article's id,
    unless a live story holds that id."""
    ns = namespace
    _post(client, ns, "A", _story(1))
    _post(client, ns, "B", _copy(1))
    client.delete(f"/v1/ns/{ns}/articles/A")
    _post(client, ns, "X", _story(6))
    _post(client, ns, "A", _copy(6))  # "A" joins X's story ("A" is held: its own story is "A~2", then merged)
    assert _cluster_of(client, ns, "A") == ("X", ["A", "X"])
    index = app.extensions["dedup"].index(ns)
    index.record_decision({"decision": "split", "from": "X", "ids": ["A"]})
    assert _cluster_of(client, ns, "A")[0] == "A~3"  # "A~2" was given (to A's story merged into X): not again
    _assert_unique(client, ns, ["A", "B", "X"])


def test_the_pipelined_load_names_stories_as_posts_one_by_one_do(app, redis_client, namespace):
    from dedup_service import bulk

    rows = [("A", _story(1)), ("B", _copy(1)), ("A", _story(2)), ("C", _copy(2)), ("A~2", _story(3)),
            ("D", _copy(3)), ("A", _story(4)), ("E", _story(7)), ("A~3", _copy(4)), ("F", _copy(7))]
    for doc_id, text in rows:
        _post(app.test_client(), namespace, doc_id, text)
    index = app.extensions["dedup"].index(namespace + "-load")
    bulk.add_in_order(index, [Article(doc_id, text) for doc_id, text in rows])
    posted = _contents(redis_client, f"dd{{{namespace}}}".encode())
    loaded = _contents(redis_client, f"dd{{{namespace}-load}}".encode())
    assert loaded == posted
    names = redis_client.hgetall(f"dd{{{namespace}}}N")
    # "A~2~2": the article "A~2" (its id held); "A~3": the third "A" ("A~2" is a stored id); the article
    # "A~3" joined that story (its fresh name "A~3~2" dropped in the merge); "E": E and F
    assert sorted(names) == [b"A", b"A~2", b"A~2~2", b"A~3", b"E"]
    _assert_unique(app.test_client(), namespace, ["A", "B", "C", "D", "A~2", "A~3", "E", "F"])
