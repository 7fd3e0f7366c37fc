"""``RedisIndex``: the :class:`dedup.index.Index` protocol on a real Redis.

This is the only module of the project that talks to Redis. The connection
is injected (a binary ``redis.Redis``, ``decode_responses=False``, with
socket timeouts); nothing here creates one.

Key schema (``P`` = ``<prefix>{<namespace>}``, e.g. ``dd{news}``; ``iid`` =
the article's internal id, a 4-byte big-endian counter value; no key has a
Redis TTL: retention is done by :meth:`RedisIndex.purge_expired`, which
removes every key an expired article touched):

=================  ======  ==================================================
key                type    holds
=================  ======  ==================================================
``P m``            hash    ``s`` iid counter, ``n`` live articles, ``L``
                           layout (num_perm, seed, bands, rows, shards);
                           deleted when the namespace becomes empty
``P i <2 bytes>``  hash    id map shard: field xxh64(external id) (8 bytes)
                           -> iid. ``capacity/64`` shards (listpack-sized)
``P b <3 bytes>``  hash    LSH bucket shard: field band index (1-2 bytes) +
                           4 hash bytes -> packed iids (4 bytes each).
                           ``capacity*bands/64`` shards, so each stays a
                           small listpack (~13 bytes per bucket entry)
``P r <iid>``      string  record: cluster root iid, added, published,
                           retention bucket, signature (uint32 LE), id
``P t <iid>``      string  normalised word ids (uint32 LE), to confirm
``P l <iid>``      hash    confirmed links: other iid -> 33-byte packed link
                           (+ JSON passages when explained; only for
                           articles that have duplicates)
``P k <iid>``      zset    members of the cluster rooted at iid, score iid
                           (only for clusters of two or more)
``P e <8 bytes>``  string  retention bucket ending at that time (ms, u64 BE):
                           packed iids
``P E``            zset    retention buckets by end time (ms)
=================  ======  ==================================================

Every key of a namespace shares the ``{namespace}`` hash tag: on Redis
Cluster a namespace lives in one slot, so the Lua scripts (which touch many
keys at once) stay atomic; namespaces spread across nodes.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
import time
from collections.abc import Callable

import numpy as np
import redis
import xxhash
from redis.exceptions import NoScriptError, ResponseError

from dedup.errors import InvalidParams
from dedup.index import Fingerprint, Member
from dedup.lsh import band_keys
from dedup.params import Params
from dedup.types import Link, Passage
from dedup_service import lua
from dedup_service.errors import NamespaceMismatch, StoreUnavailable

__all__ = ["RedisIndex", "valid_namespace"]

_HEADER = 28
_NAN = struct.pack("<d", math.nan)
_SHAS = {name: hashlib.sha1(getattr(lua, name).encode()).hexdigest() for name in lua.__all__}


def valid_namespace(ns: object) -> bool:
    """Namespaces are 1-64 characters of ``[A-Za-z0-9_.-]`` (no hash tag braces)."""
    return isinstance(ns, str) and 0 < len(ns) <= 64 and all(c.isalnum() and c.isascii() or c in "_.-" for c in ns)


def _pow2_at_least(n: float) -> int:
    return 1 << max(0, math.ceil(math.log2(max(1.0, n))))


class RedisIndex:
    """An :class:`~dedup.index.Index` whose state lives in Redis.

    Args:
        client: a ``redis.Redis`` with ``decode_responses=False``.
        params: the deduplication parameters (LSH banding comes from them).
        namespace: independent index name (``[A-Za-z0-9_.-]{1,64}``).
        prefix: key prefix shared by every namespace.
        capacity: expected live articles; sizes the hash shards so they stay
            listpack-encoded. Part of the namespace layout (changing it needs
            a re-index).
        retention: seconds after which an article expires (``None``: never).
        retention_by: ``"added"`` (insertion time) or ``"published"``
            (falls back to insertion time when unknown).
        clock: seconds since the epoch (injected for tests).
        purge_batch: at most this many expired articles removed per write.

    Raises:
        InvalidParams: an argument out of range.

    Example:
        >>> idx = RedisIndex(redis.Redis(port=6380), Params(), namespace="news")
    """

    def __init__(
        self,
        client: redis.Redis,
        params: Params,
        *,
        namespace: str = "default",
        prefix: str = "dd",
        capacity: int = 200_000,
        retention: float | None = None,
        retention_by: str = "added",
        clock: Callable[[], float] = time.time,
        purge_batch: int = 32,
    ) -> None:
        if client.connection_pool.connection_kwargs.get("decode_responses"):
            raise InvalidParams("client: needs decode_responses=False (keys and values are binary)")
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
        if not (isinstance(purge_batch, int) and purge_batch >= 1):
            raise InvalidParams(f"purge_batch={purge_batch!r}: must be an int >= 1")
        self.client, self.params, self.namespace = client, params, namespace
        self.retention, self.retention_by, self.clock, self.purge_batch = retention, retention_by, clock, purge_batch
        self.prefix = f"{prefix}{{{namespace}}}".encode()
        bands, rows = params.banding
        self._band_width = 1 if bands <= 256 else 2
        self.bucket_shards = min(1 << 24, _pow2_at_least(capacity * bands / 64))
        self.id_shards = min(1 << 16, _pow2_at_least(capacity / 64))
        self._siglen = 4 * params.num_perm
        # retention buckets: ~1/32 of the window, at most an hour
        self._bucket_ms = max(1, int(min(3600.0, (retention or 3600.0 * 32) / 32) * 1000))
        self.layout = f"1:{params.num_perm}:{params.seed}:{bands}:{rows}:{self.bucket_shards}:{self.id_shards}".encode()
        self.round_trips = 0

    # -- plumbing ----------------------------------------------------------
    def _run(self, calls: list[tuple[str, list, list]]) -> list:
        """Run scripts in one round trip (a pipeline when several); load them on NOSCRIPT."""
        for attempt in range(2):
            self.round_trips += 1
            try:
                if len(calls) == 1:
                    name, keys, args = calls[0]
                    try:
                        out = [self.client.evalsha(_SHAS[name], len(keys), *keys, *args)]
                    except ResponseError as e:  # NoScriptError included
                        out = [e]
                else:
                    pipe = self.client.pipeline(transaction=False)
                    for name, keys, args in calls:
                        pipe.evalsha(_SHAS[name], len(keys), *keys, *args)
                    out = pipe.execute(raise_on_error=False)
                missing = {c[0] for c, r in zip(calls, out) if isinstance(r, NoScriptError)}
                if missing and attempt == 0:
                    for name in missing:
                        self.client.script_load(getattr(lua, name))
                        self.round_trips += 1
                    continue
            except (redis.ConnectionError, redis.TimeoutError) as e:
                raise StoreUnavailable(f"redis unavailable: {e}") from None
            for r in out:
                if isinstance(r, ResponseError):
                    msg = str(r)
                    if msg.startswith("LAYOUT"):
                        raise NamespaceMismatch(f"namespace {self.namespace!r}: {msg[7:]}")
                    if msg.startswith("NOTFOUND"):
                        raise KeyError(msg[9:])
                    raise r
            return out
        raise AssertionError("unreachable")

    def _one(self, name: str, keys: list, args: list):
        return self._run([(name, keys, args)])[0]

    def _idkey(self, doc_id: str) -> tuple[bytes, bytes, bytes]:
        ext = doc_id.encode("utf-8", "surrogatepass")
        digest = xxhash.xxh64_digest(ext)
        shard = int.from_bytes(digest[:4], "big") % self.id_shards
        return self.prefix + b"i" + shard.to_bytes(2, "big"), digest, ext

    def _buckets(self, signature: np.ndarray) -> tuple[list[bytes], list[bytes]]:
        keys, fields = [], []
        b = self.prefix + b"b"
        for k in band_keys(signature, self.params):
            shard = int.from_bytes(k[2:6], "big") % self.bucket_shards
            keys.append(b + shard.to_bytes(3, "big"))
            fields.append(k[2 - self._band_width : 2] + k[6:10])
        return keys, fields

    def _time_bucket(self, fp: Fingerprint) -> bytes:
        t = fp.published if self.retention_by == "published" and fp.published is not None else fp.added
        end = (int(t * 1000) // self._bucket_ms + 1) * self._bucket_ms
        return max(1, end).to_bytes(8, "big")

    def _record(self, fp: Fingerprint) -> bytes:
        sig = np.ascontiguousarray(fp.signature, dtype="<u4")
        if sig.shape != (self.params.num_perm,):
            raise InvalidParams(f"signature: expected {self.params.num_perm} values, got {sig.shape}")
        pub = _NAN if fp.published is None else struct.pack("<d", fp.published)
        return struct.pack("<d", fp.added) + pub + self._time_bucket(fp) + sig.tobytes() + fp.id.encode("utf-8", "surrogatepass")

    def _fingerprint(self, rec: bytes, tokens: bytes) -> Fingerprint:
        added, pub = struct.unpack_from("<dd", rec, 4)
        sig = self._sig(rec).astype(np.uint32)
        return Fingerprint(
            id=rec[_HEADER + self._siglen :].decode("utf-8", "surrogatepass"),
            signature=sig,
            tokens=np.frombuffer(tokens, dtype="<u4").astype(np.uint32),
            published=None if math.isnan(pub) else pub,
            added=added,
        )

    def _sig(self, rec: bytes) -> np.ndarray:
        """The signature packed in a record (a read-only uint32 view)."""
        return np.frombuffer(rec, dtype="<u4", count=self.params.num_perm, offset=_HEADER)

    def _ext(self, rec: bytes) -> str:
        return rec[_HEADER + self._siglen :].decode("utf-8", "surrogatepass")

    def _add_call(self, mode: str, fp: Fingerprint, old: tuple[bytes, bytes] | None = None) -> tuple[str, list, list]:
        idkey, digest, ext = self._idkey(fp.id)
        keys, fields = self._buckets(fp.signature)
        tokens = np.ascontiguousarray(fp.tokens, dtype="<u4").tobytes()
        args = [self.prefix, mode, self.layout, self._siglen, digest, ext, self._record(fp), tokens, len(keys), *fields]
        all_keys = [idkey, *keys]
        if old is not None:
            old_rec = old[1]
            okeys, ofields = self._buckets(self._sig(old_rec))
            all_keys += okeys
            args += [old[0], old_rec[4:12], *ofields]
        else:
            args += [b"", b""]
        return "ADD", all_keys, args

    def _candidates_from(self, out: list) -> list[Fingerprint]:
        """Decode the script's candidates, leaving out any that already expired
        (the sweep that removes them may still be on its way)."""
        recs = [(out[i + 1], out[i + 2]) for i in range(2, len(out), 3)]
        if self.retention is not None:
            cutoff = int((self.clock() - self.retention) * 1000)
            recs = [(r, t) for r, t in recs if int.from_bytes(r[20:28], "big") > cutoff]
        return [self._fingerprint(r, t) for r, t in recs]

    # -- the Index protocol -------------------------------------------------
    def add(self, fp: Fingerprint) -> list[Fingerprint] | None:
        """Atomically return the stored candidates of ``fp``, then store it
        (one round trip; two when the id was stored with other words;
        ``None`` and no write when it was stored with the same words)."""
        calls = [self._add_call("add", fp)]
        if self.retention is not None:
            calls.insert(0, self._purge_call())
        outs = self._run(calls)
        if self.retention is not None and outs[0]:
            self._purge_remove(outs[0])
        out = outs[-1]
        for _ in range(8):
            if out[0] == b"ok":
                return self._candidates_from(out)
            if out[0] == b"same":
                return None
            out = self._one(*self._add_call("add", fp, old=(out[1], out[2])))
        raise StoreUnavailable(f"could not replace {fp.id!r}: it keeps changing under concurrent writers")

    def candidates(self, fp: Fingerprint) -> list[Fingerprint]:
        """The stored fingerprints sharing an LSH band with ``fp`` (no write)."""
        return self._candidates_from(self._one(*self._add_call("query", fp)))

    def get(self, doc_id: str) -> Fingerprint | None:
        """The stored fingerprint of ``doc_id``, or ``None``."""
        idkey, digest, ext = self._idkey(doc_id)
        out = self._one("GET", [idkey], [self.prefix, self._siglen, digest, ext])
        return self._fingerprint(out[1], out[2]) if out else None

    def remove(self, doc_id: str) -> bool:
        """Forget ``doc_id`` and every key entry it touched; ``False`` if unknown."""
        idkey, digest, ext = self._idkey(doc_id)
        for _ in range(8):
            out = self._one("GET", [idkey], [self.prefix, self._siglen, digest, ext])
            if not out:
                return False
            if self._one(*self._remove_call(out[0], out[1])) == 1:
                return True
        raise StoreUnavailable(f"could not remove {doc_id!r}: it keeps changing under concurrent writers")

    def _remove_call(self, iid: bytes, rec: bytes) -> tuple[str, list, list]:
        idkey, digest, ext = self._idkey(self._ext(rec))
        keys, fields = self._buckets(self._sig(rec))
        return "REMOVE", [idkey, *keys], [self.prefix, self._siglen, digest, ext, iid, rec[4:12], *fields]

    def link(self, link: Link) -> str:
        """Record a confirmed link and merge the two clusters; returns the
        surviving cluster id. Raises ``KeyError`` for an unknown id."""
        ka, da, ea = self._idkey(link.a)
        kb, db, eb = self._idkey(link.b)
        va, vb = _pack_link(link, True), _pack_link(link, False)
        root = self._one("LINK", [ka, kb], [self.prefix, self._siglen, da, ea, db, eb, va, vb])
        return self._ext(root)

    def links(self, doc_id: str) -> list[Link]:
        """Every confirmed link that involves ``doc_id``."""
        idkey, digest, ext = self._idkey(doc_id)
        out = self._one("LINKS", [idkey], [self.prefix, self._siglen, digest, ext])
        return [_unpack_link(doc_id, out[i].decode("utf-8", "surrogatepass"), out[i + 1]) for i in range(0, len(out), 2)]

    def cluster(self, doc_id: str) -> tuple[str, list[Member]] | None:
        """The story holding ``doc_id``: its cluster id (the oldest member's
        id) and each member's ``(id, published, words)``, in one round trip."""
        idkey, digest, ext = self._idkey(doc_id)
        out = self._one("CLUSTER", [idkey], [self.prefix, self._siglen, digest, ext])
        if not out:
            return None
        members = []
        for i in range(1, len(out), 3):
            (pub,) = struct.unpack("<d", out[i + 1])
            members.append((out[i].decode("utf-8", "surrogatepass"), None if math.isnan(pub) else pub, int(out[i + 2])))
        return out[0].decode("utf-8", "surrogatepass"), members

    def __len__(self) -> int:
        try:
            self.round_trips += 1
            return int(self.client.hget(self.prefix + b"m", b"n") or 0)
        except (redis.ConnectionError, redis.TimeoutError) as e:
            raise StoreUnavailable(f"redis unavailable: {e}") from None

    # -- retention ------------------------------------------------------------
    def _purge_call(self) -> tuple[str, list, list]:
        cutoff = int((self.clock() - self.retention) * 1000)
        return "PURGE_SCAN", [], [self.prefix, cutoff, self.purge_batch]

    def _purge_remove(self, scan: list) -> int:
        calls = [self._remove_call(scan[i], scan[i + 1]) for i in range(0, len(scan), 2)]
        return sum(1 for r in self._run(calls) if r == 1) if calls else 0

    def purge_expired(self, limit: int = 10_000) -> int:
        """Remove up to ``limit`` articles older than the retention window,
        with every key they touched; returns how many were removed. Runs a
        bounded batch on every :meth:`add` as well."""
        if self.retention is None:
            return 0
        done = 0
        while done < limit:
            scan = self._one(*self._purge_call())
            removed = self._purge_remove(scan) if scan else 0
            if not removed:
                break
            done += removed
        return done

    def ping(self) -> bool:
        """``True`` when Redis answers (raises :class:`StoreUnavailable` otherwise)."""
        try:
            return bool(self.client.ping())
        except (redis.ConnectionError, redis.TimeoutError) as e:
            raise StoreUnavailable(f"redis unavailable: {e}") from None

    def keys(self) -> list[bytes]:
        """Every key of this namespace (SCAN; for tests and operators)."""
        pattern = b"".join(b"\\" + bytes([c]) if c in b"*?[]\\" else bytes([c]) for c in self.prefix) + b"*"
        return sorted(self.client.scan_iter(match=pattern, count=1000))


