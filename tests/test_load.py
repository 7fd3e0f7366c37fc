"""``dedup load``: a batch run's saved state loaded into a namespace leaves it
exactly as posting the same articles one by one (in published order) does:
every key and value (but insertion times), the look-up answers, the
clusters; pipelined, resumable. ``tests/test_redis_cluster.py`` runs these
on the 3-master cluster too (its ``redis_client``, ``app`` and ``cli_env``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import cli
from dedup_service import layout

sys.path.insert(0, str(Path(__file__).parent))
from test_against import generated_set


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> tuple[Path, list[dict]]:
    """Stories with 0-3 copies each and 70 identical wire copies (past a
    bucket's 64 kept entries), some with titles and sources, in published
    order (as a feed delivers them), and a broken line; one text too large
    for the service (refused by both paths)."""
    rows = generated_set(n_stories=30, seed=4)
    for i, r in enumerate(rows):
        if i % 3 == 0:
            r["title"] = f"Title {i}"
        if i % 5 == 0:
            r["source"] = "wire"
    rows.append({"id": "too-large", "text": "word " * 5000, "published": "2024-07-01T00:00:00Z"})
    rows.sort(key=lambda r: r.get("published") or "~")
    path = tmp_path_factory.mktemp("load") / "feed.jsonl"
    lines = [json.dumps(r) for r in rows]
    lines.insert(7, "{broken")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, rows


@pytest.fixture(scope="module")
def state(feed, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("load-state") / "state"
    r = CliRunner().invoke(cli, ["batch", str(feed[0]), "--state", str(folder), "-q", "-j", "1", "--clusters",
                                 str(folder.parent / "clusters.jsonl")])
    assert r.exit_code == 0, r.output
    return folder


@pytest.fixture
def cli_env(redis_server) -> dict:
    """The service's configuration for the commands (that of the ``app`` fixture)."""
    return {"DEDUP_REDIS_URL": redis_server.url, "DEDUP_CAPACITY": "1000", "DEDUP_MAX_TEXT_BYTES": "20000"}


def _post_all(app, namespace: str, rows: list[dict]) -> int:
    c = app.test_client()
    stored = 0
    for r in rows:
        got = c.post(f"/v1/ns/{namespace}/articles", json=r)
        assert got.status_code in (201, 413), got.json
        stored += got.status_code == 201
    return stored


def _contents(client, prefix: bytes) -> dict:
    """Every key of a namespace (named without its prefix) and its value; the
    insertion times (a record's ``added`` and retention bucket, the
    retention buckets, the pending index's scores) left out."""
    pattern = b"".join(b"\\" + bytes([c]) if c in b"*?[]\\" else bytes([c]) for c in prefix) + b"*"
    out = {}
    for key in client.scan_iter(match=pattern, count=1000):
        name = key[len(prefix):]
        kind = client.type(key)
        if name[:1] in (b"e", b"E"):
            continue
        if kind == b"string":
            value = client.get(key)
            if name[:1] == b"r":
                value = bytearray(value)
                for f in ("added", "bucket"):
                    value[layout.RECORD[f].offset: layout.RECORD[f].offset + layout.RECORD[f].size] = bytes(layout.RECORD[f].size)
                value = bytes(value)
        elif kind == b"hash":
            value = client.hgetall(key)
        elif kind == b"zset":
            value = client.zrange(key, 0, -1, withscores=name[:1] != b"p")
        else:
            value = (kind, client.dump(key))
        out[name] = value
    return out


def _answers(app, namespace: str, rows: list[dict]) -> list:
    """What the service answers about these articles: look-ups of copies
    (POST /v1/duplicates), each article and its cluster."""
    c = app.test_client()
    out = []
    for r in rows[::3]:
        probe = {"id": "probe-" + r["id"], "text": "LONDON (Reuters) - " + r["text"], "title": "probe"}
        out.append(c.post(f"/v1/ns/{namespace}/duplicates", json=probe).json)
    for r in rows:
        body = c.get(f"/v1/ns/{namespace}/articles/{r['id']}?text=true").json
        body.pop("added", None)
        out.append(body)
        out.append(c.get(f"/v1/ns/{namespace}/clusters/{r['id']}?limit=1000").json)
    return json.loads(json.dumps(out).replace(repr(namespace), "'NS'"))  # as named in a 404's message


def _load(state: Path, feed: Path, namespace: str, env: dict):
    return CliRunner().invoke(cli, ["load", str(state), str(feed), "--namespace", namespace], env=env,
                              catch_exceptions=False)


def test_a_loaded_state_equals_the_same_articles_posted_one_by_one(app, redis_client, namespace, feed, state,
                                                                   cli_env):
    path, rows = feed
    stored = _post_all(app, namespace, rows)
    r = _load(state, path, namespace + "-load", cli_env)
    assert r.exit_code == 0, r.output
    assert f"{stored} stored, 0 already there, 1 refused" in r.output and "too-large" in r.output
    trips = int(r.output.split("(")[-1].split(" round trips")[0])
    assert trips < 1.25 * stored  # posting: 2 per article; here 70 copies in a row are added one by one
    posted = _contents(redis_client, f"dd{{{namespace}}}".encode())
    loaded = _contents(redis_client, f"dd{{{namespace}-load}}".encode())
    assert len(posted) > 3 * stored  # records, words, buckets, links, clusters ... all compared
    assert loaded == posted
    assert _answers(app, namespace + "-load", rows) == _answers(app, namespace, rows)
    wire = app.test_client().get(f"/v1/ns/{namespace}-load/clusters/wire-0?limit=1000").json
    assert wire["size"] >= 71  # the story and its 70 wire copies


def test_an_interrupted_load_goes_on_where_it_stopped(app, redis_client, namespace, feed, state, cli_env, monkeypatch):
    from dedup.cli.export import _articles
    from dedup_service import bulk
    from dedup_service.export import state_fingerprints

    monkeypatch.setattr(bulk, "MAX_WINDOW", 16)  # writes start before the 60th article is read

    path, rows = feed
    index = app.extensions["dedup"].index(namespace + "-cut")

    def cut(items, n):
        for k, item in enumerate(items):
            if k == n:
                raise KeyboardInterrupt
            yield item

    with pytest.raises(KeyboardInterrupt):
        bulk.add_in_order(index, cut(state_fingerprints(str(state), _articles(str(path), "auto", "id", "text"),
                                                   index.params), 60))
    before = len(index)
    assert 0 < before < 60
    r = _load(state, path, namespace + "-cut", cli_env)
    stored = _post_all(app, namespace, rows)
    assert r.exit_code == 0 and f"{stored - before} stored, {before} already there" in r.output, r.output
    assert _contents(redis_client, f"dd{{{namespace}-cut}}".encode()) == _contents(redis_client, f"dd{{{namespace}}}".encode())
    r = _load(state, path, namespace + "-cut", cli_env)  # once more: nothing to do
    assert " 0 stored," in r.output


def test_a_state_of_an_input_out_of_date_order_loads_in_published_order(app, redis_client, namespace, feed, cli_env,
                                                                        tmp_path):
    """A dump not in date order (undated articles among dated ones) is
    loaded as posting it by published date (undated last) would; with
    ``--order input``, as posting it in its own order would."""
    import random

    _, rows = feed
    shuffled = random.Random(2).sample(rows, len(rows))
    path = tmp_path / "shuffled.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in shuffled), encoding="utf-8")
    r = CliRunner().invoke(cli, ["batch", str(path), "--state", str(tmp_path / "state"), "-q", "-j", "1",
                                 "--clusters", str(tmp_path / "c.jsonl")])
    assert r.exit_code == 0, r.output
    for order, posted in (("published", sorted(shuffled, key=lambda r: r.get("published") or "~")),
                          ("input", shuffled)):
        ns = f"{namespace}-{order}"
        _post_all(app, ns + "-posted", posted)
        r = CliRunner().invoke(cli, ["load", str(tmp_path / "state"), str(path), "--namespace", ns, "--order", order],
                               env=cli_env, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        assert _contents(redis_client, f"dd{{{ns}}}".encode()) == _contents(redis_client, f"dd{{{ns}-posted}}".encode())
    assert _contents(redis_client, f"dd{{{namespace}-published}}".encode()) != \
        _contents(redis_client, f"dd{{{namespace}-input}}".encode())  # the order matters on this input


def test_a_state_that_does_not_fit_is_refused_in_one_line(feed, state, namespace, cli_env, tmp_path):
    path, rows = feed
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({**r, "text": r["text"] + " And more."}) + "\n" for r in rows))
    for args, says in (([str(state), str(other)], "the input's text is not the one the state was made from"),
                       ([str(state), str(tmp_path / "missing.jsonl")], "missing.jsonl"),
                       ([str(tmp_path), str(path)], "not a complete saved state")):
        r = CliRunner().invoke(cli, ["load", *args, "--namespace", namespace], env=cli_env)
        assert r.exit_code == 1 and says in r.output and "Traceback" not in r.output, r.output
    r = CliRunner().invoke(cli, ["load", str(state), str(path), "--namespace", namespace],
                           env={**cli_env, "DEDUP_PARAMS": '{"num_perm": 64}'})
    assert r.exit_code == 1 and "other fingerprint parameters" in r.output, r.output


