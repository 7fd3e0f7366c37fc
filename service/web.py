"""The web page at ``/``: paste an article (or name a stored one) and see
its duplicates side by side; browse a story.

The page is a client of the JSON API, in process: every look-up it makes
is a ``/v1`` request dispatched through the app itself (``werkzeug``'s WSGI
client), with the namespace and API key the person typed sent as the
``X-Dedup-Namespace`` and ``X-API-Key`` headers. So the page authenticates,
validates, limits and answers exactly as the API does, and degrades as the
API does (titles, sources and stored texts shown when the store's answers
carry them). No cookies: the key travels with each request, as a header
set by ``static/page.js`` or, without JavaScript, as a form field.

Everything shown goes through Jinja's autoescaping, and the page's
Content-Security-Policy allows only its own script and style sheet.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory
from jinja2 import ChoiceLoader, FileSystemLoader

from dedup.errors import DedupError
from dedup.offsets import segments, text_map
from dedup_service.openapi import FORM_ACTIONS, FORM_FIELDS

__all__ = ["FORM_FIELDS", "web_blueprint"]

#: What the form may send: the article (as the API takes it), what to do, where, with which key.
_ACTIONS = FORM_ACTIONS
_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'"


def _core_templates() -> Path:
    """The core's templates: the side-by-side view and style sheet that the batch report uses too."""
    import dedup

    return Path(dedup.__file__).resolve().parent / "templates"


def web_blueprint() -> Blueprint:
    """The page's routes: ``GET /`` (the form), ``POST /`` (its answers),
    ``/static/...`` (its script and style sheet)."""
    bp = Blueprint("web", __name__, template_folder="templates")
    bp.add_url_rule("/", view_func=page, methods=["GET", "POST"])
    bp.add_url_rule("/static/<path:filename>", endpoint="static", view_func=_static)
    bp.record_once(_add_core_loader)
    bp.add_app_template_test(_web_link, "web_link")
    return bp


def _web_link(url: object) -> bool:
    """Whether a stored url may become a link: http(s) only, so a posted
    ``javascript:`` or ``data:`` url is shown as text, never followed."""
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


def _add_core_loader(state) -> None:
    app = state.app
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(str(_core_templates()))]) if app.jinja_loader \
        else FileSystemLoader(str(_core_templates()))


_STATIC = Path(__file__).resolve().parent / "static"


def _static(filename: str):
    """The page's script (``static/``) and the style sheet it shares with the batch report (the core's)."""
    if filename == "dedup.css":
        return send_from_directory(_core_templates(), filename, mimetype="text/css")
    return send_from_directory(_STATIC, filename)


class _Api:
    """The JSON API, called in process with the page's namespace and key."""

    def __init__(self, namespace: str, key: str) -> None:
        self.headers = {}
        if namespace:
            self.headers["X-Dedup-Namespace"] = namespace
        if key:
            self.headers["X-API-Key"] = key
        self.client = current_app.test_client()

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        r = self.client.open(path, method=method, headers=self.headers,
                             data=None if body is None else json.dumps(body), content_type="application/json")
        return r.status_code, (r.get_json(silent=True) or {})


def _quoted(doc_id: str) -> str:
    return quote(doc_id, safe="")


def _form() -> dict[str, str]:
    got = {name: request.form.get(name, "") for name in FORM_FIELDS}
    got["action"] = got["action"] if got["action"] in _ACTIONS else "check"
    return got


