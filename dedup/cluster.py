"""From confirmed links to story clusters, each with one canonical copy.

Clustering rule (union-find, three stages):

1. Links between texts of about the same length (``exact``, or ``near``
   with the shorter at least 90% of the longer) always merge.
2. A ``near`` link between a shorter and a longer text is asymmetric: a
   shorter text whose near partners belong to different stories joins
   only the one it matches best. A copy of a brief cut before its figures
   ("Qtly div 12-1/2 cts vs 12-1/2 cts prior Pay") truly matches every
   brief that starts that way; it must not chain them into one story.
3. ``contained`` links are applied from the shortest container up. A container absorbs
   the texts it contains when those are, by then, one story, or when they
   lie over the same part of it (a copy cut to its first half and a copy
   that lost a paragraph overlap in the original). A text holding two
   stories that are not copies of each other, in different places, is a
   compilation (a roundup, a live blog, a digest) and merges nothing. This
   is the guard against chaining unrelated stories through one long text.
   Its mirror, first: a text contained in texts of *different* stories
   (after stages 1 and 2) is what they share, not a copy of one of them (a
   brief that is mostly a house footer, a stock paragraph), and joins none
   of them; a brief cut from one story is contained in that story's copies,
   which are one story by then.

Canonical copy: the earliest ``published``; ties (or no dates) go to the
most complete text (most words), then to the first in input order.
Articles without a date come after every dated one.

Latest version: members joined by ``exact`` or ``near`` links carry the
same figures and are one *version*; a copy with its passages moved (the
later side of a ``reused`` link), alone in its version and reused from one
version only, joins it (reused from two, it may carry either's figures, and
joins neither); a copy cut short (the shorter side of
``contained`` links), alone in its version and contained in one version
only, keeps that version's figures and joins it (cut before a changed
figure, it is in the original's and the update's alike, and joins neither); ``update`` links (the same story with
figures changed) lie between versions. Of the versions holding the
canonical copy or a side of an ``update`` link, the latest is the one whose
first copy was published last (undated after dated ones, ties to the later
in input order), named by that first copy. A copy of the original
republished after an update is still the original's version; a cluster
without updates names its canonical copy.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

__all__ = ["SAME_FIGURES", "VERSION_JOINS", "GuardedUnionFind", "UnionFind", "canonical_index", "cluster_links", "latest_version",
           "online_links"]

_SAME_LENGTH = 0.9  # a near link between texts this close in length is symmetric
#: Links that say two texts carry the same figures (one version).
SAME_FIGURES = ("exact", "near")
#: Links along which an article alone in its version joins its partner's (one version only in
#: batch; the best link online and in the Redis scripts).
VERSION_JOINS = (*SAME_FIGURES, "reused")


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving and union by size.

    Example:
        >>> uf = UnionFind(2)
        >>> uf.add(), uf.union(0, 2) == uf.find(2), uf.find(1)
        (2, True, 1)
    """

    def __init__(self, n: int = 0) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def __len__(self) -> int:
        return len(self.parent)

    def add(self) -> int:
        """A new singleton set; returns its element (the next integer)."""
        self.parent.append(len(self.parent))
        self.size.append(1)
        return len(self.parent) - 1

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, x: int, y: int) -> int:
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return rx
        if self.size[rx] < self.size[ry]:
            rx, ry = ry, rx
        self.parent[ry] = rx
        self.size[rx] += self.size[ry]
        return rx


class GuardedUnionFind(UnionFind):
    """:class:`UnionFind` that refuses a union putting two elements ruled
    apart in one set (editors' decisions, :mod:`dedup.decisions`).

    Args:
        n: elements.
        apart: ``{x: {y, ...}}``, symmetric: pairs never in one set.

    Each set keeps its members that ``apart`` names, so a check costs
    O(named members of the smaller set), whatever the sets' sizes.
    ``refused`` collects the refused ``(x, y)`` unions.
    """

    def __init__(self, n: int, apart: dict[int, set[int]]) -> None:
        super().__init__(n)
        self.apart = apart
        self.named: dict[int, set[int]] = {x: {x} for x in apart}
        self.refused: list[tuple[int, int]] = []

    def union(self, x: int, y: int) -> int:
        """The new root, or -1 when the union is refused."""
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return rx
        nx, ny = self.named.get(rx), self.named.get(ry)
        if nx and ny:
            small, other = (nx, ry) if len(nx) <= len(ny) else (ny, rx)
            if any(self.find(v) == other for u in small for v in self.apart[u]):
                self.refused.append((x, y))
                return -1
        root = super().union(x, y)
        if nx or ny:
            self.named[root] = (nx or set()) | (ny or set())
            self.named.pop(rx if root == ry else ry, None)
        return root


