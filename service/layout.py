"""The byte layouts that Python and the Lua scripts both read, named once.

A record (string ``P r <iid>``) is a fixed header of named fields
(:data:`RECORD_FIELDS`), then the signature (``num_perm`` uint32 LE), then
the external id (UTF-8). Python packs and reads it with :func:`pack_record`
and :func:`unpack_record`; the Lua scripts read it only through the
accessors that :func:`lua_prelude` generates from the same table
(``rec_root(rec)``, ``REC_ROOT_OFFSET`` ...), so the two sides cannot drift
(``tests/test_store.py`` checks that no hand-written script uses a bare
offset, and that the generated accessors read what Python packed).

A link value (field of hash ``P l <iid>``) is read by Python only:
:func:`pack_link` / :func:`unpack_link`.

:data:`VERSION` is part of every namespace's stored layout string: bump it
whenever a stored byte changes meaning, so that a namespace written by an
older release is refused (``NamespaceMismatch``: re-index) rather than
misread. History: 1, xxh3 band keys and 2-bit link kinds; 2, the numpy band
hash shared with batch (:func:`dedup.lsh.band_hashes`) and 3-bit link kinds;
3, the record's ``flags`` byte (pending until linked), one best link per
article (string ``P l <iid>``: other iid + packed link) instead of a hash of
links both ways, the cluster's name and canonical copy in ``P n <root>``
(stable cluster ids), buckets trimmed to their most recent entries.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import numpy as np

from dedup.types import KINDS, Link, Passage

__all__ = [
    "HEADER", "IID", "KIND_BITS", "PENDING", "RECORD", "RECORD_FIELDS", "Record", "TOKEN", "VERSION", "Field",
    "field_bytes", "field_value", "lua_prelude", "pack_iid", "pack_link", "pack_record", "unpack_link", "unpack_record",
]

#: Stored layout version (see the module docstring before changing any byte).
VERSION = 3

#: Bytes of an internal id: a u32 big-endian counter value (so ids sort as bytes).
IID = 4
_IID_FORMAT = ">I"
#: Bytes of one word id in ``P t <iid>`` (uint32 LE).
TOKEN = 4


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

    @property
    def pending(self) -> bool:
        return bool(self.flags & PENDING)


def pack_iid(n: int) -> bytes:
    return struct.pack(_IID_FORMAT, n)


def pack_record(*, added: float, published: float | None, bucket: int, signature: np.ndarray, doc_id: str,
                root: bytes = bytes(IID), flags: int = 0) -> bytes:
    """A record; ``root`` stays zero when the script assigns the iid."""
    values = {"root": struct.unpack(_IID_FORMAT, root)[0], "added": added,
              "published": _NAN if published is None else published, "bucket": bucket, "flags": flags}
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
    )


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
        ]
    lines.append(f"local NO_BUCKET = string.rep('\\0', {RECORD['bucket'].size})")
    lines.append(f"local PENDING = {PENDING}")
    from dedup.index import BUCKET_KEEP, MAX_CANDIDATES, REPRESENTATIVES  # the candidate bounds, named once

    lines.append(f"local BUCKET_KEEP, MAX_CANDIDATES, REPRESENTATIVES = {BUCKET_KEEP}, {MAX_CANDIDATES}, {REPRESENTATIVES}")
    return "\n".join(lines) + "\n"


# -- link values ---------------------------------------------------------------
#: flags byte: bit 0 the hash's owner is ``a``; bits 1..KIND_BITS the kind's
#: index in :data:`dedup.types.KINDS`; the next bit: a span follows.
KIND_BITS = 3
_OWNER_IS_A = 1
_KIND_SHIFT = 1
_KIND_MASK = (1 << KIND_BITS) - 1
_HAS_SPAN = 1 << (_KIND_SHIFT + KIND_BITS)
_LINK_HEAD = struct.Struct("<B4d")  # flags, jaccard, containment_ab, containment_ba, score
_LINK_SPAN = struct.Struct("<2I")
if len(KINDS) > 1 << KIND_BITS:
    raise ImportError(f"{len(KINDS)} link kinds do not fit in {KIND_BITS} bits: widen KIND_BITS and bump VERSION")


def pack_link(link: Link, mine_is_a: bool) -> bytes:
    """A link in 33 bytes (+8 for a span, + JSON passages when explained), so
    link hashes stay listpacks."""
    flags = (_OWNER_IS_A if mine_is_a else 0) | KINDS.index(link.kind) << _KIND_SHIFT
    flags |= _HAS_SPAN if link.span is not None else 0
    out = _LINK_HEAD.pack(flags, link.jaccard, link.containment_ab, link.containment_ba, link.score)
    if link.span is not None:
        out += _LINK_SPAN.pack(*link.span)
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
    passages = tuple(Passage(*p) for p in json.loads(value[pos:])) if len(value) > pos else ()
    kind = KINDS[(flags >> _KIND_SHIFT) & _KIND_MASK]
    return Link(a, b, kind, jac, cab, cba, score, passages, span)
