"""The service's :class:`~dedup.deduplicator.Deduplicator`: its fingerprints
carry their article, so that a :class:`~dedup_service.store.RedisIndex`
keeps what a person reads, and it repairs what a failed request left."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dedup.deduplicator import Deduplicator
from dedup.index import Fingerprint
from dedup.normalisation import tokens
from dedup.report import _say as name_offsets, _unnamed  # batch's naming of the same offsets
from dedup.types import Article, Link

if TYPE_CHECKING:
    from dedup_service.store import RedisIndex

__all__ = ["ArticleFingerprint", "StoringDeduplicator"]


@dataclass(frozen=True, eq=False, slots=True)
class ArticleFingerprint(Fingerprint):
    """A fingerprint with the article it was made from: :class:`RedisIndex`
    stores its title, url, source and (compressed) text with it."""

    article: Article | None = None


class StoringDeduplicator(Deduplicator):
    """The service's :class:`Deduplicator` on a :class:`RedisIndex`: its
    fingerprints carry their article, so that the index keeps what a person
    reads, and :meth:`repair` links the articles a failed request left
    half-linked."""

    index: RedisIndex

    def fingerprint(self, article: Article, *, words: bool = False) -> tuple[Fingerprint, list[str] | None]:
        fp, got = super().fingerprint(article, words=words)
        return ArticleFingerprint(fp.id, fp.signature, fp.tokens, fp.published, fp.added, article), got

    def _confirm_all(self, fp, words, found, explain, similarity) -> list[Link]:
        links = super()._confirm_all(fp, words, found, explain, similarity)
        return self._name_figures(found, links) if explain else links

    def _name_figures(self, found: list[Fingerprint], links: list[Link]) -> list[Link]:
        """An explained ``update`` link's changed figures with the stored
        side's words, not its word offsets (``#307``): the core knows only
        the new article's words, so the stored one's come from its stored
        text (read once with every linked text, only when an explained link is an
        ``update``; offsets stay when its text is not stored)."""
        ups = [link for link in links if link.kind == "update" and link.changed]
        if not ups:
            return links
        # Every linked text, not only the updates': the answer's character
        # offsets need them too, and read here they cost no second trip.
        texts, by_id = self.index.texts([link.b for link in links]), {f.id: f for f in found}
        named = {}
        for link in ups:  # link.a is the new article, named by the core already
            other, theirs = by_id.get(link.b), self._words(texts.get(link.b))
            if other is None or theirs is None or len(theirs) != len(other.tokens):  # not the words it was stored with
                continue
            named[id(link)] = dataclasses.replace(link, changed=tuple((x, name_offsets(y, theirs)) for x, y in link.changed))
        return [named.get(id(link), link) for link in links]

    def figures_named(self, me: str, links: list[Link], text: str | None = None, *, read: bool = True) -> list[Link]:
        """An answer's ``links`` (those of ``me``) with each ``update``'s
        changed figures that were confirmed without words (``#49``, a word
        offset: an add or look-up without ``explain``) named by their words:
        ``me``'s from ``text`` (else its stored text), the other side's from
        its stored text, read in one round trip, only when an answer holds
        such a figure (not with ``read`` false: an add's answer, which keeps
        to its two round trips, names ``me``'s side only). A stored text names its side only when its words are
        the ones it was stored with: the link's two containments are the
        shared words over each side's length, so both sides' word counts
        must give the same number of shared words; else offsets stay."""
        ups = [k for k, link in enumerate(links) if link.kind == "update" and _unnamed(link.changed)]
        if not ups or (text is None and not (read and self.index.store_text)):
            return links
        other = {k: links[k].b if links[k].a == me else links[k].a for k in ups}
        stored = [*other.values(), *([me] if text is None else [])] if read and self.index.store_text else []
        texts = self.index.texts(stored) if stored else {}
        mine = self._words(texts[me] if text is None else text)
        out = list(links)
        for k in ups:
            link, theirs = links[k], self._words(texts.get(other[k]))
            words_a, words_b = (mine, theirs) if link.a == me else (theirs, mine)
            if words_a is None or words_b is None or not _shared_alike(link, len(words_a), len(words_b)):
                words_a, words_b = (mine, None) if link.a == me else (None, mine)
                if text is None:  # neither side's words can be trusted
                    continue
            out[k] = dataclasses.replace(link, changed=tuple((_said(x, words_a), _said(y, words_b))
                                                             for x, y in link.changed))
        return out

    def _words(self, text: str | None) -> list[str] | None:
        """The words of a text as the fingerprint cut them (``None``: no text)."""
        return None if text is None else tokens(self.normaliser(text).lower())

    def repair(self, limit: int = 32, grace: float = 60.0) -> int:
        """Confirm and link up to ``limit`` articles left pending for over
        ``grace`` seconds: stored with candidates, never linked (the link
        step of their add failed, and no retry came). Each is confirmed
        against its candidates of now, exactly as a retry would, from its
        stored fingerprint (no text needed). Returns how many were repaired
        (linked, or no longer pending when no candidate is left);
        run it periodically (``flask repair``): one look-up, then two round
        trips per article, whatever the size of its story."""
        done = 0
        for fp in self.index.pending(limit, self.index.clock() - grace):
            found = self.index.add(fp)  # still pending: its bounded candidates again
            if found is None:  # linked meanwhile (a retry came)
                continue
            links = self._guarded(fp, found, self._confirm_all(fp, None, found, False, None)) if found else []
            if found:
                self.index.attach(fp.id, self._decided(fp.id, links))  # editors' decisions, as an add respects them
            done += 1
        return done


def _shared_alike(link: Link, words_a: int, words_b: int) -> bool:
    """Whether texts of these word counts are those ``link`` was confirmed on,
    as far as its containments (shared words / each side's words) tell."""
    shared_a, shared_b = words_a * link.containment_ab, words_b * link.containment_ba
    return abs(shared_a - shared_b) <= 1e-6 * shared_a and abs(shared_a - round(shared_a)) <= 1e-6


def _said(figures: str, words: list[str] | None) -> str:
    """A side of a changed figure, its word offsets (``#12``) named by ``words`` when known."""
    return figures if words is None else name_offsets(figures, words)