def _overlap(x: tuple[int, int], y: tuple[int, int]) -> bool:
    inter = min(x[1], y[1]) - max(x[0], y[0])
    return inter * 2 >= min(x[1] - x[0], y[1] - y[0])


def _one_place(spans: dict[int, tuple[int, int] | None]) -> bool:
    """Whether the contained stories' spans in the container form one
    overlapping group (unknown spans: no, stay apart)."""
    if any(sp is None for sp in spans.values()):
        return False
    items = list(spans.values())
    seen, todo = {0}, [0]
    while todo:
        x = todo.pop()
        for y in range(len(items)):
            if y not in seen and _overlap(items[x], items[y]):
                seen.add(y)
                todo.append(y)
    return len(seen) == len(items)


def cluster_links(
    n: int, links: Iterable[tuple], lengths: Sequence[int], *,
    apart: dict[int, set[int]] | None = None, together: Sequence[Sequence[int]] = (),
    refused: list | None = None,
) -> tuple[list[list[int]], set[tuple[int, int]]]:
    """Group ``n`` items by confirmed links.

    Args:
        n: number of items.
        links: ``(i, j, kind[, span[, score]])`` with ``kind`` in ``exact``,
            ``near``, ``contained``; ``span`` is where the shorter item lies
            in the longer one; ``score`` ranks a shorter item's partners.
        lengths: words per item (decides which side of a ``contained``
            link is the container).
        apart: editors' pairs never in one group (``{i: {j, ...}}``,
            symmetric; :meth:`dedup.decisions.Decisions.for_positions`):
            a merge that would join them is refused, at whichever stage.
        together: groups an editor split off as one story, joined first.
        refused: when given, the refused ``(i, j)`` merges are appended.

    Returns:
        ``(groups, dropped)``: groups of two or more indices (sorted), and
        the links the guards refused (a shorter text's other partners, a
        compilation's links).
    """
    uf = GuardedUnionFind(n, apart) if apart else UnionFind(n)
    if apart:  # refusals depend on order: the online one (each later item's links, best first)
        links = sorted(links, key=lambda lk: (max(lk[0], lk[1]), -(lk[4] if len(lk) > 4 else 0.0), min(lk[0], lk[1])))
    touched: set[int] = set()
    for g in together:
        touched.update(g)
        for x in g[1:]:
            uf.union(g[0], x)
    contains: dict[int, list[tuple[int, tuple[int, int] | None]]] = defaultdict(list)
    inside: dict[int, list[int]] = defaultdict(list)  # the containers of a contained text
    linked: dict[int, list[int]] = defaultdict(list)  # every text's confirmed partners
    shorter: dict[int, list[tuple[tuple, int]]] = defaultdict(list)  # near links of a shorter text
    for link in links:  # stage 1, and the links stages 2 and 3 decide on
        i, j, kind = link[0], link[1], link[2]
        span = link[3] if len(link) > 3 else None
        score = link[4] if len(link) > 4 else 0.0
        touched.update((i, j))
        linked[i].append(j)
        linked[j].append(i)
        small, big = (i, j) if (lengths[i], i) < (lengths[j], j) else (j, i)
        if _contained_like(kind, lengths[small], lengths[big]):
            contains[big].append((small, span))
            inside[small].append(big)
        elif kind == "exact" or lengths[small] >= _SAME_LENGTH * lengths[big]:
            uf.union(i, j)
        else:
            shorter[small].append(((score, lengths[big], -big), big))
    ambiguous = _join_shorter_texts(uf, shorter) | _inside_one_story(uf, inside, contains, linked)
    dropped = _absorb_contained(uf, contains, lengths) | ambiguous
    if refused is not None and apart:
        refused += uf.refused
    groups: dict[int, list[int]] = defaultdict(list)
    for x in sorted(touched):
        groups[uf.find(x)].append(x)
    return [g for g in groups.values() if len(g) > 1], dropped


def _join_shorter_texts(uf: UnionFind, shorter: dict[int, list[tuple[tuple, int]]]) -> set[tuple[int, int]]:
    """Stage 2: a shorter text joins its near partners when they are one
    story, else only its best one; returns the links it did not follow."""
    ambiguous: set[tuple[int, int]] = set()
    for small, partners in shorter.items():
        stories = {uf.find(big) for _, big in partners}
        keep = partners if len(stories) == 1 else [max(partners)]
        for _, big in keep:
            uf.union(small, big)
        ambiguous.update((min(small, big), max(small, big)) for _, big in partners if (_, big) not in keep)
    return ambiguous


