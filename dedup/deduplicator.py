"""The online deduplicator: ``add`` an article, ``query`` without storing,
``remove`` one; the index behind it is memory or Redis (same contract)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from dedup.cluster import canonical_index, online_links
from dedup.decisions import Decisions, allowed_links
from dedup.editions import separate_editions
from dedup.errors import InvalidParams
from dedup.fingerprint import NO_WORDS, check_size, fingerprint_texts
from dedup.index import Fingerprint, Index, MemoryIndex, Story
from dedup.minhash import jaccard, shared_values
from dedup.normalisation import Normaliser, tokens
from dedup.params import Params
from dedup.refine import confirm, encode
from dedup.types import Article, Link

__all__ = ["Deduplicator", "Match", "check_size", "NO_WORDS"]  # the last two from dedup.fingerprint


@dataclass(frozen=True)
class Match:
    """The answer about one article.

    ``duplicates`` are the stored articles it was confirmed against, best
    first; ``cluster`` and ``canonical`` describe the story it belongs to
    (for ``query``: the story of its best duplicate, ``None`` if it has
    none), ``latest`` its latest version (``None`` when the index does not
    keep it; see :mod:`dedup.cluster`); ``created`` is ``False`` when
    ``add`` found the same id with the same content already stored (an
    idempotent retry).
    """

    id: str
    cluster: str | None
    canonical: str | None
    duplicates: list[Link] = field(default_factory=list)
    created: bool = True
    latest: str | None = None

    def to_dict(self) -> dict:
        """The HTTP answer."""
        return {
            "id": self.id,
            "cluster": self.cluster,
            "canonical": self.canonical,
            "latest": self.latest,
            "duplicates": [link.to_dict(me=self.id) for link in self.duplicates],
        }


class Deduplicator:
    """Answers "have I seen this story already?" one article at a time.

    Args:
        params: detection parameters (default :class:`Params`).
        index: where fingerprints live; a :class:`MemoryIndex` by default.
        normaliser: text normaliser (extend its boilerplate list here).
        decisions: editors' rulings every add respects (:mod:`dedup.decisions`);
            the service keeps them in its store instead.

    Example:
        >>> d = Deduplicator()
        >>> text = "Putin signed treaties on Friday to annex four occupied regions of Ukraine. " * 3
        >>> d.add(Article("a", text)).duplicates
        []
        >>> [link.kind for link in d.add(Article("b", "MOSCOW (AP) - " + text)).duplicates]
        ['exact']
    """

    def __init__(self, params: Params | None = None, index: Index | None = None, normaliser: Normaliser | None = None,
                 decisions: Decisions | None = None):
        self.params = params or (index.params if index is not None else Params())
        if self.params.reuse is not None:
            raise InvalidParams("reuse: the reworded-copy pass is batch-only (cluster_articles); leave it None here")
        self.index = index if index is not None else MemoryIndex(self.params)
        if self.index.params != self.params:
            raise ValueError("the index was built with other Params than the deduplicator's")
        self.normaliser = normaliser or Normaliser()
        self.decisions = decisions or Decisions()
        self._encodings: dict[tuple, str] = {}

    def fingerprint(self, article: Article, *, words: bool = False) -> tuple[Fingerprint, list[str] | None]:
        """The article's fingerprint, and its normalised words when ``words``
        (only passages need them: the kernel cuts words without Python strings).

        Raises:
            TooLarge: text over ``params.max_text_bytes``.
            InvalidArticle: an id or text that is not a string, or no words left after normalisation.
        """
        article.check()
        got = fingerprint_texts([article.text], self.params, self.normaliser)
        if got.rejected:
            raise got.rejected[0][1]
        fp = Fingerprint(article.id, got.signatures[0], got.words[0], article.published_ts, time.time())
        return fp, (tokens(got.texts[0]) if words else None)

    #: Encoded articles kept, the least recently used dropped first.
    _ENCODED_MAX = 4096

    def _encoded(self, fp: Fingerprint) -> str:
        """``encode(fp.tokens)``, cached by id and content: it is most of a
        confirmation's cost, and the same articles recur (an added one as
        the candidate of its later copies, a hot story's representatives on
        every add), so each is encoded once while it stays among the
        :data:`_ENCODED_MAX` most recently used."""
        key = (fp.id, fp.added, hash(fp.tokens.tobytes()))
        cache = self._encodings  # a dict keeps insertion order: the first key is the least recently used
        got = cache.pop(key, None)
        if got is None:
            got = encode(fp.tokens)
            if len(cache) >= self._ENCODED_MAX:
                try:
                    del cache[next(iter(cache))]
                except (KeyError, RuntimeError, StopIteration):  # another thread changed it meanwhile
                    pass
        cache[key] = got
        return got

    def _confirm_all(self, fp, words, found, explain, similarity) -> list[Link]:
        links = []
        if not found:
            return links
        mine = self._encoded(fp)  # once, and kept: it comes back as a later add's candidate
        shared = shared_values(fp.signature, [other.signature for other in found])  # one numpy call, not one a pair
        for other, same in zip(found, shared):
            theirs = self._encoded(other)
            got = confirm(
                fp.id, mine, other.id, theirs, self.params,
                jaccard=same / len(fp.signature), similarity=similarity,
                explain=explain, words_a=words,
            )
            if isinstance(got, Link) and not separate_editions(got, mine, theirs, fp.published, other.published):
                links.append(got)
        links.sort(key=lambda link: (-link.score, link.b))
        return links

    def story(self, doc_id: str) -> tuple[str, str, list[str]] | None:
        """``(cluster id, canonical id, member ids)`` of the story holding
        ``doc_id`` (one index look-up), or ``None`` if it is not stored."""
        got = self.index.cluster(doc_id)
        if got is None:
            return None
        cid, members = got
        best = canonical_index(range(len(members)), [m[1] for m in members], [m[2] for m in members],
                               [self.decisions.pinned(m[0]) for m in members])
        return cid, members[best][0], [m[0] for m in members]

    def _match(self, doc_id: str, of: str, links: list[Link], created: bool) -> Match:
        story = self.index.story(of)  # bounded: not O(cluster size)
        if story is None:
            return Match(doc_id, None, None, links, created)
        return Match(doc_id, story.cluster, self._pinned_canonical(of, story.canonical), links, created, story.latest)

    def query(self, article: Article, *, explain: bool = False, similarity: float | None = None) -> Match:
        """Find the stored duplicates of ``article`` without storing it
        (among the bounded candidates: see :mod:`dedup.index`)."""
        fp, words = self.fingerprint(article, words=explain)
        found = [f for f in self.index.candidates(fp) if f.id != fp.id]
        links = self._decided(fp.id, self._confirm_all(fp, words, found, explain, similarity), stored=False)
        if not links:  # no other copy; the text itself may be stored (not its own candidate): then its story
            story = self.index.story(fp.id) if self.index.stored(fp) else None
            if story is None:
                return Match(fp.id, None, None, links, created=False)
            return Match(fp.id, story.cluster, self._pinned_canonical(fp.id, story.canonical),
                         self.story_links(fp, story, words=words, explain=explain), False, story.latest)
        return self._match(fp.id, links[0].b, links, created=False)

    def add(self, article: Article, *, explain: bool = False, similarity: float | None = None) -> Match:
        """Find the duplicates of ``article`` among stored ones, then store it.

        Candidate look-up and insertion are one atomic index operation, so
        two copies added concurrently always find each other. The answer's
        ``duplicates`` is the article's best link (what is stored), so a
        retry answers the same: a retry of a linked article is read back
        from the index (``created`` False); a retry of one whose link step
        failed (still pending) is confirmed and linked again.
        """
        fp, words = self.fingerprint(article, words=explain)
        found = self.index.add(fp)
        if found is None:  # the same id with the same words, already linked: a retry
            story = self.index.story(fp.id)
            if story is None:  # removed meanwhile
                return Match(fp.id, None, None, [], created=False)
            links = self.story_links(fp, story, words=words, explain=explain)
            return Match(fp.id, story.cluster, story.canonical, links, False, story.latest)
        if not found:  # no candidate: a story of its own, nothing pending, no need to ask the index
            return Match(fp.id, self.index.founded(fp.id), fp.id, [], created=True, latest=fp.id)
        confirmed = self._guarded(fp, found, self._confirm_all(fp, words, found, explain, similarity))
        story, kept = self.index.attach(fp.id, self._decided(fp.id, confirmed))  # clears the pending flag even with no link
        return Match(fp.id, story.cluster, self._pinned_canonical(fp.id, story.canonical), kept[:1], True, story.latest)

    # -- editors' decisions (dedup.decisions) ---------------------------------
    def _decided(self, doc_id: str, links: list[Link], stored: bool = True) -> list[Link]:
        """The links (best first) that the editors' decisions let ``doc_id``
        merge on (:func:`dedup.decisions.allowed_links`). An index that
        keeps decisions itself (the service's) answers through its
        ``decision_view``; else :attr:`decisions` applies."""
        if not links:
            return links
        partners = [link.b for link in links]
        own = getattr(self.index, "decision_view", None)
        view = own(doc_id, partners, register=stored) if own is not None else self._decision_view(doc_id, partners)
        if view is None:
            return links
        return allowed_links(view[0], doc_id, links, view[1], view[2])[0]

    def _decision_view(self, doc_id: str, partners: list[str]) -> tuple[Decisions, dict, dict] | None:
        """The decisions naming ``doc_id``, its partners or their stories'
        members, each partner's story, and per story its named members
        (``None``: no decision applies). Here from :attr:`decisions`, one
        index look-up of every named article; the service's store keeps a
        per-story index instead."""
        if not self.decisions.named():
            return None
        named = sorted(self.decisions.named() | set(partners))
        story_of = {i: s.cluster for i, s in zip(named, self.index.stories(named)) if s is not None}
        named_in: dict[str, set[str]] = {}
        for i in self.decisions.named():
            if i in story_of:
                named_in.setdefault(story_of[i], set()).add(i)
        return self.decisions, story_of, named_in

    def _pinned_canonical(self, doc_id: str, canonical: str | None) -> str | None:
        """The story's canonical copy with the editors' picks (the index's
        own rule knows none of them; O(story) here, only when some exist)."""
        if canonical is None or not any(r["decision"] == "canonical" for r in self.decisions.records):
            return canonical
        got = self.story(doc_id)
        return got[1] if got is not None else canonical

    def _guarded(self, fp: Fingerprint, found: list[Fingerprint], links: list[Link]) -> list[Link]:
        """The batch clustering guards on the new article's links
        (:func:`dedup.cluster.online_links`): a shorter text between stories
        links only its best match, a compilation links none."""
        if len(links) < 2:
            return links
        words = {f.id: len(f.tokens) for f in found}
        # Which stories the partners are in matters only if the guards would decide
        # otherwise with all in one story than with each in its own: ask the index then.
        one = online_links(links, len(fp.tokens), {x.b: (words[x.b], "") for x in links})[0]
        apart = online_links(links, len(fp.tokens), {x.b: (words[x.b], x.b) for x in links})[0]
        if [id(x) for x in one] == [id(x) for x in apart]:
            return [link for link in links if any(link is k for k in one)]
        stories = self.index.stories([link.b for link in links])  # one bounded look-up for all partners
        others = {link.b: (words[link.b], got.cluster if got is not None else link.b)
                  for link, got in zip(links, stories)}
        kept, _ = online_links(links, len(fp.tokens), others)
        return [link for link in links if any(link is k for k in kept)]  # best first, as confirmed

    def story_links(self, fp: Fingerprint, story: Story, *, words: list[str] | None = None,
                    explain: bool = False) -> list[Link]:
        """A stored article's duplicates as its story (:meth:`Index.story`)
        tells them: its best link; else, when its cluster has other members
        (its best match was removed, or others linked to it), a link to the
        story's ``partner`` confirmed now, whose kind and scores are that
        pair's (``near`` with the pair's own scores when a chain of links
        made them members, less alike than ``similarity``: membership is
        the cluster's); else none. One more index look-up, for the partner.

        Example:
            >>> d = Deduplicator()
            >>> _ = d.add(Article("a", "one two three four five six seven eight nine ten"))
            >>> _ = d.add(Article("b", "one two three four five six seven eight nine ten"))
            >>> [x.b for x in d.story_links(d.get("a"), d.index.story("a"))]
            ['b']
        """
        if story.best is not None:
            return [self._explain(fp, words, story.best) if explain else story.best]
        other = self.index.get(story.partner) if story.partner is not None else None
        if other is None:
            return []
        mine, theirs = self._encoded(fp), self._encoded(other)
        for cut in (None, 0.0):  # confirmed as any pair is, else the pair's own scores
            got = confirm(fp.id, mine, other.id, theirs, self.params, jaccard=jaccard(fp.signature, other.signature),
                          similarity=cut, explain=explain, words_a=words)
            if isinstance(got, Link):
                return [got]
        return []

    def _explain(self, fp: Fingerprint, words: list[str], link: Link) -> Link:
        """The stored link with its passages: kind and scores stay what was stored."""
        if link.passages:
            return link
        other = self.index.get(link.b if link.a == fp.id else link.a)
        if other is None:
            return link
        got = confirm(fp.id, encode(fp.tokens), other.id, other.tokens, self.params, jaccard=link.jaccard,
                      similarity=0.0, explain=True, words_a=words)
        return dataclasses.replace(link, passages=got.passages) if isinstance(got, Link) else link

    def remove(self, doc_id: str) -> bool:
        """Forget an article (``False`` if it was not stored)."""
        return self.index.remove(doc_id)

    def get(self, doc_id: str) -> Fingerprint | None:
        """The stored fingerprint of ``doc_id``, or ``None``."""
        return self.index.get(doc_id)

    def __len__(self) -> int:
        return len(self.index)


