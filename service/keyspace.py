"""``Keyspace``: what a namespace's Redis keys are called and what their
values hold, packed and unpacked in Python (pure: no Redis call here; the
calls are :mod:`dedup_service.store`'s, which builds on this).

Key schema (``P`` = ``<prefix>{<namespace>}``, e.g. ``dd{news}``; ``iid`` =
the article's internal id, a 4-byte big-endian counter value; no key has a
Redis TTL: retention is done by :meth:`RedisIndex.purge_expired`, which
removes every key an expired article touched):

=================  ======  ==================================================
key                type    holds
=================  ======  ==================================================
``P m``            hash    ``s`` iid counter, ``n`` live articles, ``L``
                           layout (version, num_perm, seed, bands, rows,
                           shards: a namespace stored with another one is
                           refused, ``NamespaceMismatch``); deleted when
                           the namespace becomes empty
``P i <2 bytes>``  hash    id map shard: field xxh64(external id) (8 bytes)
                           -> iid. ``capacity/64`` shards (listpack-sized)
``P b <3 bytes>``  hash    LSH bucket shard (high 32 bits of the band hash,
                           :func:`dedup.lsh.signature_band_hashes`): field
                           band index (1-2 bytes) + low 32 bits -> packed
                           iids (4 bytes each).
                           ``capacity*bands/64`` shards, so each stays a
                           small listpack (~13 bytes per bucket entry)
``P c <3 bytes>``  hash    value bucket shard (short-inside-long, with
                           ``Params.short_in_long``; texts of
                           ``min_contained_tokens`` words or more): field
                           the low 32 bits of a 64-bit hash of (MinHash
                           position, value), whose high bits pick the
                           shard -> packed iids (at most ``ROW_KEEP``), or
                           the stock marker and a live count once more
                           came (:mod:`dedup_service.layout`); dropped
                           when empty. ``capacity*num_perm/64`` shards
``P r <iid>``      string  record: cluster root iid, added, published,
                           retention bucket, flags (pending), version, signature
                           (uint32 LE), id; fields named once in
                           :mod:`dedup_service.layout`
``P t <iid>``      string  normalised word ids (uint32 LE), to confirm
``P a <iid>``      string  what a person reads: title, url, source and the
                           zlib-compressed original text
                           (:func:`dedup_service.layout.pack_about`; the
                           text only with ``store_text``); no key when
                           there is none of them
``P l <iid>``      string  the article's best link: other iid (4 bytes) +
                           33-byte packed link
                           (:func:`dedup_service.layout.pack_link`, + JSON
                           passages when explained); only for articles that
                           have a duplicate. One per article: storage is
                           linear in articles; a link whose other article
                           is gone is skipped by readers
``P k <root>``     zset    members of the cluster rooted at iid ``root``
                           (its founder's), score iid (for clusters that
                           ever had two or more, or have a name of their
                           own; kept, with its root key, while any member
                           lives, so the id is stable)
``P n <root>``     string  that cluster's canonical member's iid (4 bytes)
                           + its name (the founder's external id, unless
                           a live story held it: see ``P N``); for clusters
                           of two or more, or of one with such a name
``P u <root>``     zset    that cluster's versions with an ``update`` link:
                           their first copies' iids by published (undated:
                           +inf), so the latest is the last entry (only
                           for clusters with updates)
``P v <iid>``      string  a version of two or more copies (joined by
                           ``exact``/``near`` best links), keyed by the
                           record's ``version`` field: first copy's iid +
                           member count; dropped with its last member
``P e <8 bytes>``  string  retention bucket ending at that time (ms, u64 BE):
                           packed iids
``P E``            zset    retention buckets by end time (ms)
``P p``            zset    pending articles (stored with candidates, not
                           linked yet) by added time: what
                           :meth:`StoringDeduplicator.repair` sweeps
``P N``            hash    cluster names: the name of every cluster that
                           has a ``P n`` key -> its root iid. A new story
                           whose founder's id a live one holds (its founder
                           was removed, its members live) is named
                           ``<id>~2`` (the next of ``~2``, ``~3`` ... that
                           no story holds and no stored article has as its
                           id, counted in ``P K``), so no two live stories
                           share a name
``P K``            hash    fresh names given per held name: name -> how
                           many (``<name>~2`` first); dropped with the
                           story that holds the name, so the scripts pick
                           the next fresh name themselves, each tried once
``P T``            hash    stored ids that look like fresh names
                           (``<x>~<digits>``) -> iid: what the scripts
                           check a fresh name against (the id map's keys
                           are hashes they cannot compute)
``P J <iid>``      string  joined bitmap chunk, by its first iid (a
                           multiple of ``layout.JOINED_CHUNK``): a bit
                           per iid, set once that article joined
                           another's cluster (its root is not itself), so
                           that a look-up groups its candidates by
                           cluster reading the record of those only;
                           cleared when the article is removed, the chunk
                           deleted once all-zero (layout in
                           :mod:`dedup_service.layout`)
``P Dz``           zset    editors' decisions (:mod:`dedup.decisions`,
                           :func:`~dedup.decisions.decision_key` JSON) by
                           the order they were made; ``P Dn`` (string) its
                           counter
``P Dx <id>``      set     the external ids an article is ruled apart from
``P Dk <story>``   set     a story's members (external ids) that an apart
                           rule names, by story name (followed on merges
                           and splits; stale entries are checked on read)
``P Dp``           set     external ids picked as their story's canonical
                           copy (read by the scripts' canonical rule)
``<prefix>:namespaces``  set  the namespaces ever written to (outside every
                           namespace's slot; one SADD per process and
                           namespace, on its first write), for ``/metrics``
=================  ======  ==================================================

Latest versions (:func:`dedup.cluster.latest_version`, the rule batch and
``MemoryIndex`` apply to a cluster's best links) are kept as articles are
linked, never recomputed per request: an article whose best link is
``exact``/``near``/``reused`` (and that is alone in its version) joins its partner's version (``P v``), one whose best
link is an ``update`` lists both versions' first copies in ``P u``, so a
story's latest is the later of ``P u``'s last entry and its canonical
copy's version's first copy (O(log n)). Streams of adds give the same
answers as ``MemoryIndex`` (tested step by step on a random stream);
after a removal they can differ: a removed copy does not split the
version it linked, and a version listed in ``P u`` stays listed when the
article whose ``update`` link listed it is removed (``MemoryIndex``
recomputes from the links left, O(cluster) per look-up). A version's first
copy is found again when it leaves, by a scan of its cluster (O(cluster),
like the canonical copy's).

Decision keys are not removed with the articles they name (a decision
stands for an id, stored or not); they grow with the decisions made, not
with the articles.

Every key of a namespace shares the ``{namespace}`` hash tag: on Redis
Cluster a namespace lives in one slot, so the Lua scripts (which touch many
keys at once) stay atomic; namespaces spread across nodes. Every key a
caller can name goes in the scripts' ``KEYS`` (see :mod:`dedup_service.lua`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import xxhash

from dedup.errors import InvalidParams
from dedup.index import Fingerprint
from dedup.lsh import signature_band_hashes
from dedup.params import Params
from dedup_service import layout, lua

__all__ = ["Keyspace", "valid_namespace"]

#: The parts of the stored layout string, in order (named in a mismatch message).
_LAYOUT_PARTS = ("version", "num_perm", "seed", "bands", "rows", "bucket_shards", "id_shards", "value_shards",
                 "min_contained_tokens", "boilerplate")


def valid_namespace(ns: object) -> bool:
    """Namespaces are 1-64 characters of ``[A-Za-z0-9_.-]`` (no hash tag braces)."""
    return isinstance(ns, str) and 0 < len(ns) <= 64 and all(c.isalnum() and c.isascii() or c in "_.-" for c in ns)


def _pow2_at_least(n: float) -> int:
    return 1 << max(0, math.ceil(math.log2(max(1.0, n))))



def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over ``uint64`` values (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def registry_key(prefix: str) -> bytes:
    """The set of the namespaces written to under ``prefix`` (module docstring)."""
    return f"{prefix}:namespaces".encode()


class Keyspace:
    """The keys and values of one namespace (see the module's table): its
    prefix, its shard counts and layout string (fixed by ``params`` and
    ``capacity``), and the packing of ids, buckets, records and about values.

    Raises:
        InvalidParams: an argument out of range.
    """

    def __init__(self, params: Params, *, namespace: str, prefix: str, capacity: int,
                 retention: float | None, retention_by: str, clock: Callable[[], float],
                 store_text: bool, boilerplate: tuple[str, ...] = ()) -> None:
        if not valid_namespace(namespace):
            raise InvalidParams(f"namespace={namespace!r}: must be 1-64 characters of [A-Za-z0-9_.-]")
        if not (isinstance(prefix, str) and "{" not in prefix and "}" not in prefix):
            raise InvalidParams(f"prefix={prefix!r}: must be a string without braces")
        if not (isinstance(capacity, int) and capacity >= 1):
            raise InvalidParams(f"capacity={capacity!r}: must be an int >= 1")
        if retention is not None and not (isinstance(retention, (int, float)) and retention > 0):
            raise InvalidParams(f"retention={retention!r}: must be a positive number of seconds or None")
        if retention_by not in ("added", "published"):
            raise InvalidParams(f"retention_by={retention_by!r}: must be 'added' or 'published'")
        self.params, self.namespace = params, namespace
        self.retention, self.retention_by, self.clock = retention, retention_by, clock
        self.store_text, self.boilerplate = bool(store_text), tuple(boilerplate)
        self.prefix = f"{prefix}{{{namespace}}}".encode()
        self.registry = registry_key(prefix)
        bands, rows = params.banding
        self._band_width = 1 if bands <= 256 else 2
        self.bucket_shards = min(1 << 24, _pow2_at_least(capacity * bands / 64))
        self.id_shards = min(1 << 16, _pow2_at_least(capacity / 64))
        self._siglen = 4 * params.num_perm
        # retention buckets: ~1/32 of the window, at most an hour
        self._bucket_ms = max(1, int(min(3600.0, (retention or 3600.0 * 32) / 32) * 1000))
        # short-inside-long value buckets (0: off); which texts have them is part of the layout too
        self.value_shards = min(1 << 24, _pow2_at_least(capacity * params.num_perm / 64)) if params.short_in_long else 0
        contained = params.min_contained_tokens if params.short_in_long else 0
        parts = (layout.VERSION, params.num_perm, params.seed, bands, rows, self.bucket_shards, self.id_shards,
                 self.value_shards, contained)
        if boilerplate:  # the normaliser's extra patterns make other words and signatures: a digest of them
            parts += ("bp" + xxhash.xxh64_hexdigest("\n".join(boilerplate).encode("utf-8"))[:12],)
        self.layout = ":".join(map(str, parts)).encode()
        self._fixed = [self.prefix + k for k in lua.FIXED_KEYS]

    def _mismatch(self, stored: str) -> str:
        ours = self.layout.decode()
        theirs, mine = stored.split(":"), ours.split(":")
        width = max(len(theirs), len(mine))  # the boilerplate part is there only when patterns were given
        theirs, mine = theirs + ["none"] * (width - len(theirs)), mine + ["none"] * (width - len(mine))
        diff = [f"{n} {a} -> {b}" for n, a, b in zip(_LAYOUT_PARTS, theirs, mine) if a != b]
        return (f"namespace {self.namespace!r} was stored with layout {stored} and this index uses {ours} "
                f"({', '.join(diff) or 'format'}); re-index it: remove its keys (prefix {self.prefix.decode()!r}) "
                f"and add its articles again, or use another namespace")

    def _idkey(self, doc_id: str) -> tuple[bytes, bytes, bytes]:
        ext = doc_id.encode("utf-8", "surrogatepass")
        digest = xxhash.xxh64_digest(ext)
        shard = int.from_bytes(digest[:4], "big") % self.id_shards
        return self.prefix + b"i" + shard.to_bytes(2, "big"), digest, ext

    def _idkeys(self, doc_ids: list[str]) -> tuple[list[bytes], list[bytes]]:
        """The id map keys of several articles, and their (digest, id) arguments."""
        keys, args = [], []
        for doc_id in doc_ids:
            idkey, digest, ext = self._idkey(doc_id)
            keys.append(idkey)
            args += [digest, ext]
        return keys, args

    def _buckets(self, signature: np.ndarray) -> tuple[list[bytes], list[bytes]]:
        """Each band's bucket shard key and field: the band hash's high 32 bits
        pick the shard, the field is the band number + its low 32 bits."""
        b, w, n = self.prefix + b"b", self._band_width, self.bucket_shards
        keys, fields = [], []
        for band, h in enumerate(signature_band_hashes(signature, self.params).tolist()):
            keys.append(b + ((h >> 32) % n).to_bytes(3, "big"))
            fields.append(band.to_bytes(w, "big") + (h & 0xFFFFFFFF).to_bytes(4, "big"))
        return keys, fields

    def _values(self, signature: np.ndarray, words: int | None = None) -> tuple[list[bytes], bytes]:
        """Each MinHash value's bucket shard key and field (short-inside-long,
        :class:`dedup.index.MemoryIndex`'s per-position value buckets): a
        64-bit hash of (position, value) whose high 32 bits pick the shard,
        the low 32 bits are the field (:data:`layout.VALUE_FIELD` bytes each,
        concatenated: one script argument). None for a text under
        ``min_contained_tokens`` words (``words``; ``None``: unknown, every
        value: the scripts check the stored words) or with the option off."""
        if not self.value_shards or (words is not None and words < self.params.min_contained_tokens):
            return [], b""
        x = np.arange(len(signature), dtype=np.uint64) << np.uint64(32) | np.asarray(signature, dtype=np.uint64)
        h = _splitmix64(x)
        c, n = self.prefix + b"c", self.value_shards
        keys = [c + s.to_bytes(3, "big") for s in ((h >> np.uint64(32)) % np.uint64(n)).tolist()]
        return keys, (h & np.uint64(0xFFFFFFFF)).astype(f">u{layout.VALUE_FIELD}").tobytes()

    def _time_bucket(self, fp: Fingerprint) -> int:
        t = fp.published if self.retention_by == "published" and fp.published is not None else fp.added
        end = (int(t * 1000) // self._bucket_ms + 1) * self._bucket_ms
        return max(1, end)

    def _record(self, fp: Fingerprint) -> bytes:
        sig = np.asarray(fp.signature)
        if sig.shape != (self.params.num_perm,):
            raise InvalidParams(f"signature: expected {self.params.num_perm} values, got {sig.shape}")
        return layout.pack_record(added=fp.added, published=fp.published, bucket=self._time_bucket(fp),
                                  signature=sig, doc_id=fp.id)

    def _unpack(self, rec: bytes) -> layout.Record:
        return layout.unpack_record(rec, self.params.num_perm)

    def _fingerprint(self, rec: bytes, tokens: bytes) -> Fingerprint:
        r = self._unpack(rec)
        return Fingerprint(id=r.id, signature=r.signature.astype(np.uint32),
                           tokens=np.frombuffer(tokens, dtype="<u4").astype(np.uint32),
                           published=r.published, added=r.added)

    def _about(self, fp: Fingerprint) -> bytes:
        """The about value to store, after ``=``; ``b""`` (leave it as it is)
        for a fingerprint without its article (a plain Deduplicator, a repair)."""
        a = getattr(fp, "article", None)
        if a is None:
            return b""
        return b"=" + layout.pack_about(a.title, a.url, a.source, a.text if self.store_text else None)

    def _cutoff(self) -> int:
        return int((self.clock() - self.retention) * 1000)