def _compilation(uf: UnionFind, smalls: list[tuple[int, tuple[int, int] | None]], own: int | None = None) -> bool:
    """Whether a container holds texts of different stories in different places (stage 3's
    test), leaving out those already in its own story ``own``."""
    spans: dict[int, tuple[int, int] | None] = {}
    for small, span in smalls:
        root = uf.find(small)
        if root == own:
            continue
        old = spans.get(root, span)
        spans[root] = None if old is None or span is None else (min(old[0], span[0]), max(old[1], span[1]))
    return len(spans) > 1 and not _one_place(spans)


def _inside_one_story(uf: UnionFind, inside: dict[int, list[int]],
                      contains: dict[int, list[tuple[int, tuple[int, int] | None]]],
                      linked: dict[int, list[int]]) -> set[tuple[int, int]]:
    """Before stage 3: a text contained in texts of *unrelated* stories is what those
    stories share (a brief that is mostly a house footer, a stock paragraph), not a copy
    of one of them: it joins none of them (the mirror of the compilation guard), so it
    cannot chain them. Compilations (a digest of briefs: stage 3 merges nothing through
    them) do not count. The other containers are related when stages 1 and 2 made them
    one story, when a confirmed link joins them, or when a text that is no compilation
    contains both (two cut copies of one long story), directly or through one another.
    Returns the links it does not follow (taken out of ``contains``)."""
    ambiguous: set[tuple[int, int]] = set()
    held = {big: {s for s, _ in smalls} for big, smalls in contains.items()}  # before any is taken out
    digests = {big for big, smalls in contains.items() if _compilation(uf, smalls)}
    for small, every in inside.items():
        containers = [big for big in every if big not in digests]
        if len({uf.find(big) for big in containers}) < 2:
            continue
        at = {big: k for k, big in enumerate(containers)}
        related = UnionFind(len(containers))
        first: dict[int, int] = {}
        for big, k in at.items():
            related.union(k, first.setdefault(uf.find(big), k))
            for other in linked[big]:
                if other in at:
                    related.union(k, at[other])
            for up in inside.get(big, ()):  # a text containing this container, and others of them
                if up not in digests:
                    for other in held[up] & at.keys():
                        related.union(k, at[other])
        if len({related.find(k) for k in range(len(containers))}) < 2:
            continue
        for big in containers:
            contains[big] = [(s, sp) for s, sp in contains[big] if s != small]
            ambiguous.add((min(small, big), max(small, big)))
    return ambiguous


def _absorb_contained(
    uf: UnionFind, contains: dict[int, list[tuple[int, tuple[int, int] | None]]], lengths: Sequence[int]
) -> set[tuple[int, int]]:
    """Stage 3: containers from the shortest up absorb what they contain,
    unless they are compilations; returns the compilations' links."""
    dropped: set[tuple[int, int]] = set()
    for big in sorted(contains, key=lambda x: (lengths[x], x)):
        if not _compilation(uf, contains[big], uf.find(big)):
            for small, _ in contains[big]:
                uf.union(big, small)
        else:
            dropped.update((min(big, s), max(big, s)) for s, _ in contains[big])
    return dropped


def _contained_like(kind: str, short: int, long_: int) -> bool:
    """``contained``, or an ``update`` of a text inside a much longer one: a
    changed figure must not carry a story past the compilation guard."""
    return kind == "contained" or (kind == "update" and short < _SAME_LENGTH * long_)


