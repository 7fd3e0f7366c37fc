"""The web page at ``/`` (served by the app on the private Redis) and the
character offsets the JSON API gives passages."""

from __future__ import annotations

import html
import re

import pytest

from dedup.normalisation import normalise, tokens

BODY = ("The central bank raised interest rates by a quarter point on Thursday, its third increase this year, "
        "citing stubborn inflation in services and a labour market that has barely cooled. Officials said further "
        "moves would depend on the data, and markets priced in one more rise before the summer. ")


def store(client, doc_id: str, text: str, headers: dict | None = None, **fields):
    r = client.post("/v1/articles", json={"id": doc_id, "text": text, **fields}, headers=headers or {})
    assert r.status_code == 201, r.json
    return r


def page(client, headers: dict | None = None, **form):
    return client.post("/", data=form, headers=headers or {})


def test_the_form_is_served_with_a_strict_policy(client):
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    body = r.get_data(as_text=True)
    for name in ("text", "id", "namespace", "key", "action"):
        assert f'name="{name}"' in body
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert client.get("/static/page.js").status_code == 200
    assert client.get("/static/dedup.css").mimetype == "text/css"
    assert client.get("/static/nothing.js").status_code == 404


def test_a_pasted_copy_shows_its_duplicate_with_passages_highlighted(client):
    store(client, "wire-1", BODY * 2, title="Rates rise again", source="Wire")
    copy = "FRANKFURT (Reuters) - " + BODY * 2 + "\nAdvertisement"
    r = page(client, action="check", text=copy)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "1 duplicate found" in body
    assert 'data-id="wire-1"' in body and 'class="kind exact"' in body
    mine = re.search(r'<h4>this article</h4><div class="text">(.*?)</div>', body, re.DOTALL).group(1)
    marked = " ".join(html.unescape(m) for m in re.findall(r'<mark class="match[^"]*"[^>]*>(.*?)</mark>', mine, re.DOTALL))
    assert tokens(normalise(marked)) == tokens(normalise(BODY * 2))  # every word of the story, highlighted
    assert re.search(r'<span class="removed"[^>]*>FRANKFURT \(Reuters\)', mine)
    assert re.search(r'<span class="removed"[^>]*>Advertisement', mine)
    assert re.search(r"Namespace <b>[^<]+</b>: 1 article stored", body)
    assert page(client, action="check", text=copy).get_data(as_text=True).count('class="dup"') == 1  # check stores nothing


def test_find_and_store_stores_it(client):
    store(client, "a", BODY * 2)
    r = page(client, action="add", id="b", text="Breaking: " + BODY * 2)
    assert r.status_code == 201
    assert client.get("/v1/articles/b").status_code == 200


def test_changed_figures_are_shown_old_to_new(client):
    text = BODY * 3
    store(client, "toll-1", text + " The toll rose to 41 on Friday.")
    r = page(client, action="check", text=text + " The toll rose to 57 on Friday.")
    body = r.get_data(as_text=True)
    assert 'class="kind update"' in body
    # the stored figure is read from the stored text when the store keeps it, else named by its word
    old = "41" if client.get("/v1/articles/toll-1?text=true").get_json().get("text") else f"word {len(tokens(text)) + 4}"
    assert f"<del>{old}</del> &rarr; <ins>57</ins>" in body


def test_markup_in_stored_articles_shows_as_text(client):
    evil = "<script>alert('x')</script>"
    store(client, "evil<1>", BODY * 2 + evil, title=evil, source=evil)
    r = page(client, action="check", text=BODY * 2 + evil, title=evil)
    body = r.get_data(as_text=True)
    assert "evil&lt;1&gt;" in body
    assert "&lt;script&gt;" in body
    assert "<script>alert" not in body and "<1>" not in body
    r = page(client, action="story", id="evil<1>")
    assert r.status_code == 200 and "<script>alert" not in r.get_data(as_text=True)


def test_only_http_urls_become_links(client):
    store(client, "js", BODY * 2, url="javascript:alert(1)")
    store(client, "web", "LONDON - " + BODY * 2, url="https://example.org/story")
    for form in ({"action": "check", "text": BODY * 2}, {"action": "story", "id": "js"}):
        body = page(client, **form).get_data(as_text=True)
        assert 'href="javascript:' not in body and "javascript:alert(1)" in body  # shown, as text
        assert 'href="https://example.org/story"' in body


def test_a_stored_id_is_looked_up(client):
    store(client, "s1", BODY * 2)
    store(client, "s2", "LONDON - " + BODY * 2)
    body = page(client, action="lookup", id="s2").get_data(as_text=True)
    assert "s1" in body and 'class="kind exact"' in body
    missing = page(client, action="lookup", id="nope")
    assert missing.status_code == 404 and "is not stored" in missing.get_data(as_text=True)


def test_a_story_lists_canonical_first_then_copies_by_date(client):
    store(client, "late", "Desk 2 - " + BODY * 2, published="2024-05-03T00:00:00Z", title="Late copy")
    store(client, "first", "Desk 1 - " + BODY * 2, published="2024-05-01T00:00:00Z")
    store(client, "mid", "Desk 3 - " + BODY * 2, published="2024-05-02T00:00:00Z")
    body = page(client, action="story", id="late").get_data(as_text=True)
    table = re.search(r'<table id="story">(.*?)</table>', body, re.DOTALL).group(1)
    rows = re.findall(r"<tr class=\"[^\"]*\"><td>([^< ]+)", table)
    assert rows == ["first", "mid", "late"]
    assert "canonical copy <b>first</b>" in body


