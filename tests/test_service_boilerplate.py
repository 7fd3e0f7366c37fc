"""The service's BOILERPLATE_FILE: the extra boilerplate patterns of
``dedup batch --boilerplate``, online. A house footer declared there is
stripped before fingerprinting, as batch strips it; the patterns are part of
the namespace layout, so a namespace is never fed words made with others."""

from __future__ import annotations

import pytest

from dedup.errors import InvalidParams

FOOTER = ("If you value independent local reporting, please consider becoming a member today: members keep our "
          "reporters in the courtroom and the council chamber.")
STORY = ("The city council approved a plan on Tuesday to rebuild the harbour wall after the winter storms damaged "
         "it in three places, officials said. Work is expected to start in the spring and to last two years, "
         "and the port will stay open while it goes on. The council said the cost would be shared with the "
         "regional government, which has set aside money for coastal defences across the county this year.")


def _app(redis_server, namespace, **extra):
    from dedup_service.app import create_app

    return create_app({"TESTING": True, "REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace,
                       "CAPACITY": 1000, **extra})


def _footer_file(tmp_path, *patterns: str):
    path = tmp_path / "boilerplate.txt"
    path.write_text("\n".join(patterns) + "\n", encoding="utf-8")
    return str(path)


def test_a_declared_footer_is_stripped_before_fingerprinting(redis_server, namespace, tmp_path):
    app = _app(redis_server, namespace, BOILERPLATE_FILE=_footer_file(tmp_path, r"if you value independent .*"))
    http = app.test_client()
    assert http.post("/v1/articles", json={"id": "a", "text": STORY + "\n\n" + FOOTER}).status_code == 201
    got = http.post("/v1/duplicates", json={"id": "b", "text": STORY}).get_json()
    assert [(d["id"], d["kind"]) for d in got["duplicates"]] == [("a", "exact")]  # the footer is not in its words
    app.extensions["dedup"].close()


def test_without_the_setting_the_footer_stays_in_the_words(redis_server, namespace):
    app = _app(redis_server, namespace)
    http = app.test_client()
    assert http.post("/v1/articles", json={"id": "a", "text": STORY + "\n\n" + FOOTER}).status_code == 201
    got = http.post("/v1/duplicates", json={"id": "b", "text": STORY}).get_json()
    assert [d["id"] for d in got["duplicates"]] == ["a"] and got["duplicates"][0]["kind"] != "exact"
    app.extensions["dedup"].close()


def test_other_patterns_on_a_stored_namespace_are_refused(redis_server, namespace, tmp_path):
    first = _app(redis_server, namespace)
    assert first.test_client().post("/v1/articles", json={"id": "a", "text": STORY}).status_code == 201
    first.extensions["dedup"].close()
    second = _app(redis_server, namespace, BOILERPLATE_FILE=_footer_file(tmp_path, r"if you value independent .*"))
    r = second.test_client().post("/v1/articles", json={"id": "b", "text": STORY})
    body = r.get_json()
    assert r.status_code == 409 and body["error"]["code"] == "namespace_mismatch", body
    assert "boilerplate none -> bp" in body["error"]["message"]
    second.extensions["dedup"].close()


@pytest.mark.parametrize("content, why", [(None, "cannot read it"), ("(unclosed\n", "invalid")])
def test_a_bad_boilerplate_file_is_refused_at_start_naming_the_setting(redis_server, namespace, tmp_path,
                                                                       content, why):
    path = tmp_path / "bp.txt"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidParams, match=f"BOILERPLATE_FILE=.*{why}"):
        _app(redis_server, namespace, BOILERPLATE_FILE=str(path))


def test_a_reindex_fingerprints_with_the_namespaces_patterns(redis_server, namespace, tmp_path):
    """``dedup reindex`` / ``dedup load`` (``replay``) fingerprint the articles they add as a POST does."""
    from dedup import Article
    from dedup_service.export import replay

    app = _app(redis_server, namespace, BOILERPLATE_FILE=_footer_file(tmp_path, r"if you value independent .*"))
    done = replay(app.extensions["dedup"].index(namespace), [Article("a", STORY + "\n\n" + FOOTER)])
    assert done.created == 1
    got = app.test_client().post("/v1/duplicates", json={"id": "b", "text": STORY}).get_json()
    assert [(d["id"], d["kind"]) for d in got["duplicates"]] == [("a", "exact")]
    app.extensions["dedup"].close()


def test_an_export_made_with_other_patterns_is_refused_by_reindex(redis_server, namespace, tmp_path):
    """An export keeps the words as they were made: a namespace with other patterns must not take them."""
    from dedup.errors import InvalidArticle
    from dedup_service.export import export_lines, read_export, replay

    footed = _app(redis_server, namespace, BOILERPLATE_FILE=_footer_file(tmp_path, r"if you value independent .*"))
    assert footed.test_client().post("/v1/articles", json={"id": "a", "text": STORY + "\n\n" + FOOTER}).status_code == 201
    index = footed.extensions["dedup"].index(namespace)
    lines = list(export_lines(index))
    plain = _app(redis_server, namespace + "-plain").extensions["dedup"]
    with pytest.raises(InvalidArticle, match="other boilerplate patterns"):
        replay(plain.index(namespace + "-plain"), read_export(lines, plain.params, plain.normaliser.boilerplate))
    again = _app(redis_server, namespace + "-again", BOILERPLATE_FILE=_footer_file(tmp_path, r"if you value independent .*"))
    done = replay(again.extensions["dedup"].index(namespace + "-again"),
                  read_export(lines, again.extensions["dedup"].params, index.boilerplate))
    assert done.created == 1
    for app in (footed, again):
        app.extensions["dedup"].close()
    plain.close()
