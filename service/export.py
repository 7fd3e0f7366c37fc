"""``dedup export`` / ``dedup reindex``: a namespace to JSON Lines and back.

An export holds everything the index needs to be rebuilt: per article its
id, dates, MinHash signature and word ids (base64 of little-endian
``uint32``), its title, url, source and text as stored (the text is
``null`` with ``STORE_TEXT`` off), plus its story at export time (cluster,
canonical) for checking. A header line names the
namespace, the layout and the parameters; a last line counts the articles,
so a truncated file is refused instead of half-loaded:

.. code-block:: text

    {"dedup_export": 1, "namespace": "news", "layout": "3:128:1:28:2:...", "params": {...}, "generation": "..."}
    {"id": "a", "published": 1714557600.0, "added": 1714557612.3, "signature": "...", "words": "...",
     "title": "...", "url": null, "source": null, "text": "...", "cluster": "a", "canonical": "a", "pending": false}
    {"dedup_export_end": 1}

:func:`replay` adds the articles again in their original insertion order,
through the same :class:`~dedup.Deduplicator` steps as a POST (candidates,
confirmation, links), keeping each article's ``added`` time (so retention
expires it when it would have): the clusters come back as they were.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from dedup import Article
from dedup.errors import DedupError, InvalidArticle
from dedup.index import Fingerprint
from dedup_service.store import ArticleFingerprint, RedisIndex, StoringDeduplicator

__all__ = ["FORMAT_VERSION", "Replayed", "export_lines", "is_export", "read_export", "replay"]

FORMAT_VERSION = 1
#: Parameters that change signatures or word ids: an export made with other
#: values cannot be replayed (re-index from the feed dumps instead).
_FINGERPRINT_PARAMS = ("num_perm", "seed", "shingle_size")


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<u4").tobytes()).decode("ascii")


def _u32(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s, validate=True), dtype="<u4").astype(np.uint32)


def export_lines(index: RedisIndex, generation: str | None = None) -> Iterator[str]:
    """The namespace of ``index`` as JSON lines (header, articles, count), streamed."""
    yield json.dumps({"dedup_export": FORMAT_VERSION, "namespace": index.namespace, "layout": index.layout.decode(),
                      "params": index.params.to_dict(), "generation": generation, "exported_at": time.time()}) + "\n"
    n = 0
    for fp, story, pending, about in index.export():
        n += 1
        yield json.dumps({"id": fp.id, "published": fp.published, "added": fp.added,
                          "signature": _b64(fp.signature), "words": _b64(fp.tokens), **about.to_dict(text=True),
                          "cluster": story.cluster if story else None, "canonical": story.canonical if story else None,
                          "pending": pending}) + "\n"
    yield json.dumps({"dedup_export_end": n}) + "\n"


def is_export(first_line: bytes | str) -> bool:
    """Whether a file's first line is an export header."""
    try:
        head = json.loads(first_line)
    except ValueError:
        return False
    return isinstance(head, dict) and "dedup_export" in head


def read_export(lines: Iterable[str], params) -> Iterator[Fingerprint]:
    """The fingerprints of an export, checked against ``params``.

    Raises:
        InvalidArticle: not an export, another format version, other
            fingerprint parameters, a malformed line (naming it), or no
            final count (a truncated file) or a wrong one.
    """
    it = iter(lines)
    head = json.loads(next(it, "null") or "null")
    if not (isinstance(head, dict) and head.get("dedup_export") == FORMAT_VERSION):
        raise InvalidArticle(f"not a dedup export (version {FORMAT_VERSION}): the first line is no export header")
    ours = params.to_dict()
    differ = [f"{k} {head['params'].get(k)} -> {ours[k]}" for k in _FINGERPRINT_PARAMS if head["params"].get(k) != ours[k]]
    if differ:
        raise InvalidArticle(f"the export was made with other fingerprint parameters ({', '.join(differ)}): "
                             "re-index from the feed dumps instead")
    n = 0
    for lineno, line in enumerate(it, start=2):
        try:
            d = json.loads(line)
            if "dedup_export_end" in d:
                if d["dedup_export_end"] != n:
                    raise InvalidArticle(f"the export counts {d['dedup_export_end']} articles and holds {n}")
                return
            article = Article(str(d["id"]), d.get("text"), d.get("title"), d.get("url"), d.get("source"))
            fp = ArticleFingerprint(article.id, _u32(d["signature"]), _u32(d["words"]), d["published"],
                                    float(d["added"]), article)
        except (ValueError, KeyError, TypeError) as e:
            raise InvalidArticle(f"export line {lineno}: {type(e).__name__}: {e}") from None
        if fp.signature.shape != (params.num_perm,) or not len(fp.tokens):
            raise InvalidArticle(f"export line {lineno}: a signature of {len(fp.signature)} values or no words")
        n += 1
        yield fp
    raise InvalidArticle(f"the export ends after {n} articles without its final count: it is truncated")


class _Stored(StoringDeduplicator):
    """The service's deduplicator, whose next article's fingerprint is given,
    not computed: ``add`` then runs the same candidate, confirmation and
    link steps as for a posted text, and stores the article's title, url,
    source and text with it."""

    given: Fingerprint

    def fingerprint(self, article: Article, *, words: bool = False):
        return self.given, None


@dataclass
class Replayed:
    """What :func:`replay` did: articles newly stored, already there, refused (``(id, reason)``)."""

    created: int = 0
    existing: int = 0
    refused: list[tuple[str, str]] | None = None


def replay(index: RedisIndex, items: Iterable[Fingerprint | Article], on_refused=None) -> Replayed:
    """Add ``items`` (fingerprints of an export, or articles of a feed dump)
    to ``index`` in order, as POSTs would; an article already stored with the
    same words is left as it is (so a replay interrupted can be run again).

    A refused article (too large, no words) goes to ``on_refused(id, reason)``
    and the replay goes on; :class:`~dedup_service.errors.StoreUnavailable`
    (Redis gone) and :class:`~dedup_service.errors.NamespaceMismatch` stop it.
    """
    d = _Stored(index.params, index)
    plain = StoringDeduplicator(index.params, index)
    got = Replayed(refused=[])
    for item in items:
        try:
            if isinstance(item, Fingerprint):
                d.given = item
                match = d.add(Article(item.id, "-"))
            else:
                match = plain.add(item)
        except DedupError as e:
            if e.status == 503 or e.code == "namespace_mismatch":  # Redis gone, or another layout: stop
                raise
            got.refused.append((item.id, e.message))
            if on_refused is not None:
                on_refused(item.id, e.message)
            continue
        if match.created:
            got.created += 1
        else:
            got.existing += 1
    index.settle()  # the last adds' deferred pending flags (see RedisIndex.attach)
    return got
