"""``dedup export`` / ``dedup reindex`` round trips, and a rebuild after Redis restarted empty."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from harness import managed_redis, story  # noqa: F401 - fixtures

from dedup.cli import cli


def _articles(n: int = 12) -> list[dict]:
    """Stories with copies: every third article is a copy (a dateline added) of the one before."""
    out = []
    for i in range(n):
        if i % 3 == 2:
            out.append({"id": f"copy-{i}", "text": "PARIS (AFP) - " + story(i - 1),
                        "published": f"2024-05-0{1 + i % 9}T10:00:00Z"})
        else:
            out.append({"id": f"a-{i}", "text": story(i), "published": f"2024-05-0{1 + i % 9}T09:00:00Z",
                        "title": f"Story {i}", "source": "wire" if i % 2 else None})
    return out


def _post_all(app, namespace: str, articles: list[dict]) -> None:
    c = app.test_client()
    for a in articles:
        assert c.post("/v1/articles", json=a, headers={"X-Dedup-Namespace": namespace}).status_code == 201


def _state(app, namespace: str, ids: list[str], with_added: bool = True) -> dict:
    c = app.test_client()
    out = {}
    for i in ids:
        body = c.get(f"/v1/articles/{i}?text=true", headers={"X-Dedup-Namespace": namespace}).json
        if not with_added:
            body.pop("added", None)
        out[i] = body
    return out


def _run(*args: str, env: dict):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_export_then_reindex_rebuilds_the_namespace_exactly(app, redis_server, namespace, tmp_path):
    arts = _articles()
    _post_all(app, namespace, arts)
    ids = [a["id"] for a in arts]
    before = _state(app, namespace, ids)
    assert sum(1 for b in before.values() if b["duplicates"]) == 8  # the copies were found, their originals name them
    assert before["a-0"]["title"] == "Story 0" and before["a-0"]["text"] == arts[0]["text"]
    env = {"DEDUP_REDIS_URL": redis_server.url, "DEDUP_CAPACITY": "1000"}
    dump = tmp_path / "ns.jsonl"
    r = _run("export", "--namespace", namespace + "-typo", "-o", str(dump), env=env)
    assert r.exit_code == 1 and "holds no article" in r.output and not dump.exists()
    r = _run("export", "--namespace", namespace, "-o", str(dump), env=env)
    assert r.exit_code == 0, r.output
    lines = dump.read_text().splitlines()
    assert json.loads(lines[0])["namespace"] == namespace and json.loads(lines[-1]) == {"dedup_export_end": 12}
    assert [json.loads(ln)["id"] for ln in lines[1:-1]] == ids  # insertion order
    r = _run("reindex", str(dump), "--namespace", namespace + "-b", env=env)
    assert r.exit_code == 0 and "12 stored" in r.output, r.output
    assert _state(app, namespace + "-b", ids) == before
    r = _run("reindex", str(dump), "--namespace", namespace + "-b", env=env)  # a rerun changes nothing
    assert "0 stored, 12 already there" in r.output and _state(app, namespace + "-b", ids) == before
    (tmp_path / "cut.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    r = _run("reindex", str(tmp_path / "cut.jsonl"), "--namespace", namespace + "-c", env=env)
    assert r.exit_code == 1 and "truncated" in r.output


def test_reindex_from_a_feed_dump(app, redis_server, namespace, tmp_path):
    arts = _articles()
    _post_all(app, namespace, arts)
    ids = [a["id"] for a in arts]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(a) + "\n" for a in arts) + "not json\n")
    r = _run("reindex", str(feed), "--namespace", namespace + "-f",
             env={"DEDUP_REDIS_URL": redis_server.url, "DEDUP_CAPACITY": "1000"})
    assert r.exit_code == 0 and "12 stored" in r.output and "line 13" in r.output, r.output
    assert _state(app, namespace + "-f", ids, with_added=False) == _state(app, namespace, ids, with_added=False)


@pytest.mark.slow
def test_rebuild_after_redis_restarted_empty(managed_redis, tmp_path):
    from dedup_service.app import create_app

    r = managed_redis()
    app = create_app({"REDIS_URL": r.url, "CAPACITY": 1000, "DEFAULT_NAMESPACE": "news"})
    arts = _articles()
    _post_all(app, "news", arts)
    ids = [a["id"] for a in arts]
    before = _state(app, "news", ids)
    env = {"DEDUP_REDIS_URL": r.url, "DEDUP_CAPACITY": "1000", "DEDUP_DEFAULT_NAMESPACE": "news"}
    assert _run("export", "-o", str(tmp_path / "news.jsonl"), env=env).exit_code == 0
    gen = app.test_client().get("/readyz").json["generation"]
    r.restart_empty()
    ready = app.test_client().get("/readyz").json
    assert ready["data_lost"]["previous_generation"] == gen
    assert app.test_client().get("/v1/articles/a-0").status_code == 404
    assert _run("reindex", str(tmp_path / "news.jsonl"), env=env).exit_code == 0
    assert _state(app, "news", ids) == before
    app.extensions["dedup"].close()
