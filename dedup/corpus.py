"""The first batch step: read articles and fingerprint them into a spooled corpus.

Articles arrive as an iterable (``Article`` objects or plain mappings) and
are fingerprinted in chunks by :class:`~dedup.workers.Workers`, with
:func:`dedup.fingerprint.fingerprint_texts`, the pipeline the online
deduplicator uses too. Only the id and the date of each article stay in
private memory; signatures (``num_perm * 4`` bytes an article), the words
refinement aligns and the words per sentence (``Params.reuse`` only) go to
:class:`~dedup.spool.Spool` files read back through memory maps.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from dedup.errors import DedupError, InvalidArticle
from dedup.fingerprint import fingerprint_texts
from dedup.normalisation import Normaliser
from dedup.params import Params
from dedup.refine import code_points
from dedup.reuse import sentence_lengths
from dedup.spool import Spool, drop_pages
from dedup.types import Article
from dedup.workers import Workers

__all__ = ["ChunkFingerprints", "Corpus", "FingerprintChunk", "RecordSource", "Skips", "as_articles",
           "fingerprint_corpus"]

_NAN = float("nan")
MAX_SKIPS_KEPT = 1000  # skipped (id, reason) kept in BatchResult.skipped; the rest are only counted


class Skips:
    """Counts skipped articles, keeps the first ``keep`` and tells ``on_skip``."""

    def __init__(self, on_skip: Callable[[str, str], None] | None = None, keep: int = MAX_SKIPS_KEPT) -> None:
        self.on_skip, self.keep = on_skip, keep
        self.first: list[tuple[str, str]] = []
        self.count = 0

    def __call__(self, article_id: str, reason: str) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append((article_id, reason))
        if self.on_skip is not None:
            self.on_skip(article_id, reason)


def as_articles(items: Iterable[Article | Mapping], skip: Callable[[str, str], None]) -> Iterator[Article]:
    """Each item as an :class:`Article` (mappings through :meth:`Article.from_dict`);
    an item that is neither, or does not validate, goes to ``skip(id, reason)``."""
    for n, item in enumerate(items, start=1):
        if isinstance(item, Article):
            article = item
        elif isinstance(item, Mapping):
            try:
                article = Article.from_dict(item if isinstance(item, dict) else dict(item))
            except InvalidArticle as exc:
                skip(_id_of(item, n), exc.message)
                continue
        else:
            skip(f"item {n}", f"expected an Article or a mapping, got {type(item).__name__}")
            continue
        try:
            article.check()
        except InvalidArticle as exc:
            skip(str(article.id), exc.message)
            continue
        yield article


def _id_of(item: Mapping, n: int) -> str:
    got = item.get("id")
    return str(got) if isinstance(got, (str, int)) and got != "" else f"item {n}"


class ChunkFingerprints(NamedTuple):
    """What a worker sends back for one chunk of texts (see :class:`FingerprintChunk`)."""

    kept: list[int]  # positions in the chunk of the texts fingerprinted
    rejected: list[tuple[int, str]]  # (position, reason) of the others
    signatures: np.ndarray  # uint32[len(kept), num_perm]
    lengths: np.ndarray  # words per kept text
    code_points: np.ndarray  # every kept text's words, flat, as dedup.refine aligns them
    sentences: np.ndarray  # words per sentence, flat (Params.reuse only, else empty)
    sentences_per_text: np.ndarray  # sentences per kept text (Params.reuse only, else empty)


@runtime_checkable
class RecordSource(Protocol):
    """Records read in the parent as raw chunks and parsed in the workers.

    ``chunks(size)`` yields ``(context, work)``: ``work`` has a ``parse()``
    method, called in a worker, that returns ``(records, texts)``: an entry
    per record for ``admit`` and the texts to fingerprint. Back in the
    parent, in input order, ``admit(context, records)`` returns one entry per
    text of that chunk: ``(id, published timestamp or None)``, or ``None`` to
    drop the text (a record the parent refuses, e.g. a repeated id).
    """

    def chunks(self, size: int) -> Iterator[tuple[Any, Any]]: ...

    def admit(self, context: Any, records: list) -> list[tuple[str, float | None] | None]: ...


@dataclass(frozen=True)
class FingerprintChunk:
    """The worker task: fingerprint a chunk of texts (words cut in the kernel,
    turned into code points here, in the worker, not in the parent), or of raw
    records parsed here first (work with a ``parse()`` method: then the result
    is ``(records, fingerprints)``)."""

    params: Params
    normaliser: Normaliser

    def warm(self) -> None:
        """Load every kernel the task uses (from numba's cache), on one short text."""
        self(["Warm up the kernels. This text has words."])

    def __call__(self, texts) -> ChunkFingerprints | tuple[list, ChunkFingerprints]:
        if not isinstance(texts, list):
            records, texts = texts.parse()
            return records, self(texts)
        got = fingerprint_texts(texts, self.params, self.normaliser)
        lengths = np.fromiter((len(w) for w in got.words), np.int64, len(got.words))
        flat = code_points(np.concatenate(got.words)) if got.words else np.empty(0, np.uint32)
        cuts = [sentence_lengths(t) for t in got.texts] if self.params.reuse is not None else []
        sentences = np.concatenate(cuts) if cuts else np.empty(0, np.int64)
        per_text = np.fromiter((len(c) for c in cuts), np.int64, len(cuts))
        rejected = [(i, str(exc)) for i, exc in got.rejected]
        return ChunkFingerprints(got.kept, rejected, got.signatures, lengths, flat, sentences, per_text)


@dataclass
class Corpus:
    """The fingerprinted articles of a batch, by position ``0..n-1``.

    ``words[offsets[i]:offsets[i+1]]`` are article ``i``'s words (code
    points), ``sentences[sentence_offsets[i]:sentence_offsets[i+1]]`` its
    words per sentence (``Params.reuse`` only). Arrays are memory maps.
    """

    ids: list[str]
    published: list[float | None]
    signatures: np.ndarray
    words: np.ndarray
    offsets: np.ndarray
    sentences: np.ndarray
    sentence_offsets: np.ndarray
    lengths: np.ndarray = field(init=False)  # words per article

    def __post_init__(self) -> None:
        self.lengths = np.diff(self.offsets)
        # slices of a plain ndarray view: np.memmap's own __getitem__ and
        # __array_finalize__ cost more than the slice (a third of text())
        self._words = np.asarray(self.words)

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, i: int) -> str:
        """Article ``i``'s words as the ``str`` that :func:`dedup.refine.confirm` aligns."""
        return self._words[self.offsets[i] : self.offsets[i + 1]].tobytes().decode("utf-32-le")

    def drop_pages(self) -> None:
        """:func:`~dedup.spool.drop_pages` of the signatures, words and
        sentences: after a pass over many articles, the pages it read leave
        this process's resident set (they stay in the page cache)."""
        for a in (self.signatures, self.words, self.sentences):
            drop_pages(a)

    def sentences_of(self, i: int) -> np.ndarray:
        """Words per sentence of article ``i``."""
        return self.sentences[self.sentence_offsets[i] : self.sentence_offsets[i + 1]]


