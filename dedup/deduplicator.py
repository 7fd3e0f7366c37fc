"""The online deduplicator: ``add`` an article, ``query`` without storing,
``remove`` one; the index behind it is memory or Redis (same contract)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from dedup.cluster import canonical_index
from dedup.errors import InvalidParams
from dedup.fingerprint import NO_WORDS, check_size, fingerprint_texts
from dedup.index import Fingerprint, Index, MemoryIndex
from dedup.minhash import jaccard
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
    none); ``created`` is ``False`` when ``add`` found the same id with the
    same content already stored (an idempotent retry).
    """

    id: str
    cluster: str | None
    canonical: str | None
    duplicates: list[Link] = field(default_factory=list)
    created: bool = True

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "cluster": self.cluster,
            "canonical": self.canonical,
            "duplicates": [_dup_dict(self.id, link) for link in self.duplicates],
        }


def _dup_dict(me: str, link: Link) -> dict:
    """A link seen from ``me``: the other article's id first."""
    mine_is_a = link.a == me
    d = {
        "id": link.b if mine_is_a else link.a,
        "kind": link.kind,
        "jaccard": round(link.jaccard, 4),
        "containment": round(link.containment_ab if mine_is_a else link.containment_ba, 4),
        "score": round(link.score, 4),
    }
    if link.passages:
        d["passages"] = [
            {"start": p.a_start, "end": p.a_end, "their_start": p.b_start, "their_end": p.b_end, "text": p.text}
            for p in link.passages
        ]
    return d


class Deduplicator:
    """Answers "have I seen this story already?" one article at a time.

    Args:
        params: detection parameters (default :class:`Params`).
        index: where fingerprints live; a :class:`MemoryIndex` by default.
        normaliser: text normaliser (extend its boilerplate list here).

    Example:
        >>> d = Deduplicator()
        >>> text = "Putin signed treaties on Friday to annex four occupied regions of Ukraine. " * 3
        >>> d.add(Article("a", text)).duplicates
        []
        >>> [link.kind for link in d.add(Article("b", "MOSCOW (AP) - " + text)).duplicates]
        ['exact']
    """

    def __init__(self, params: Params | None = None, index: Index | None = None, normaliser: Normaliser | None = None):
        self.params = params or (index.params if index is not None else Params())
        if self.params.reuse is not None:
            raise InvalidParams("reuse: the reworded-copy pass is batch-only (cluster_articles); leave it None here")
        self.index = index if index is not None else MemoryIndex(self.params)
        if self.index.params != self.params:
            raise ValueError("the index was built with other Params than the deduplicator's")
        self.normaliser = normaliser or Normaliser()

    def fingerprint(self, article: Article, *, words: bool = False) -> tuple[Fingerprint, list[str] | None]:
        """The article's fingerprint, and its normalised words when ``words``
        (only passages need them: the kernel cuts words without Python strings).

        Raises:
            TooLarge: text over ``params.max_text_bytes``.
            InvalidArticle: no words left after normalisation.
        """
        got = fingerprint_texts([article.text], self.params, self.normaliser)
        if got.rejected:
            raise got.rejected[0][1]
        fp = Fingerprint(article.id, got.signatures[0], got.words[0], article.published_ts, time.time())
        return fp, (tokens(got.texts[0]) if words else None)

    def _confirm_all(self, fp, words, found, explain, similarity) -> list[Link]:
        links = []
        mine = encode(fp.tokens) if found else ""  # once, not once per candidate
        for other in found:
            got = confirm(
                fp.id, mine, other.id, other.tokens, self.params,
                jaccard=jaccard(fp.signature, other.signature), similarity=similarity,
                explain=explain, words_a=words,
            )
            if isinstance(got, Link):
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
        best = canonical_index(range(len(members)), [m[1] for m in members], [m[2] for m in members])
        return cid, members[best][0], [m[0] for m in members]

    def _match(self, doc_id: str, of: str, links: list[Link], created: bool) -> Match:
        story = self.story(of)
        if story is None:
            return Match(doc_id, None, None, links, created)
        return Match(doc_id, story[0], story[1], links, created)

    def query(self, article: Article, *, explain: bool = False, similarity: float | None = None) -> Match:
        """Find the stored duplicates of ``article`` without storing it."""
        fp, words = self.fingerprint(article, words=explain)
        found = [f for f in self.index.candidates(fp) if f.id != fp.id]
        links = self._confirm_all(fp, words, found, explain, similarity)
        if not links:
            return Match(fp.id, None, None, links, created=False)
        return self._match(fp.id, links[0].b, links, created=False)

    def add(self, article: Article, *, explain: bool = False, similarity: float | None = None) -> Match:
        """Find the duplicates of ``article`` among stored ones, then store it.

        Candidate look-up and insertion are one atomic index operation, so
        two copies added concurrently always find each other.
        """
        fp, words = self.fingerprint(article, words=explain)
        found = self.index.add(fp)
        if found is None:  # the same id with the same words: a retry, nothing written
            links = self.index.links(fp.id)
            links = [self._explain(fp, words, link) for link in links] if explain else links
            return self._match(fp.id, fp.id, links, created=False)
        links = []
        for link in self._confirm_all(fp, words, found, explain, similarity):
            try:
                self.index.link(link)
            except KeyError:  # the other article expired or was deleted meanwhile
                continue
            links.append(link)
        if not links:  # a story of its own: no need to ask the index
            return Match(fp.id, fp.id, fp.id, links, created=True)
        return self._match(fp.id, fp.id, links, created=True)

    def _explain(self, fp: Fingerprint, words: list[str], link: Link) -> Link:
        other = self.index.get(link.b if link.a == fp.id else link.a)
        if other is None:
            return link
        got = confirm(fp.id, fp.tokens, other.id, other.tokens, self.params, jaccard=link.jaccard,
                      similarity=0.0, explain=True, words_a=words)
        return got if isinstance(got, Link) else link

    def remove(self, doc_id: str) -> bool:
        """Forget an article (``False`` if it was not stored)."""
        return self.index.remove(doc_id)

    def get(self, doc_id: str) -> Fingerprint | None:
        """The stored fingerprint of ``doc_id``, or ``None``."""
        return self.index.get(doc_id)

    def __len__(self) -> int:
        return len(self.index)


