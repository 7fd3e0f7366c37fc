"""The OpenAPI 3 description of the service (``GET /openapi.json``).

A test checks that its paths and methods are exactly the app's ``url_map``.
"""

from __future__ import annotations

from collections.abc import Mapping

from dedup.types import KINDS, MAX_FIELD_CHARS, MAX_ID_BYTES

__all__ = ["spec"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


_HTML = {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}
#: The web page's form fields (service/web.py reads these).
FORM_FIELDS = ("action", "text", "id", "title", "url", "source", "published", "namespace", "key", "cursor",
               "other", "from", "ids", "q")
#: What the page's form can ask (service/web.py answers each).
FORM_ACTIONS = ("check", "add", "lookup", "story", "not_duplicate", "split", "canonical", "search", "activity")


def _errors(*codes: int) -> dict:
    return {str(c): {"description": "error", **_json(_ref("Error"))} for c in codes}


_NS = {"name": "X-Dedup-Namespace", "in": "header", "required": False, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
       "description": "Independent index to use (default: the configured DEFAULT_NAMESPACE)."}
_EXPLAIN = {"name": "explain", "in": "query", "schema": {"type": "boolean"}, "description": "Return aligned matching passages."}


#: An id: no control characters, no lone surrogates (``dedup.types``), at most MAX_ID_BYTES bytes of UTF-8.
_ID = {"type": "string", "pattern": r"^[^\x00-\x1f\x7f-\x9f]+$", "maxLength": MAX_ID_BYTES // 4,
       "description": f"no control characters, no lone surrogates (\\ud800 alone); at most {MAX_ID_BYTES} bytes "
                      f"of UTF-8 (maxLength: the length that fits whatever the characters)"}
#: ISO 8601 as the service reads it: a date, optionally a time and an offset (a 29 February is read too).
_PUBLISHED = {"type": "string", "description": "ISO 8601 date or date-time, e.g. 2024-05-01T10:00:00Z (naive: UTC)",
              "pattern": "^[1-9][0-9]{3}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
                         "|02-(0[1-9]|1[0-9]|2[0-8]))(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?"
                         "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$"}


def _with_path_namespace(paths: dict) -> dict:
    """Every ``/v1/<route>`` again as ``/v1/ns/{namespace}/<route>`` (a header naming another namespace: 400)."""
    ns_param = {"name": "namespace", "in": "path", "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
                "description": "the namespace (an X-Dedup-Namespace header, when sent too, must name the same: else 400)"}
    out = dict(paths)
    for path, ops in paths.items():
        if path.startswith("/v1/"):
            out["/v1/ns/{namespace}/" + path[len("/v1/"):]] = {
                method: {**op, "parameters": [ns_param, *(p for p in op.get("parameters", []) if p is not _NS)]}
                for method, op in ops.items()}
    return out


def spec(config: Mapping) -> dict:
    """The OpenAPI document, with the configured bounds filled in."""
    doc = _spec(config)
    doc["paths"] = _with_path_namespace(doc["paths"])
    return doc


def _spec(config: Mapping) -> dict:
    """The document's ``/v1`` routes and schemas. Long on purpose: one literal,
    the document itself, kept whole so it reads like the schema it is (a test
    checks it against the routes)."""
    sim = {"name": "similarity", "in": "query", "schema": {"type": "number", "minimum": config["SIMILARITY_MIN"], "maximum": config["SIMILARITY_MAX"]},
           "description": "Override the token-similarity threshold for this request."}
    article_in = {"required": True, **_json(_ref("Article"))}
    id_param = {"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"}}
    common = [_NS]
    about = {name: {"type": "string", "nullable": True, "description": f"the article's {name}, as posted"}
             for name in ("title", "url", "source")}
    write_errors = _errors(400, 401, 403, 413, 415, 503)
    return {
        "openapi": "3.0.3",
        "info": {"title": "dedup", "version": "1", "description": "Find duplicate and near-duplicate news articles."},
        "paths": {
            "/v1/articles": {"post": {
                "summary": "Find the article's duplicates, then store it", "parameters": [*common, _EXPLAIN, sim],
                "requestBody": article_in,
                "responses": {"201": {"description": "stored", **_json(_ref("Match"))},
                              "200": {"description": "same id and text already stored (idempotent retry)", **_json(_ref("Match"))},
                              **write_errors}}},
            "/v1/duplicates": {"post": {
                "summary": "Find the article's duplicates without storing it", "parameters": [*common, _EXPLAIN, sim],
                "requestBody": article_in,
                "responses": {"200": {"description": "duplicates", **_json(_ref("Match"))}, **write_errors}}},
            "/v1/articles/{doc_id}": {
                "get": {"summary": "A stored article: title, url, source, dates, size, cluster, duplicates",
                        "parameters": [*common, id_param, {
                            "name": "text", "in": "query", "schema": {"type": "boolean", "default": False},
                            "description": "Also return the original text (null when it was not stored: STORE_TEXT off)."}],
                        "responses": {"200": {"description": "stored", **_json(_ref("StoredArticle"))}, **_errors(401, 403, 404, 503)}},
                "delete": {"summary": "Forget an article everywhere", "parameters": [*common, id_param],
                           "responses": {"204": {"description": "removed"}, **_errors(401, 403, 404, 503)}}},
            "/v1/clusters/{cluster_id}": {"get": {
                "summary": "A story, by its name (the cluster an add answers) first, else by a member's id: canonical copy, a page of members, each with its best link",
                "parameters": [*common, {"name": "cluster_id", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "cursor", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10**12},
                                "description": "member position: the previous page's next (not with page: 400)"},
                               {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10**9},
                                "description": "1-based page (not with cursor: 400)"},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}}],
                "responses": {"200": {"description": "cluster", **_json(_ref("Cluster"))}, **_errors(400, 401, 403, 404, 503)}}},
            "/v1/batch": {"post": {
                "summary": "Many articles as NDJSON; one result line per input line, streamed", "parameters": [*common, _EXPLAIN, sim],
                "requestBody": {"required": True, "content": {"application/x-ndjson": {"schema": _ref("Article")}}},
                "responses": {"200": {"description": "one JSON object per line: Match plus line and status, or line, status and error",
                                      "content": {"application/x-ndjson": {"schema": {"type": "object"}}}}, **write_errors}}},
            "/v1/decisions": {
                "post": {"summary": "Record an editor's decision (not a duplicate, split, canonical copy) and apply it now",
                         "parameters": [*common], "requestBody": {"required": True, **_json(_ref("Decision"))},
                         "responses": {"201": {"description": "recorded and applied", **_json(_ref("Decided"))},
                                       "200": {"description": "the same decision was already recorded", **_json(_ref("Decided"))},
                                       **_errors(400, 401, 403, 404, 409, 413, 415, 503)}},
                "get": {"summary": "The decisions made, in order: a page of JSON, or all as JSON Lines (format=ndjson: "
                                   "what dedup batch --decisions reads)",
                        "parameters": [*common,
                                       {"name": "cursor", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10**12}},
                                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
                                       {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "ndjson"], "default": "json"}}],
                        "responses": {"200": {"description": "decisions", "content": {
                            "application/json": {"schema": {"type": "object", "properties": {
                                "decisions": {"type": "array", "items": _ref("Decision")}, "cursor": {"type": "integer"},
                                "next": {"type": ["integer", "null"]}}}},
                            "application/x-ndjson": {"schema": _ref("Decision")}}}, **_errors(400, 401, 403, 503)}}},
            "/v1/search": {"get": {
                "summary": "Stored articles whose title has every word of q (or a word's beginning), or whose id is q: "
                           "newest first, each page looking at up to 2,000 articles",
                "parameters": [*common,
                               {"name": "q", "in": "query", "required": True,
                                "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"}},
                               {"name": "cursor", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2**32},
                                "description": "the previous page's next"},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}],
                "responses": {"200": {"description": "matches", **_json({"type": "object", "properties": {
                    "q": {"type": "string"}, "results": {"type": "array", "items": _ref("Listed")},
                    "cursor": {"type": "integer"}, "next": {"type": ["integer", "null"]}}})}, **_errors(400, 401, 403, 503)}}},
            "/v1/activity": {"get": {
                "summary": "The namespace's size (articles, pending, decisions) and its newest articles",
                "parameters": [*common, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}],
                "responses": {"200": {"description": "activity", **_json({"type": "object", "properties": {
                    "articles": {"type": "integer"}, "pending": {"type": "integer"}, "decisions": {"type": "integer"},
                    "recent": {"type": "array", "items": _ref("Listed")}}})}, **_errors(400, 401, 403, 503)}}},
            "/": {"get": {"summary": "The web page: paste an article or give a stored id, see its duplicates side by side; browse a story",
                          "responses": {"200": _HTML}},
                  "post": {"summary": "The page's form: its answer, as HTML",
                           "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                               "type": "object", "additionalProperties": False, "properties": {
                                   **{name: {"type": "string"} for name in FORM_FIELDS},
                                   "action": {"type": "string", "enum": ["", *FORM_ACTIONS]},
                                   "id": {"anyOf": [{"type": "string", "maxLength": 0}, _ID]},
                                   "published": {"anyOf": [{"type": "string", "maxLength": 0}, _PUBLISHED]},
                                   "namespace": {"type": "string", "pattern": _NS["schema"]["pattern"].replace("{1,64}", "{0,64}")},
                                   "cursor": {"type": "string", "pattern": "^[0-9]{0,12}$"}},
                               "description": "action is check (the default), add, lookup or story; check and add need "
                                              "text, lookup and story an id; the other fields are the article's and the "
                                              "API key and namespace the JSON API takes as headers. An editor's "
                                              "decisions: not_duplicate (id and other), split (ids, repeated, or id; "
                                              "from: the story), canonical (id); search (q, cursor); activity"}}}},
                           "responses": {"200": _HTML, **{str(c): {"description": "the form again, with the JSON API's "
                                                                                    "refusal (same status)",
                                                                   "content": _HTML["content"]}
                                                          for c in (400, 401, 403, 404, 409, 413, 503)}}}},
            "/static/{filename}": {"get": {"summary": "The web page's script and style sheet", "parameters": [
                {"name": "filename", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "file"}, "404": {"description": "no such file"}}}},
            "/healthz": {"get": {"summary": "The process is up", "responses": {"200": {"description": "ok"}}}},
            "/readyz": {"get": {"summary": "Redis is reachable", "responses": {"200": {"description": "ready"}, **_errors(503)}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text format",
                                                                                          "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3", **_json({"type": "object"})}}}},
        },
        "components": {"schemas": {
            "Article": {"type": "object", "required": ["text"], "additionalProperties": False, "properties": {
                "id": {**_ID, "description": "default: a hash of the text; " + _ID["description"]},
                "text": {"type": "string", "minLength": 1, "description": f"at most {config['MAX_TEXT_BYTES']} bytes"},
                **{name: {"type": "string", "maxLength": n} for name, n in MAX_FIELD_CHARS.items()},
                "published": _PUBLISHED}},
            "Duplicate": {"type": "object", "properties": {
                "id": {"type": "string"}, **about, "kind": {"type": "string", "enum": list(KINDS)},
                "jaccard": {"type": "number"}, "containment": {"type": "number"}, "score": {"type": "number"},
                "passages": {"type": "array", "description": "with explain: the aligned runs of words", "items": {"type": "object", "properties": {
                    "start": {"type": "integer", "description": "first word, in my normalised words"},
                    "end": {"type": "integer", "description": "past the last word"},
                    "their_start": {"type": "integer"}, "their_end": {"type": "integer"}, "text": {"type": "string"},
                    "char_start": {"type": "integer", "description": "first character, in my original text"},
                    "char_end": {"type": "integer", "description": "past the last character, in my original text"},
                    "their_char_start": {"type": "integer", "description": "in their original text, when it is stored"},
                    "their_char_end": {"type": "integer", "description": "in their original text, when it is stored"}}}},
                "changed": {"type": "array", "description": "kind update: figures that differ, [mine, theirs]; words in a "
                            "look-up, a read and an explained add, word offsets such as #49 in an add without "
                            "explain (it keeps to two round trips) or for a side whose text is not stored",
                            "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}}}},
            "Match": {"type": "object", "properties": {
                "id": {"type": "string"}, "cluster": {"type": "string", "nullable": True},
                "canonical": {"type": "string", "nullable": True},
                "latest": {"type": "string", "nullable": True,
                           "description": "the story's latest version (the same story with figures updated), "
                                          "named by its first copy; the canonical copy when it has none"},
                "duplicates": {"type": "array", "items": _ref("Duplicate")}}},
            "StoredArticle": {"allOf": [_ref("Match"), {"type": "object", "properties": {
                **about, "text": {"type": "string", "nullable": True, "description": "with ?text=true only"},
                "published": {"type": "string", "nullable": True}, "added": {"type": "string"}, "words": {"type": "integer"}}}]},
            "Cluster": {"type": "object", "properties": {
                "cluster": {"type": "string"}, "canonical": {"type": "string"},
                "size": {"type": "integer"}, "cursor": {"type": "integer"}, "next": {"type": ["integer", "null"]},
                "members": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, **about, "published": {"type": ["string", "null"]}, "words": {"type": "integer"},
                    "link": {"oneOf": [_ref("Duplicate"), {"type": "null"}]}}}}}},
            "Decision": {"oneOf": [
                {"type": "object", "required": ["decision", "ids"], "additionalProperties": False, "properties": {
                    "decision": {"type": "string", "enum": ["not_duplicate"]},
                    "ids": {"type": "array", "items": _ID, "minItems": 2, "maxItems": 2, "uniqueItems": True}},
                 "description": "the two articles are never in one story"},
                {"type": "object", "required": ["decision", "ids", "from"], "additionalProperties": False, "properties": {
                    "decision": {"type": "string", "enum": ["split"]},
                    "ids": {"type": "array", "items": _ID, "minItems": 1, "maxItems": 100, "uniqueItems": True},
                    "from": {**_ID, "description": "an article that stays in the story (its id, for one): "
                                                   "in ids, 409; " + _ID["description"]}},
                 "description": "the articles leave from's story as one story, never again with from"},
                {"type": "object", "required": ["decision", "id"], "additionalProperties": False, "properties": {
                    "decision": {"type": "string", "enum": ["canonical"]}, "id": _ID},
                 "description": "the article is its story's canonical copy"}]},
            "Decided": {"type": "object", "properties": {
                "decision": _ref("Decision"), "moved": {"type": "array", "items": {"type": "string"},
                                                        "description": "articles that left their story now"},
                "superseded": {"type": "array", "items": _ref("Decision"), "description": "canonical picks no longer in force"}}},
            "Listed": {"type": "object", "properties": {
                "id": {"type": "string"}, "title": {"type": "string", "nullable": True}, "source": {"type": "string", "nullable": True},
                "added": {"type": "string"}, "published": {"type": ["string", "null"]}, "cluster": {"type": "string"}}},
            "Error": {"type": "object", "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}}}}},
        }},
    }
