"""House boilerplate: lines an outlet puts on many *different* stories.

An archive ends each article with its own paragraph (a subscription plea,
a standards line, "read more on our website"); an aggregator's feed carries
one per outlet. The normaliser strips the boilerplate it knows, not a
house's own, and two short items under one footer then share most of their
words. :func:`house_lines` finds such lines in a sample of a feed, so that
they can be given to :class:`~dedup.normalisation.Normaliser` (``dedup
batch --boilerplate FILE``, the service's ``DEDUP_BOILERPLATE_FILE``): the same
patterns in batch and online, so both paths answer alike.

The rule, on lines as the normaliser's patterns see them (after
:func:`~dedup.normalisation.clean`, without closing ``.``/``-``, any case):
a line of at least :data:`MIN_WORDS` words (or :data:`MIN_CHARS` characters,
for scripts without spaces), among the first or last :data:`EDGE` lines of
at least ``min_articles`` articles (not counting lines the normaliser
already strips), is a house line when those articles are different
stories. A wire story picked up by a thousand outlets also repeats its
paragraphs, so "different" is measured by how much of each article the
repeated material is: the line's *block* is the set of lines found in at
least half of a sample of its articles (the line, the rest of a footer, or
the rest of the story), and

* when most sampled articles name their outlet (``source``, else the
  ``url``'s host), the line must come from at most :data:`MAX_OUTLETS`
  outlets (a wire story comes from many) and its block hold under
  :data:`ONE_HOUSE_SHARE` of the median article's words (a brief may be
  shorter than its outlet's footer); a block of over ``max_share`` must
  also stay within the first and last :data:`EDGE` lines of most of its
  articles (a header or a footer, not the paragraphs of a story that one
  outlet ran in many versions; a story of at most twice :data:`EDGE`
  paragraphs cannot be told this way);
* otherwise the block must hold under ``max_share`` of the median article
  (copies of one story are mostly their shared block, a footer is a small
  part of each story under it), and the articles' words outside the block
  must be unlike (Jaccard of each of its first ``sample`` articles with the
  next, median, under :data:`COPY_JACCARD`): edited copies of one story
  share few whole lines but most words. Without outlets this can be wrong both ways:
  a short wire brief that many outlets ran with longer additions of their
  own looks like a footer, and a footer longer than the briefs under it is
  missed. Check the list.

A line a quarter of whose words are figures is never listed (a template
brief's figures are what tell it from the next), and a line is listed only
with a pattern that strips it in the normaliser.

Example:
    >>> stories = [f"Story {i}: the council voted on road {i} and the mayor spoke for an hour about it." for i in range(30)]
    >>> footer = "Read more local news on our website and follow the desk for updates."
    >>> [h.text for h in house_lines(Article(str(i), s + "\\n" + footer, source="Example Daily")
    ...                              for i, s in enumerate(stories))]
    ['Read more local news on our website and follow the desk for updates']
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median
from urllib.parse import urlsplit

from dedup.normalisation import Normaliser, clean
from dedup.types import Article

__all__ = ["COPY_JACCARD", "EDGE", "MAX_OUTLETS", "MIN_CHARS", "MIN_WORDS", "ONE_HOUSE_SHARE", "HouseLine", "house_lines", "outlet"]

#: A house line is among an article's first or last this many lines ...
EDGE = 3
#: ... and holds at least this many words (shorter lines are left to the built-in lists) ...
MIN_WORDS = 5
#: ... or this many characters (Thai, Lao, Khmer, Burmese: no spaces between words).
MIN_CHARS = 30
#: With outlets named: a line from more outlets than this is not one house's ...
MAX_OUTLETS = 3
#: ... and its block may hold up to this share of the median article.
ONE_HOUSE_SHARE = 0.9


@dataclass(frozen=True)
class HouseLine:
    """A line found on many different stories.

    Attributes:
        text: the line as the boilerplate patterns see it (as first seen).
        articles: how many articles carry it at an edge.
        share: the median share of a sampled article's words in the line's block.
        outlets: how many outlets the sampled articles that name one come from
            (0: none named).
        pattern: a whole-line pattern that strips this line in
            :class:`~dedup.normalisation.Normaliser` (its ``boilerplate``).
    """

    text: str
    articles: int
    share: float
    outlets: int
    pattern: str


def _core(line: str) -> str:
    return line.strip(" .-")


def outlet(art: Article) -> str | None:
    """The outlet an article names: its ``source`` (lower case), else its ``url``'s host; ``None``: none."""
    if art.source:
        return art.source.strip().lower() or None
    if art.url:
        try:
            return urlsplit(art.url).hostname or None
        except ValueError:
            return None
    return None


