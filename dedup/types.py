"""The records the core takes and gives back: articles, links, clusters."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Literal, get_args

from dedup.errors import InvalidArticle

__all__ = ["KINDS", "Article", "Cluster", "Kind", "Link", "Passage", "parse_published", "content_id", "json_type"]

#: What a link says about a pair. Append new kinds at the end only: a kind's
#: position in :data:`KINDS` is stored (3 bits of the service's link value).
Kind = Literal["exact", "near", "contained", "reused", "update"]
#: Every link kind, in their stored order.
KINDS: tuple[str, ...] = get_args(Kind)


#: The longest id, in UTF-8 bytes (ids travel in URLs and Redis keys).
MAX_ID_BYTES = 1024
#: the longest title, url and source an article may carry, in characters
#: (generous for any real feed; a 900 KB url is a mistake or an attack)
MAX_FIELD_CHARS = {"title": 4096, "url": 8192, "source": 1024}
_BAD_ID_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _checked_id(raw: str | int, field: str) -> str:
    """``raw`` as an id: at most :data:`MAX_ID_BYTES`, no control characters
    or lone surrogates (an id must be readable back from a URL)."""
    if isinstance(raw, int) and abs(raw) >= 10 ** MAX_ID_BYTES:
        raise InvalidArticle(f"field {field!r} is longer than {MAX_ID_BYTES} bytes")
    art_id = str(raw)
    if _BAD_ID_CHARS.search(art_id):
        raise InvalidArticle(f"field {field!r} must not contain control characters or lone surrogates")
    if len(art_id.encode("utf-8")) > MAX_ID_BYTES:
        raise InvalidArticle(f"field {field!r} is longer than {MAX_ID_BYTES} bytes")
    return art_id


def content_id(text: str) -> str:
    """A stable id for a record that has none: a hash of its text."""
    return "sha1:" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def parse_published(value: object) -> float | None:
    """Seconds since the epoch for an ISO 8601 date/time (or epoch number).

    Naive times are taken as UTC. Returns ``None`` for ``None``/empty;
    raises :class:`InvalidArticle` for anything else it cannot read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidArticle(f"published: expected an ISO 8601 string, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        s = value.strip()
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            raise InvalidArticle(f"published: {value!r} is not an ISO 8601 date") from None
    else:
        raise InvalidArticle(f"published: expected an ISO 8601 string, got {json_type(value)}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def json_type(value) -> str:
    """The JSON name of a parsed value's type (``null``, ``string``, ``array`` ...), for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    for kind, name in ((str, "string"), (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class Article:
    """One news article. Only ``id`` and ``text`` are required.

    Build it from a loose mapping with :meth:`from_dict`, which checks
    types and fills a content-hash id when there is none.
    """

    id: str
    text: str
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published: str | None = None

    def check(self) -> None:
        """Raise :class:`InvalidArticle` unless ``id`` and ``text`` are strings (an
        article built in code; :meth:`from_dict` checks a mapping more fully)."""
        if not isinstance(self.text, str):
            raise InvalidArticle(f"text must be a string, got {type(self.text).__name__}")
        if not isinstance(self.id, str):
            raise InvalidArticle(f"id must be a string, got {type(self.id).__name__}")

    @classmethod
    def from_dict(cls, d: dict, *, id_field: str = "id", text_field: str = "text") -> "Article":
        """Validate a mapping (JSON object, CSV row) into an ``Article``.

        Raises:
            InvalidArticle: missing/empty text, or a field of the wrong type.
        """
        if not isinstance(d, dict):
            raise InvalidArticle(f"expected a JSON object, got {json_type(d)}")
        text = d.get(text_field)
        if text is None:
            raise InvalidArticle(f"missing field {text_field!r}")
        if not isinstance(text, str):
            raise InvalidArticle(f"field {text_field!r} must be a string, got {json_type(text)}")
        if not text.strip():
            raise InvalidArticle(f"field {text_field!r} is empty")
        raw_id = d.get(id_field)
        if raw_id is None or raw_id == "":
            art_id = content_id(text)
        elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
            art_id = _checked_id(raw_id, id_field)
        else:
            raise InvalidArticle(f"field {id_field!r} must be a string or integer, got {json_type(raw_id)}")
        opt = {}
        for name in ("title", "url", "source", "published"):
            v = d.get(name)
            if v is not None and not isinstance(v, str):
                raise InvalidArticle(f"field {name!r} must be a string, got {json_type(v)}")
            limit = MAX_FIELD_CHARS.get(name)  # published has its own check, its format
            if v is not None and limit is not None and len(v) > limit:
                raise InvalidArticle(f"field {name!r} is {len(v)} characters; the limit is {limit}")
            opt[name] = v or None
        if opt["published"] is not None:
            parse_published(opt["published"])
        return cls(id=art_id, text=text, **opt)

    @property
    def published_ts(self) -> float | None:
        return parse_published(self.published)


@dataclass(frozen=True, slots=True)
class Passage:
    """A run of words that the two texts share, in token offsets."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """A confirmed duplicate pair and why it was confirmed.

    ``jaccard`` is the MinHash estimate of shingle Jaccard; ``containment_ab``
    is the share of ``a``'s words found in order in ``b`` (and ``_ba`` the
    reverse); ``score`` is the rapidfuzz Indel similarity of the two word
    sequences. ``kind`` is ``exact`` (same words), ``near`` (score at or above
    ``Params.similarity``), ``contained`` (the shorter one lies inside the
    longer one) or ``reused`` (batch with ``Params.reuse`` only: the shorter
    one is largely sentences of the longer one, reordered or lightly
    reworded; ``score`` is then that share, see :mod:`dedup.reuse`). For ``contained`` links, ``span`` is where, in the longer
    text's word offsets, the shorter one lies (the compilation guard of
    :mod:`dedup.cluster` uses it).
    """

    a: str
    b: str
    kind: Kind
    jaccard: float
    containment_ab: float
    containment_ba: float
    score: float
    passages: tuple[Passage, ...] = ()
    span: tuple[int, int] | None = None
    changed: tuple[tuple[str, str], ...] = ()

    def to_dict(self, me: str | None = None) -> dict:
        """The link as JSON: the pair ``a``/``b`` (batch output, a cluster's
        pairs), or, with ``me``, as seen from that article (the API's
        duplicates): the other one's ``id``, my ``containment`` in it, and
        passages in my word offsets (``start``/``end``) and theirs.

        Raises:
            ValueError: ``me`` is neither ``a`` nor ``b``.

        Example:
            >>> link = Link("x", "y", "near", 0.8, 0.9, 0.7, 0.85)
            >>> link.to_dict(me="y")["id"], link.to_dict(me="y")["containment"]
            ('x', 0.7)
        """
        if me is None:
            d = {"a": self.a, "b": self.b, "kind": self.kind, "jaccard": round(self.jaccard, 4),
                 "containment_ab": round(self.containment_ab, 4), "containment_ba": round(self.containment_ba, 4),
                 "score": round(self.score, 4)}
            if self.passages:
                d["passages"] = [asdict(p) for p in self.passages]
            if self.changed:  # figures that differ: (in a, in b)
                d["changed"] = [list(c) for c in self.changed]
            return d
        if me not in (self.a, self.b):
            raise ValueError(f"{me!r} is neither side of the link {self.a!r} - {self.b!r}")
        mine_is_a = me == self.a
        d = {"id": self.b if mine_is_a else self.a, "kind": self.kind, "jaccard": round(self.jaccard, 4),
             "containment": round(self.containment_ab if mine_is_a else self.containment_ba, 4),
             "score": round(self.score, 4)}
        if self.passages:
            d["passages"] = [
                {"start": p.a_start, "end": p.a_end, "their_start": p.b_start, "their_end": p.b_end, "text": p.text}
                if mine_is_a else
                {"start": p.b_start, "end": p.b_end, "their_start": p.a_start, "their_end": p.a_end, "text": p.text}
                for p in self.passages
            ]
        if self.changed:  # figures that differ: (mine, theirs)
            d["changed"] = [list(c) if mine_is_a else [c[1], c[0]] for c in self.changed]
        return d


@dataclass(frozen=True, slots=True)
class Cluster:
    """A story: its canonical copy (the original), its latest version (the
    last published of the canonical copy and the members on a side of an
    ``update`` link; see :mod:`dedup.cluster`), every member and the links
    that bind them. ``latest`` is ``None`` only when it is not known."""

    id: int | str
    canonical: str
    members: tuple[str, ...]
    pairs: tuple[Link, ...] = field(default=())
    latest: str | None = None

    def to_dict(self) -> dict:
        d = {"cluster": self.id, "canonical": self.canonical}
        if self.latest is not None:
            d["latest"] = self.latest
        return {**d, "members": list(self.members), "pairs": [p.to_dict() for p in self.pairs]}
