"""House boilerplate: lines an outlet puts on many *different* stories.

An archive ends each article with its own paragraph (a subscription plea,
a standards line, "read more on our website"); an aggregator's feed carries
one per outlet. The normaliser strips the boilerplate it knows, not a
house's own, and two short items under one footer then share most of their
words. :func:`house_lines` finds such lines in a sample of a feed, so that
they can be given to :class:`~dedup.normalisation.Normaliser` (``dedup
batch --boilerplate FILE``, the service's ``BOILERPLATE_FILE``): the same
patterns in batch and online, so both paths answer alike.

The rule, on lines as the normaliser's patterns see them (after
:func:`~dedup.normalisation.clean`, without closing ``.``/``-``, any case):
a line of at least :data:`MIN_WORDS` words, among the first or last
:data:`EDGE` lines of at least ``min_articles`` articles, is a house line
when those articles are different stories. A wire story picked up by a
thousand outlets also repeats its paragraphs, so "different" is measured
by how much of each article the repeated material is: the line's *block*
is the set of lines found in at least half of a sample of its articles
(the line, the rest of a footer, or the rest of the story), and the line
is a house line when, in the median sampled article, the block holds under
``max_share`` of the words. Copies of one story are mostly their shared
block; a footer is a small part of each story under it.

Example:
    >>> stories = [f"Story {i}: the council voted on road {i} and the mayor spoke for an hour about it." for i in range(30)]
    >>> footer = "Read more local news on our website and follow the desk for updates."
    >>> [h.text for h in house_lines([s + "\\n" + footer for s in stories], min_articles=20)]
    ['read more local news on our website and follow the desk for updates']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median

from dedup.normalisation import Normaliser, clean

__all__ = ["EDGE", "MIN_WORDS", "HouseLine", "house_lines"]

#: A house line is among an article's first or last this many lines ...
EDGE = 3
#: ... and holds at least this many words (shorter lines are left to the built-in lists).
MIN_WORDS = 5


@dataclass(frozen=True)
class HouseLine:
    """A line found on many different stories.

    Attributes:
        text: the line as the boilerplate patterns see it (lower case).
        articles: how many articles carry it at an edge.
        share: the median share of a sampled article's words in the line's block.
        pattern: a whole-line pattern that matches exactly this line
            (for :class:`~dedup.normalisation.Normaliser`'s ``boilerplate``).
    """

    text: str
    articles: int
    share: float

    @property
    def pattern(self) -> str:
        return re.escape(self.text).replace("\\ ", " ")  # a space needs no escape outside verbose mode


def _lines(text: str) -> list[tuple[str, int, str]]:
    """``(line as the patterns see it, lower case; its word count; the line)`` of each non-empty line."""
    out = []
    for ln in clean(text).split("\n"):
        core = ln.strip(" .-").lower()
        if core:
            out.append((core, len(core.split()), ln))
    return out


_FILLER = ("The council voted on Tuesday to close the bridge for repairs, and the mayor said the work would take "
           "a month and cost less than the city had feared when the cracks were found.")


def _stripped(normaliser: Normaliser, line: str) -> bool:
    """Whether ``normaliser`` already takes ``line`` off the end of a story (a line
    pattern, an inline sentence): tried under a filler paragraph, so that the
    quarter rule does not keep it."""
    return normaliser(_FILLER + "\n" + line) == normaliser(_FILLER)


def house_lines(texts: Iterable[str], *, min_articles: int = 20, max_share: float = 0.5, sample: int = 64,
                normaliser: Normaliser | None = None) -> list[HouseLine]:
    """The house lines of ``texts`` (the rule in the module docstring).

    Args:
        texts: raw article texts (a sample of a feed is enough: house lines
            are frequent by definition).
        min_articles: articles that must carry a line at an edge.
        max_share: the median block share under which the articles are
            different stories.
        sample: articles per candidate line looked at for its block,
            spread over all that carry it.
        normaliser: lines its patterns already strip are not reported
            (default: the built-in lists).

    Returns:
        The house lines, most frequent first.
    """
    if min_articles < 2 or not 0 < max_share < 1 or sample < 2:
        raise ValueError("need min_articles >= 2, 0 < max_share < 1 and sample >= 2")
    strip = normaliser or Normaliser()
    docs: list[list[tuple[str, int]]] = []  # (line as the patterns see it, words) of each article
    where: dict[str, list[int]] = {}
    seen_as: dict[str, str] = {}  # a line as it was first seen, for the normaliser's test
    for text in texts:
        lines = _lines(text)
        n = len(docs)
        docs.append([(c, w) for c, w, _ in lines])
        if len(lines) < 2:  # a one-line article has no footer apart from its story
            continue
        edge = lines[:EDGE] + lines[max(EDGE, len(lines) - EDGE):]
        for core, words, line in edge:
            if words < MIN_WORDS:
                continue
            seen_as.setdefault(core, line)
            hits = where.setdefault(core, [])
            if not hits or hits[-1] != n:  # once per article
                hits.append(n)
    found = []
    for core, hits in where.items():
        if len(hits) < min_articles or _stripped(strip, seen_as[core]):
            continue
        step = max(1, len(hits) // sample)
        picked = [dict(docs[i]) for i in hits[::step][:sample]]
        seen: dict[str, int] = {}
        for d in picked:
            for c in d:
                seen[c] = seen.get(c, 0) + 1
        block = {c for c, k in seen.items() if 2 * k >= len(picked)}
        share = median(sum(w for c, w in d.items() if c in block) / sum(d.values()) for d in picked)
        if share < max_share:
            found.append(HouseLine(core, len(hits), round(share, 3)))
    return sorted(found, key=lambda h: (-h.articles, h.text))