#: Without outlets: articles whose words are this alike (Jaccard, median of neighbours in the
#: sample) are copies of one story, however edited, whatever lines they share.
COPY_JACCARD = 0.3
_WORD = re.compile(r"\w+")


_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten hundred thousand million billion".split())


def _figures_line(line: str) -> bool:
    """A line of which a quarter of the words or more are figures."""
    ws = _WORD.findall(line.lower())
    return 4 * sum(any(c.isdigit() for c in w) or w in _NUMBER_WORDS for w in ws) >= max(len(ws), 1)


def _alike(texts: list[str], block: set[int]) -> float:
    """Median Jaccard of each text's words outside the ``block`` lines with the next text's."""
    words = [set(_WORD.findall(" ".join(ln for ln in clean(t).lower().split("\n") if hash(_core(ln)) not in block)))
             for t in texts]
    got = [len(a & b) / len(a | b) for a, b in zip(words, words[1:]) if a or b]
    return median(got) if got else 0.0


def _inside(hs: array, ws: array, builtin: set[int], block: set[int]) -> bool:
    """Whether a line of ``block`` with :data:`MIN_WORDS` words or more lies
    inside an article (not among the first or last :data:`EDGE` lines that
    the normaliser's patterns leave): a story's paragraph, not a header's
    or a footer's."""
    body = [k for k in range(len(hs)) if hs[k] not in builtin]
    return any(hs[k] in block and ws[k] >= MIN_WORDS for k in body[EDGE:-EDGE])


_FILLER = ("The council voted on Tuesday to close the bridge for repairs, and the mayor said the work would take "
           "a month and cost less than the city had feared when the cracks were found.")


def _pattern(normaliser: Normaliser, line: str) -> str | None:
    """A whole-line pattern that takes ``line`` off the end of a story in
    ``normaliser`` extended with it (``None``: none does). The line itself,
    else what the normaliser leaves of it (an inline sentence it already cuts
    off the end). A line the normaliser strips only where it ends a
    paragraph is listed too: as a pattern it goes wherever it stands, and even
    from a brief shorter than it."""
    bare = normaliser(_FILLER)
    left = normaliser(_FILLER + "\n" + line)
    for core in (_core(line), _core(left[len(bare):].strip("\n"))):
        if not core:
            continue
        pattern = re.escape(core).replace("\\ ", " ")  # a space needs no escape outside verbose mode
        extended = Normaliser(boilerplate=normaliser.boilerplate + (pattern,), inline=normaliser.inline,
                              strip_datelines=normaliser.strip_datelines)
        if extended(_FILLER + "\n" + line) == extended(_FILLER):
            return pattern
    return None


