"""Hostile input: texts built to break normalisation and fingerprinting, keys
used on other namespaces, ids and namespaces crafted to reach other keys."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import Article, Deduplicator, Params, cluster_articles
from dedup.errors import DedupError
from harness import story

#: characters that have broken text pipelines: controls, bidi marks and overrides, zero-width, BOM, emoji.
_NASTY = "\x00\x01\x07\x0b\x1b\x7f\x85\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069\ufeff\ufffd\U0001f600\U0001f1eb\U0001f1f7\u0301"
_WORDISH = st.sampled_from(["the", "bank", "rates", "مرحبا", "שלום", "東京", "1,000", "5%", "U.S.", "naïve", "e\u0301"])
HOSTILE = st.one_of(
    st.text(alphabet=st.sampled_from(_NASTY), min_size=1, max_size=50),  # nothing but nasties
    st.text(min_size=1, max_size=2),  # one- and two-character texts
    st.lists(st.one_of(_WORDISH, st.text(alphabet=st.sampled_from(_NASTY), max_size=3)), min_size=1, max_size=80)
    .map(" ".join),  # words with nasties between them
    st.tuples(_WORDISH, st.integers(1, 3000)).map(lambda t: " ".join([t[0]] * t[1])),  # one repeated word
    st.text(max_size=300).filter(bool),
)


@given(text=HOSTILE)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_texts_through_the_whole_service(app, text):
    """Store, look up, read, delete: 201/200 or a clear 4xx, never a 5xx; nothing left behind."""
    c, ns = app.test_client(), app.config["DEFAULT_NAMESPACE"]
    r = c.post("/v1/articles", json={"id": "h", "text": text})
    assert r.status_code in (201, 200, 400, 413), (r.status_code, r.json)
    if r.status_code >= 400:
        assert set(r.json) == {"error"} and r.json["error"]["code"] in ("invalid_article", "too_large")
        assert app.extensions["dedup"].index(ns).keys() == []  # refused: nothing written
        return
    q = c.post("/v1/duplicates", json={"id": "q", "text": text})
    assert q.status_code == 200 and [d["id"] for d in q.json["duplicates"]] == ["h"]  # its own copy
    assert c.get("/v1/articles/h").status_code == 200
    assert c.delete("/v1/articles/h").status_code == 204
    assert app.extensions["dedup"].index(ns).keys() == []


@given(texts=st.lists(HOSTILE, min_size=1, max_size=8))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_hostile_texts_through_batch_and_the_deduplicator(texts):
    arts = [Article(f"a{i}", t) for i, t in enumerate(texts)] + [Article("copy", texts[0])]
    skipped: list = []
    res = cluster_articles(arts, Params(), jobs=1, on_skip=lambda i, why: skipped.append(i))
    assert res.n_articles + res.n_skipped == len(arts)
    if "a0" not in skipped:  # a text with words: its exact copy is found
        assert any({"a0", "copy"} <= set(c.members) for c in res.clusters)
    d = Deduplicator()
    for a in arts:
        try:
            d.add(a)
        except DedupError as e:  # InvalidArticle, TooLarge: the same refusal as batch's
            assert a.id in skipped and e.status in (400, 413)
    assert len(d) == res.n_articles


def test_ten_megabyte_texts(app):
    big = "word " * 2_000_000  # 10 MB, one repeated word
    r = app.test_client().post("/v1/articles", json={"id": "big", "text": big})
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    res = cluster_articles([Article("big", big), Article("small", story(1))], Params(), jobs=1)
    assert res.n_skipped == 1 and "big" in res.skipped[0][0] and "bytes" in res.skipped[0][1]


KEYS = "k1=ns1;k2=ns2"


@pytest.fixture
def keyed(redis_server, namespace):
    """An app with two keys, each bound to its namespace; ns2 holds one article."""
    from dedup_service.app import create_app

    app = create_app({"TESTING": True, "REDIS_URL": redis_server.url, "API_KEYS": KEYS, "CAPACITY": 1000,
                      "KEY_PREFIX": "iso" + namespace})
    c = app.test_client()
    assert c.post("/v1/articles", json={"id": "secret", "text": story(5)},
                  headers={"Authorization": "Bearer k2", "X-Dedup-Namespace": "ns2"}).status_code == 201
    yield app
    for ns in ("ns1", "ns2"):
        index = app.extensions["dedup"].index(ns)
        for key in index.keys():
            index.client.delete(key)
    app.extensions["dedup"].close()


_ROUTES = [("POST", "/articles", {"id": "secret", "text": story(5)}), ("POST", "/duplicates", {"text": story(5)}),
           ("GET", "/articles/secret", None), ("DELETE", "/articles/secret", None), ("GET", "/clusters/secret", None),
           ("POST", "/batch", json.dumps({"id": "x", "text": story(6)}) + "\n")]


@pytest.mark.parametrize("method, route, body", _ROUTES, ids=[f"{m} {r}" for m, r, _ in _ROUTES])
@pytest.mark.parametrize("how", ["header", "path"])
def test_a_key_cannot_touch_another_namespace(keyed, method, route, body, how):
    c = keyed.test_client()
    index = keyed.extensions["dedup"].index("ns2")
    before = {k: index.client.dump(k) for k in index.keys()}
    kw = {"headers": {"Authorization": "Bearer k1"}}
    if how == "header":
        url = "/v1" + route
        kw["headers"]["X-Dedup-Namespace"] = "ns2"
    else:
        url = "/v1/ns/ns2" + route
    if isinstance(body, dict):
        kw["json"] = body
    elif body is not None:
        kw.update(data=body, content_type="application/x-ndjson")
    r = c.open(url, method=method, **kw)
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert {k: index.client.dump(k) for k in index.keys()} == before  # not one byte changed
    kw["headers"]["Authorization"] = "Bearer k2"  # the same request with the right key works
    assert c.open(url, method=method, **kw).status_code in (200, 201, 204)


@pytest.mark.parametrize("ns", ["ns2}", "{ns2}", "ns1}x{ns2", "ns*", "ns?", "ns[12]", "ns1/../ns2", "ns1 ", " ns2",
                                "ns\x00", "n\u0455", "a" * 65, "ns1\r\nX-Dedup-Namespace: ns2"])
def test_crafted_namespaces_are_refused(keyed, ns):
    c = keyed.test_client()
    for headers, url in (({"X-Dedup-Namespace": ns}, "/v1/articles/secret"), ({}, f"/v1/ns/{ns}/articles/secret")):
        try:
            r = c.get(url, headers={"Authorization": "Bearer k2", **headers})
        except ValueError:  # werkzeug's test client refuses a header with a newline itself
            continue
        assert r.status_code in (400, 403, 404), (ns, url, r.status_code)
        assert r.status_code != 200


@pytest.mark.parametrize("doc_id", ["{ns2}secret", "}{ns2}", "*", "secret*", "../ns2/secret", "%2e%2e/secret",
                                    "isoX{ns2}rAAAA", "a" * 1025, "secret\x00", "secret\n"])
def test_crafted_ids_reach_no_other_key(keyed, doc_id):
    """Stored in ns1 (or refused with a 4xx): ns2's keys stay byte for byte as they were."""
    c = keyed.test_client()
    index = keyed.extensions["dedup"].index("ns2")
    before = {k: index.client.dump(k) for k in index.keys()}
    h = {"Authorization": "Bearer k1", "X-Dedup-Namespace": "ns1"}
    r = c.post("/v1/articles", json={"id": doc_id, "text": story(5)}, headers=h)
    assert r.status_code in (201, 400), r.json
    if r.status_code == 201:
        assert r.json["duplicates"] == []  # ns2's copy of the same text is invisible from ns1
        from urllib.parse import quote

        assert c.get("/v1/articles/" + quote(doc_id, safe=""), headers=h).status_code == 200
        assert c.delete("/v1/articles/" + quote(doc_id, safe=""), headers=h).status_code == 204
    assert {k: index.client.dump(k) for k in index.keys()} == before
    assert keyed.extensions["dedup"].index("ns1").keys() == []


def test_api_keys_are_never_logged(keyed, caplog):
    c = keyed.test_client()
    with caplog.at_level(logging.DEBUG):
        for key in ("k1", "wrong-key-zz9", "k\u00e9y"):
            c.get("/v1/articles/secret", headers={"Authorization": f"Bearer {key}", "X-Dedup-Namespace": "ns2"})
    assert not any(k in caplog.text for k in ("wrong-key-zz9", "k\u00e9y"))
