"""Every route of the service through Flask's test client, on the private Redis."""

from __future__ import annotations

import json
import random
import threading


WORDS = ("minister bank rates inflation court ruling police storm election market shares profit council "
         "hospital school budget report league match season club players strike union energy prices oil "
         "talks treaty border army region company deal merger board chief executive said on tuesday").split()


def story(seed: int, n: int = 120) -> str:
    rnd = random.Random(seed)
    return " ".join(rnd.choice(WORDS) for _ in range(n)) + f" reference {seed}."


def post(client, body, path="/v1/articles", **kw):
    return client.post(path, json=body, **kw)


def test_post_finds_duplicates_then_stores(client):
    text = story(1)
    r = post(client, {"id": "a", "text": text, "title": "T", "url": "http://x/a", "source": "AP",
                      "published": "2024-05-01T10:00:00Z"})
    assert r.status_code == 201
    assert r.json == {"id": "a", "cluster": "a", "canonical": "a", "latest": "a", "duplicates": []}
    r = post(client, {"id": "b", "text": "LONDON (Reuters) - " + text, "published": "2024-05-01T11:00:00Z"})
    assert r.status_code == 201
    body = r.json
    assert body["cluster"] == "a" and body["canonical"] == "a"
    (dup,) = body["duplicates"]
    assert dup["id"] == "a" and dup["kind"] in ("exact", "near") and set(dup) >= {"jaccard", "containment", "score"}
    assert post(client, {"id": "c", "text": story(2)}).json["duplicates"] == []


def test_idempotent_retry_returns_200_and_same_answer(client):
    text = story(3)
    post(client, {"id": "a", "text": text})
    first = post(client, {"id": "b", "text": text})
    retry = post(client, {"id": "b", "text": text})
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json["cluster"] == first.json["cluster"] == "a"
    assert [d["id"] for d in retry.json["duplicates"]] == ["a"]


def test_post_without_id_uses_content_hash(client):
    r = post(client, {"text": story(4)})
    assert r.status_code == 201 and r.json["id"].startswith("sha1:")
    assert post(client, {"text": story(4)}).status_code == 200


def test_duplicates_does_not_store(client):
    text = story(5)
    post(client, {"id": "a", "text": text})
    r = post(client, {"id": "q", "text": text}, "/v1/duplicates")
    assert r.status_code == 200 and [d["id"] for d in r.json["duplicates"]] == ["a"]
    assert r.json["cluster"] == "a"
    assert client.get("/v1/articles/q").status_code == 404


def test_explain_returns_passages(client):
    text = story(6)
    post(client, {"id": "a", "text": text})
    r = post(client, {"id": "b", "text": "Breaking: " + text}, "/v1/duplicates?explain=true")
    (dup,) = r.json["duplicates"]
    assert dup["passages"] and {"start", "end", "their_start", "their_end", "text"} <= set(dup["passages"][0])


def test_a_duplicate_is_seen_from_the_article_asked_about(client):
    """One serialiser (Link.to_dict(me=...)): my containment, my offsets first."""
    text = story(6)
    post(client, {"id": "a", "text": text})
    r = post(client, {"id": "b", "text": "Breaking news from the capital tonight: " + text}, "/v1/articles?explain=true")
    (from_b,) = r.json["duplicates"]
    words_only = [{**from_b, "passages": [{k: v for k, v in p.items() if "char" not in k} for p in from_b["passages"]]}]
    assert client.get("/v1/articles/b").json["duplicates"] == words_only  # the stored best link, passages included (the answer adds characters)
    seen_as_a = post(client, {"id": "q", "text": text}, "/v1/duplicates?explain=true").json["duplicates"]  # a's words
    (from_a,) = [d for d in seen_as_a if d["id"] == "b"]
    assert from_b["id"] == "a" and from_a["id"] == "b"
    assert from_a["containment"] != from_b["containment"]  # a lies inside b, not the other way round
    pb, pa = from_b["passages"][0], from_a["passages"][0]
    assert (pa["start"], pa["end"], pa["their_start"], pa["their_end"]) == (
        pb["their_start"], pb["their_end"], pb["start"], pb["end"])
    assert set(from_a) == set(from_b) == {"id", "title", "url", "source", "kind", "jaccard", "containment", "score", "passages"}


