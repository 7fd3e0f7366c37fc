"""Editors' decisions: what a person ruled about stories, respected by every
later add (the online :class:`~dedup.deduplicator.Deduplicator`) and by
``dedup batch --decisions`` (the clustering policy, :mod:`dedup.cluster`).

A decision is a JSON object, one per line in a decisions file, exactly as
the service's ``GET /v1/decisions`` lists them:

* ``{"decision": "not_duplicate", "ids": [a, b]}``: ``a`` and ``b`` are
  never in one story. A merge that would put them together (a link between
  them, or a new article linking both stories) is refused: the link is
  dropped, the article joins the story of its better link only.
* ``{"decision": "split", "ids": [x, ...], "from": f}``: the articles leave
  the story founded by ``f`` (the story's id) and form one story of their
  own: they stay together, and none of them is ever again in one story
  with ``f``.
* ``{"decision": "canonical", "id": c}``: ``c`` is its story's canonical
  copy. A story holding two such articles (after a merge) takes the
  canonical rule (earliest date, most words, first) among them.

Order does not matter within a file: the same decisions give the same
stories whatever their order (a decision that contradicts another, a split
of two articles ruled not duplicates, is refused when it is made).

Batch and the service. Batch applies the decisions to all links at once
(a refused merge is decided in the online order: each later article's
links, best first); the service applies each to the stories as they are
when it is made. They agree when a decision is made before the articles
it names were merged, and when a pair ruled apart after the fact shared a
story through a direct link (the service moves one out: of the two, the
one that did not found the story, else the later added). They can differ
after a decision made later about a story that other articles held
together only through the ones that leave: the service keeps the rest as
one story (it does not know which links remain, and finding out would cost
work in the story's size), while batch regroups the rest by its links. An
article that a decision names, removed and added again, is found in its
new story by the next add that links to it.

Example:
    >>> d = Decisions.from_records([{"decision": "not_duplicate", "ids": ["b", "a"]}])
    >>> d.forbids("a", "b"), d.forbids("a", "c")
    (True, False)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dedup.errors import DecisionConflict, InvalidArticle, InvalidDecision
from dedup.types import json_type, _checked_id

__all__ = ["KINDS", "MAX_SPLIT", "Decisions", "allowed_links", "decision_key", "parse_decision"]

#: The decisions an editor can make.
KINDS = ("not_duplicate", "split", "canonical")
#: Articles one split moves, at most (the work of a split is linear in them).
MAX_SPLIT = 100

_FIELDS = {"not_duplicate": {"decision", "ids"}, "split": {"decision", "ids", "from"}, "canonical": {"decision", "id"}}


def _id(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise InvalidDecision(f"{where}: must be a non-empty string id")
    try:
        return _checked_id(raw, where)
    except InvalidArticle as e:
        raise InvalidDecision(e.message) from None


def parse_decision(raw: object) -> dict:
    """A JSON value -> a decision record in its normal form (ids sorted, no
    repeats), the same for every way of writing the same decision.

    Raises:
        InvalidDecision: not an object, an unknown kind or field, a bad id,
        a pair of one article, a split of more than :data:`MAX_SPLIT`
        articles. DecisionConflict: a split whose ``from`` is in its ``ids``.
    """
    if not isinstance(raw, dict):
        raise InvalidDecision(f"a decision is a JSON object, got {json_type(raw)}")
    kind = raw.get("decision")
    if kind not in KINDS:
        raise InvalidDecision(f"decision={kind!r}: must be one of {', '.join(KINDS)}")
    unknown = sorted(set(raw) - _FIELDS[kind])
    if unknown:
        raise InvalidDecision(f"unknown field(s) {', '.join(map(repr, unknown))} for {kind}; "
                              f"allowed: {', '.join(sorted(_FIELDS[kind]))}")
    if kind == "canonical":
        return {"decision": kind, "id": _id(raw.get("id"), "id")}
    ids = raw.get("ids")
    if not isinstance(ids, list) or not ids:
        raise InvalidDecision("ids: must be a non-empty list of ids")
    got = sorted({_id(x, "ids") for x in ids})
    if kind == "not_duplicate":
        if len(got) != 2:
            raise InvalidDecision("ids: a not_duplicate decision names two different articles")
        return {"decision": kind, "ids": got}
    if len(got) > MAX_SPLIT:
        raise InvalidDecision(f"ids: a split moves at most {MAX_SPLIT} articles, got {len(got)}")
    origin = _id(raw.get("from"), "from")
    if origin in got:
        raise DecisionConflict(f"from: {origin!r} names the story the articles leave, and stays in it: "
                               f"it cannot be in ids")
    return {"decision": kind, "ids": got, "from": origin}


def decision_key(record: dict) -> str:
    """The record as one string (its identity: the same decision twice is one)."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Decisions:
    """A set of decision records (:func:`parse_decision`'s normal form), and
    the rules they make: :meth:`forbids`, :meth:`pinned`, :meth:`groups`.

    Build it with :meth:`from_records` (which checks and normalises).
    """

    records: tuple[dict, ...] = ()
    _apart: dict[str, frozenset[str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _pinned: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        apart: dict[str, set[str]] = {}
        for r in self.records:
            pairs = [tuple(r["ids"])] if r["decision"] == "not_duplicate" else \
                [(x, r["from"]) for x in r["ids"]] if r["decision"] == "split" else []
            for a, b in pairs:
                apart.setdefault(a, set()).add(b)
                apart.setdefault(b, set()).add(a)
        object.__setattr__(self, "_apart", {k: frozenset(v) for k, v in apart.items()})
        object.__setattr__(self, "_pinned", frozenset(r["id"] for r in self.records if r["decision"] == "canonical"))

    @classmethod
    def from_records(cls, records: Iterable[object]) -> "Decisions":
        """Checked, normalised and deduplicated records (first occurrence kept).

        Raises:
            InvalidDecision: a malformed record (see :func:`parse_decision`).
        """
        seen: dict[str, dict] = {}
        for raw in records:
            r = parse_decision(raw)
            seen.setdefault(decision_key(r), r)
        return cls(tuple(seen.values()))

    def __len__(self) -> int:
        return len(self.records)

    def __bool__(self) -> bool:
        return bool(self.records)

    def forbids(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` may never be in one story."""
        return b in self._apart.get(a, ())

    def apart(self, doc_id: str) -> frozenset[str]:
        """The articles ``doc_id`` may never share a story with."""
        return self._apart.get(doc_id, frozenset())

    def named(self) -> frozenset[str]:
        """Every article that some apart rule names."""
        return frozenset(self._apart)

    def pinned(self, doc_id: str) -> bool:
        """Whether an editor picked ``doc_id`` as its story's canonical copy."""
        return doc_id in self._pinned

    def groups(self) -> list[list[str]]:
        """The articles each split keeps together."""
        return [list(r["ids"]) for r in self.records if r["decision"] == "split"]

    def canonical(self, ids: Sequence[str], published: Sequence[float | None], lengths: Sequence[int]) -> int:
        """The position of a story's canonical copy among ``ids``: the
        canonical rule (:func:`dedup.cluster.canonical_index`) among the
        pinned members when there are some, else among all."""
        from dedup.cluster import canonical_index

        return canonical_index(range(len(ids)), published, lengths, [self.pinned(i) for i in ids])

    def for_positions(self, ids: Sequence[str]) -> tuple[dict[int, set[int]], list[list[int]], list[bool]]:
        """The rules over positions of ``ids`` (a batch's input order), for
        :func:`dedup.cluster.cluster_links`: the apart pairs between present
        articles, the groups to keep together, which positions are pinned."""
        at = {x: i for i, x in enumerate(ids)}
        apart: dict[int, set[int]] = {}
        for a, others in self._apart.items():
            if a in at:
                got = {at[b] for b in others if b in at}
                if got:
                    apart[at[a]] = got
        groups = [[at[x] for x in g if x in at] for g in self.groups()]
        return apart, [g for g in groups if len(g) > 1], [x in self._pinned for x in ids]


def allowed_links(decisions: Decisions, new_id: str, links: Sequence, story_of: Mapping[str, str | None],
                  named_in: Mapping[str, Iterable[str]]) -> tuple[list, list]:
    """The online rule: which of a new article's links (best first) it may
    merge on without putting two articles ruled apart in one story.

    Args:
        decisions: the rules (at least those naming the articles below).
        new_id: the new article.
        links: its confirmed links, best first (``link.b`` is the stored partner).
        story_of: each partner's story id.
        named_in: per story id, its members that ``decisions`` names (the
            others cannot break a rule).

    Returns:
        ``(kept, dropped)``: greedily, best first, a link is kept unless its
        partner's story holds an article ruled apart from one already
        joined (the new article included). O(named members) per link,
        whatever the stories' sizes.
    """
    joined: set[str] = set()
    group = {new_id}
    kept, dropped = [], []
    for link in links:
        story = story_of.get(link.b) or link.b
        if story in joined:
            kept.append(link)
            continue
        theirs = set(named_in.get(story, ())) | {link.b}
        if any(decisions.forbids(u, v) for u in group for v in theirs):
            dropped.append(link)
            continue
        joined.add(story)
        group |= theirs
        kept.append(link)
    return kept, dropped
