"""The HTTP routes: ``/v1`` (articles, duplicates, clusters, batch) and the
operational ones (``/healthz``, ``/readyz``, ``/openapi.json``).

The ``/v1`` routes live on a blueprint made by :func:`v1_blueprint`, which
checks the API key and the namespace before every request it serves
(``before_request``): a route put on it cannot forget authentication.
The operational routes (blueprint :data:`ops`, and ``/metrics``) stay open.

Every input is checked before anything is written; every failure is a
:class:`~dedup.errors.DedupError` that the app's handler turns into
``{"error": {"code", "message"}}`` with its status.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context
from werkzeug.exceptions import ClientDisconnected

from dedup import Article, Match
from dedup.types import json_type
from dedup.errors import DedupError, InvalidArticle, NotFound, TooLarge
from dedup.offsets import add_char_offsets
from dedup_service.errors import (
    Forbidden, InvalidEncoding, InvalidJSON, InvalidNamespace, InvalidOption, Unauthorized, UnknownField,
    StoreUnavailable, UnsupportedMediaType,
)
from dedup_service.store import valid_namespace
from dedup_service.storing import StoringDeduplicator

__all__ = ["ARTICLE_FIELDS", "articles_blueprint", "ops", "parse_article", "v1_blueprint"]

#: The operational routes: no API key, no namespace.
ops = Blueprint("ops", __name__)

#: The fields an article may have; anything else is refused (``unknown_field``).
ARTICLE_FIELDS = frozenset({"id", "text", "title", "url", "source", "published"})
_JSON_TYPES = ("application/json",)
_NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/ndjson")


def _service():
    return current_app.extensions["dedup"]


def _api_key() -> str:
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("X-API-Key", "").strip()


def _authenticate() -> None:
    """Before every ``/v1`` request: the API key (when keys are configured)
    and the namespace it asks for, kept in ``g.namespace``.

    Raises:
        Unauthorized: no key, or an unknown one. Forbidden: a key not bound
        to the namespace. InvalidNamespace: a malformed namespace.
    """
    header, path = request.headers.get("X-Dedup-Namespace"), g.pop("path_namespace", None)
    if header is not None and not header.strip():
        raise InvalidNamespace("the X-Dedup-Namespace header is empty: name a namespace, or leave the header out")
    if header and path is not None and header != path:
        raise InvalidNamespace(f"the path names namespace {path!r} and the X-Dedup-Namespace header {header!r}: "
                               f"give one, or the same in both")
    ns = path if path is not None else header or current_app.config["DEFAULT_NAMESPACE"]
    keys = _service().api_keys
    if keys is not None:
        given = _api_key()
        if not given:
            raise Unauthorized("an API key is required: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        raw, match = given.encode("utf-8", "surrogatepass"), None
        for key, spaces in keys.items():  # every key compared, in constant time each
            if hmac.compare_digest(key.encode("utf-8", "surrogatepass"), raw):
                match = spaces
        if match is None:
            raise Unauthorized("unknown API key")
        if "*" not in match and ns not in match:
            raise Forbidden(f"this API key may not use namespace {ns!r}")
    if not valid_namespace(ns):
        raise InvalidNamespace(f"namespace {ns!r}: must be 1-64 characters of [A-Za-z0-9_.-]")
    g.namespace = ns


def _path_namespace(endpoint: str | None, values: dict | None) -> None:
    """``/v1/ns/<namespace>/...``: the namespace from the path, for :func:`_authenticate`."""
    if values and "namespace" in values:
        g.path_namespace = values.pop("namespace")


def v1_blueprint(name: str) -> Blueprint:
    """An empty blueprint under ``/v1`` whose every request is authenticated
    first: every route that reads or writes articles goes on one of these."""
    bp = Blueprint(name, __name__, url_prefix="/v1")
    bp.url_value_preprocessor(_path_namespace)  # runs before before_request
    bp.before_request(_authenticate)
    return bp


def articles_blueprint() -> Blueprint:
    """The ``/v1`` article routes, on a :func:`v1_blueprint` (one per app),
    each twice: ``/v1/<route>`` (namespace from the ``X-Dedup-Namespace``
    header, else the default) and ``/v1/ns/<namespace>/<route>`` (a header
    that names another namespace is a 400)."""
    bp = v1_blueprint("api")
    for rule, view, methods in _ROUTES:
        bp.add_url_rule(rule, view_func=view, methods=methods)
        bp.add_url_rule("/ns/<namespace>" + rule, endpoint=f"ns_{view.__name__}", view_func=view, methods=methods)
    return bp


def _dedup() -> tuple[str, StoringDeduplicator]:
    ns = g.namespace
    return ns, _service().deduplicator(ns)


def _decode(raw: bytes) -> object:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidEncoding(f"the body is not UTF-8 (byte {e.start})") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, or an integer over Python's digit limit
        raise InvalidJSON(f"malformed JSON: {e}") from None


#: Bytes of a body over its limit read and dropped before the 413 is sent: a
#: client still writing a body somewhat over the limit then reads the answer
#: instead of a broken pipe or a reset (nginx's lingering close does the same).
#: A larger body is cut off after these bytes.
DRAIN_BYTES = 8 << 20


def _too_large(stream, message: str) -> TooLarge:
    """:class:`TooLarge` with ``message``, after reading and dropping at most
    :data:`DRAIN_BYTES` more of the body."""
    left = DRAIN_BYTES
    while left > 0 and (chunk := stream.read(min(1 << 16, left))):
        left -= len(chunk)
    return TooLarge(message)


def _body(types: tuple[str, ...] = _JSON_TYPES) -> object:
    if request.mimetype not in types:
        raise UnsupportedMediaType(f"Content-Type must be {' or '.join(types)}, got {request.mimetype or 'none'!r}")
    limit = 2 * current_app.config["MAX_TEXT_BYTES"] + 65536
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"body is {request.content_length} bytes; the limit is {limit}")
    raw = request.stream.read(limit + 1)  # a chunked body has no length: never read past the limit
    if len(raw) > limit:
        raise _too_large(request.stream, f"body is over {limit} bytes (the limit)")
    return _decode(raw)


def parse_article(d: object) -> Article:
    """A JSON value -> :class:`Article`, refusing unknown fields and wrong types.

    Raises:
        InvalidArticle, UnknownField, TooLarge.
    """
    if not isinstance(d, dict):
        raise InvalidArticle(f"expected a JSON object, got {json_type(d)}")
    unknown = sorted(set(d) - ARTICLE_FIELDS)
    if unknown:
        raise UnknownField(f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(ARTICLE_FIELDS))}")
    return Article.from_dict(d)  # the id's limits (length, characters) are the core's, as in batch


def _flag(name: str) -> bool:
    """A boolean query option (``true``/``false``/``1``/``0``; absent: false)."""
    raw = request.args.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise InvalidOption(f"{name}={raw!r}: must be true or false")
    return raw in ("true", "1")


def _options() -> dict:
    """``explain`` and ``similarity`` from the query string, checked against the configured bounds."""
    unknown = set(request.args) - {"explain", "similarity"}
    if unknown:
        raise InvalidOption(f"unknown option(s) {', '.join(sorted(map(repr, unknown)))}; allowed: explain, similarity")
    opts: dict = {"explain": _flag("explain")}
    if "similarity" in request.args:
        lo, hi = current_app.config["SIMILARITY_MIN"], current_app.config["SIMILARITY_MAX"]
        try:
            s = float(request.args["similarity"])
        except ValueError:
            s = float("nan")
        if not lo <= s <= hi:
            raise InvalidOption(f"similarity={request.args['similarity']!r}: must be a number in [{lo}, {hi}]")
        opts["similarity"] = s
    return opts


_ROUTES: list[tuple[str, object, list[str]]] = []


def _route(method: str, rule: str):
    """Collect a ``/v1`` route (``rule`` below ``/v1``) for :func:`articles_blueprint`."""
    def register(view):
        _ROUTES.append((rule, view, [method]))
        return view
    return register


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")




def _described(index, body: dict) -> dict:
    """``body`` with each duplicate's title, url and source, from what the
    index's replies carried in this :meth:`~dedup_service.store.RedisIndex.noting`
    block (no more round trips when they did)."""
    about = index.about([x["id"] for x in body["duplicates"]])
    for x in body["duplicates"]:
        x.update(about[x["id"]].to_dict())
    return body


def _answer(d: StoringDeduplicator, article: Article, store: bool, opts: dict) -> tuple[dict, Match]:
    """The answer about one article (``store``: add it, else only look it up);
    a look-up names an update's changed figures by their words (one more
    round trip, only then); an add keeps to its two round trips and names its
    own side from its text (both with ``explain``); with ``explain``, its
    passages in characters too (:func:`_with_chars`)."""
    with d.index.noting():
        match = d.add(article, **opts) if store else d.query(article, **opts)
        match = dataclasses.replace(match, duplicates=d.figures_named(match.id, match.duplicates, article.text, read=not store))
        return _with_chars(d, article, _described(d.index, match.to_dict()), opts["explain"]), match


def _with_chars(d: StoringDeduplicator, article: Article, body: dict, explain: bool) -> dict:
    """With ``explain``: each passage's characters in the article's text and,
    when the store keeps them, in the duplicates' texts
    (:func:`dedup.offsets.add_char_offsets`; the texts are read in one more
    script call, only when explaining)."""
    if explain and body["duplicates"]:
        ids = [x["id"] for x in body["duplicates"]]
        theirs = d.index.texts(ids)  # none read again if an update link's figures read them already
        add_char_offsets(body["duplicates"], article.text, theirs, d.normaliser)
    return body


@_route("POST", "/articles")
def post_article():
    """Find the article's duplicates among stored ones, then store it (201; 200 on a retry)."""
    _ns, d = _dedup()
    opts = _options()
    body, match = _answer(d, parse_article(_body()), True, opts)
    return jsonify(body), 201 if match.created else 200