class _Articles:
    """The :class:`RecordSource` of articles already read (texts sent as they are)."""

    def __init__(self, articles: Iterable[Article]) -> None:
        self.articles = articles

    def chunks(self, size: int) -> Iterator[tuple[list[Article], list[str]]]:
        it = iter(self.articles)
        while chunk := list(islice(it, size)):
            yield chunk, [a.text for a in chunk]

    @staticmethod
    def admit(chunk: list[Article], got: ChunkFingerprints) -> tuple[list[tuple[str, float]], ChunkFingerprints]:
        return [(a.id, _timestamp(a)) for a in chunk], got


def _admitted(source, context, result) -> tuple[list, ChunkFingerprints]:
    """The rows a chunk's texts became (see :class:`RecordSource`) and their fingerprints."""
    if isinstance(source, _Articles):
        return source.admit(context, result)
    records, got = result
    return source.admit(context, records), got


def _only(got: ChunkFingerprints, keep: Sequence[bool]) -> ChunkFingerprints:
    """``got`` without the kept texts whose ``keep`` is false (in ``got.kept`` order)."""
    mask = np.asarray(keep, bool)
    words = np.repeat(mask, got.lengths)
    sentences = np.repeat(mask, got.sentences_per_text) if len(got.sentences_per_text) else mask[:0]
    return ChunkFingerprints([i for i, k in zip(got.kept, keep) if k], got.rejected, got.signatures[mask],
                             got.lengths[mask], got.code_points[words], got.sentences[sentences] if len(sentences)
                             else got.sentences, got.sentences_per_text[mask] if len(got.sentences_per_text)
                             else got.sentences_per_text)


