"""The service's side of the tester's findings (/tmp/tester/findings.md):
a chunked batch over the limit, the limit named in a 413, what `dedup
export` and `dedup reindex` count, and update figures named by their words."""

from __future__ import annotations

import io
import json

import pytest

from dedup_service.app import create_app
from test_api import story


def _app(redis_server, namespace, **settings):
    app = create_app({"TESTING": True, "REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace,
                      "CAPACITY": 1000, **settings})
    return app, app.test_client()


def _lines(n: int, first: int = 0) -> bytes:
    return b"".join(json.dumps({"id": f"a{i}", "text": story(i)}).encode() + b"\n" for i in range(first, first + n))


class _Counted(io.RawIOBase):
    """A chunked body as a server hands it over (no Content-Length, a stream
    it ends itself): ``body``, then ``then`` forever if given; counts what was read."""

    def __init__(self, body: bytes, then: bytes = b"") -> None:
        self.body, self.then, self.read_bytes = body, then, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.read_bytes < len(self.body):
            got = self.body[self.read_bytes:self.read_bytes + len(b)]
        elif self.then:
            got = (self.then * (len(b) // len(self.then) + 1))[:len(b)]
        else:
            return 0
        b[:len(got)] = got
        self.read_bytes += len(got)
        return len(got)


def _chunked(client, stream, path="/v1/batch"):
    return client.post(path, content_type="application/x-ndjson", headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input": stream, "wsgi.input_terminated": True})


def test_a_chunked_batch_over_the_limit_is_a_413_that_names_it_and_writes_nothing(redis_server, namespace):
    """Finding 1: it answered 200, streamed some lines, stored their
    articles, then the connection was cut (werkzeug's 413 raised mid-stream)."""
    body = _lines(12)
    limit = len(body) // 2
    app, client = _app(redis_server, namespace, MAX_BATCH_BYTES=limit)
    r = _chunked(client, _Counted(body))
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large", r.get_data(as_text=True)[:300]
    assert f"the limit is {limit} bytes (DEDUP_MAX_BATCH_BYTES)" in r.json["error"]["message"]
    index = app.extensions["dedup"].index(namespace)
    assert len(index) == 0 and index.keys() == []  # nothing written
    # an endless body: refused after reading the limit and at most DRAIN_BYTES more (and a chunk), not all of it
    from dedup_service.api import DRAIN_BYTES

    endless = _Counted(body, then=b" ")
    assert _chunked(client, endless).status_code == 413
    assert limit + DRAIN_BYTES <= endless.read_bytes <= limit + DRAIN_BYTES + 2 * 65536
    assert index.keys() == []
    app.extensions["dedup"].close()


def test_a_chunked_batch_of_exactly_the_limit_is_stored_whole(redis_server, namespace):
    body = _lines(5)
    app, client = _app(redis_server, namespace, MAX_BATCH_BYTES=len(body))
    r = _chunked(client, _Counted(body))
    assert r.status_code == 200
    out = [json.loads(x) for x in r.get_data().splitlines()]
    assert [(x["line"], x["status"]) for x in out] == [(i, 201) for i in range(1, 6)]
    assert len(app.extensions["dedup"].index(namespace)) == 5
    app.extensions["dedup"].close()


def test_a_batch_with_a_content_length_over_the_limit_names_the_limit(redis_server, namespace):
    """Finding 16: werkzeug's generic 413 did not say what the limit is."""
    app, client = _app(redis_server, namespace, MAX_BATCH_BYTES=1000, MAX_TEXT_BYTES=400)
    r = client.post("/v1/batch", data=_lines(3), content_type="application/x-ndjson")
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    assert f"body is {len(_lines(3))} bytes; the limit is 1000 bytes (DEDUP_MAX_BATCH_BYTES)" in r.json["error"]["message"]
    r = client.post("/", data={"op": "x" * 2000})  # any other route werkzeug refuses for its size
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    assert "1000 bytes (DEDUP_MAX_BATCH_BYTES)" in r.json["error"]["message"]
    app.extensions["dedup"].close()


# -- dedup export / reindex: what they count (findings 8 and 13) ----------------
def _cli(redis_server, *args: str):
    from click.testing import CliRunner

    from dedup.cli import cli

    env = {"DEDUP_REDIS_URL": redis_server.url, "DEDUP_CAPACITY": "1000", "DEDUP_MAX_TEXT_BYTES": "20000"}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_export_counts_articles_and_decisions_apart_and_reindex_reads_decisions_first(app, client, namespace,
                                                                                      redis_server, tmp_path):
    """Finding 8: "exported 14 articles" for 12 articles and 2 decisions.
    The decisions come right after the header (README), where a reindex
    must find them: stored before the articles, every add respects them."""
    text = story(40, 200)
    ids = ["w0", "w1", "w2", "w3"]
    for i, doc in enumerate(ids):
        assert client.post("/v1/articles", json={"id": doc, "text": f"CITY{i} (AP) - " + text}).status_code == 201
    for record in ({"decision": "split", "ids": ["w3"], "from": "w0"}, {"decision": "canonical", "id": "w1"}):
        assert client.post("/v1/decisions", json=record).status_code == 201
    out = tmp_path / "ns.jsonl"
    r = _cli(redis_server, "export", "-n", namespace, "-o", str(out))
    assert r.exit_code == 0 and f"exported 4 articles and 2 decisions of namespace {namespace!r}" in r.output, r.output
    kinds = ["decision" if "decision" in d else "article" if "id" in d else "end"
             for d in map(json.loads, out.read_text().splitlines()[1:])]
    assert kinds == ["decision"] * 2 + ["article"] * 4 + ["end"]
    r = _cli(redis_server, "reindex", str(out), "-n", namespace + "-b")
    assert r.exit_code == 0 and "4 stored, 0 already there, 0 refused, 0 unreadable, 2 decisions" in r.output, r.output
    index, again = (app.extensions["dedup"].index(ns) for ns in (namespace, namespace + "-b"))
    assert again.decisions() == index.decisions()
    stories = [(s.cluster, s.canonical) for s in index.stories(ids)]
    assert [(s.cluster, s.canonical) for s in again.stories(ids)] == stories
    assert stories[3][0] != stories[0][0] and stories[0][1] == "w1"  # the decisions hold in the rebuilt namespace


def test_reindex_counts_every_line_it_skipped(app, namespace, redis_server, tmp_path):
    """Finding 13: 8 lines reported skipped, then "1 refused": the records the
    reader could not read were not counted."""
    good = [json.dumps({"id": f"g{i}", "text": story(50 + i)}) for i in range(3)]
    bad = ['{"id": "broken", "text": "abc', '{"id": "notext", "title": "x"}', '[1, 2]']
    refused = [json.dumps({"id": "punct", "text": "!!! ... ???"})]  # read, then refused: no words
    dump = tmp_path / "dump.jsonl"
    dump.write_text("\n".join([good[0], *bad, good[1], *refused, good[2]]) + "\n")
    r = _cli(redis_server, "reindex", str(dump), "-n", namespace, "--input-format", "jsonl")
    assert r.exit_code == 0, r.output
    assert r.output.count("(skipped)") == 4
    assert "3 stored, 0 already there, 1 refused, 3 unreadable (" in r.output, r.output
    (tmp_path / "bad.jsonl").write_text("\n".join([*bad, *refused]) + "\n")
    r = _cli(redis_server, "reindex", str(tmp_path / "bad.jsonl"), "-n", namespace + "-x", "--input-format", "jsonl")
    assert r.exit_code == 1 and "no article could be stored" in r.output and "(1 refused, 3 unreadable)" in r.output


# -- an update's changed figures by their words, explained or not (finding 7) ---
_OTHER = story(40, 300)
_UPDATED = story(12, 300) + " Profit rose 12 pct to 340 million euros, with 57 new stores and 1200 staff hired."


def test_an_update_names_its_changed_figures_by_their_words_without_explain(client, redis_requests):
    """Finding 7: without ``?explain=true`` ``changed`` was word offsets,
    ``[["#49", "#49"]]``, where batch says ``["4", "4.25"]``: a look-up and a
    read name both sides from the texts (the stored one read once, only for
    an update); an add keeps to two round trips (the issue's bound for a
    copy) and names them with ``?explain=true``."""
    client.post("/v1/articles", json={"id": "a", "text": _UPDATED})
    client.post("/v1/articles", json={"id": "other", "text": _OTHER})  # the scripts loaded, not counted below
    client.post("/v1/articles", json={"id": "other2", "text": _OTHER})
    redis_requests.n = 0
    r = client.post("/v1/articles", json={"id": "b", "text": _UPDATED.replace("340", "350")})
    (dup,) = r.json["duplicates"]
    assert dup["kind"] == "update" and dup["changed"][0][0] == "350" and dup["changed"][0][1].startswith("#")
    assert redis_requests.n == 2  # ADD, ATTACH: its own side named from its text, the stored side's offset kept
    r = client.post("/v1/articles?explain=true", json={"id": "b2", "text": _UPDATED.replace("340", "360")})
    assert [d["changed"] for d in r.json["duplicates"] if d["id"] == "a"] == [[["360", "340"]]]
    q = client.post("/v1/duplicates", json={"id": "q", "text": _UPDATED.replace("57", "58")}).json
    assert {d["id"]: d["changed"] for d in q["duplicates"]} == {
        "a": [["58", "57"]], "b": [["340", "350"], ["58", "57"]], "b2": [["340", "360"], ["58", "57"]]}
    assert client.get("/v1/articles/b").json["duplicates"][0]["changed"] == [["350", "340"]]  # read back
    batch = client.post("/v1/batch", data=json.dumps({"id": "c", "text": _UPDATED.replace("1200", "1300")}) + "\n",
                        content_type="application/x-ndjson")
    changed = json.loads(batch.get_data())["duplicates"][0]["changed"]
    assert changed[0][0] == "1300" and changed[0][1].startswith("#")  # an add: two round trips
    redis_requests.n = 0
    r = client.post("/v1/articles", json={"id": "d", "text": "Breaking: " + _UPDATED})  # no figure changed
    assert r.json["duplicates"][0]["kind"] != "update" and redis_requests.n == 2  # no text read


def test_figures_stay_offsets_when_the_stored_words_are_not_the_texts(app, client, namespace, monkeypatch):
    """A stored text cut into other words than it was stored with (another
    normaliser since, say) would name the wrong words: offsets stay."""
    client.post("/v1/articles", json={"id": "a", "text": _UPDATED})
    index = app.extensions["dedup"].index(namespace)
    read = index.texts
    monkeypatch.setattr(type(index), "texts", lambda self, ids: {i: "One more word. " + t for i, t in read(ids).items()})
    ((mine, theirs),) = client.post("/v1/duplicates", json={"id": "b", "text": _UPDATED.replace("340", "350")}).json[
        "duplicates"][0]["changed"]  # a look-up names them (an add keeps to two round trips)
    assert mine == "350" and theirs.startswith("#")  # the link's containments tell the stored words are others


def test_without_stored_texts_an_unexplained_update_keeps_its_offsets(redis_server, namespace):
    app, client = _app(redis_server, namespace, STORE_TEXT=False)
    client.post("/v1/articles", json={"id": "a", "text": _UPDATED})
    ((mine, theirs),) = client.post("/v1/duplicates", json={"id": "b", "text": _UPDATED.replace("340", "350")}).json[
        "duplicates"][0]["changed"]  # a look-up names them (an add keeps to two round trips)
    assert mine == "350" and theirs.startswith("#")
    app.extensions["dedup"].close()


def test_gunicorn_refuses_a_chunked_batch_over_the_limit_whole(tmp_path):
    """Finding 1 as the tester met it, through gunicorn: 200, three lines,
    three articles stored, then the connection cut (a 70 MB body: a 500)."""
    import http.client
    import os
    import signal
    import urllib.request
    from urllib.parse import urlsplit

    from test_api_serve import _serve

    body = _lines(12)
    limit = len(body) // 2
    proc, base = _serve(tmp_path, workers=1, MAX_BATCH_BYTES=str(limit))

    def post(data: bytes, chunked: bool = True) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)
        try:
            conn.request("POST", "/v1/ns/c/batch", body=iter([data[i:i + 4096] for i in range(0, len(data), 4096)])
                         if chunked else data, headers={"Content-Type": "application/x-ndjson"}, encode_chunked=chunked)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def stored() -> int:
        with urllib.request.urlopen(base + "/v1/ns/c/activity", timeout=10) as r:
            return json.loads(r.read())["articles"]

    try:
        for data, chunked in ((body, True), (body * 8, True), (body, False)):
            status, got = post(data, chunked)
            assert status == 413 and json.loads(got)["error"]["code"] == "too_large", got[:300]
            assert f"the limit is {limit} bytes" in json.loads(got)["error"]["message"]
            assert stored() == 0
        part = body[:body.rindex(b"\n", 0, limit) + 1]  # whole lines under the limit: stored, every line answered
        status, got = post(part)
        lines = [json.loads(x) for x in got.splitlines()]
        assert status == 200 and len(lines) == part.count(b"\n") == stored() and all(x["status"] == 201 for x in lines)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