@_route("POST", "/duplicates")
def post_duplicates():
    """The same look-up without storing."""
    _ns, d = _dedup()
    opts = _options()
    return jsonify(_answer(d, parse_article(_body()), False, opts)[0])


@_route("GET", "/articles/<path:doc_id>")
def get_article(doc_id: str):
    """What is stored about an article: title, url, source, dates, size,
    cluster, duplicates; its original text with ``?text=true``."""
    ns, d = _dedup()
    unknown = set(request.args) - {"text"}
    if unknown:
        raise InvalidOption(f"unknown option(s) {', '.join(sorted(map(repr, unknown)))}; allowed: text")
    want = _flag("text")
    fp = d.get(doc_id)
    if fp is None:
        raise NotFound(f"article {doc_id!r} is not stored in namespace {ns!r}")
    with d.index.noting():
        story = d.index.story(doc_id, text=want)  # bounded, whatever the cluster's size
        cluster, canonical, links = (story.cluster, story.canonical, d.story_links(fp, story)) if story else (None, None, [])
        links = d.figures_named(doc_id, links)  # an update link stored unexplained: its figures by their words
        latest = story.latest if story else None
        body = _described(d.index, Match(doc_id, cluster, canonical, links, created=False, latest=latest).to_dict())
        mine = d.index.about([doc_id])[doc_id]
    body = {"id": doc_id, **mine.to_dict(text=want), **body}
    body.update(published=_iso(fp.published), added=_iso(fp.added), words=len(fp.tokens))
    return jsonify(body)