def test_similarity_override_changes_the_decision(client):
    text = story(7, 200)
    post(client, {"id": "a", "text": text})
    words = text.split()
    # the first 25% rewritten: not contained, and it does not open with the story either
    edited = " ".join(["rewritten"] * 50 + words[50:])
    assert post(client, {"text": edited}, "/v1/duplicates?similarity=0.5").json["duplicates"]
    assert post(client, {"text": edited}, "/v1/duplicates?similarity=0.99").json["duplicates"] == []


def test_get_article_and_cluster(client):
    text = story(8)
    post(client, {"id": "a", "text": text, "published": "2024-05-02T00:00:00Z"})
    post(client, {"id": "b", "text": text + " More to follow.", "published": "2024-05-01T00:00:00Z"})
    r = client.get("/v1/articles/b")
    assert r.status_code == 200
    body = r.json
    assert body["id"] == "b" and body["cluster"] == "a" and body["canonical"] == "b"  # earliest published
    assert body["published"] == "2024-05-01T00:00:00Z" and body["words"] > 100 and body["added"]
    assert [d["id"] for d in body["duplicates"]] == ["a"]
    c = client.get("/v1/clusters/a")
    assert c.status_code == 200
    assert [m["id"] for m in c.json["members"]] == ["a", "b"] and c.json["canonical"] == "b" and c.json["size"] == 2
    assert c.json["members"][0]["link"] is None and c.json["members"][1]["link"]["id"] == "a"  # b's best link
    assert c.json["next"] is None and c.json["members"][1]["published"] == "2024-05-01T00:00:00Z"
    assert client.get("/v1/clusters/b").json == c.json  # any member's id finds its cluster
    assert client.get("/v1/clusters/nope").json["error"]["code"] == "not_found"


def test_ids_with_slashes(client):
    assert post(client, {"id": "https://news.example/2024/05/a", "text": story(9)}).status_code == 201
    assert client.get("/v1/articles/https://news.example/2024/05/a").status_code == 200
    assert client.delete("/v1/articles/https://news.example/2024/05/a").status_code == 204


def test_delete_leaves_no_keys(client, app, namespace):
    text = story(10)
    for i in range(5):
        post(client, {"id": f"d{i}", "text": text if i % 2 else story(100 + i)})
    index = app.extensions["dedup"].index(namespace)
    assert index.keys()
    for i in range(5):
        assert client.delete(f"/v1/articles/d{i}").status_code == 204
    assert client.delete("/v1/articles/d0").status_code == 404
    assert index.keys() == []


def test_namespaces_are_isolated(client):
    text = story(11)
    assert post(client, {"id": "a", "text": text}, headers={"X-Dedup-Namespace": "room-1"}).status_code == 201
    r = post(client, {"id": "b", "text": text}, headers={"X-Dedup-Namespace": "room-2"})
    assert r.json["duplicates"] == []
    assert client.get("/v1/articles/a", headers={"X-Dedup-Namespace": "room-2"}).status_code == 404
    assert client.get("/v1/articles/a", headers={"X-Dedup-Namespace": "room-1"}).status_code == 200
    for ns, doc in (("room-1", "a"), ("room-2", "b")):
        client.delete(f"/v1/articles/{doc}", headers={"X-Dedup-Namespace": ns})
    bad = post(client, {"text": text}, headers={"X-Dedup-Namespace": "no{tags}"})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_namespace"


def test_concurrent_posts_of_one_story_end_in_one_cluster(app, namespace):
    """N clients post copies at the same moment: one cluster, every copy but
    the first linked to one of the others."""
    n, text = 8, story(12)
    barrier = threading.Barrier(n)
    answers = {}

    def worker(i: int) -> None:
        c = app.test_client()
        barrier.wait()
        answers[i] = c.post("/v1/articles", json={"id": f"c{i}", "text": f"Agency {chr(65 + i)} - " + text})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 201 for r in answers.values())
    client = app.test_client()
    clusters = {client.get(f"/v1/articles/c{i}").json["cluster"] for i in range(n)}
    assert len(clusters) == 1
    members = [m["id"] for m in client.get(f"/v1/clusters/{clusters.pop()}").json["members"]]
    assert sorted(members) == sorted(f"c{i}" for i in range(n))
    listed = [[d["id"] for d in client.get(f"/v1/articles/{m}").json["duplicates"]] for m in members]
    assert len(listed[0]) == 1 and listed[0][0] in members[1:]  # the founder: another member stands for the cluster
    assert all(len(x) == 1 and x[0] in members[:i + 1] for i, x in enumerate(listed[1:]))