def page():
    """The form, and on ``POST`` the answer to it (with the API's status on an error)."""
    form = _form() if request.method == "POST" else {name: "" for name in FORM_FIELDS} | {"action": "check"}
    # The script sends the namespace and key as headers; without it they come as form fields.
    namespace = request.headers.get("X-Dedup-Namespace", form["namespace"]).strip()
    key = request.headers.get("X-API-Key", form["key"]).strip()
    form["namespace"] = namespace
    status, context = 200, {}
    if request.method == "POST":
        api = _Api(namespace, key)
        status, context = _ANSWERS[form["action"]](api, form)
        if status < 400:
            context["index_size"] = _index_size(namespace)
    else:  # the default namespace's activity, when it needs no key
        got_status, got = _activity(_Api("", ""), form)
        context = got if got_status == 200 else {}
    body = render_template("page.html", form=form, key_in_form=bool(form["key"]) and "X-API-Key" not in request.headers,
                           **context)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _index_size(namespace: str) -> int | None:
    """Articles stored in the namespace (asked only after the API accepted the namespace and key)."""
    try:
        return len(current_app.extensions["dedup"].index(namespace or current_app.config["DEFAULT_NAMESPACE"]))
    except DedupError:  # the size is a nicety: Redis failing here must not cost the answer
        return None


def _article(form: dict) -> dict:
    return {k: form[k] for k in ("id", "text", "title", "url", "source", "published") if form[k].strip()}


def _check(api: _Api, form: dict) -> tuple[int, dict]:
    """Paste: look up (``check``) or store (``add``) the article, explained."""
    route = "/v1/articles" if form["action"] == "add" else "/v1/duplicates"
    status, body = api.call("POST", route + "?explain=true", _article(form))
    if status >= 400:
        return status, {"error": body.get("error", {"message": f"HTTP {status}"})}
    return status, {"result": _explained(api, body, form["text"], _article(form))}


def _stored(api: _Api, doc_id: str) -> tuple[int, dict]:
    """A stored article, with its text when the store keeps it (an API without ``?text`` answers 400: asked again without)."""
    path = f"/v1/articles/{_quoted(doc_id)}"
    status, body = api.call("GET", path + "?text=true")
    if status == 400 and body.get("error", {}).get("code") == "invalid_option":
        status, body = api.call("GET", path)
    return status, body


def _lookup(api: _Api, form: dict) -> tuple[int, dict]:
    """A stored id: its duplicates now (its stored text looked up again,
    explained), or, when its text is not stored, its stored best link."""
    doc_id = form["id"].strip()
    if not doc_id:
        return 400, {"error": {"message": "give the id of a stored article"}}
    status, stored = _stored(api, doc_id)
    if status >= 400:
        return status, {"error": stored.get("error", {"message": f"HTTP {status}"})}
    text = stored.get("text")
    if not text:
        return 200, {"result": _explained(api, stored, None, stored), "no_text": True}
    status, body = api.call("POST", "/v1/duplicates?explain=true", {"id": doc_id, "text": text})
    if status >= 400:
        return status, {"error": body.get("error", {"message": f"HTTP {status}"})}
    body.update(cluster=stored.get("cluster"), canonical=stored.get("canonical"))
    return 200, {"result": _explained(api, body, text, stored)}


def _story(api: _Api, form: dict) -> tuple[int, dict]:
    """A story, by its id or any member's: canonical copy first, then one page of copies by date."""
    doc_id = form["id"].strip()
    if not doc_id:
        return 400, {"error": {"message": "give the id of a stored article or story"}}
    cursor = form["cursor"] if form["cursor"].isdigit() else "0"
    status, body = api.call("GET", f"/v1/clusters/{_quoted(doc_id)}?limit=100&cursor={cursor}")
    if status >= 400:
        return status, {"error": body.get("error", {"message": f"HTTP {status}"})}
    members = body.get("members", [])
    canonical = [m for m in members if m["id"] == body.get("canonical")]
    copies = sorted((m for m in members if m["id"] != body.get("canonical")),
                    key=lambda m: (m.get("published") is None, m.get("published") or ""))
    return 200, {"story": {**body, "ordered": canonical + copies}}