def fingerprint_corpus(
    articles: Iterable[Article] | RecordSource, params: Params, normaliser: Normaliser, *,
    jobs: int, chunk_size: int, skip: Callable[[str, str], None], bar=None, checkpoint=None,
) -> Corpus:
    """Fingerprint ``articles`` in chunks (``jobs`` processes) into a :class:`Corpus`.

    ``articles`` are :class:`Article` objects, or a :class:`RecordSource`
    whose raw chunks the workers parse (not with ``checkpoint``). Rejected
    texts go to ``skip(id, reason)``; ``bar`` (tqdm) advances by chunk.
    Raises :class:`~dedup.errors.WorkerDied` if a worker dies. A
    :class:`~dedup.checkpoint.Checkpoint` saves each chunk's fingerprints
    and supplies the ones a killed run already made.
    """
    source = articles if isinstance(articles, RecordSource) else _Articles(articles)
    if checkpoint is not None and not isinstance(source, _Articles):
        raise ValueError("checkpoint: only for articles already read, not a RecordSource")
    ids: list[str] = []
    published = array("d")
    offsets = array("q", [0])  # article i's words are [offsets[i], offsets[i+1])
    sentence_offsets = array("q", [0])  # the same for words per sentence
    with ExitStack() as stack:
        sigs, words, sentences = (stack.enter_context(Spool()) for _ in range(3))
        workers = stack.enter_context(Workers(FingerprintChunk(params, normaliser), jobs))
        chunks = source.chunks(chunk_size)
        made = workers.ordered(chunks) if checkpoint is None else checkpoint.ordered(chunks, workers.ordered)
        for context, result in made:
            rows, got = _admitted(source, context, result)
            for i, reason in got.rejected:
                if rows[i] is not None:
                    skip(rows[i][0], reason)
            if any(rows[i] is None for i in got.kept):
                got = _only(got, [rows[i] is not None for i in got.kept])
            for i in got.kept:
                ids.append(rows[i][0])
                published.append(_NAN if rows[i][1] is None else rows[i][1])
            sigs.write(got.signatures)
            words.write(got.code_points)
            offsets.extend((offsets[-1] + np.cumsum(got.lengths)).tolist())
            sentences.write(got.sentences)
            sentence_offsets.extend((sentence_offsets[-1] + np.cumsum(got.sentences_per_text)).tolist())
            if bar is not None:
                bar.update(len(rows))
        workers.close()  # idle from here on: free them before refinement forks its own
        offsets_np = np.frombuffer(offsets, dtype=np.int64)
        sentence_offsets_np = np.frombuffer(sentence_offsets, dtype=np.int64)
        return Corpus(
            ids, [None if p != p else p for p in published],  # NaN -> None
            sigs.finish((len(ids), params.num_perm)), words.finish((int(offsets_np[-1]),)), offsets_np,
            sentences.finish((int(sentence_offsets_np[-1]),)), sentence_offsets_np,
        )


def _timestamp(article: Article) -> float:
    """The article's date as a timestamp, NaN when it has none (or an unreadable one)."""
    try:
        ts = article.published_ts
    except DedupError:
        ts = None
    return _NAN if ts is None else ts
