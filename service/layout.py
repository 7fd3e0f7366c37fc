"""The byte layouts that Python and the Lua scripts both read, named once.

A record (string ``P r <iid>``) is a fixed header of named fields
(:data:`RECORD_FIELDS`), then the signature (``num_perm`` uint32 LE), then
the external id (UTF-8). Python packs and reads it with :func:`pack_record`
and :func:`unpack_record`; the Lua scripts read it only through the
accessors that :func:`lua_prelude` generates from the same table
(``rec_root(rec)``, ``REC_ROOT_OFFSET`` ...), so the two sides cannot drift
(``tests/test_store.py`` checks that no hand-written script uses a bare
offset, and that the generated accessors read what Python packed).

A link value (string ``P l <iid>``, after the other's iid) is read by
Python only: :func:`pack_link` / :func:`unpack_link`.

What a person reads (string ``P a <iid>``): a u32 LE length ``M``, then
``M`` bytes of title, url and source (each a u32 LE length + 1, 0 for none,
then UTF-8), then the original text (a codec byte, 1 = zlib, and the
compressed UTF-8; nothing when the text is not stored):
:func:`pack_about` / :func:`unpack_about`. The scripts read only its first
``4 + M`` bytes (``about_meta``), never the text, unless asked for it.

:data:`VERSION` is part of every namespace's stored layout string: bump it
whenever a stored byte changes meaning, so that a namespace written by an
older release is refused (``NamespaceMismatch``: re-index) rather than
misread. History: 1, xxh3 band keys and 2-bit link kinds; 2, the numpy band
hash shared with batch (:func:`dedup.lsh.band_hashes`) and 3-bit link kinds;
3, the record's ``flags`` byte (pending until linked), one best link per
article (string ``P l <iid>``: other iid + packed link) instead of a hash of
links both ways, the cluster's name and canonical copy in ``P n <root>``
(stable cluster ids), buckets trimmed to their most recent entries;
4, the article's title, url, source and compressed text (``P a <iid>``),
a link's changed figures (flag bit 5, after the span); 5, short-inside-long
value buckets (``P c <3 bytes>``: :data:`ROW_STOCK` or packed iids) and
versions (the record's ``version`` field, ``P v <iid>``: :func:`pack_version`);
6, unique cluster names (hash ``P N``: name -> root of every cluster with a
name key, so that a founder's id posted again after its removal founds a
cluster named ``<id>~2``, not a second cluster ``<id>``) and the joined
bitmap (``P J``: bit ``n`` set once the article of iid ``n`` joined
another's cluster, so that a look-up of template briefs, all alone in
their stories, reads no record to group them by cluster); 7, the joined
bitmap in chunks (``P J <first iid>``, below) instead of one string that
grew with every iid ever added, and fresh names picked by the scripts
(``P K``: fresh names given per held name; ``P T``: stored ids of the form
``<x>~<digits>``), so that naming a story never needs another call.

The joined bitmap is cut by internal id: chunk ``P J <c>`` (``c`` the packed
iid of its first bit, a multiple of :data:`JOINED_CHUNK`: :func:`joined_chunk`)
holds the bits of the :data:`JOINED_CHUNK` iids from ``c`` on, bit ``n - c``
(Redis bit order: the high bit of the first byte first) set once the article
of iid ``n`` joined another's cluster. A chunk is at most
``JOINED_CHUNK / 8`` bytes and exists only while one of its bits is set:
removing an article (a deletion, a replacement, or retention's purge, which
removes expired articles the same way) clears its bit and deletes the chunk
it leaves all-zero, so a chunk wholly older than the retention horizon goes
with the last of its articles the purge removes. A look-up reads each chunk
its candidates fall in once (one ``GETRANGE`` over their span in it).

A value bucket (a field of hash ``P c <3 bytes>``, one per MinHash position
and value, :mod:`dedup_service.keyspace`) holds the packed iids of the
articles with that value there (at most ``dedup.index.ROW_KEEP``), or, once
more came, the stock marker: :data:`ROW_STOCK` + a u32 BE count of the
live articles with that value (the bucket is dropped when it reaches 0).
A version value (``P v <vroot>``, for versions of two or more copies) is
its first copy's iid + a u32 BE count of its members.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dedup.cluster import VERSION_JOINS
from dedup.types import KINDS, Link, Passage

__all__ = [
    "ABOUT_HEAD", "HEADER", "ID_DIGEST", "IID", "JOINED_CHUNK", "KIND_BITS", "PENDING", "RECORD", "RECORD_FIELDS", "TOKEN", "VERSION", "About",
    "Candidates", "Field", "ROW_STOCK", "Record", "field_bytes", "field_value", "joined_chunk", "lua_prelude", "pack_about", "pack_iid",
    "pack_link", "pack_record", "pack_version", "record_dtype", "unpack_about", "unpack_candidates", "unpack_link",
    "unpack_record", "unpack_row",
]

#: Stored layout version (see the module docstring before changing any byte).
VERSION = 7

#: Bytes of an internal id: a u32 big-endian counter value (so ids sort as bytes).
IID = 4
_IID_FORMAT = ">I"
#: Bytes of one word id in ``P t <iid>`` (uint32 LE).
TOKEN = 4
#: Bytes of one MinHash value of a record's signature (uint32 LE).
SIG_VALUE = 4
#: Bytes of a value bucket's field (the low 32 bits of its hash, big-endian: see ``dedup_service.keyspace``).
VALUE_FIELD = 4
#: Bytes of an id map field: the xxh64 digest of the external id (see ``dedup_service.keyspace``).
ID_DIGEST = 8
#: Bits (iids) per chunk of the joined bitmap (``P J <first iid>``, at most 1 KiB each: see the module docstring).
JOINED_CHUNK = 1 << 13


@dataclass(frozen=True)
class Field:
    """One fixed field of the record header: ``size`` bytes at ``offset`` (0-based)."""

    name: str
    offset: int
    format: str  # struct format of the value (Python and Lua struct read the same letters)
    doc: str

    @property
    def size(self) -> int:
        return struct.calcsize(self.format)


def _fields(*spec: tuple[str, str, str]) -> tuple[Field, ...]:
    out, offset = [], 0
    for name, fmt, doc in spec:
        out.append(Field(name, offset, fmt, doc))
        offset += struct.calcsize(fmt)
    return tuple(out)


#: The record header, in order; offsets follow from the formats.
RECORD_FIELDS = _fields(
    ("root", _IID_FORMAT, "the cluster root's iid"),
    ("added", "<d", "insertion time, seconds since the epoch"),
    ("published", "<d", "publication time, NaN when unknown"),
    ("bucket", ">Q", "end of the retention bucket in ms (also that bucket's key suffix); 0: no retention"),
    ("flags", "<B", "bit 0: pending (stored with candidates, not yet linked: a retry re-confirms)"),
    ("version", _IID_FORMAT, "the iid its version is keyed by (its own, or the first linked copy's it joined)"),
)
#: ``flags`` bit: the article was stored with candidates and is not linked yet.
PENDING = 1
RECORD = {f.name: f for f in RECORD_FIELDS}
#: Header bytes: the signature starts here.
HEADER = RECORD_FIELDS[-1].offset + RECORD_FIELDS[-1].size
_NAN = math.nan


@dataclass(frozen=True, slots=True)
class Record:
    """A record read back: header fields, the signature (read-only uint32 view) and the id."""

    root: bytes
    added: float
    published: float | None
    bucket: int
    signature: np.ndarray
    id: str
    flags: int = 0
    version: bytes = bytes(IID)

    @property
    def pending(self) -> bool:
        return bool(self.flags & PENDING)


def pack_iid(n: int) -> bytes:
    return struct.pack(_IID_FORMAT, n)


def joined_chunk(n: int) -> tuple[bytes, int]:
    """The suffix (after ``P J``) of the joined bitmap chunk holding iid
    number ``n``, and ``n``'s bit in it (``joined_at`` in the scripts)."""
    first = n - n % JOINED_CHUNK
    return pack_iid(first), n - first