def house_lines(articles: Iterable[Article], *, min_articles: int = 20, max_share: float = 0.5, sample: int = 64,
                normaliser: Normaliser | None = None) -> list[HouseLine]:
    """The house lines of ``articles`` (the rule in the module docstring).

    Args:
        articles: a sample of a feed (house lines are frequent by definition).
        min_articles: articles that must carry a line at an edge.
        max_share: without outlets, the median block share under which the
            articles are different stories.
        sample: articles per candidate line looked at for its block,
            spread over all that carry it.
        normaliser: lines its patterns already strip are neither counted nor
            listed (default: the built-in lists).

    Returns:
        The house lines, most frequent first.

    Memory: an 8-byte hash and a word count per line of each article read,
    and the texts of the first ``sample`` articles carrying each repeated edge line.
    """
    if min_articles < 2 or not 0 < max_share < 1 or sample < 2:
        raise ValueError("need min_articles >= 2, 0 < max_share < 1 and sample >= 2")
    strip = normaliser or Normaliser()
    known = strip._bp.fullmatch  # noqa: SLF001 - the normaliser's own whole-line patterns, built-in and given
    hashes: list[array] = []  # per article: the hash of each line as the patterns see it (lower case)
    words: list[array] = []  # per article: the words of each line
    outlets: list[str | None] = []
    texts: dict[int, list[str]] = {}  # line hash -> the texts of its first `sample` carriers (references)
    first: dict[int, int | list[int]] = {}  # line hash -> the article carrying it at an edge, or all of them
    seen_as: dict[int, str] = {}  # a line carried by two articles or more, as first seen
    builtin: set[int] = set()  # lines the normaliser's patterns already strip
    for art in articles:
        n = len(hashes)
        lines = [ln for ln in clean(art.text).split("\n") if _core(ln)]
        cores = [_core(ln) for ln in lines]
        hs = array("q", (hash(c.lower()) for c in cores))
        hashes.append(hs)
        words.append(array("i", (len(c.split()) for c in cores)))
        outlets.append(outlet(art))
        stripped = [known(c) is not None for c in cores]  # built-in or given boilerplate is not an edge
        body = [k for k, gone in enumerate(stripped) if not gone]
        builtin.update(hs[k] for k, gone in enumerate(stripped) if gone)
        if len(body) < 2:  # a one-line article has no footer apart from its story
            continue
        for k in {*body[:EDGE], *body[-EDGE:]}:
            c = cores[k]
            if words[n][k] < MIN_WORDS and len(c) < MIN_CHARS:
                continue
            h = hs[k]
            hits = first.get(h)
            if hits is None:
                first[h] = n
                texts[h] = [art.text]
            elif isinstance(hits, int):
                if hits != n:
                    first[h] = [hits, n]
                    seen_as[h] = lines[k]
                    texts[h].append(art.text)
            elif hits[-1] != n:
                hits.append(n)
                if len(texts[h]) < sample:
                    texts[h].append(art.text)
    found = []
    for h, hits in first.items():
        if isinstance(hits, int) or len(hits) < min_articles:
            continue
        step = max(1, len(hits) // sample)
        picked = hits[::step][:sample]
        docs = [dict(zip(hashes[i], words[i])) for i in picked]
        counts = Counter(x for d in docs for x in d)
        block = {x for x, k in counts.items() if 2 * k >= len(docs)}
        share = median(sum(w for x, w in d.items() if x in block) / max(sum(d.values()), 1) for d in docs)
        named = Counter(outlets[i] for i in picked if outlets[i] is not None)
        if 2 * sum(named.values()) >= len(picked):  # most name their outlet: one house's line, or a wire's
            if len(named) > MAX_OUTLETS or share >= ONE_HOUSE_SHARE:
                continue
            if share >= max_share and 2 * sum(_inside(hashes[i], words[i], builtin, block) for i in picked) > len(picked):
                continue  # most of each article, and inside it: one outlet's versions of a story, not a footer
        elif share >= max_share or _alike(texts[h], block) >= COPY_JACCARD:
            continue  # the block is most of each article, or the rest of them are one story's words
        if _figures_line(seen_as[h]):
            continue  # a template brief's figures line ("Qtly div five cts vs five cts prior"): what tells briefs apart
        pattern = _pattern(strip, seen_as[h])
        if pattern is not None:
            found.append(HouseLine(_core(seen_as[h]), len(hits), round(share, 3), len(named), pattern))
    return sorted(found, key=lambda x: (-x.articles, x.text.lower()))
