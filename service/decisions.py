"""Editors' decisions on a :class:`~dedup_service.store.RedisIndex`
(issue 17): stored per namespace (keys ``P D...`` in
:mod:`dedup_service.keyspace`'s table), made to hold at once (a split,
an apart rule, a pick: the ``SPLIT`` and ``PIN`` scripts of
:mod:`dedup_service.lua`), and the bounded view of them that an add needs
(:meth:`DecisionStore.decision_view`). A mixin of ``RedisIndex``: its
methods use the index's connection, scripts and error translation."""

from __future__ import annotations

from contextvars import ContextVar

from redis.exceptions import ResponseError

from dedup.errors import DecisionConflict

__all__ = ["DecisionStore"]

#: Whether the namespace (prefix) had decisions at this context's last ADD script call (:meth:`DecisionStore.decision_view`).
_DECIDING: ContextVar[tuple | None] = ContextVar("dedup_deciding", default=None)


class DecisionStore:
    """The editors' decisions of a ``RedisIndex`` (mixed into it)."""

    def _dkey(self, kind: bytes, doc_id: str | None = None) -> bytes:
        return self.prefix + b"D" + kind + (b"" if doc_id is None else doc_id.encode("utf-8", "surrogatepass"))

    def decisions(self, start: int = 0, count: int = 100) -> tuple[list[dict], int | None]:
        """The decisions made, in the order made, from position ``start``;
        and the position of the next page (``None``: none). O(count)."""
        import json

        with self._translated():
            got = self.client.zrange(self._dkey(b"z"), start, start + count)  # one more: is there a next page?
        records = [json.loads(x) for x in got[:count]]
        return records, (start + count if len(got) > count else None)

    def decision_count(self) -> int:
        """How many decisions the namespace holds."""
        with self._translated():
            return int(self.client.zcard(self._dkey(b"z")))

    def _apart_of(self, doc_ids: list[str]) -> dict[str, set[str]]:
        """Each id's apart partners (one round trip)."""
        if not doc_ids:
            return {}
        with self._translated():
            pipe = self.client.pipeline(transaction=False)
            for i in doc_ids:
                pipe.smembers(self._dkey(b"x", i))
            got = pipe.execute()
        return {i: {x.decode("utf-8", "surrogatepass") for x in v} for i, v in zip(doc_ids, got)}

    def _register(self, pairs: list[tuple[str, str]]) -> None:
        """``(story name, id)``: the id is a member that a decision names (one round trip)."""
        if pairs:
            with self._translated():
                pipe = self.client.pipeline(transaction=False)
                for story, i in pairs:
                    pipe.sadd(self._dkey(b"k", story), i.encode("utf-8", "surrogatepass"))
                pipe.execute()

    def record_decision(self, record: dict, *, apply: bool = True) -> dict:
        """Store an editor's decision (:func:`dedup.decisions.parse_decision`'s
        normal form) and, with ``apply``, make the stories obey it now: a
        pair ruled apart that shares a story loses one of the two (the one
        that did not found the story; of two others, the later added); a
        split moves its articles out (:data:`dedup_service.lua.SPLIT`); a
        pick becomes the canonical copy. ``apply=False`` (a reindex, before
        its articles) only stores it. Work: O(articles named), except when
        the canonical copy leaves its story (its canonical chosen again).

        Returns ``{"created": bool, "moved": [ids], "superseded": [records]}``
        (``created`` False: the same decision was already stored).

        Raises:
            DecisionConflict: a split of articles ruled apart, not in one
                story, or holding the story's founder. NotFound: a split's
                article is not stored.
        """
        from dedup.decisions import decision_key

        key = decision_key(record).encode()
        with self._translated():
            if self.client.zscore(self._dkey(b"z"), key) is not None:
                return {"created": False, "moved": [], "superseded": []}
        kind, moved, superseded = record["decision"], [], []
        if kind == "split":
            ids, origin = record["ids"], record["from"]
            apart = self._apart_of(ids)
            clash = [(a, b) for a in ids for b in apart[a] if b in ids and a < b]
            if clash:
                raise DecisionConflict(f"{clash[0][0]!r} and {clash[0][1]!r} are ruled not duplicates: "
                                       f"a split cannot keep them together")
            if apply:
                moved = self._split(origin, ids)
            pairs = [(a, origin) for a in ids]
        elif kind == "not_duplicate":
            pairs = [tuple(record["ids"])]
        else:
            pairs = []
        if pairs:
            with self._translated():
                pipe = self.client.pipeline(transaction=False)
                for a, b in pairs:
                    pipe.sadd(self._dkey(b"x", a), b.encode("utf-8", "surrogatepass"))
                    pipe.sadd(self._dkey(b"x", b), a.encode("utf-8", "surrogatepass"))
                pipe.execute()
        if kind == "not_duplicate" and apply:
            moved = self._part(*record["ids"])
        if kind == "canonical":
            idkey, digest, ext = self._idkey(record["id"])
            gone = self._script("PIN", [idkey], [digest, ext])[0]
            if gone:
                old = {"decision": "canonical", "id": gone.decode("utf-8", "surrogatepass")}
                with self._translated():
                    self.client.zrem(self._dkey(b"z"), decision_key(old).encode())
                superseded.append(old)
        named = sorted({x for p in pairs for x in p})
        stories = self.stories(named)
        self._register([(i, i) for i in named] + [(s.cluster, i) for i, s in zip(named, stories) if s is not None])
        with self._translated():
            seq = self.client.incr(self._dkey(b"n"))
            self.client.zadd(self._dkey(b"z"), {key: seq})
        return {"created": True, "moved": moved, "superseded": superseded}

    def _split(self, origin: str, ids: list[str]) -> list[str]:
        """:data:`~dedup_service.lua.SPLIT`: ``ids`` leave ``origin``'s story (one round trip)."""
        keys, args = self._idkeys([origin, *ids])
        with self._translated():
            try:
                self._scripts["SPLIT"](keys=[*self._fixed, *keys], args=[self.prefix, self.layout, self._siglen, *args])
            except ResponseError as e:
                kind, _, detail = str(e).partition(" ")
                if kind == "SPLIT_APART":
                    raise DecisionConflict(f"article {detail!r} is not in the story of {origin!r}") from None
                if kind == "SPLIT_FOUNDER":
                    raise DecisionConflict(f"article {detail!r} founded the story (its id is the story's): "
                                           f"split the other articles off instead") from None
                raise
        return list(ids)

    def _part(self, a: str, b: str) -> list[str]:
        """Two articles ruled apart that share a story: one leaves it (see :meth:`record_decision`)."""
        sa, sb = self.stories([a, b])
        if sa is None or sb is None or sa.cluster != sb.cluster:
            return []
        if b == sa.cluster:
            a, b = b, a
        elif a != sa.cluster:
            fa, fb = self.get(a), self.get(b)
            if fa is not None and fb is not None and fa.added > fb.added:
                a, b = b, a
        return self._split(a, [b])

    def decision_view(self, doc_id: str, partners: list[str], *, register: bool = True):
        """What an add of ``doc_id`` linked to ``partners`` needs of the
        decisions (:func:`dedup.decisions.allowed_links`): ``(decisions,
        story of each id, named members per story)``, or ``None`` when no
        decision names any of them. A few round trips, O(named members of
        the partners' stories), whatever the stories' sizes. ``register``
        (an add): ``doc_id``, when named, is recorded in its own story's
        named members first, so that the merge that follows carries it.

        Read before ``ATTACH``, not inside it: two adds racing within the
        same few milliseconds can each see the other's story as it was
        before, and together join a pair ruled apart (each alone cannot);
        the next decision on that pair moves one out again."""
        from dedup.decisions import Decisions

        known = _DECIDING.get()
        if known is not None and known[0] == self.prefix:  # the candidates' script call said
            if not known[1]:
                return None
        else:
            with self._translated():
                if not self.client.exists(self._dkey(b"z")):
                    return None
        stories = self.stories(partners)
        story_of = {i: s.cluster for i, s in zip(partners, stories) if s is not None}
        names = sorted(set(story_of.values()))
        with self._translated():
            pipe = self.client.pipeline(transaction=False)
            for n in names:
                pipe.smembers(self._dkey(b"k", n))
            listed = {n: {x.decode("utf-8", "surrogatepass") for x in v} for n, v in zip(names, pipe.execute())}
        candidates = set().union(*listed.values()) | set(partners) | {doc_id}
        apart = self._apart_of(sorted(candidates))
        named = sorted(i for i in candidates if apart[i] and i != doc_id)
        now = dict(zip(named, self.stories(named)))
        named_in: dict[str, set[str]] = {}
        for i, s in now.items():
            if s is not None:
                story_of[i] = s.cluster
                named_in.setdefault(s.cluster, set()).add(i)
        fix = [(story_of[i], i) for i in named if i in story_of and i not in listed.get(story_of[i], ())]
        if register and apart[doc_id]:
            fix.append((doc_id, doc_id))
        self._register(fix)
        if not any(apart.values()):
            return None
        records = [{"decision": "not_duplicate", "ids": sorted((a, b))} for a, bs in apart.items() for b in bs if a != b]
        return Decisions.from_records(records), story_of, named_in
