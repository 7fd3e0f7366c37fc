"""Editions of a recurring report are not versions of one story.

A daily market wrap ("London's FTSE 100 index closed Monday up 0.5 percent
at 7,512 points ...") is written from one template every day: Wednesday's
differs from Monday's by its weekday and a figure or two, exactly what a
later version of one story looks like (an ``update`` link). What tells them
apart is the calendar: each edition names the day it is published on. So an
``update`` link is refused when one of its changed figures is a weekday on
both sides, the two weekdays differ, and each is the weekday of its own
text's publication (UTC). A correction of a weekday ("Monday" -> "Tuesday",
sent the same day) keeps its link: at most one of its weekdays can be its
own publication's. Texts without a publication time keep their links.

Word ids are read in the form :func:`dedup.refine.confirm` aligns (one
character per word, :func:`dedup.refine.encode`), so the rule needs no text.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from dedup.minhash import signatures
from dedup.refine import encode
from dedup.types import Link

__all__ = ["WEEKDAYS", "separate_editions"]

#: In :meth:`datetime.weekday` order (Monday is 0).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@lru_cache(maxsize=1)
def _weekday_of_char() -> dict[str, int]:
    """The character :func:`~dedup.refine.encode` gives each weekday -> its number."""
    return {c: k for k, c in enumerate(encode(signatures([" ".join(WEEKDAYS)])[1][0]))}


def _weekdays(side: str, encoded: str) -> set[int]:
    """The weekdays a changed hunk's side names: words (``explain``) or ``#offset`` s into ``encoded``."""
    days = set()
    chars = _weekday_of_char()
    for token in side.split():
        if token.startswith("#") and token[1:].isdigit():
            at = int(token[1:])
            if at < len(encoded) and encoded[at] in chars:
                days.add(chars[encoded[at]])
        elif token.lower() in WEEKDAYS:
            days.add(WEEKDAYS.index(token.lower()))
    return days


def _weekday(published: float) -> int:
    return datetime.fromtimestamp(published, timezone.utc).weekday()


def separate_editions(link: Link, encoded_a: str, encoded_b: str, published_a: float | None,
                      published_b: float | None) -> bool:
    """Whether ``link`` (between texts ``a`` and ``b``, as :func:`dedup.refine.encode` gives
    them) joins two editions of a recurring report rather than two versions of one story
    (module docstring)."""
    if link.kind != "update" or published_a is None or published_b is None:
        return False
    day_a, day_b = _weekday(published_a), _weekday(published_b)
    if day_a == day_b:
        return False
    return any(day_a in _weekdays(x, encoded_a) and day_b in _weekdays(y, encoded_b) for x, y in link.changed)
