"""Read feed dumps: JSON Lines, CSV, a folder of ``.txt`` files, RSS/Atom,
or stdin; gzip and zstd are detected from their magic bytes.

Every reader yields :class:`Record` objects, one per input record, in input
order: either an :class:`~dedup.types.Article` or the reason it could not be
read, with a locator (``line 12``, ``row 3``, ``file a.txt``, ``entry 4``)
and its id when known, so a bad record is reported and skipped, never
fatal; :func:`bad_record` is the one format of every such message.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import operator
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from typing import IO
from array import array
from dataclasses import dataclass, replace
from pathlib import Path

import orjson

from dedup.errors import DedupError
from dedup.types import Article

__all__ = ["FORMATS", "JsonLines", "Record", "bad_record", "count_records", "detect_format", "open_binary",
           "read_records", "spool_stdin"]

FORMATS = ("jsonl", "csv", "txt", "rss")
_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
_BOM = b"\xef\xbb\xbf"
_DELIMITERS = ",;\t|"
_COUNT_BLOCK = 1 << 20  # bytes read at a time when copying or counting lines
_MAX_RANGE = 16 << 20  # bytes of JSON Lines a worker reads at a time (unless one line is longer)
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
             ".xml": "rss", ".rss": "rss", ".atom": "rss", ".txt": "txt"}


@dataclass(frozen=True, slots=True)
class Record:
    """One input record: an article, or the error that replaced it; ``id``
    the record's id when known (its article's, or the id field of a record
    refused), for :func:`bad_record`."""

    locator: str
    article: Article | None = None
    error: str | None = None
    raw: dict | None = None
    id: str | None = None


def bad_record(input_name: str | os.PathLike, place: str, reason: str, *, skipped: bool = True) -> str:
    """The message of a bad record, the same for every command and format:
    ``dedup: INPUT: line 12 (id 'a1'): reason (skipped)``, ``place`` as
    :func:`dedup.errors.record_place` names it (from a locator, an id, or both)."""
    return f"dedup: {input_name}: {place}: {reason}" + (" (skipped)" if skipped else "")


def _named(raw, id_field: str) -> str | None:
    """The id a raw record names (``None``: none, or not a record)."""
    got = raw.get(id_field) if isinstance(raw, dict) else None
    return None if got in (None, "") else str(got)


#: What reading a compressed input that is cut or broken raises (zstd's errors are made EOFError by :class:`_Zstd`).
_BROKEN_STREAM = (EOFError, zlib.error, gzip.BadGzipFile)


def open_binary(path: str | os.PathLike) -> io.BufferedIOBase:
    """Open a file for reading bytes, decompressing gzip or zstd if needed."""
    fh = open(path, "rb")
    magic = fh.peek(4)[:4]
    if magic[:2] == _GZIP:
        fh.close()  # GzipFile(fileobj=...) would not close it
        return gzip.open(path, "rb")
    if magic == _ZSTD:
        return io.BufferedReader(_Zstd(fh))
    return fh


class _Zstd(io.RawIOBase):
    """A zstd stream (one frame after another) whose decoding errors, and an
    end inside a frame, are ``EOFError``, as gzip's cut input is: every reader
    then reports a broken or cut zstd file as a cut one, never in silence,
    after every byte decoded before the fault."""

    _CHUNK = 1 << 16

    def __init__(self, fh) -> None:
        import zstandard

        self._fh, self._error_type = fh, zstandard.ZstdError
        self._dctx = zstandard.ZstdDecompressor()
        self._obj, self._started = self._dctx.decompressobj(), False  # started: inside a frame
        self._out, self._at, self._fault = b"", 0, None

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        """Decode the next chunk into ``_out`` (a fault is kept for after what
        was decoded); false at the end of the input."""
        data, parts = self._fh.read(self._CHUNK), []
        if not data:
            if self._started and not self._obj.eof:
                self._fault = "the input ends inside a frame"
            return False
        try:
            while data:
                self._started = True
                parts.append(self._obj.decompress(data))
                if not self._obj.eof:
                    break
                data = self._obj.unused_data  # the next frame, in a decompressor of its own
                self._obj, self._started = self._dctx.decompressobj(), False
        except self._error_type as exc:
            self._fault = str(exc)
        self._out, self._at = b"".join(parts), 0
        return True

    def readinto(self, buf) -> int:
        while self._at == len(self._out):
            if self._fault is not None:
                raise EOFError(f"zstd: {self._fault}")
            if not self._fill() and self._fault is None:
                return 0
        n = min(len(buf), len(self._out) - self._at)
        buf[:n] = memoryview(self._out)[self._at : self._at + n]
        self._at += n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def detect_format(path: str | os.PathLike) -> str:
    """``txt`` for a folder, otherwise from the suffix (ignoring .gz/.zst);
    a file without a known suffix (stdin's copy, say) from its first bytes."""
    p = Path(path)
    if p.is_dir():
        return "txt"
    suffixes = [s for s in p.suffixes if s not in (".gz", ".zst", ".zstd")]
    fmt = _SUFFIXES.get(suffixes[-1].lower() if suffixes else "", None)
    return fmt or sniff_format(path)


def sniff_format(path: str | os.PathLike) -> str:
    """``jsonl`` when the first non-blank byte is ``{``, ``rss`` for ``<``,
    ``csv`` for a first line with a delimiter in it.

    Raises:
        ValueError: none of these (naming ``--input-format``).
    """
    try:
        with open_binary(path) as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except _BROKEN_STREAM as exc:
        raise ValueError(f"{path}: the compressed input cannot be read ({exc or 'it ends early'})") from None
    if head[:1] == b"{" or not head:  # nothing at all: no records, whatever the format ("no article could be read")
        return "jsonl"
    if head[:1] == b"<":
        return "rss"
    first = head.split(b"\n", 1)[0]
    if any(d in first for d in _DELIMITERS.encode()):
        return "csv"
    raise ValueError(f"{path}: cannot tell the format from the name or the content; "
                     f"use --input-format {'|'.join(FORMATS)}")


def spool_stdin() -> tuple[IO[bytes], str]:
    """Copy stdin to an unnamed temporary file, so it can be read twice and
    nothing is left behind on any exit (``kill -9`` included).

    Returns:
        ``(file, path)``: keep ``file`` open while reading ``path``
        (``/dev/fd/N``: each open reads it from the start); close it after.
    """
    spool = tempfile.TemporaryFile(prefix="dedup-stdin-")
    shutil.copyfileobj(sys.stdin.buffer, spool, _COUNT_BLOCK)
    spool.flush()
    return spool, f"/dev/fd/{spool.fileno()}"


class _Ids:
    """Makes ids unique: a repeated explicit id is an error; a repeated
    content-hash id (identical text without id) gets a ``.2``, ``.3`` suffix.
    ``seen`` (id -> locator of the record that kept it) is the caller's
    when given (:func:`read_records`' ``places``)."""

    def __init__(self, seen: dict[str, str] | None = None) -> None:
        self.seen: dict[str, str] = {} if seen is None else seen

    def check(self, article: Article, locator: str, explicit: bool) -> Article | str:
        got = self.unique(article.id, locator, explicit)
        if got is None:
            return f"duplicate id {article.id!r} (first seen at {self.seen[article.id]})"
        return article if got == article.id else replace(article, id=got)

    def unique(self, art_id: str, locator: str, explicit: bool) -> str | None:
        """The id the record keeps, or ``None`` for a repeated explicit id."""
        if art_id not in self.seen:
            self.seen[art_id] = locator
            return art_id
        if explicit:
            return None
        n = 2
        while f"{art_id}.{n}" in self.seen:
            n += 1
        self.seen[f"{art_id}.{n}"] = locator
        return f"{art_id}.{n}"


def _make(raw, locator: str, ids: _Ids, id_field: str, text_field: str) -> Record:
    try:
        art = Article.from_dict(raw, id_field=id_field, text_field=text_field)
    except DedupError as exc:
        return Record(locator, error=exc.message, raw=raw if isinstance(raw, dict) else None, id=_named(raw, id_field))
    got = ids.check(art, locator, explicit=raw.get(id_field) not in (None, ""))
    if isinstance(got, str):
        return Record(locator, error=got, raw=raw, id=art.id)
    return Record(locator, got, raw=raw, id=got.id)


def line_bytes(encoding: str) -> bool:
    """Whether a line break is the byte ``\n`` in ``encoding`` (so lines can be cut
    in bytes before decoding): true of UTF-8 and the 8-bit encodings, not of UTF-16/32."""
    return "\n".encode(encoding) == b"\n"


#: What an undecodable stretch of a UTF-16/32 line becomes (a noncharacter): the line is then reported.
_UNDECODED_MARK = "\U0010ffff"
codecs.register_error("dedup-mark", lambda exc: (_UNDECODED_MARK, exc.end))


def _utf8_lines(fh, encoding: str) -> Iterator[bytes | _Unreadable]:
    """The lines of a file in an encoding whose line break is not one byte
    (UTF-16, UTF-32), decoded and written again as UTF-8; a line holding
    bytes that do not decode is an :class:`_Unreadable` (the others are read)."""
    text = io.TextIOWrapper(fh, encoding=encoding, errors="dedup-mark", newline="")
    while True:
        try:
            line = text.readline()
        except UnicodeError as exc:  # e.g. UTF-16 without a byte order mark
            hint = "; without a byte order mark, pass --encoding utf-16-le or utf-16-be" if "BOM" in str(exc) else ""
            yield _Unreadable(f"not valid {encoding} ({exc}){hint}: nothing from here on could be read")
            return
        if not line:
            return
        if _UNDECODED_MARK in line:
            yield _Unreadable(f"not valid {encoding} (character {line.index(_UNDECODED_MARK) + 1} of the line)")
        else:
            yield line.encode("utf-8", "surrogatepass")


def _jsonl(path, ids, id_field, text_field, max_line, encoding="utf-8") -> Iterator[Record]:
    by_bytes = line_bytes(encoding)  # else UTF-16/32: lines cut after decoding, then read as UTF-8
    read = _LineReader(max_line, encoding if by_bytes else "utf-8")
    with open_binary(path) as fh:
        for n, line in enumerate(_complete(fh if by_bytes else _utf8_lines(fh, encoding)), start=1):
            if line is _CUT:
                yield Record(f"line {n}", error=_CUT_SHORT)
                return
            raw = line if isinstance(line, _Unreadable) else read(line, n == 1)
            if raw is _BLANK:
                continue
            loc = f"line {n}"
            yield Record(loc, error=raw) if isinstance(raw, _Unreadable) else _make(raw, loc, ids, id_field, text_field)


class _Unreadable(str):
    """Why a line could not be read (a JSON string value is a plain ``str``)."""


#: What :class:`_LineReader` gives for a blank line (``None`` is a JSON ``null``, a bad record).
_BLANK = object()


class _LineReader:
    """One JSON Lines line to its value: :data:`_BLANK` for a blank line, an
    :class:`_Unreadable` (the reason) for one that cannot be read, else what
    the JSON holds."""

    def __init__(self, max_line: int, encoding: str) -> None:
        self.max_line, self.encoding, self.utf8 = max_line, encoding, _is_utf8(encoding)

    def __call__(self, line: bytes, first: bool):
        if len(line) > self.max_line:
            return _Unreadable(f"record is {len(line)} bytes, over the {self.max_line}-byte limit")
        if not line.strip():
            return _BLANK
        try:
            if self.utf8:
                return _json_loads(line, first, True)
            return _json_loads(line.decode(self.encoding), first, False)
        except UnicodeDecodeError as exc:
            return _Unreadable(_not_utf8(exc, self.encoding))
        except json.JSONDecodeError as exc:
            if exc.msg == "Invalid control character at" and exc.pos >= len(exc.doc.rstrip("\r\n")):
                return _Unreadable(f"broken JSON: a string is not closed when the line ends (character {exc.pos + 1})")
            return _Unreadable(f"broken JSON: {exc.msg.removesuffix(' at')} (character {exc.pos + 1})")
        except (ValueError, RecursionError) as exc:  # e.g. an integer over Python's digit limit
            return _Unreadable(f"unreadable JSON ({exc})")


class JsonLines:
    """A JSON Lines dump as a :class:`~dedup.corpus.RecordSource`: lines parsed
    (JSON, :meth:`Article.from_dict`) in the workers, ids made unique here, in
    input order, as :func:`read_records` does.

    An uncompressed file is cut here into byte ranges of about ``size`` lines
    (a few bytes read at each cut) that the workers read themselves; a
    compressed one (or a FIFO) is read here and its lines sent. Every record,
    good or bad, goes to ``on_record(locator, error, has_id, doc_id)`` in
    input order (``error`` is ``None`` for a good one; ``has_id``: it names
    an ``id_field``; ``doc_id``: its id when known, as :class:`Record`'s),
    with the message :func:`read_records` gives. For an
    uncompressed file each good record's place is kept (16 bytes and an id
    reference per record), so :meth:`again` reads back only the records asked for.
    """

    def __init__(self, path: str | os.PathLike, on_record: Callable[[str, str | None, bool, str | None], None], *,
                 id_field: str = "id", text_field: str = "text", max_record_bytes: int = 10_000_000,
                 encoding: str = "utf-8") -> None:
        self.path, self.on_record = path, on_record
        self.fields = (id_field, text_field, max_record_bytes, encoding)
        self._ids = _Ids()
        self._lines = 0  # lines of the chunks admitted so far
        self.ids: list[str] = []  # the good records' ids, in input order
        self.places = array("q")  # (offset, length) in the file of each of them
        self.seekable = False

    def chunks(self, size: int) -> Iterator[tuple[None, "_Lines"]]:
        """``(None, lines)`` for each run of about ``size`` lines (see :class:`_Lines`)."""
        with open_binary(self.path) as fh:
            raw = getattr(fh, "raw", None)  # a plain file (not gzip, zstd, a FIFO): cut in ranges, read back later
            self.seekable = isinstance(raw, io.FileIO) and raw.seekable()
            if self.seekable:
                for start, length in _ranges(fh, size):
                    yield None, _Lines(str(self.path), start, length, None, False, self.fields)
                return
            head = True
            for data, cut in _runs(fh, size):
                yield None, _Lines(None, 0 if head else None, len(data), data, cut, self.fields)
                head = False

    def admit(self, _context, records: tuple) -> list[tuple[str, float | None] | None]:
        lines, entries, failure = records
        if failure is not None:
            raise OSError(failure)
        rows: list[tuple[str, float | None] | None] = []
        for n, error, art_id, named, ts, at, length in entries:
            loc, has_id, doc_id = f"line {self._lines + n}", named is not None, named
            if art_id is not None:  # its text went to the fingerprints: it needs a row
                got = doc_id = self._ids.unique(art_id, loc, has_id)
                if got is None:
                    error, doc_id = f"duplicate id {art_id!r} (first seen at {self._ids.seen[art_id]})", art_id
                rows.append(None if got is None else (got, ts))
                if got is not None and self.seekable:
                    self.ids.append(got)
                    self.places.extend((at, length))
            self.on_record(loc, error, has_id, doc_id)
        self._lines += lines
        return rows

    def where(self, doc_id: str) -> str | None:
        """The locator of the record that kept ``doc_id`` (``None``: no such id)."""
        return self._ids.seen.get(doc_id)

    def again(self, wanted: set[str]) -> Iterator[Article]:
        """The articles of ``wanted`` ids, read back from their places in the
        file (ids as the run gave them); only when :attr:`seekable`."""
        id_field, text_field, max_line, encoding = self.fields
        read = _LineReader(max_line, encoding)
        with open(self.path, "rb") as fh:
            for k, art_id in enumerate(self.ids):
                if art_id in wanted:
                    fh.seek(self.places[2 * k])
                    raw = read(fh.read(self.places[2 * k + 1]), self.places[2 * k] == 0)
                    yield replace(Article.from_dict(raw, id_field=id_field, text_field=text_field), id=art_id)


@dataclass(frozen=True, slots=True)
class _Lines:
    """Complete lines of a JSON Lines dump, parsed in a worker by :meth:`parse`:
    ``length`` bytes at ``start`` of the file at ``path`` (read in the worker),
    or ``data`` (``path`` ``None``; ``start`` is 0 for the first lines of the
    input, else ``None``); ``cut``: the compressed input ended early after them."""

    path: str | None
    start: int | None
    length: int
    data: bytes | None
    cut: bool
    fields: tuple[str, str, int, str]

    def parse(self) -> tuple[tuple[int, list, str | None], list[str]]:
        """``((lines, entries, failure), texts)``: how many lines, one entry
        ``(line number in the chunk, error, id, the id field's value or
        None, timestamp, offset, length)`` per record (id ``None`` when
        there is no article), why the
        lines could not be read (else ``None``), and the articles' texts."""
        id_field, text_field, max_line, encoding = self.fields
        try:
            data = self.data if self.path is None else _pread(self.path, self.start, self.length)
        except OSError as exc:
            return (0, [], exc.strerror or str(exc)), []
        read = _LineReader(max_line, encoding)
        entries, texts = [], []
        n, pos, start = 0, 0, self.start or 0
        for n, line in enumerate(io.BytesIO(data), start=1):
            at, pos = start + pos, pos + len(line)
            raw = read(line, n == 1 and self.start == 0)
            if raw is _BLANK:
                continue
            if isinstance(raw, _Unreadable):
                entries.append((n, str(raw), None, None, None, at, len(line)))
                continue
            named = _named(raw, id_field)
            try:
                art = Article.from_dict(raw, id_field=id_field, text_field=text_field)
            except DedupError as exc:
                entries.append((n, exc.message, None, named, None, at, len(line)))
                continue
            entries.append((n, None, art.id, named, art.published_ts, at, len(line)))
            texts.append(art.text)
        if self.cut:
            entries.append((n + 1, _CUT_SHORT, None, None, None, None, 0))
        return (n, entries, None), texts


def _pread(path: str, start: int, length: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(start)
        return fh.read(length)


def _ranges(fh, size: int) -> Iterator[tuple[int, int]]:
    """``(offset, length)`` of about ``size`` whole lines at a time of an
    uncompressed file (the line length from its first block), and at most
    about :data:`_MAX_RANGE` bytes (a long first line would otherwise guess
    long lines everywhere): each cut is the end of the line at a guessed
    offset, so only that line is read here."""
    end_of_file = os.fstat(fh.fileno()).st_size
    head = fh.read(_COUNT_BLOCK)
    step = min(max(len(head) * size // max(head.count(b"\n"), 1), 1), _MAX_RANGE)
    start = 0
    while start < end_of_file:
        fh.seek(start + step - 1)
        fh.readline()  # to the end of the line holding the guessed cut
        end = min(fh.tell(), end_of_file)
        yield start, end - start
        start = end


def _runs(fh, size: int) -> Iterator[tuple[bytes, bool]]:
    """``(data, cut)`` for each ``size`` lines of a compressed stream (``cut``:
    it ended early after them, see :func:`_complete`)."""
    lines = []
    for line in _complete(fh):
        if line is _CUT:
            yield b"".join(lines), True
            return
        lines.append(line)
        if len(lines) == size:
            yield b"".join(lines), False
            lines = []
    if lines:
        yield b"".join(lines), False


#: what a compressed input that stops mid-stream is reported as (the records before it are kept)
_CUT_SHORT = "the compressed input ends early (cut short?): nothing from here on could be read"
_CUT = object()


def _complete(fh) -> Iterator:
    """``fh``'s lines, then :data:`_CUT` if its compressed stream ends early
    (gzip's EOFError: click would turn it into a bare "Aborted!", losing the
    lines read before it)."""
    it = iter(fh)
    while True:
        try:
            yield next(it)
        except StopIteration:
            return
        except _BROKEN_STREAM:
            yield _CUT
            return


def _json_loads(line: bytes | str, first: bool, utf8: bool):
    """One JSON Lines record: orjson (~4x faster) for a flat object, else :func:`json.loads`.

    orjson and ``json`` agree on strings, booleans, null and the integers orjson
    keeps exact; they differ only on numbers (orjson turns an integer beyond 64 bits
    into a float) and on what orjson refuses (NaN, lone surrogates, depth). So orjson's
    result is kept only for an object holding no float at any depth (a news record);
    anything else, and every error, is decided by ``json.loads``,
    so what is read and every message (broken JSON at character N, undecodable bytes,
    digit limits) are exactly its own. ``line`` is raw UTF-8 when ``utf8``, else decoded.
    """
    try:
        got = orjson.loads(line.removeprefix(_BOM if utf8 else "\ufeff") if first else line)
        if type(got) is dict and _exact(got.values()):
            return got
    except (orjson.JSONDecodeError, RecursionError):  # RecursionError: _exact on ~1,000 levels
        pass
    text = line.decode("utf-8") if utf8 else line
    return json.loads(text.removeprefix("\ufeff") if first else text)


_EXACT = frozenset((str, int, bool, type(None)))


def _exact(values) -> bool:
    """No float anywhere in ``values`` (nested lists and objects included)."""
    for v in values:
        t = type(v)
        if t not in _EXACT and not (t is list and _exact(v) or t is dict and _exact(v.values())):
            return False
    return True


def _csv(path, ids, id_field, text_field, max_line, encoding="utf-8") -> Iterator[Record]:
    csv.field_size_limit(max(max_line, 1 << 20))
    with open_binary(path) as fh:
        enc = "utf-8-sig" if _is_utf8(encoding) else encoding
        # undecodable bytes become lone surrogates, so one bad row costs that row only
        text = io.TextIOWrapper(fh, encoding=enc, errors="surrogateescape", newline="")
        header = text.readline()
        if _UNDECODED.search(header):
            yield Record("row 1", error=_not_decoded(header, encoding) + "; without its header the file cannot be read")
            return
        lines: list[str] = []  # the raw lines of the row being read

        def fed() -> Iterator[str]:
            for line in text:
                lines.append(line)
                yield line

        reader = csv.DictReader(fed(), fieldnames=next(csv.reader([header], delimiter=_delimiter(header))),
                                delimiter=_delimiter(header))
        n = 1
        while True:
            n += 1
            loc = f"row {n}"
            lines.clear()
            try:
                row = next(reader)
                if len(lines) > 1 and sum(map(_count_quotes, lines)) % 2:  # a quote left open took the next lines
                    yield Record(loc, error=f"broken CSV (a quote opened in this row is not closed where it should "
                                            f"be: {len(lines)} lines were read as this one row)")
                    n += len(lines) - 1
                    continue
            except StopIteration:
                return
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                yield Record(loc, error=f"{_CUT_SHORT} ({exc})")
                return
            except csv.Error as exc:
                yield Record(loc, error=f"broken CSV ({exc})")
                continue
            row = {k: v for k, v in row.items() if k is not None}
            bad = next((v for v in row.values() if isinstance(v, str) and _UNDECODED.search(v)), None)
            if bad is not None:
                yield Record(loc, error=_not_decoded(bad, encoding))
                continue
            yield _make(row, loc, ids, id_field, text_field)


_UNDECODED = re.compile("[\udc80-\udcff]")
_count_quotes = operator.methodcaller("count", '"')


def _not_decoded(value: str, encoding: str) -> str:
    """The error for a field holding bytes that ``encoding`` cannot decode."""
    at = _UNDECODED.search(value).start()
    return _undecodable(f"byte 0x{ord(value[at]) - 0xDC00:02x} at character {at + 1} of a field", encoding)


def _delimiter(header: str) -> str:
    """The CSV delimiter: the one of ``, ; tab |`` the header line uses most."""
    return max(_DELIMITERS, key=header.count) if any(d in header for d in _DELIMITERS) else ","


def _not_utf8(exc: UnicodeDecodeError, encoding: str) -> str:
    if _is_utf8(encoding) and bytes(exc.object[:2]) in (b"\xff\xfe", b"\xfe\xff"):
        return f"not valid UTF-8 ({exc.reason} at byte {exc.start}); it starts as UTF-16 does: pass --encoding utf-16"
    return _undecodable(f"{exc.reason} at byte {exc.start}", encoding)


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def _undecodable(where: str, encoding: str) -> str:
    """``not valid UTF-8 (where)``, with the hint for the usual other encoding."""
    if _is_utf8(encoding):
        return f"not valid UTF-8 ({where}); if the file is Windows-1252, pass --encoding cp1252"
    return f"not valid {encoding} ({where})"


def _txt(path, ids, id_field, text_field, max_line, encoding="utf-8") -> Iterator[Record]:
    files = [Path(path)] if Path(path).is_file() else sorted(Path(path).iterdir())
    for f in files:
        if not f.is_file() or f.suffix.lower() != ".txt":
            continue
        loc = f"file {f.name}"
        if f.stat().st_size > max_line:
            yield Record(loc, error=f"file is {f.stat().st_size} bytes, over the {max_line}-byte limit")
            continue
        try:
            text = f.read_bytes().decode(encoding)
        except UnicodeDecodeError as exc:
            yield Record(loc, error=_not_utf8(exc, encoding))
            continue
        yield _make({id_field: f.stem, text_field: text}, loc, ids, id_field, text_field)


def _rss(path, ids, id_field, text_field, max_line, encoding="utf-8") -> Iterator[Record]:
    import feedparser

    with open_binary(path) as fh:
        feed = feedparser.parse(fh.read())
    if feed.bozo and not feed.entries:
        yield Record("feed", error=f"not an RSS/Atom feed ({feed.get('bozo_exception')})")
        return
    for n, e in enumerate(feed.entries, start=1):
        content = e.get("content") or []
        text = content[0].get("value") if content else e.get("summary") or e.get("description")
        stamp = e.get("published_parsed") or e.get("updated_parsed")
        raw = {
            id_field: e.get("id") or e.get("link"),
            text_field: text,
            "title": e.get("title"),
            "url": e.get("link"),
            "source": feed.feed.get("title"),
            "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp) if stamp else None,
        }
        rec = _make(raw, f"entry {n}", ids, id_field, text_field)
        if rec.error and feed.bozo:  # an entry cut short by broken XML: say so, not only what it lacks
            rec = replace(rec, error=f"{rec.error} (the feed is not well-formed XML: {feed.get('bozo_exception')})")
        yield rec


_READERS = {"jsonl": _jsonl, "csv": _csv, "txt": _txt, "rss": _rss}


def read_records(
    path: str | os.PathLike,
    fmt: str = "auto",
    *,
    id_field: str = "id",
    text_field: str = "text",
    max_record_bytes: int = 10_000_000,
    encoding: str = "utf-8",
    places: dict[str, str] | None = None,
) -> Iterator[Record]:
    """Yield every record of a feed dump, good or bad, in input order.

    Args:
        path: a file (optionally gzip/zstd-compressed) or a folder of .txt.
        fmt: one of :data:`FORMATS`, or ``auto`` (from the name).
        id_field, text_field: the names of the id and text fields.
        max_record_bytes: a line/file above this is reported without being
            parsed (the text limit itself is ``Params.max_text_bytes``).
        encoding: of JSONL, CSV and .txt input (RSS/Atom declare their own).
        places: filled, as records are read, with each kept id's locator
            (so a later message about an article names its line: no copy,
            the map that makes ids unique).

    Raises:
        ValueError: an unknown format or encoding, or one that cannot be told.
    """
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in _READERS:
        raise ValueError(f"unknown input format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return _READERS[fmt](path, _Ids(places), id_field, text_field, max_record_bytes, encoding)


def count_records(path: str | os.PathLike, fmt: str = "auto") -> int | None:
    """How many records ``path`` holds, when that is cheap to know (for a
    progress bar's total): lines of an uncompressed JSON Lines file, ``.txt``
    files of a folder; ``None`` otherwise (compressed, CSV, RSS)."""
    try:
        return _count(path, detect_format(path) if fmt == "auto" else fmt)
    except (ValueError, OSError):
        return None


def _count(path: str | os.PathLike, fmt: str) -> int | None:
    if fmt == "txt":
        if Path(path).is_file():
            return 1
        return sum(1 for f in Path(path).iterdir() if f.is_file() and f.suffix.lower() == ".txt")
    if fmt != "jsonl":
        return None
    with open(path, "rb") as fh:
        if fh.peek(4)[:2] == _GZIP or fh.peek(4)[:4] == _ZSTD:
            return None
        lines, last = 0, b"\n"
        while block := fh.read(_COUNT_BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")