_KINDS = ("exact", "near", "contained")


def _pack_link(link: Link, mine_is_a: bool) -> bytes:
    """A link in 33 bytes (+8 for a span, + JSON passages when explained), so link
    hashes stay listpacks: flags (bit 0: the hash's owner is ``a``; bits 1-2:
    kind; bit 3: a span follows), four f64 scores, then the optional parts."""
    flags = int(mine_is_a) | _KINDS.index(link.kind) << 1 | (8 if link.span is not None else 0)
    out = struct.pack("<B4d", flags, link.jaccard, link.containment_ab, link.containment_ba, link.score)
    if link.span is not None:
        out += struct.pack("<2I", *link.span)
    if link.passages:
        out += json.dumps([[p.a_start, p.a_end, p.b_start, p.b_end, p.text] for p in link.passages],
                          separators=(",", ":")).encode()
    return out


def _unpack_link(me: str, other: str, value: bytes) -> Link:
    flags, jac, cab, cba, score = struct.unpack_from("<B4d", value)
    a, b = (me, other) if flags & 1 else (other, me)
    pos, span = 33, None
    if flags & 8:
        span, pos = struct.unpack_from("<2I", value, 33), 41
    passages = tuple(Passage(*p) for p in json.loads(value[pos:])) if len(value) > pos else ()
    return Link(a, b, _KINDS[(flags >> 1) & 3], jac, cab, cba, score, passages, span)