def pack_record(*, added: float, published: float | None, bucket: int, signature: np.ndarray, doc_id: str,
                root: bytes = bytes(IID), flags: int = 0, version: bytes = bytes(IID)) -> bytes:
    """A record; ``root`` and ``version`` stay zero when the script assigns the iid."""
    values = {"root": struct.unpack(_IID_FORMAT, root)[0], "added": added,
              "published": _NAN if published is None else published, "bucket": bucket, "flags": flags,
              "version": struct.unpack(_IID_FORMAT, version)[0]}
    head = b"".join(struct.pack(f.format, values[f.name]) for f in RECORD_FIELDS)
    sig = np.ascontiguousarray(signature, dtype="<u4").tobytes()
    return head + sig + doc_id.encode("utf-8", "surrogatepass")


def field_bytes(rec: bytes, name: str) -> bytes:
    """The raw bytes of one header field (what a script compares)."""
    f = RECORD[name]
    return rec[f.offset : f.offset + f.size]


def field_value(name: str, raw: bytes):
    """The value of one header field from its raw bytes (``published``: ``None`` when unknown)."""
    (v,) = struct.unpack(RECORD[name].format, raw)
    return None if name == "published" and math.isnan(v) else v


def unpack_record(rec: bytes, num_perm: int) -> Record:
    v = {f.name: struct.unpack_from(f.format, rec, f.offset)[0] for f in RECORD_FIELDS}
    pub = v["published"]
    return Record(
        root=field_bytes(rec, "root"), added=v["added"], published=None if math.isnan(pub) else pub,
        bucket=v["bucket"], signature=np.frombuffer(rec, dtype="<u4", count=num_perm, offset=HEADER),
        id=rec[HEADER + 4 * num_perm :].decode("utf-8", "surrogatepass"), flags=v["flags"],
        version=field_bytes(rec, "version"),
    )