def _decide(api: _Api, form: dict) -> tuple[int, dict]:
    """An editor's decision, through ``POST /v1/decisions``; then the story it changed."""
    kind = form["action"]
    if kind == "not_duplicate":
        body = {"decision": kind, "ids": [form["id"].strip(), form["other"].strip()]}
    elif kind == "split":
        ids = [x.strip() for x in request.form.getlist("ids") if x.strip()] or [form["id"].strip()]
        body = {"decision": kind, "ids": ids, "from": form["from"].strip()}
    else:
        body = {"decision": kind, "id": form["id"].strip()}
    status, got = api.call("POST", "/v1/decisions", body)
    if status >= 400:
        return status, {"error": got.get("error", {"message": f"HTTP {status}"})}
    context = {"decided": got}
    if kind != "not_duplicate":
        shown = body.get("id") or body["ids"][0]
        _, context_story = _story(api, {**form, "id": shown, "cursor": "0"})
        context.update(context_story)
    return status, context


def _search(api: _Api, form: dict) -> tuple[int, dict]:
    """Titles (and ids) through ``GET /v1/search``: one page, newest first."""
    q = form["q"].strip()
    if not q:
        return 400, {"error": {"message": "type words of a title, or an id, to search for"}}
    cursor = form["cursor"] if form["cursor"].isascii() and form["cursor"].isdigit() else "0"
    status, body = api.call("GET", f"/v1/search?q={quote(q, safe='')}&cursor={cursor}&limit=20")
    if status >= 400:
        return status, {"error": body.get("error", {"message": f"HTTP {status}"})}
    return 200, {"search": body}


def _activity(api: _Api, form: dict) -> tuple[int, dict]:
    """The namespace's size and newest articles, through ``GET /v1/activity``."""
    status, body = api.call("GET", "/v1/activity?limit=20")
    if status >= 400:
        return status, {"error": body.get("error", {"message": f"HTTP {status}"})}
    return 200, {"activity": body}


_ANSWERS = {"check": _check, "add": _check, "lookup": _lookup, "story": _story, "not_duplicate": _decide,
            "split": _decide, "canonical": _decide, "search": _search, "activity": _activity}


def _explained(api: _Api, body: dict, text: str | None, mine: dict) -> dict:
    """The API's answer made ready to show: for each duplicate, its stored
    title, source, url and text (when the store keeps them), and both
    original texts cut into segments (matched passages numbered alike on
    both sides, differences, what normalisation dropped)."""
    normaliser = current_app.extensions["dedup"].deduplicator(api.headers.get("X-Dedup-Namespace")
                                                              or current_app.config["DEFAULT_NAMESPACE"]).normaliser
    my_map = text_map(text, normaliser) if text else None
    shown = []
    for dup in body.get("duplicates", []):
        _, theirs = _stored(api, dup["id"])
        their_text = theirs.get("text")
        their_map = text_map(their_text, normaliser) if their_text else None
        passages = dup.get("passages", [])
        shown.append({
            **dup,
            "title": dup.get("title") or theirs.get("title"), "url": dup.get("url") or theirs.get("url"),
            "source": dup.get("source") or theirs.get("source"), "published": theirs.get("published"),
            "old_new": [(_figure(their_map, theirs_fig), mine_fig) for mine_fig, theirs_fig in dup.get("changed", [])],
            "mine": _segments(my_map, passages, "start", "end"),
            "theirs": _segments(their_map, passages, "their_start", "their_end"),
        })
    return {**body, "title": mine.get("title"), "source": mine.get("source"), "url": mine.get("url"),
            "duplicates": shown}


def _figure(m, shown: str) -> str:
    """A changed figure of the stored text: the core names it ``#<word offset>``
    when it has only the stored words; read it from the stored text when there is one."""
    if not (shown.startswith("#") and shown[1:].isdigit()):
        return shown
    if m is not None and int(shown[1:]) < len(m):
        lo, hi = m.span(int(shown[1:]), int(shown[1:]) + 1)
        return m.text[lo:hi]
    return f"word {shown[1:]}"


def _segments(m, passages: list[dict], lo: str, hi: str) -> list | None:
    if m is None:
        return None
    spans = []
    for p in passages:
        try:
            spans.append(m.span(p[lo], p[hi]))
        except (ValueError, KeyError):  # not the text the passages were computed on
            return segments(m.text, [], m.removed)
    return segments(m.text, spans, m.removed)
