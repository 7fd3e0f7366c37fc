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
from dedup.refine import confirm, encode
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
        return self._name_figures(fp, words, found, links, similarity) if explain else links

    def _name_figures(self, fp: Fingerprint, words: list[str] | None, found: list[Fingerprint],
                      links: list[Link], similarity: float | None) -> list[Link]:
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
        texts, by_id, mine = self.index.texts([link.b for link in links]), {f.id: f for f in found}, encode(fp.tokens)
        named = {}
        for link in ups:
            other, text = by_id.get(link.b), texts.get(link.b)
            theirs = tokens(self.normaliser(text).lower()) if text is not None else None
            if other is None or theirs is None or len(theirs) != len(other.tokens):  # not the words it was stored with
                continue
            got = confirm(fp.id, mine, other.id, other.tokens, self.params, jaccard=link.jaccard, similarity=similarity,
                          explain=True, words_a=words, words_b=theirs)
            if isinstance(got, Link) and got.kind == "update":
                named[id(link)] = dataclasses.replace(link, changed=got.changed)
        return [named.get(id(link), link) for link in links]

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
