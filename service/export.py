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

Editors' decisions (:mod:`dedup.decisions`), when the namespace has some,
come right after the header, one ``{"decision": ...}`` line each, in the
order they were made; :func:`replay` stores them before the articles, so
every article added again respects them (as ``dedup batch --decisions``
does).

:func:`replay` adds the articles again in their original insertion order,
through the same :class:`~dedup.Deduplicator` steps as a POST (candidates,
confirmation, links; pipelined by :mod:`dedup_service.bulk`), keeping each article's ``added`` time (so retention
expires it when it would have): the clusters come back as they were.

:func:`state_fingerprints` gives the same for a batch or Spark run's saved
state (``dedup batch --state``, ``OUTPUT/state``; ``dedup load``): its
articles in its order, fingerprinted from the run's input read again
(a state keeps code points and signatures, not the word ids, titles and
texts the service stores) and checked against the state's signatures and
words.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from dedup import Article
from dedup.against import FORMAT as STATE_FORMAT
from dedup.against import State, StateError, read_shard
from dedup.decisions import parse_decision
from dedup.errors import DedupError, InvalidArticle
from dedup.fingerprint import fingerprint_texts
from dedup.index import Fingerprint
from dedup.normalisation import Normaliser
from dedup.refine import code_points
from dedup_service.bulk import Replayed, add_in_order
from dedup_service.store import ArticleFingerprint, RedisIndex

__all__ = ["FORMAT_VERSION", "Exported", "Replayed", "export_lines", "is_export", "read_export", "replay", "state_fingerprints"]

FORMAT_VERSION = 1
#: Parameters that change signatures or word ids: an export made with other
#: values cannot be replayed (re-index from the feed dumps instead).
_FINGERPRINT_PARAMS = ("num_perm", "seed", "shingle_size")


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<u4").tobytes()).decode("ascii")


def _u32(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s, validate=True), dtype="<u4").astype(np.uint32)


@dataclass
class Exported:
    """What :func:`export_lines` wrote so far: articles, editors' decisions."""

    articles: int = 0
    decisions: int = 0


def export_lines(index: RedisIndex, generation: str | None = None, counted: Exported | None = None) -> Iterator[str]:
    """The namespace of ``index`` as JSON lines (header, decisions, articles,
    count), streamed; ``counted`` counts the decisions and articles written."""
    counted = Exported() if counted is None else counted
    yield json.dumps({"dedup_export": FORMAT_VERSION, "namespace": index.namespace, "layout": index.layout.decode(),
                      "params": index.params.to_dict(), "boilerplate": list(index.boilerplate),
                      "generation": generation, "exported_at": time.time()}) + "\n"
    at: int | None = 0
    while at is not None:  # the editors' decisions first: a replay stores them before the articles
        records, at = index.decisions(at, 500)
        for r in records:
            counted.decisions += 1
            yield json.dumps(r, ensure_ascii=False) + "\n"
    n = 0
    for fp, story, pending, about in index.export():
        n += 1
        counted.articles += 1
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