def test_namespaces_are_kept_apart(client):
    store(client, "x", BODY * 2, headers={"X-Dedup-Namespace": "web-a"})
    seen = page(client, action="check", text=BODY * 2, namespace="web-a").get_data(as_text=True)
    assert "1 duplicate found" in seen
    other = page(client, action="check", text=BODY * 2, namespace="web-b").get_data(as_text=True)
    assert "No duplicate found" in other
    bad = page(client, action="check", text=BODY, namespace="no spaces")
    assert bad.status_code == 400 and "namespace" in bad.get_data(as_text=True)


@pytest.fixture
def keyed(redis_server, namespace):
    from dedup_service.app import create_app

    app = create_app({"TESTING": True, "REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": namespace,
                      "CAPACITY": 1000, "API_KEYS": {"k-ns": [namespace], "k-other": ["elsewhere"]}})
    yield app.test_client()
    app.extensions["dedup"].close()


def test_api_keys_apply_as_in_the_api(keyed):
    store(keyed, "k1", BODY * 2, headers={"X-API-Key": "k-ns"})
    assert page(keyed, action="check", text=BODY * 2).status_code == 401
    assert page(keyed, action="check", text=BODY * 2, key="wrong").status_code == 401
    assert page(keyed, action="check", text=BODY * 2, key="k-other").status_code == 403
    as_field = page(keyed, action="check", text=BODY * 2, key="k-ns")
    assert as_field.status_code == 200 and "1 duplicate found" in as_field.get_data(as_text=True)
    as_header = page(keyed, headers={"X-API-Key": "k-ns"}, action="check", text=BODY * 2)
    assert as_header.status_code == 200 and "1 duplicate found" in as_header.get_data(as_text=True)
    # a key typed into the form comes back only in the form (so that its answer's buttons work without JavaScript)
    assert as_field.get_data(as_text=True).count('value="k-ns"') >= 1
    assert 'value="k-ns"' not in as_header.get_data(as_text=True)
    assert "Set-Cookie" not in as_field.headers


def test_the_api_gives_passages_in_characters_of_the_original(client):
    store(client, "orig", BODY * 2)
    text = "<p>WASHINGTON (AP) — " + BODY.replace("quarter", "“quarter”") * 2 + "</p>"
    r = client.post("/v1/duplicates?explain=true", json={"text": text})
    passages = r.json["duplicates"][0]["passages"]
    assert passages
    for p in passages:
        assert tokens(normalise(text[p["char_start"]:p["char_end"]])) == p["text"].split()
    spec = client.get("/openapi.json").json
    props = spec["components"]["schemas"]["Duplicate"]["properties"]["passages"]["items"]["properties"]
    assert {"char_start", "char_end", "their_char_start", "their_char_end"} <= set(props)


# -- editors' decisions, search, activity (issue 17) ------------------------------
def test_not_a_duplicate_on_the_page_is_respected_by_the_next_add(client):
    store(client, "wire-1", BODY * 2)
    body = page(client, action="check", id="copy-1", text="Desk - " + BODY * 2).get_data(as_text=True)
    assert re.search(r'name="action" value="not_duplicate"><input type="hidden" name="id" value="copy-1">'
                     r'<input type="hidden" name="other" value="wire-1">', body)
    r = page(client, action="not_duplicate", id="copy-1", other="wire-1")
    assert r.status_code == 201 and "are not duplicates" in r.get_data(as_text=True)
    r = page(client, action="add", id="copy-1", text="Desk - " + BODY * 2)
    assert r.status_code == 201 and "No duplicate found" in r.get_data(as_text=True)
    assert client.get("/v1/clusters/copy-1").json["size"] == 1


def test_a_story_can_be_split_and_its_canonical_picked_on_the_page(client):
    for i in range(4):
        store(client, f"p{i}", f"Desk {i} - " + BODY * 2)
    body = page(client, action="story", id="p0").get_data(as_text=True)
    assert 'id="split-form"' in body and body.count('name="ids"') == 3  # every member but the founder
    r = page(client, action="split", ids=["p2", "p3"], **{"from": "p0"})
    assert r.status_code == 201 and "left the story of p0" in r.get_data(as_text=True)
    assert client.get("/v1/clusters/p3").json["size"] == 2 and client.get("/v1/clusters/p0").json["size"] == 2
    r = page(client, action="canonical", id="p1")
    assert r.status_code == 201 and client.get("/v1/clusters/p0").json["canonical"] == "p1"
    r = page(client, action="split", id="p0", **{"from": "p1"})
    assert r.status_code == 409 and "founded the story" in r.get_data(as_text=True)


def test_search_results_escape_titles(client):
    evil = "<script>alert('x')</script> Rates"
    store(client, "s<1>", BODY * 2, title=evil)
    r = page(client, action="search", q="rates")
    body = r.get_data(as_text=True)
    table = re.search(r'<table id="search-results">(.*?)</table>', body, re.DOTALL).group(1)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Rates" in table and "<script>" not in table
    assert "s&lt;1&gt;" in table
    assert page(client, action="search", q="").status_code == 400


def test_the_page_shows_recent_activity_and_the_size(client):
    store(client, "act-1", BODY * 2, title="First <b>story</b>")
    body = client.get("/").get_data(as_text=True)
    recent = re.search(r'<table id="recent">(.*?)</table>', body, re.DOTALL).group(1)
    assert "act-1" in recent and "First &lt;b&gt;story&lt;/b&gt;" in recent
    assert re.search(r'id="activity-size">1 article</span>', body)
    body = page(client, action="activity").get_data(as_text=True)
    assert "0 editor decisions" in body