def test_reindex_and_load_read_a_feed_dump_in_its_encoding(app, namespace, cli_env, tmp_path):
    rows = [{"id": "a", "text": "Caf\u00e9 owners on the seafront said trade fell by a third after the storm."},
            {"id": "b", "text": "PARIS - Caf\u00e9 owners on the seafront said trade fell by a third after the storm."}]
    dump = tmp_path / "cp.jsonl"
    dump.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("cp1252"))
    r = CliRunner().invoke(cli, ["reindex", str(dump), "-n", namespace], env=cli_env)
    assert r.exit_code == 1 and "pass --encoding cp1252" in r.output  # read as UTF-8: refused, saying how
    r = CliRunner().invoke(cli, ["reindex", str(dump), "-n", namespace, "--encoding", "cp1252"], env=cli_env)
    assert r.exit_code == 0 and "2 stored" in r.output, r.output
    got = app.test_client().get(f"/v1/ns/{namespace}/articles/b?text=true").get_json()
    assert got["text"] == rows[1]["text"] and [d["id"] for d in got["duplicates"]] == ["a"]
    state = tmp_path / "state"
    assert CliRunner().invoke(cli, ["batch", str(dump), "--encoding", "cp1252", "--state", str(state), "-q"]).exit_code == 0
    r = CliRunner().invoke(cli, ["load", str(state), str(dump), "-n", namespace + "-l", "--encoding", "cp1252"],
                           env=cli_env)
    assert r.exit_code == 0 and "2 stored" in r.output, r.output