def online_links(links: Sequence, length: int, others: dict) -> tuple[list, list]:
    """The clustering rule above, applied when one new article arrives
    online with its confirmed links (so that the online path and batch
    cluster a stream alike).

    Args:
        links: the new article's confirmed :class:`~dedup.types.Link` s
            (``link.b`` is the stored partner).
        length: the new article's words.
        others: ``{partner id: (words, cluster id)}`` for each partner.

    Returns:
        ``(kept, dropped)``: the links to merge on, and those the guards
        refuse: a shorter new text whose near partners lie in different
        stories keeps only its best one (stage 2); a new text contained in
        texts of different stories joins none of them; a new text containing
        stories of different clusters in different places is a compilation
        and merges none of them (stage 3). Ties in length count the new
        article as the longer (it comes last in input order, as in batch).
    """
    kept, shorter, contains, inside = [], [], [], []
    for link in links:
        words, _ = others[link.b]
        new_is_small = length < words
        if _contained_like(link.kind, min(length, words), max(length, words)):
            (contains if not new_is_small else inside).append(link)
        elif link.kind == "exact" or min(length, words) >= _SAME_LENGTH * max(length, words) or not new_is_small:
            kept.append(link)
        else:
            shorter.append(link)
    dropped = []
    if len({others[x.b][1] for x in shorter}) > 1:
        best = max(shorter, key=lambda x: (x.score, others[x.b][0]))
        dropped += [x for x in shorter if x is not best]
        shorter = [best]
    kept += shorter
    if len({others[x.b][1] for x in inside}) > 1:  # inside texts of different stories: it joins none
        dropped += inside
    else:
        kept += inside
    if contains:
        own = {others[x.b][1] for x in kept}  # the story the new text joins anyway
        spans: dict = {}
        for x in contains:
            root, sp = others[x.b][1], x.span
            if root in own:
                continue
            old = spans.get(root, sp)
            spans[root] = None if old is None or sp is None else (min(old[0], sp[0]), max(old[1], sp[1]))
        if len(spans) <= 1 or _one_place(spans):
            kept += contains
        else:
            dropped += contains
    return kept, dropped


def canonical_index(members: Sequence[int], published: Sequence[float | None], lengths: Sequence[int],
                    pinned: Sequence[bool] | None = None) -> int:
    """The canonical member: earliest date, then most words, then first;
    with ``pinned`` (editors' picks, by position), among the pinned members
    when the group has some."""

    def key(i: int) -> tuple[bool, float, int, int]:
        p = published[i]
        return (pinned is not None and not pinned[i], math.inf if p is None else p, -lengths[i], i)

    return min(members, key=key)


def _join_alone(uf: UnionFind, at: dict, links: list, cut_copies: bool, key) -> None:
    """A member alone in its version joins the one version it copies (module docstring): a copy
    with its passages moved (the later side of a ``reused`` link, by ``key``) and, with
    ``cut_copies``, a copy cut short (the shorter side of a ``contained`` link, the one more
    contained in the other), when every text it is reused from or contained in is in one version."""
    inside: dict[object, set[int]] = {}
    for lk in links:
        if lk.kind == "reused":
            copy, of = (lk.a, lk.b) if key(lk.a) > key(lk.b) else (lk.b, lk.a)
            inside.setdefault(copy, set()).add(uf.find(at[of]))
        elif lk.kind == "contained" and cut_copies:
            short, long_ = (lk.a, lk.b) if lk.containment_ab >= lk.containment_ba else (lk.b, lk.a)
            inside.setdefault(short, set()).add(uf.find(at[long_]))
    sizes = defaultdict(int)
    for i in range(len(at)):
        sizes[uf.find(i)] += 1
    joins = [(at[m], roots.pop()) for m, roots in inside.items() if len(roots) == 1 and sizes[uf.find(at[m])] == 1]
    joining = {uf.find(i) for i, _ in joins}
    for i, root in joins:
        if root not in joining:  # no chain: a copy of a copy that joins a version stays where it is
            uf.union(i, root)


def latest_version(canonical, links: Iterable, when: dict, *, cut_copies: bool = True) -> object:
    """The cluster's latest version (module docstring), named by its first copy.

    Args:
        canonical: the canonical member (a position or an id, like the links' ``a``/``b``).
        links: the cluster's links (``a``, ``b``, ``kind``, ``containment_ab``, ``containment_ba``).
        when: ``{member: (published or None, input order)}`` for every member on a link.
        cut_copies: let a copy cut short join its version (a copy with its passages moved
            always may). An index passes ``False``: over
            each article's best link only, a cut copy is a side of an update only when
            that is its best link, and the Redis scripts keep versions without this step.
    """
    links = list(links)
    sides = {x for lk in links if lk.kind == "update" for x in (lk.a, lk.b)}
    if not sides:
        return canonical
    members = sorted(when, key=lambda m: when[m][1])
    at = {m: i for i, m in enumerate(members)}
    uf = UnionFind(len(members))
    for lk in links:  # the same figures: one version
        if lk.kind in SAME_FIGURES:
            uf.union(at[lk.a], at[lk.b])

    def key(m) -> tuple[float, int]:
        return (math.inf if when[m][0] is None else when[m][0], when[m][1])

    _join_alone(uf, at, links, cut_copies, key)

    first: dict[int, object] = {}
    for m in members:
        root = uf.find(at[m])
        if root not in first or key(m) < key(first[root]):
            first[root] = m
    versions = {uf.find(at[m]) for m in sides | {canonical}}
    return max((first[r] for r in versions), key=key)