def test_batch_streams_one_result_per_line(client):
    text = story(13)
    lines = [json.dumps({"id": "a", "text": text}), json.dumps({"id": "b", "text": text}), "{not json",
             json.dumps({"id": "c"}), "", json.dumps({"id": "a", "text": text}), json.dumps({"id": "d", "text": story(14), "x": 1})]
    r = client.post("/v1/batch", data="\n".join(lines) + "\n", content_type="application/x-ndjson")
    assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
    out = [json.loads(x) for x in r.get_data(as_text=True).splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 6, 7]
    assert [o["status"] for o in out] == [201, 201, 400, 400, 200, 400]
    assert out[1]["cluster"] == "a" and [d["id"] for d in out[1]["duplicates"]] == ["a"]
    assert [o["error"]["code"] for o in out if "error" in o] == ["invalid_json", "invalid_article", "unknown_field"]
    assert client.get("/v1/articles/c").status_code == 404


def test_health_ready_metrics_openapi(client, app):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz").json
    assert ready["status"] == "ready" and ready["data_lost"] is None and len(ready["generation"]) == 32
    post(client, {"id": "m", "text": story(15)})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'dedup_http_requests_total{method="POST",route="/v1/articles",status="201"} 1.0' in text
    assert "dedup_http_request_seconds_bucket" in text
    assert "dedup_index_articles{namespace=" in text
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(path, m.upper()) for path, ops in spec["paths"].items() for m in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<path:", "{").replace("<", "{").replace(">", "}")
        served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_retention_expires_articles_through_the_api(redis_server, namespace):
    import time

    from dedup_service.app import create_app

    app = create_app({"REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace, "CAPACITY": 100,
                      "RETENTION_DAYS": 0.4 / 86400})  # a 0.4 s window
    c = app.test_client()
    text = story(16)
    assert post(c, {"id": "old", "text": text}).status_code == 201
    assert [d["id"] for d in post(c, {"text": text}, "/v1/duplicates").json["duplicates"]] == ["old"]
    time.sleep(0.6)
    r = post(c, {"id": "new", "text": text})  # the write sweeps what expired first
    assert r.status_code == 201 and r.json["duplicates"] == []
    assert c.get("/v1/articles/old").status_code == 404
    c.delete("/v1/articles/new")
    assert app.extensions["dedup"].index(namespace).keys() == []


def test_cluster_pages_by_cursor_or_page_and_by_any_member(client):
    text = story(21)
    for i in range(60):
        assert post(client, {"id": f"m{i}", "text": f"Desk {i} - " + text}).status_code == 201
    first = client.get("/v1/clusters/m33").json
    assert first["cluster"] == "m0" and first["size"] == 60 and len(first["members"]) == 50 and first["next"] == 50
    second = client.get(f"/v1/clusters/m0?cursor={first['next']}").json
    assert [m["id"] for m in second["members"]] == [f"m{i}" for i in range(50, 60)] and second["next"] is None
    assert client.get("/v1/clusters/m0?page=2").json == second
    assert all(m["link"]["id"] in {f"m{j}" for j in range(60)} for m in second["members"])
    assert client.get("/v1/clusters/m0?limit=0").status_code == 400
    assert client.get("/v1/clusters/m0?page=1&cursor=0").status_code == 400


def test_namespace_by_path_segment(client):
    text = story(22)
    assert client.post("/v1/ns/room-9/articles", json={"id": "a", "text": text}).status_code == 201
    assert client.get("/v1/articles/a").status_code == 404  # not the default namespace
    assert client.get("/v1/articles/a", headers={"X-Dedup-Namespace": "room-9"}).status_code == 200
    assert client.get("/v1/ns/room-9/articles/a", headers={"X-Dedup-Namespace": "room-9"}).status_code == 200
    r = client.post("/v1/ns/room-9/duplicates", json={"text": text})
    assert [d["id"] for d in r.json["duplicates"]] == ["a"]
    assert client.get("/v1/ns/room-9/clusters/a").json["cluster"] == "a"
    bad = client.get("/v1/ns/room-9/articles/a", headers={"X-Dedup-Namespace": "room-1"})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_namespace"
    assert client.get("/v1/ns/no{tags}/articles/a").status_code == 400
    assert client.delete("/v1/ns/room-9/articles/a").status_code == 204


def test_an_empty_namespace_header_is_refused_not_taken_as_the_default(client):
    r = client.post("/v1/articles", json={"id": "e1", "text": "Harbour news for the empty header test."},
                    headers={"X-Dedup-Namespace": ""})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_namespace"
    assert client.get("/v1/articles/e1").status_code == 404  # nothing written in the default namespace


def test_a_query_of_a_stored_text_names_its_story(client):
    """A tester asked about a text stored verbatim and was told "no
    duplicate": the text is not its own candidate. Its story is named now."""
    text = story(23)
    stored = post(client, {"text": text}).json
    got = post(client, {"text": text}, "/v1/duplicates").json
    assert got["id"] == stored["id"] and got["cluster"] == stored["cluster"] and got["duplicates"] == []
    assert post(client, {"id": stored["id"], "text": story(24)}, "/v1/duplicates").json["cluster"] is None


def test_a_deleted_articles_partners_still_name_a_duplicate(client):
    """Tester: b and c linked to a; a is deleted; b and c, still one
    cluster, were answered "no duplicates" by GET /v1/articles and by a
    retry of their post. Their cluster's canonical copy (or, for the
    canonical itself, the oldest other member) is named, with that pair's
    own kind and scores; so is a founder's, whom others linked to."""
    text = story(31)
    post(client, {"id": "a", "text": text})
    post(client, {"id": "b", "text": "LONDON (Reuters) - " + text})
    post(client, {"id": "c", "text": text + " More to follow on this story later today."})  # most words: canonical
    founder = client.get("/v1/articles/a").json
    assert founder["canonical"] == "c" and [d["id"] for d in founder["duplicates"]] == ["c"]
    assert client.delete("/v1/articles/a").status_code == 204
    b, c = client.get("/v1/articles/b").json, client.get("/v1/articles/c").json
    assert b["cluster"] == c["cluster"] == "a" and b["canonical"] == "c"
    assert [d["id"] for d in b["duplicates"]] == ["c"] and [d["id"] for d in c["duplicates"]] == ["b"]
    assert b["duplicates"][0]["kind"] in ("near", "contained") and b["duplicates"][0]["score"] > 0.5
    retry = post(client, {"id": "b", "text": "LONDON (Reuters) - " + text})
    assert retry.status_code == 200 and [d["id"] for d in retry.json["duplicates"]] == ["c"]
    client.delete("/v1/articles/c")
    assert client.get("/v1/articles/b").json["duplicates"] == []  # alone now
    client.delete("/v1/articles/b")


def test_every_worker_reports_the_namespaces_any_worker_wrote(redis_server, namespace):
    """A new user's finding: ``dedup_index_articles`` listed only the namespaces the answering
    worker had served (it changed from scrape to scrape), and a made-up ``X-Dedup-Namespace``
    on any GET added a series. Two apps stand for two gunicorn workers on one Redis."""
    import re
    import uuid

    from dedup_service.app import create_app

    conf = {"TESTING": True, "REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace,
            "KEY_PREFIX": "m" + uuid.uuid4().hex[:8]}  # a registry of this test's own
    writer, reader = create_app(dict(conf)).test_client(), create_app(dict(conf)).test_client()
    post(writer, {"id": "m", "text": story(15)})
    assert reader.get("/v1/articles/m", headers={"X-Dedup-Namespace": "made-up"}).status_code == 404
    def series():
        text = reader.get("/metrics").get_data(as_text=True)
        return dict(re.findall(r'dedup_index_articles\{namespace="([^"]+)"\} (\S+)', text))

    assert series() == {namespace: "1.0"}
    # Redis flushed (here: the registry and the generation marker gone): the writer notices the new
    # generation, and its next write lists the namespace again
    service = writer.application.extensions["dedup"]
    index = service.index(namespace)
    index.client.delete(index.registry, index._generation_key())
    assert series() == {}
    service.generation()
    post(writer, {"id": "n", "text": story(16)})
    assert series() == {namespace: "2.0"}
    writer.delete("/v1/articles/m")
    writer.delete("/v1/articles/n")