@lru_cache(maxsize=8)
def record_dtype(num_perm: int) -> np.dtype:
    """A record's header and signature (not its id) as a numpy structured
    dtype, from :data:`RECORD_FIELDS`: what :func:`unpack_candidates` reads
    several records with at once."""
    kinds = {"I": "u", "Q": "u", "B": "u", "d": "f"}
    fields = [(f.name, f"{f.format[0]}{kinds[f.format[1]]}{f.size}") for f in RECORD_FIELDS]
    return np.dtype([*fields, ("signature", "<u4", (num_perm,))])


# -- a look-up's candidates, packed ------------------------------------------------
#: Each of a candidate's three lengths (its id, its word ids, its about value).
_CANDIDATE_LEN = "<I"


@dataclass(frozen=True, slots=True)
class Candidates:
    """A look-up's candidates read back in one go: ``head`` holds each one's
    record header fields and signature (a :func:`record_dtype` array), then
    its id, word ids (uint32 views of one buffer) and about value."""

    head: np.ndarray
    ids: list[str]
    tokens: list[np.ndarray]
    abouts: list[bytes]


def unpack_candidates(reply: list[bytes], num_perm: int) -> Candidates:
    """The candidates as the scripts' ``pack_candidates`` sends them: five
    strings, the records' header and signature back to back, each
    candidate's three lengths (:data:`_CANDIDATE_LEN` each), then the ids,
    the word ids and the about values back to back."""
    fixed, lens, ids, tokens, abouts = reply
    head = np.frombuffer(fixed, dtype=record_dtype(num_perm))
    n = np.frombuffer(lens, dtype=_CANDIDATE_LEN.replace("I", "u4")).reshape(len(head), 3).tolist()
    words = np.frombuffer(tokens, dtype="<u4").astype(np.uint32)
    got, pos = Candidates(head, [], [], []), [0, 0, 0]
    for ln_id, ln_tok, ln_about in n:
        got.ids.append(ids[pos[0] : pos[0] + ln_id].decode("utf-8", "surrogatepass"))
        got.tokens.append(words[pos[1] // TOKEN : (pos[1] + ln_tok) // TOKEN])
        got.abouts.append(abouts[pos[2] : pos[2] + ln_about])
        pos = [pos[0] + ln_id, pos[1] + ln_tok, pos[2] + ln_about]
    return got


def _lua_format(fmt: str) -> str:
    """Python struct format -> Lua struct format (sizes explicit: ``>I`` -> ``>I4``)."""
    order, code = fmt[0], fmt[1:]
    if code in ("d",):
        return order + code
    return f"{order}I{struct.calcsize(fmt)}"


def lua_prelude() -> str:
    """Lua constants and accessors generated from :data:`RECORD_FIELDS` (prepended to every script)."""
    lines = [
        "-- generated by dedup_service.layout.lua_prelude(): do not edit by hand",
        f"local IID_LEN = {IID}",
        f"local TOKEN_LEN = {TOKEN}",
        f"local SIG_VALUE_LEN = {SIG_VALUE}",
        f"local VALUE_FIELD_LEN = {VALUE_FIELD}",
        f"local ID_DIGEST_LEN = {ID_DIGEST}",
        "local BYTE_BITS, BYTE_HIGH = 8, 128",
        f"local JOINED_CHUNK = {JOINED_CHUNK}",
        f"local REC_HEADER = {HEADER}",
        f"local function pack_iid(n) return struct.pack('{_lua_format(_IID_FORMAT)}', n) end",
        f"local function iid_number(iid) return (struct.unpack('{_lua_format(_IID_FORMAT)}', iid)) end",
        "local function rec_ext(rec, siglen) return string.sub(rec, REC_HEADER + siglen + 1) end",
    ]
    for f in RECORD_FIELDS:
        up, first, last = f.name.upper(), f.offset + 1, f.offset + f.size
        lines += [
            f"local REC_{up}_OFFSET = {f.offset}  -- 0-based, for SETRANGE/GETRANGE",
            f"local function rec_{f.name}(rec) return string.sub(rec, {first}, {last}) end  -- {f.doc}",
            f"local function rec_with_{f.name}(rec, v) return string.sub(rec, 1, {f.offset}) .. v .. string.sub(rec, {last + 1}) end",
            f"local function {f.name}_number(s) return (struct.unpack('{_lua_format(f.format)}', s)) end",
            f"local REC_{up}_LEN = {f.size}",
        ]
    lines.append(f"local ABOUT_HEAD = {ABOUT_HEAD}")
    lines.append(f"local function about_len(head) return (struct.unpack('{_lua_format(_ABOUT_LEN)}', head)) end")
    lines.append(f"local NO_BUCKET = string.rep('\\0', {RECORD['bucket'].size})")
    lines.append(f"local PENDING = {PENDING}")
    lines.append(f"local function candidate_lens(a, b, c) return struct.pack('{_lua_format(_CANDIDATE_LEN) * 3}', a, b, c) end")
    from dedup import index  # the candidate bounds, named once

    lines.append(f"local BUCKET_KEEP, CROWD, MAX_CANDIDATES, REPRESENTATIVES = {index.BUCKET_KEEP}, {index.CROWD}, "
                 f"{index.MAX_CANDIDATES}, {index.REPRESENTATIVES}")
    lines.append(f"local ROW_KEEP, MAX_CONTAINED, MIN_ROW_COLLISIONS = {index.ROW_KEEP}, {index.MAX_CONTAINED}, "
                 f"{index.MIN_ROW_COLLISIONS}")
    lines.append(f"local SHORT_IN_LONG, ROW_SHARE = {index.SHORT_IN_LONG!r}, {index.ROW_SHARE!r}")
    count = _lua_format(_COUNT)
    lines += [
        f"local ROW_STOCK = {_lua_bytes(ROW_STOCK)}",
        "local function row_is_stock(v) return #v % IID_LEN ~= 0 end",
        f"local function row_stock(n) return ROW_STOCK .. struct.pack('{count}', n) end",
        f"local function row_stock_count(v) return (struct.unpack('{count}', string.sub(v, {len(ROW_STOCK) + 1}))) end",
        f"local function pack_version(first, n) return first .. struct.pack('{count}', n) end",
        "local function version_first(v) return string.sub(v, 1, IID_LEN) end",
        f"local function version_count(v) return (struct.unpack('{count}', string.sub(v, IID_LEN + 1))) end",
        f"local function link_kind(v) return bit.band(bit.rshift(string.byte(v, 1), {_KIND_SHIFT}), {_KIND_MASK}) end",
        "local " + ", ".join(f"KIND_{k.upper()}" for k in _SAME_OR_UPDATE) + " = "
        + ", ".join(str(KINDS.index(k)) for k in _SAME_OR_UPDATE),
        "local function joins_version(kind) return " + " or ".join(f"kind == KIND_{k.upper()}" for k in VERSION_JOINS)
        + " end  -- dedup.cluster.VERSION_JOINS: an article alone in its version joins its best match's",
    ]
    return "\n".join(lines) + "\n"


def _lua_bytes(b: bytes) -> str:
    return "'" + "".join(f"\\{c}" for c in b) + "'"


# -- value buckets and versions ---------------------------------------------------
#: A value bucket that took more than ``dedup.index.ROW_KEEP`` ids starts with
#: this; with its count it is not a multiple of :data:`IID` bytes long (how it is told apart).
ROW_STOCK = b"\xff"
_COUNT = ">I"
_SAME_OR_UPDATE = (*VERSION_JOINS, "update")


def pack_version(first: bytes, count: int) -> bytes:
    """A version value: its first copy's iid and its member count."""
    return first + struct.pack(_COUNT, count)


def unpack_row(value: bytes) -> list[bytes] | int:
    """A value bucket read back: its iids, or the live count of a stock one."""
    if len(value) % IID:
        return struct.unpack(_COUNT, value[len(ROW_STOCK):])[0]
    return [value[j : j + IID] for j in range(0, len(value), IID)]


# -- what a person reads ---------------------------------------------------------
_ABOUT_LEN = "<I"
#: Bytes of the length that starts an about value (the scripts read ``4 + M`` bytes).
ABOUT_HEAD = struct.calcsize(_ABOUT_LEN)
_FIELD_LEN = struct.Struct("<I")
_ZLIB = 1  # codec byte of a stored text


@dataclass(frozen=True, slots=True)
class About:
    """What a person reads about an article: title, url, source and (when
    stored and asked for) the original text."""

    title: str | None = None
    url: str | None = None
    source: str | None = None
    text: str | None = None

    def to_dict(self, text: bool = False) -> dict:
        """``title``, ``url``, ``source`` (``None`` when unknown), and ``text`` when asked."""
        d = {"title": self.title, "url": self.url, "source": self.source}
        if text:
            d["text"] = self.text
        return d


def _utf8(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def pack_about(title: str | None, url: str | None, source: str | None, text: str | None) -> bytes:
    """An about value; ``b""`` (no key stored) when there is nothing to keep.
    ``text`` is compressed with zlib; ``None`` leaves it out."""
    if title is None and url is None and source is None and text is None:
        return b""
    meta = b"".join(_FIELD_LEN.pack(0) if v is None else _FIELD_LEN.pack(len(b) + 1) + b
                    for v, b in ((v, _utf8(v) if v is not None else b"") for v in (title, url, source)))
    body = b"" if text is None else bytes([_ZLIB]) + zlib.compress(_utf8(text), 6)
    return struct.pack(_ABOUT_LEN, len(meta)) + meta + body


def unpack_about(value: bytes) -> About:
    """An about value read back (the text only if ``value`` holds it: the
    scripts send the first ``ABOUT_HEAD + M`` bytes unless asked for it)."""
    if not value:
        return About()
    (m,) = struct.unpack_from(_ABOUT_LEN, value)
    pos, got = ABOUT_HEAD, []
    for _ in range(3):
        (n,) = _FIELD_LEN.unpack_from(value, pos)
        pos += _FIELD_LEN.size
        got.append(None if n == 0 else value[pos : pos + n - 1].decode("utf-8", "surrogatepass"))
        pos += max(0, n - 1)
    body, text = value[ABOUT_HEAD + m :], None
    if body:
        if body[0] != _ZLIB:
            raise ValueError(f"about value: unknown text codec {body[0]}")
        text = zlib.decompress(body[1:]).decode("utf-8", "surrogatepass")
    return About(*got, text)


# -- link values ---------------------------------------------------------------
#: flags byte: bit 0 the hash's owner is ``a``; bits 1..KIND_BITS the kind's
#: index in :data:`dedup.types.KINDS`; the next bit: a span follows.
KIND_BITS = 3
_OWNER_IS_A = 1
_KIND_SHIFT = 1
_KIND_MASK = (1 << KIND_BITS) - 1
_HAS_SPAN = 1 << (_KIND_SHIFT + KIND_BITS)
_HAS_CHANGED = _HAS_SPAN << 1
_LINK_HEAD = struct.Struct("<B4d")  # flags, jaccard, containment_ab, containment_ba, score
_LINK_SPAN = struct.Struct("<2I")
_LINK_CHANGED = struct.Struct("<I")  # bytes of the JSON list of changed figures that follows
if len(KINDS) > 1 << KIND_BITS:
    raise ImportError(f"{len(KINDS)} link kinds do not fit in {KIND_BITS} bits: widen KIND_BITS and bump VERSION")


def pack_link(link: Link, mine_is_a: bool) -> bytes:
    """A link in 33 bytes (+8 for a span, + the changed figures of an
    explained ``update`` as JSON, + JSON passages when explained)."""
    flags = (_OWNER_IS_A if mine_is_a else 0) | KINDS.index(link.kind) << _KIND_SHIFT
    flags |= (_HAS_SPAN if link.span is not None else 0) | (_HAS_CHANGED if link.changed else 0)
    out = _LINK_HEAD.pack(flags, link.jaccard, link.containment_ab, link.containment_ba, link.score)
    if link.span is not None:
        out += _LINK_SPAN.pack(*link.span)
    if link.changed:
        changed = json.dumps([list(c) for c in link.changed], separators=(",", ":")).encode()
        out += _LINK_CHANGED.pack(len(changed)) + changed
    if link.passages:
        out += json.dumps([[p.a_start, p.a_end, p.b_start, p.b_end, p.text] for p in link.passages],
                          separators=(",", ":")).encode()
    return out


def unpack_link(me: str, other: str, value: bytes) -> Link:
    flags, jac, cab, cba, score = _LINK_HEAD.unpack_from(value)
    a, b = (me, other) if flags & _OWNER_IS_A else (other, me)
    pos, span = _LINK_HEAD.size, None
    if flags & _HAS_SPAN:
        span, pos = _LINK_SPAN.unpack_from(value, pos), pos + _LINK_SPAN.size
    changed: tuple[tuple[str, str], ...] = ()
    if flags & _HAS_CHANGED:
        (n,), pos = _LINK_CHANGED.unpack_from(value, pos), pos + _LINK_CHANGED.size
        changed, pos = tuple((old, new) for old, new in json.loads(value[pos : pos + n])), pos + n
    passages = tuple(Passage(*p) for p in json.loads(value[pos:])) if len(value) > pos else ()
    kind = KINDS[(flags >> _KIND_SHIFT) & _KIND_MASK]
    return Link(a, b, kind, jac, cab, cba, score, passages, span, changed)
