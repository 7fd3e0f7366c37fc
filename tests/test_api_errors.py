"""Every error of the API: a 4xx JSON body ``{"error": {"code", "message"}}``, never a 500, never a partial write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import free_port, redis_server_binary
from dedup_service.app import create_app
from test_api import story

TEXT = story(1)


def error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.is_json and set(r.json) == {"error"} and r.json["error"]["code"] == code
    assert isinstance(r.json["error"]["message"], str) and r.json["error"]["message"]


def raw(client, data, content_type="application/json", path="/v1/articles"):
    return client.post(path, data=data, content_type=content_type)


@pytest.mark.parametrize("path", ["/v1/articles", "/v1/duplicates"])
@pytest.mark.parametrize("data, code", [
    (b"{not json", "invalid_json"),
    (b"", "invalid_json"),
    (b'{"text": "a"', "invalid_json"),
    (b'["a list"]', "invalid_article"),
    (b'"a string"', "invalid_article"),
    (b"{}", "invalid_article"),
    (b'{"text": ""}', "invalid_article"),
    (b'{"text": "   \\n "}', "invalid_article"),
    (b'{"text": 42}', "invalid_article"),
    (b'{"text": null}', "invalid_article"),
    (b'{"text": "x y z", "id": [1]}', "invalid_article"),
    (b'{"text": "x y z", "id": true}', "invalid_article"),
    (b'{"text": "x y z", "title": 3}', "invalid_article"),
    (b'{"text": "x y z", "published": "yesterday"}', "invalid_article"),
    (b'{"text": "x y z", "colour": "red"}', "unknown_field"),
    (b'{"text": "caf\xe9"}', "invalid_encoding"),
    (b"\xff\xfe{}", "invalid_encoding"),
    (b'{"text": "!!! ... ???"}', "invalid_article"),
])
def test_bad_bodies_are_400(client, app, namespace, path, data, code):
    error(raw(client, data, path=path), 400, code)
    assert app.extensions["dedup"].index(namespace).keys() == []  # nothing written


def test_wrong_content_type_is_415(client):
    error(raw(client, json.dumps({"text": TEXT}), "text/plain"), 415, "unsupported_media_type")
    error(client.post("/v1/articles", data=json.dumps({"text": TEXT})), 415, "unsupported_media_type")
    error(raw(client, json.dumps({"text": TEXT}), "application/json", "/v1/batch"), 415, "unsupported_media_type")


def test_text_over_the_limit_is_413(client, app, namespace):
    limit = app.config["MAX_TEXT_BYTES"]
    error(client.post("/v1/articles", json={"text": "word " * (limit // 5 + 1)}), 413, "too_large")
    error(client.post("/v1/articles", json={"text": "é" * (limit // 2 + 1)}), 413, "too_large")  # bytes, not characters
    error(raw(client, b'{"text": "' + b"a" * (3 * limit) + b'"}'), 413, "too_large")  # body refused before parsing
    batch = json.dumps({"id": "big", "text": "word " * (limit // 5 + 1)}) + "\n"
    out = json.loads(client.post("/v1/batch", data=batch, content_type="application/x-ndjson").get_data())
    assert out["status"] == 413 and out["error"]["code"] == "too_large"
    assert app.extensions["dedup"].index(namespace).keys() == []


def test_batch_body_over_the_limit_is_413(redis_server, namespace):
    app = create_app({"REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace, "MAX_BATCH_BYTES": 1000,
                      "MAX_TEXT_BYTES": 400})
    c = app.test_client()
    error(c.post("/v1/batch", data=b"x" * 2000, content_type="application/x-ndjson"), 413, "too_large")


@pytest.mark.parametrize("query, code", [
    ("similarity=2", "invalid_option"), ("similarity=0.1", "invalid_option"), ("similarity=abc", "invalid_option"),
    ("similarity=nan", "invalid_option"), ("explain=maybe", "invalid_option"), ("threshold=0.5", "invalid_option"),
])
def test_bad_options_are_400(client, query, code):
    error(client.post(f"/v1/articles?{query}", json={"text": TEXT}), 400, code)
    error(client.post(f"/v1/duplicates?{query}", json={"text": TEXT}), 400, code)


def test_unknown_route_and_method(client):
    error(client.get("/v2/nothing"), 404, "not_found")
    error(client.get("/v1/articles"), 405, "method_not_allowed")
    error(client.put("/v1/articles/x", json={}), 405, "method_not_allowed")
    error(client.get("/v1/articles/unknown"), 404, "not_found")
    error(client.delete("/v1/articles/unknown"), 404, "not_found")


def test_api_keys_bind_namespaces(redis_server, namespace):
    app = create_app({"REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace,
                      "API_KEYS": f"k-news={namespace},other;k-admin=*"})
    c = app.test_client()
    error(c.post("/v1/articles", json={"text": TEXT}), 401, "unauthorized")
    assert "required" in c.post("/v1/articles", json={"text": TEXT}).json["error"]["message"]
    wrong = c.post("/v1/articles", json={"text": TEXT}, headers={"Authorization": "Bearer wrong"})
    error(wrong, 401, "unauthorized")
    assert wrong.json["error"]["message"] == "unknown API key"
    error(c.get("/v1/articles/x", headers={"X-API-Key": "clé-ünicode"}), 401, "unauthorized")  # a 500 before
    error(c.get("/v1/articles/x", headers={"X-API-Key": "k-news", "X-Dedup-Namespace": "secret"}), 403, "forbidden")
    r = c.post("/v1/articles", json={"id": "k", "text": TEXT}, headers={"Authorization": "Bearer k-news"})
    assert r.status_code == 201
    assert c.get("/v1/articles/k", headers={"X-API-Key": "k-admin"}).status_code == 200
    assert c.delete("/v1/articles/k", headers={"X-API-Key": "k-news"}).status_code == 204
    assert c.get("/healthz").status_code == 200  # operational routes need no key
    assert c.get("/openapi.json").status_code == 200 and c.get("/metrics").status_code == 200


def test_a_new_v1_route_is_authenticated_without_asking(redis_server, namespace):
    """Authentication runs before every request of a /v1 blueprint, not in a
    helper each route must remember to call."""
    from dedup_service.api import v1_blueprint

    app = create_app({"REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace, "API_KEYS": f"k={namespace}"})
    extra = v1_blueprint("throwaway")

    @extra.get("/throwaway")
    def throwaway():  # reads nothing, calls no helper
        return {"open": True}

    app.register_blueprint(extra)
    c = app.test_client()
    error(c.get("/v1/throwaway"), 401, "unauthorized")
    error(c.get("/v1/throwaway", headers={"X-API-Key": "nope"}), 401, "unauthorized")
    error(c.get("/v1/throwaway", headers={"X-API-Key": "k", "X-Dedup-Namespace": "other"}), 403, "forbidden")
    assert c.get("/v1/throwaway", headers={"X-API-Key": "k"}).json == {"open": True}


def test_bad_configuration_is_refused_at_creation(redis_server):
    from dedup.errors import InvalidParams

    for bad in ({"RETENTION_BY": "x"}, {"CAPACITY": 0}, {"SIMILARITY_MIN": 0.9, "SIMILARITY_MAX": 0.5},
                {"API_KEYS": "no-equals-sign"}, {"DEFAULT_NAMESPACE": "a b"}, {"REDIS_URL": "localhost"},
                {"REDIS_TIMEOUT": "soon"}, {"CAPACITY": 2.5}, {"KEY_PREFIX": "a{b}"}, {"MAX_TEXT_BYTES": "1MB"}):
        (name,) = set(bad) - {"SIMILARITY_MAX"}
        with pytest.raises(InvalidParams, match=name.split("_")[0]):
            create_app({"REDIS_URL": redis_server.url, **bad})


def test_env_fills_what_test_config_leaves_and_test_config_wins(redis_server, monkeypatch):
    """Order: defaults, then DEDUP_* variables, then the mapping given to create_app."""
    monkeypatch.setenv("DEDUP_RETENTION_DAYS", "7")
    monkeypatch.setenv("DEDUP_REDIS_URL", "redis://127.0.0.1:1/0")  # e.g. exported for docker compose
    monkeypatch.setenv("DEDUP_API_KEYS", '{"k": ["a", "b"]}')
    app = create_app({"REDIS_URL": redis_server.url})
    assert app.config["REDIS_URL"] == redis_server.url  # the caller's setting wins
    assert app.config["RETENTION_DAYS"] == 7  # the environment fills the rest
    assert app.extensions["dedup"].api_keys == {"k": frozenset({"a", "b"})}
    assert app.extensions["dedup"].retention == 7 * 86400


def test_the_test_session_sees_no_dedup_variables():
    assert not [k for k in os.environ if k.startswith("DEDUP_") and not k.startswith("DEDUP_TEST_")]


@pytest.mark.slow
def test_tests_ignore_an_exported_dedup_redis_url(tmp_path):
    """With DEDUP_REDIS_URL exported (the compose file's hint), API tests still
    use their private server and write nothing into that Redis."""
    env = {**os.environ, "DEDUP_REDIS_URL": "redis://127.0.0.1:1/0", "DEDUP_DEFAULT_NAMESPACE": "leak",
           "DEDUP_API_KEYS": "k=*", "DEDUP_PARAMS": '{"similarty": 0.9}'}
    tests = Path(__file__).parent
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tests.parent),
                        f"{tests / 'test_api.py'}::test_post_finds_duplicates_then_stores",
                        f"{tests / 'test_api.py'}::test_delete_leaves_no_keys"],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


@pytest.mark.parametrize("params, key", [
    ({"similarty": 0.9}, "similarty"),  # a typo: a TypeError from Params(**) before
    ({"reuse": 0.5}, "reuse"),  # accepted before, then every request failed
    ({"similarity": 2}, "similarity"),
    ({"bands": 4}, "bands"),
    ("similarity=0.9", "PARAMS"),
])
def test_bad_params_are_refused_at_creation_naming_the_key(redis_server, monkeypatch, params, key):
    from dedup.errors import InvalidParams

    with pytest.raises(InvalidParams, match="PARAMS") as e:
        create_app({"REDIS_URL": redis_server.url, "PARAMS": params})
    assert key in str(e.value)
    monkeypatch.setenv("DEDUP_PARAMS", json.dumps(params))  # the same from the environment
    with pytest.raises(InvalidParams, match="PARAMS"):
        create_app({"REDIS_URL": redis_server.url})


def test_redis_down_is_503_fast_and_recovers(namespace):
    port = free_port()
    app = create_app({"REDIS_URL": f"redis://127.0.0.1:{port}/0", "REDIS_TIMEOUT": 0.5, "DEFAULT_NAMESPACE": namespace})
    c = app.test_client()
    t = time.monotonic()
    error(c.post("/v1/articles", json={"id": "a", "text": TEXT}), 503, "store_unavailable")
    error(c.get("/readyz"), 503, "store_unavailable")
    error(c.get("/v1/articles/a"), 503, "store_unavailable")
    out = json.loads(c.post("/v1/batch", data=json.dumps({"text": TEXT}), content_type="application/x-ndjson").get_data())
    assert out["status"] == 503
    assert time.monotonic() - t < 5
    assert c.get("/healthz").status_code == 200
    assert "dedup_http_requests_total" in c.get("/metrics").get_data(as_text=True)
    proc = subprocess.Popen([redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                            stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert c.post("/v1/articles", json={"id": "a", "text": TEXT}).status_code == 201
    finally:
        proc.terminate()
        proc.wait()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()),
                      st.dictionaries(st.sampled_from(["id", "text", "title", "url", "source", "published", "zz"]),
                                      json_values, max_size=5).map(lambda v: json.dumps(v).encode())))
def test_fuzzed_bodies_never_500(client, body):
    for path in ("/v1/duplicates", "/v1/batch"):
        ctype = "application/x-ndjson" if path == "/v1/batch" else "application/json"
        r = client.post(path, data=body, content_type=ctype)
        assert r.status_code < 500, r.get_data(as_text=True)
        if r.status_code >= 400:
            assert set(r.json) == {"error"}
        if path == "/v1/batch":
            for line in r.get_data(as_text=True).splitlines():
                assert json.loads(line)["status"] < 500


def test_huge_integers_and_long_integer_ids_are_4xx(client):
    r = client.post("/v1/articles", data=b'{"text": "x y z", "n": ' + b"9" * 5000 + b"}", content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_json"
    r = client.post("/v1/articles", json={"id": int("9" * 1100), "text": "some words here"})
    assert r.status_code == 400 and "1024 bytes" in r.json["error"]["message"]
