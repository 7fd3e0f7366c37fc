"""The versions of each story in :class:`dedup.index.MemoryIndex`, kept as
articles come and go, so that no add reads every member of its story.

The bookkeeping of the Redis scripts (``version_link``, ``leave_version``,
``latest_summary`` in :mod:`dedup_service.lua`), so both indexes give the
same latest version (see :func:`dedup.cluster.latest_version` for the rule):

* an article starts a version of its own; when its best link is ``exact``,
  ``near`` or ``reused`` (:data:`~dedup.cluster.VERSION_JOINS`) and it is
  still alone in its version, it joins the other's version;
* a version's *first copy* is its earliest-published member (then the first
  added); an ``update`` link lists the first copies of both sides' versions
  among its story's *updated* versions;
* a story's latest version is its canonical copy while none is listed, else
  the later of the canonical's version's first copy and the last-published
  listed first copy (:meth:`Versions.latest`), each listed copy ranked by
  its date when it was listed, as the scripts' sorted set ranks it.

Adds and joins are O(1). A version's first copy leaving, or a date moving,
looks at the story's members (O(story)), as in Redis; the last-published
listed copy leaving looks at the story's listed copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dedup.cluster import VERSION_JOINS

__all__ = ["Versions"]


class Versions:
    """Versions of stories (module docstring).

    Args:
        when: an article's ``(published or inf, insertion rank)``, the order of first copies.
        rank: an article's insertion rank (it names the version it starts).
    """

    def __init__(self, when: Callable[[str], tuple[float, int]], rank: Callable[[str], int]) -> None:
        self._when, self._rank = when, rank
        self._of: dict[str, int] = {}  # article -> its version (the rank of the article that started it)
        self._shared: dict[int, list] = {}  # version ever of two or more -> [first copy, members]
        # story key -> first copies of updated versions, each with its date when listed (as a
        # sorted set's score: a listed copy's date moving rescores it only as Redis does)
        self._listed: dict[object, dict[str, float]] = {}
        self._top: dict[object, str] = {}  # story key -> the last-published of those, by that score

    def start(self, doc_id: str) -> None:
        """``doc_id`` is new: a version of its own."""
        self._of[doc_id] = self._rank(doc_id)

    def first(self, doc_id: str) -> str:
        """The first copy of the version holding ``doc_id``."""
        got = self._shared.get(self._of[doc_id])
        return doc_id if got is None else got[0]

    def link(self, a: str, b: str, kind: str, story: object) -> None:
        """``a``'s best link to ``b`` (both in the story ``story``, after any merge)."""
        if kind in VERSION_JOINS:
            va = self._of[a]
            if va != self._rank(a) or va in self._shared:  # not alone in its version: it stays
                return
            vb = self._of[b]
            first, n = self._shared.get(vb, (b, 1))
            self._of[a] = vb
            if self._when(a) < self._when(first):
                if self._unlist(story, first):
                    self._list(story, a)
                first = a
            self._shared[vb] = [first, n + 1]
        elif kind == "update":
            self._list(story, self.first(a))
            self._list(story, self.first(b))

    def leave(self, doc_id: str, story: object, members: Iterable[str]) -> None:
        """``doc_id`` leaves its version and ``story`` (``members``: the story's, read
        only when it was its version's first copy)."""
        vr = self._of.pop(doc_id)
        listed = self._unlist(story, doc_id)
        got = self._shared.get(vr)
        if got is None:
            return
        first, n = got[0], got[1] - 1
        if n <= 0:
            del self._shared[vr]
            return
        if first == doc_id:
            first = min((m for m in members if m != doc_id and self._of.get(m) == vr), key=self._when, default=None)
            if first is None:
                del self._shared[vr]
                return
            if listed:
                self._list(story, first)
        self._shared[vr] = [first, n]

    def moved(self, doc_id: str, story: object, members: Iterable[str]) -> None:
        """``doc_id``'s date changed: its version's first copy is found again (O(story))."""
        vr = self._of[doc_id]
        old = new = doc_id
        got = self._shared.get(vr)
        if got is not None:
            old = got[0]
            new = got[0] = min((m for m in members if self._of.get(m) == vr), key=self._when)
        if self._unlist(story, old):
            self._list(story, new)

    def merge(self, keep: object, drop: object) -> None:
        """Story ``drop`` joins story ``keep``: its listed copies move."""
        gone = self._listed.pop(drop, None)
        if gone is None:
            return
        top = self._top.pop(drop)
        listed = self._listed.setdefault(keep, {})
        listed.update(gone)
        if keep not in self._top or self._scored(listed, top) > self._scored(listed, self._top[keep]):
            self._top[keep] = top

    def latest(self, story: object, canonical: str) -> str:
        """The story's latest version, named by its first copy (module docstring)."""
        top = self._top.get(story)
        if top is None:
            return canonical
        return max(self.first(canonical), top, key=self._when)

    def _scored(self, listed: dict[str, float], doc_id: str) -> tuple[float, int]:
        return listed[doc_id], self._rank(doc_id)

    def _last(self, listed: dict[str, float]) -> str:
        return max(listed, key=lambda m: self._scored(listed, m))

    def _list(self, story: object, doc_id: str) -> None:
        """List (or rescore, at its date now) ``doc_id``: ``ZADD``."""
        listed = self._listed.setdefault(story, {})
        listed[doc_id] = self._when(doc_id)[0]
        top = self._top.get(story)
        if top is None or self._scored(listed, doc_id) > self._scored(listed, top):
            self._top[story] = doc_id
        elif top == doc_id:  # the last-published, rescored earlier: O(listed copies)
            self._top[story] = self._last(listed)

    def _unlist(self, story: object, doc_id: str) -> bool:
        listed = self._listed.get(story)
        if listed is None or doc_id not in listed:
            return False
        del listed[doc_id]
        if not listed:
            del self._listed[story], self._top[story]
        elif self._top[story] == doc_id:  # O(listed copies), only when the last-published leaves
            self._top[story] = self._last(listed)
        return True
