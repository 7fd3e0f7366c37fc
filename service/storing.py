"""The service's :class:`~dedup.deduplicator.Deduplicator`: its fingerprints
carry their article, so that a :class:`~dedup_service.store.RedisIndex`
keeps what a person reads, and it repairs what a failed request left."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dedup.deduplicator import Deduplicator
from dedup.index import Fingerprint
from dedup.types import Article

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
                self.index.attach(fp.id, links)
            done += 1
        return done