def read_export(lines: Iterable[str], params, boilerplate: tuple[str, ...] = ()) -> Iterator[Fingerprint | dict]:
    """The fingerprints of an export, checked against ``params`` and the
    namespace's ``boilerplate`` patterns (and its editors' decisions, as
    records, before them).

    Raises:
        InvalidArticle: not an export, another format version, other
            fingerprint parameters or boilerplate patterns (the words were
            made with them), a malformed line (naming it), or no final count
            (a truncated file) or a wrong one.
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
    if head.get("boilerplate", []) != list(boilerplate):  # exports older than the setting had none
        raise InvalidArticle(f"the export's words were made with other boilerplate patterns "
                             f"({len(head.get('boilerplate') or [])} against this service's {len(boilerplate)}, "
                             "BOILERPLATE_FILE): re-index from the feed dumps instead")
    n = 0
    for lineno, line in enumerate(it, start=2):
        try:
            d = json.loads(line)
            if "decision" in d:
                yield parse_decision(d)
                continue
            if "dedup_export_end" in d:
                if d["dedup_export_end"] != n:
                    raise InvalidArticle(f"the export counts {d['dedup_export_end']} articles and holds {n}")
                return
            article = Article(str(d["id"]), d.get("text"), d.get("title"), d.get("url"), d.get("source"))
            fp = ArticleFingerprint(article.id, _u32(d["signature"]), _u32(d["words"]), d["published"],
                                    float(d["added"]), article)
        except (ValueError, KeyError, TypeError) as e:
            raise InvalidArticle(f"export line {lineno}: {type(e).__name__}: {e}") from None
        except DedupError as e:  # a malformed decision
            raise InvalidArticle(f"export line {lineno}: {e.code}: {e.message}") from None
        if fp.signature.shape != (params.num_perm,) or not len(fp.tokens):
            raise InvalidArticle(f"export line {lineno}: a signature of {len(fp.signature)} values or no words")
        n += 1
        yield fp
    raise InvalidArticle(f"the export ends after {n} articles without its final count: it is truncated")


def replay(index: RedisIndex, items: Iterable[Fingerprint | Article | dict], on_refused=None) -> Replayed:
    """Add ``items`` (fingerprints of an export, or articles of a feed dump)
    to ``index`` in order, as POSTs would, in pipelined round trips
    (:func:`dedup_service.bulk.add_in_order`); an article already stored
    with the same words is left as it is (so a replay interrupted can be
    run again).

    A refused article (too large, no words) goes to ``on_refused(id, reason)``
    and the replay goes on; :class:`~dedup_service.errors.StoreUnavailable`
    (Redis gone) and :class:`~dedup_service.errors.NamespaceMismatch` stop it.
    """
    return add_in_order(index, items, on_refused)


def _state(folder: str, params, boilerplate: tuple[str, ...]) -> State:
    """A saved state made with ``params``' fingerprint parameters and the service's boilerplate patterns.

    Raises:
        StateError: no manifest (an incomplete state), another format, other fingerprint parameters or boilerplate.
    """
    try:
        with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
        made = manifest["params"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StateError(f"{folder}: not a complete saved state (manifest.json: {exc})") from None
    if manifest.get("format") != STATE_FORMAT:
        raise StateError(f"{folder}: format {manifest.get('format')!r}, expected {STATE_FORMAT!r}")
    ours = params.to_dict()
    differ = [f"{k} {made.get(k)} -> {ours[k]}" for k in _FINGERPRINT_PARAMS if made.get(k) != ours[k]]
    if differ:
        raise StateError(f"{folder} was made with other fingerprint parameters than the service's ({', '.join(differ)})")
    if manifest.get("boilerplate") != list(boilerplate):
        raise StateError(f"{folder} was made with other --boilerplate patterns than the service's BOILERPLATE_FILE "
                         f"({len(manifest.get('boilerplate') or [])} against {len(boilerplate)})")
    return State(folder, manifest)


def state_fingerprints(folder: str, articles: Iterable[Article], params, *, order: str = "published",
                       chunk: int = 256, boilerplate: tuple[str, ...] = ()) -> Iterator[Fingerprint | Article]:
    """The articles of a saved state as :func:`replay` takes them, in
    published order (``order="published"``: by the state's dates, stably,
    undated last; the order a feed delivers them) or in the state's own
    order (``"input"``, the run's input order): fingerprinted from
    ``articles`` (the run's input read again; the records the run skipped
    are passed over) as a POST fingerprints a text, with the article's
    title, url, source and text; a text the service refuses (too large for
    its ``MAX_TEXT_BYTES``, a bad date) is given as the :class:`Article`,
    for :func:`replay` to refuse as a POST would. Holds ``chunk`` articles
    at a time; when the input is not in published order already, the
    articles go through a temporary file first (as large as the input) and
    8 bytes per article are held to sort them. ``boilerplate``: the
    service's extra patterns (the index's), which the state must have been
    made with.

    Raises:
        StateError: not a usable state (see :func:`_state`), shards out of
            input order, an article of the state not in ``articles`` (in
            order), or one whose text gives other words or another
            signature than the state holds.
        ValueError: an unknown ``order``.
    """
    if order not in ("published", "input"):
        raise ValueError(f"order={order!r}: must be 'published' or 'input'")
    state = _state(folder, params, boilerplate)
    normaliser = Normaliser(boilerplate=boilerplate)
    matched = _matched(state, articles)
    if order == "published":
        dates = np.concatenate([np.asarray(read_shard(s).published) for s in state.shards] or [np.empty(0)])
        dates = np.where(np.isnan(dates), np.inf, dates)  # undated last
        if np.any(dates[1:] < dates[:-1]):
            matched = _sorted(matched, np.argsort(dates, kind="stable"))
    waiting: list[tuple[Article, np.ndarray, np.ndarray]] = []
    for item in matched:
        waiting.append(item)
        if len(waiting) >= chunk:
            yield from _checked(waiting, params, normaliser)
            waiting = []
    yield from _checked(waiting, params, normaliser)


def _matched(state: State, articles: Iterable[Article]) -> Iterator[tuple[Article, np.ndarray, np.ndarray]]:
    """Each article of the state, in its order, with its saved signature and words."""
    it = iter(articles)
    last = -1
    for shard in state.shards:
        s = read_shard(shard)
        if len(s.index) and int(s.index[0]) <= last:
            raise StateError(f"{shard}: its articles come before the previous shard's: the shards are not in input order")
        for k, doc_id in enumerate(s.ids):
            article = next((a for a in it if a.id == doc_id), None)
            if article is None:
                raise StateError(f"article {doc_id!r} of the state is not in the input after the ones before it: "
                                 "load a state with the input its run read")
            yield article, np.array(s.signatures[k]), np.array(s.words[s.offsets[k]: s.offsets[k + 1]])
        last = int(s.index[-1]) if len(s.index) else last


def _sorted(items: Iterable, order: np.ndarray) -> Iterator:
    """``items`` in the order ``order`` gives their positions, through a temporary file."""
    with tempfile.TemporaryFile() as spool:
        offsets = array("q")
        for item in items:
            offsets.append(spool.tell())
            pickle.dump(item, spool, protocol=pickle.HIGHEST_PROTOCOL)  # our own, read back by this process only
        if len(offsets) != len(order):
            raise StateError(f"the state counts {len(order)} articles and {len(offsets)} were read")
        for i in order.tolist():
            spool.seek(offsets[i])
            yield pickle.load(spool)


def _checked(waiting: list[tuple[Article, np.ndarray, np.ndarray]], params, normaliser: Normaliser) -> list:
    """The fingerprints of ``waiting``'s articles (one kernel call), each
    checked against the state's signature and words; in order."""
    got = fingerprint_texts([a.text for a, _, _ in waiting], params, normaliser)
    out: list[Fingerprint | Article] = [a for a, _, _ in waiting]  # the refused stay articles
    for x, i in enumerate(got.kept):
        article, sig, words = waiting[i]
        if not (np.array_equal(got.signatures[x], sig) and np.array_equal(code_points(got.words[x]), words)):
            raise StateError(f"article {article.id!r}: the input's text is not the one the state was made from")
        try:
            published = article.published_ts
        except DedupError:
            continue  # refused by replay, as a POST of it is
        out[i] = ArticleFingerprint(article.id, got.signatures[x], got.words[x], published, time.time(), article)
    return out