@_route("DELETE", "/articles/<path:doc_id>")
def delete_article(doc_id: str):
    """Forget an article and every key entry it touched (204; 404 if unknown)."""
    ns, d = _dedup()
    if not d.remove(doc_id):
        raise NotFound(f"article {doc_id!r} is not stored in namespace {ns!r}")
    return "", 204


#: Members per cluster page by default, and at most.
PAGE_SIZE, PAGE_MAX = 50, 1000


def _number(name: str, default: int, lo: int, hi: int) -> int:
    """An integer query option in ``[lo, hi]`` (absent: ``default``)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise InvalidOption(f"{name}={raw!r}: must be an integer in [{lo}, {hi}]")
    return int(raw)


def _page_args() -> tuple[int, int]:
    """``cursor`` (a member position, from the previous page's ``next``) or
    ``page`` (1-based), and ``limit`` (members per page)."""
    unknown = set(request.args) - {"cursor", "page", "limit"}
    if unknown:
        raise InvalidOption(f"unknown option(s) {', '.join(sorted(map(repr, unknown)))}; allowed: cursor, page, limit")
    if "cursor" in request.args and "page" in request.args:
        raise InvalidOption("give cursor or page, not both")

    limit = _number("limit", PAGE_SIZE, 1, PAGE_MAX)
    if "page" in request.args:
        return (_number("page", 1, 1, 10**9) - 1) * limit, limit
    return _number("cursor", 0, 0, 10**12), limit


@_route("GET", "/clusters/<path:cluster_id>")
def get_cluster(cluster_id: str):
    """A story, by its name first (the ``cluster`` an add answers), else by a
    member's id: canonical copy, and one page of
    members in insertion order, each with its best link (what explains its
    membership); ``next`` is the cursor of the next page (``null``: last)."""
    ns, d = _dedup()
    start, limit = _page_args()
    with d.index.noting():
        page = d.index.members(cluster_id, start, limit)
        if page is None:
            raise NotFound(f"cluster {cluster_id!r} does not exist in namespace {ns!r}")
        about = d.index.about([m[0] for m in page.members])
    members = [{"id": m, **about[m].to_dict(), "published": _iso(pub), "words": words,
                "link": link.to_dict(me=m) if link is not None else None} for m, pub, words, link in page.members]
    return jsonify({"cluster": page.cluster, "canonical": page.canonical, "size": page.size, "cursor": start,
                    "next": page.next, "members": members})


#: A batch body is held in memory up to this many bytes, in a temporary file beyond.
BATCH_SPOOL_MEMORY = 1 << 22


def _batch_body():
    """The whole NDJSON body, read before any article of it is stored: a
    body over ``MAX_BATCH_BYTES`` is refused with nothing written, chunked
    or not (at most the limit is read; beyond :data:`BATCH_SPOOL_MEMORY`
    it waits in a temporary file, gone when closed).

    Raises:
        TooLarge: over the limit, naming it.
    """
    limit = int(current_app.config["MAX_BATCH_BYTES"])
    too_large = f"the limit is {limit} bytes (DEDUP_MAX_BATCH_BYTES): send fewer articles per request"
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"body is {request.content_length} bytes; {too_large}")
    # A stream the server ends itself (gunicorn's; werkzeug's for a chunked body) is read as it is, counted here:
    # werkzeug's wrapper of it refuses a body of exactly MAX_CONTENT_LENGTH bytes and misses one cut short.
    stream = request.environ["wsgi.input"] if "wsgi.input_terminated" in request.environ else request.stream
    spool = tempfile.SpooledTemporaryFile(BATCH_SPOOL_MEMORY)
    try:
        while chunk := stream.read(min(1 << 16, limit + 1 - spool.tell())):
            spool.write(chunk)
            if spool.tell() > limit:
                raise _too_large(stream, f"body is over {limit} bytes; {too_large}")
        if request.content_length is not None and spool.tell() < request.content_length:
            raise ClientDisconnected(f"the body ended after {spool.tell()} of its {request.content_length} bytes")
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


@_route("POST", "/batch")
def post_batch():
    """NDJSON in (one article per line), NDJSON out (one result per line, in order)."""
    ns, d = _dedup()
    opts = _options()
    if request.mimetype not in _NDJSON_TYPES:
        raise UnsupportedMediaType(f"Content-Type must be {' or '.join(_NDJSON_TYPES)}, got {request.mimetype or 'none'!r}")
    body = _batch_body()

    def results() -> Iterator[str]:
        for n, raw in enumerate(body, 1):
            if not raw.strip():
                continue
            try:
                answer, match = _answer(d, parse_article(_decode(raw)), True, opts)
                out = {"line": n, "status": 201 if match.created else 200, **answer}
            except StoreUnavailable as e:
                yield json.dumps({"line": n, "status": e.status, "error": e.to_dict()}) + "\n"
                return
            except DedupError as e:
                out = {"line": n, "status": e.status, "error": e.to_dict()}
            yield json.dumps(out) + "\n"
        try:
            d.index.settle()  # the pending flags this request's adds left to a next one, in one round trip
        except StoreUnavailable:
            pass  # the answers are out; the next add, or a repair, clears them

    response = Response(stream_with_context(results()), mimetype="application/x-ndjson")
    response.call_on_close(body.close)
    return response


# -- editors' decisions, search, activity (issue 17) ---------------------------
#: Articles one search request looks at, at most (newest first, from its cursor).
SEARCH_SCAN = 2000
#: Recent articles the activity route lists, at most.
RECENT_MAX = 100


def _only(*allowed: str) -> None:
    unknown = set(request.args) - set(allowed)
    if unknown:
        raise InvalidOption(f"unknown option(s) {', '.join(sorted(map(repr, unknown)))}; allowed: {', '.join(allowed)}")


@_route("POST", "/decisions")
def post_decision():
    """Record an editor's decision (:mod:`dedup.decisions`) and apply it to
    the stories now: 201, or 200 when the same decision was already made."""
    from dedup.decisions import parse_decision

    _only()
    _ns, d = _dedup()
    record = parse_decision(_body())
    got = d.index.record_decision(record)
    return jsonify({"decision": record, "moved": got["moved"], "superseded": got["superseded"]}), 201 if got["created"] else 200


@_route("GET", "/decisions")
def get_decisions():
    """The decisions made, in order: one page of JSON, or with
    ``format=ndjson`` all of them as JSON Lines (what ``dedup batch
    --decisions`` reads), streamed page by page."""
    _only("cursor", "limit", "format")
    _ns, d = _dedup()
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "ndjson"):
        raise InvalidOption(f"format={fmt!r}: must be json or ndjson")
    start, limit = _number("cursor", 0, 0, 10**12), _number("limit", 100, 1, 1000)
    if fmt == "json":
        records, nxt = d.index.decisions(start, limit)
        return jsonify({"decisions": records, "cursor": start, "next": nxt})

    def lines() -> Iterator[str]:
        at: int | None = start
        while at is not None:
            records, at = d.index.decisions(at, limit)
            yield from (json.dumps(r, ensure_ascii=False) + "\n" for r in records)

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson")


def _listed(items: list[dict]) -> list[dict]:
    return [{**{k: v for k, v in x.items() if k != "seq"}, "added": _iso(x["added"]), "published": _iso(x["published"])}
            for x in items]


@_route("GET", "/search")
def search():
    """Stored articles whose title has every word of ``q`` (as a word or a
    word's beginning, ignoring case), or whose id is ``q``: newest first,
    each page looking at most at ``SEARCH_SCAN`` articles from ``cursor``;
    ``next`` goes on below (``null``: none left)."""
    _only("q", "cursor", "limit")
    _ns, d = _dedup()
    q = request.args.get("q", "").strip()
    if not q or len(q) > 200:
        raise InvalidOption("q: give 1 to 200 characters to search for")
    cursor, limit = _number("cursor", 0, 0, 2**32), _number("limit", 20, 1, 100)
    words = _words(q)
    found, scanned, at = [], 0, cursor
    fp = d.index.get(q) if cursor == 0 else None
    if fp is not None:  # an id: that article first
        story, about = d.index.story(q), d.index.about([q])[q]
        found.append({"id": q, "title": about.title, "source": about.source, "cluster": story.cluster if story else q,
                      "added": fp.added, "published": fp.published})
    while scanned < SEARCH_SCAN and len(found) < limit:
        step = min(500, SEARCH_SCAN - scanned)
        items, at = d.index.recent(at, step)
        scanned += step
        for x in items:
            if x["id"] != q and words and _matches(words, x["title"]):
                found.append(x)
                if len(found) == limit:
                    at = x["seq"] - 1
                    break
        if not at:
            break
    return jsonify({"q": q, "results": _listed(found), "cursor": cursor, "next": at or None})


def _words(text: str | None) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in (text or "").casefold()).split() if w]


def _matches(words: list[str], title: str | None) -> bool:
    have = _words(title)
    return all(any(h.startswith(w) for h in have) for w in words)


@_route("GET", "/activity")
def activity():
    """The namespace's size (articles, pending ones, decisions) and its
    newest ``limit`` articles (at most ``RECENT_MAX``), newest first."""
    _only("limit")
    _ns, d = _dedup()
    limit = _number("limit", 20, 1, RECENT_MAX)
    recent, _ = d.index.recent(0, limit)
    return jsonify({"articles": len(d.index), "pending": d.index.pending_count(),
                    "decisions": d.index.decision_count(), "recent": _listed(recent)})


@ops.get("/healthz")
def healthz():
    """The process is up (no Redis call)."""
    return jsonify({"status": "ok"})


@ops.get("/readyz")
def readyz():
    """Redis answers: 200 with its generation marker (``data_lost`` when it
    restarted empty or was flushed), else 503 ``store_unavailable``."""
    gen = _service().generation()
    lost = {"previous_generation": gen["previous"], "detected_at": _iso(gen["lost_at"])} if gen.get("previous") else None
    return jsonify({"status": "ready", "generation": gen["id"], "since": _iso(gen["created"]), "data_lost": lost})


@ops.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of these routes."""
    from dedup_service.openapi import spec

    return jsonify(spec(current_app.config))

