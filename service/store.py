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
``P r <iid>``      string  record: cluster root iid, added, published,
                           retention bucket, flags (pending), signature
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
                           ever had two or more; kept, with its root key,
                           while any member lives, so the id is stable)
``P n <root>``     string  that cluster's canonical member's iid (4 bytes)
                           + its name (the founder's external id)
``P e <8 bytes>``  string  retention bucket ending at that time (ms, u64 BE):
                           packed iids
``P E``            zset    retention buckets by end time (ms)
``P p``            zset    pending articles (stored with candidates, not
                           linked yet) by added time: what
                           :meth:`StoringDeduplicator.repair` sweeps
=================  ======  ==================================================

Every key of a namespace shares the ``{namespace}`` hash tag: on Redis
Cluster a namespace lives in one slot, so the Lua scripts (which touch many
keys at once) stay atomic; namespaces spread across nodes. Every key a
caller can name goes in the scripts' ``KEYS`` (see :mod:`dedup_service.lua`).

Over 400 lines on purpose: it is the one class that implements the ``Index``
protocol on Redis (the protocol's methods, the byte packing around them and
the one error translation); splitting it would put Redis calls in two modules.
The service's ``StoringDeduplicator`` (which feeds it articles and repairs
through it, ~40 lines) sits beside it; it could move to a module of its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
import redis
import xxhash
from redis.exceptions import ResponseError

from dedup.deduplicator import Deduplicator
from dedup.errors import InvalidParams, NotFound
from dedup.index import Fingerprint, Member, Page, Story
from dedup.lsh import signature_band_hashes
from dedup.params import Params
from dedup.types import Article, Link
from dedup_service import layout, lua
from dedup_service.errors import NamespaceMismatch, StoreUnavailable

__all__ = ["ArticleFingerprint", "RedisIndex", "StoringDeduplicator", "valid_namespace"]

#: The parts of the stored layout string, in order (named in a mismatch message).
_LAYOUT_PARTS = ("version", "num_perm", "seed", "bands", "rows", "bucket_shards", "id_shards")


def valid_namespace(ns: object) -> bool:
    """Namespaces are 1-64 characters of ``[A-Za-z0-9_.-]`` (no hash tag braces)."""
    return isinstance(ns, str) and 0 < len(ns) <= 64 and all(c.isalnum() and c.isascii() or c in "_.-" for c in ns)


def _pow2_at_least(n: float) -> int:
    return 1 << max(0, math.ceil(math.log2(max(1.0, n))))


def _decodes_responses(client) -> bool:
    """Whether ``client`` decodes replies to ``str`` (``redis.Redis`` and
    ``RedisCluster`` alike: the latter has no ``connection_pool``)."""
    get_encoder = getattr(client, "get_encoder", None)
    if callable(get_encoder):
        return bool(getattr(get_encoder(), "decode_responses", False))
    pool = getattr(client, "connection_pool", None)
    return bool(getattr(pool, "connection_kwargs", {}).get("decode_responses"))
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


#: The about values this request's replies carried, by (prefix, id): see :meth:`RedisIndex.noting`.
_SEEN: ContextVar[dict | None] = ContextVar("dedup_seen_about", default=None)


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
        store_text: keep each article's original text (zlib) with its
            title, url and source (those are kept whenever given).

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
        store_text: bool = True,
    ) -> None:
        if _decodes_responses(client):
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
        self.store_text = bool(store_text)
        self.prefix = f"{prefix}{{{namespace}}}".encode()
        bands, rows = params.banding
        self._band_width = 1 if bands <= 256 else 2
        self.bucket_shards = min(1 << 24, _pow2_at_least(capacity * bands / 64))
        self.id_shards = min(1 << 16, _pow2_at_least(capacity / 64))
        self._siglen = 4 * params.num_perm
        # retention buckets: ~1/32 of the window, at most an hour
        self._bucket_ms = max(1, int(min(3600.0, (retention or 3600.0 * 32) / 32) * 1000))
        parts = (layout.VERSION, params.num_perm, params.seed, bands, rows, self.bucket_shards, self.id_shards)
        self.layout = ":".join(map(str, parts)).encode()
        self._scripts = lua.register(client)
        self._fixed = [self.prefix + k for k in lua.FIXED_KEYS]

    # -- plumbing: the one place Redis's exceptions become the project's -----
    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Every Redis call of this class runs inside this: connection and
        timeout errors become :class:`StoreUnavailable`, the scripts' error
        replies :class:`NamespaceMismatch` and :class:`NotFound`."""
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as e:
            raise StoreUnavailable(f"redis unavailable: {e}") from None
        except ResponseError as e:
            kind, _, detail = str(e).partition(" ")
            if kind == lua.LAYOUT_ERROR:
                raise NamespaceMismatch(self._mismatch(detail)) from None
            if kind == lua.NOTFOUND_ERROR:
                raise NotFound(f"article {detail!r} is not stored in namespace {self.namespace!r}") from None
            raise StoreUnavailable(f"redis refused the request: {e}") from None  # OOM, READONLY, BUSY ...
        except redis.RedisError as e:
            raise StoreUnavailable(f"redis error: {e}") from None

    def _script(self, name: str, keys: list, args: list):
        """Run one registered script (one round trip; redis-py reloads it on NOSCRIPT)."""
        with self._translated():
            return self._scripts[name](keys=[*self._fixed, *keys],
                                       args=[self.prefix, self.layout, self._siglen, *args])

    def _mismatch(self, stored: str) -> str:
        ours = self.layout.decode()
        diff = [f"{n} {a} -> {b}" for n, a, b in zip(_LAYOUT_PARTS, stored.split(":"), ours.split(":")) if a != b]
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

    def _add_args(self, mode: str, fp: Fingerprint, purge: bool = False,
                  old: tuple[bytes, bytes] | None = None) -> tuple[list, list]:
        idkey, digest, ext = self._idkey(fp.id)
        keys, fields = self._buckets(fp.signature)
        tokens = np.ascontiguousarray(fp.tokens, dtype="<u4").tobytes()
        cutoff, limit = (self._cutoff(), self.purge_batch) if purge and self.retention is not None else (0, 0)
        old_iid, old_check, old_keys, old_fields = b"", b"", [], []
        if old is not None:
            old_iid, old_rec = old
            old_check = layout.field_bytes(old_rec, "added")
            old_keys, old_fields = self._buckets(self._unpack(old_rec).signature)
        args = [mode, digest, ext, self._record(fp), tokens, len(keys), cutoff, limit, old_iid, old_check,
                self._about(fp) if mode == "add" else b"", *fields, *old_fields]
        return [idkey, *keys, *old_keys], args

    def _about(self, fp: Fingerprint) -> bytes:
        """The about value to store, after ``=``; ``b""`` (leave it as it is)
        for a fingerprint without its article (a plain Deduplicator, a repair)."""
        a = getattr(fp, "article", None)
        if a is None:
            return b""
        return b"=" + layout.pack_about(a.title, a.url, a.source, a.text if self.store_text else None)

    def _candidates_from(self, flat: list, with_about: bool = False) -> list[Fingerprint]:
        """Decode the script's candidates, leaving out any that already expired
        (the sweep that removes them may still be on its way); ``with_about``:
        the reply carries their about values (a query's), noted."""
        recs = [(flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 4)]
        for i in range(0, len(flat), 4) if with_about else ():
            self._note(self._unpack(flat[i + 1]).id, flat[i + 3])
        if self.retention is not None:
            cutoff = self._cutoff()
            recs = [(r, t) for r, t in recs if self._unpack(r).bucket > cutoff]
        return [self._fingerprint(r, t) for r, t in recs]

    # -- the Index protocol -------------------------------------------------
    def add(self, fp: Fingerprint) -> list[Fingerprint] | None:
        """Atomically return the bounded candidates of ``fp``, then store it
        (one round trip, which also finds a bounded batch of expired articles;
        one more to remove them when there are some, and one more when the id
        was stored with other words; ``None`` and no write but a changed
        ``published`` when it was stored and linked with the same words; the
        candidates again when it is still pending)."""
        out = self._script("ADD", *self._add_args("add", fp, purge=True))
        for _ in range(8):
            if out[1]:
                self._remove_many(out[1])
            if out[0] in (b"ok", b"pending"):
                return self._candidates_from(out[3])
            if out[0] == b"same":
                return None
            out = self._script("ADD", *self._add_args("add", fp, old=(out[2], out[3])))
        raise StoreUnavailable(f"could not replace {fp.id!r}: it keeps changing under concurrent writers")

    def candidates(self, fp: Fingerprint) -> list[Fingerprint]:
        """The bounded candidates of ``fp`` (no write)."""
        return self._candidates_from(self._script("ADD", *self._add_args("query", fp))[3], with_about=True)

    def _get(self, doc_id: str) -> list:
        idkey, digest, ext = self._idkey(doc_id)
        return self._script("GET", [idkey], [digest, ext])

    def get(self, doc_id: str) -> Fingerprint | None:
        """The stored fingerprint of ``doc_id``, or ``None``."""
        out = self._get(doc_id)
        return self._fingerprint(out[1], out[2]) if out else None

    def remove(self, doc_id: str) -> bool:
        """Forget ``doc_id`` and every key entry it touched; ``False`` if unknown."""
        for _ in range(8):
            out = self._get(doc_id)
            if not out:
                return False
            if self._remove_many(out[:2]) == 1:
                return True
        raise StoreUnavailable(f"could not remove {doc_id!r}: it keeps changing under concurrent writers")

    def _remove_many(self, flat: list) -> int:
        """Remove the articles ``{iid, rec, ...}`` in one script call; how many were removed."""
        keys, args = [], []
        for i in range(0, len(flat), 2):
            iid, rec = flat[i], flat[i + 1]
            r = self._unpack(rec)
            idkey, digest, ext = self._idkey(r.id)
            bkeys, fields = self._buckets(r.signature)
            keys += [idkey, *bkeys]
            args += [digest, ext, iid, layout.field_bytes(rec, "added"), *fields]
        if not keys:
            return 0
        return sum(1 for x in self._script("REMOVE", keys, [self.params.banding[0], *args]) if x == 1)

    def attach(self, doc_id: str, links: list[Link]) -> tuple[Story, list[Link]]:
        """Store ``doc_id``'s best link, merge its cluster with every linked
        one's, clear its pending flag: one round trip whatever the sizes.

        Raises:
            NotFound: ``doc_id`` is not stored.
        """
        ka, da, ea = self._idkey(doc_id)
        keys, args = [ka], [da, ea]
        for lk in links:
            kb, db, eb = self._idkey(lk.b)
            keys.append(kb)
            args += [db, eb, layout.pack_link(lk, True)]
        out = self._script("ATTACH", keys, args)
        kept = [links[int(j) - 1] for j in out[3:]]
        if kept:
            self._note(kept[0].b, out[2])
        name, canon = (x.decode("utf-8", "surrogatepass") for x in out[:2])
        return Story(name, canon, kept[0] if kept else None), kept

    def link(self, link: Link) -> str:
        """:meth:`attach` of one link; the surviving cluster id.

        Raises:
            NotFound: either id is not stored.
        """
        story, kept = self.attach(link.a, [link])
        if not kept:
            raise NotFound(f"article {link.b!r} is not stored in namespace {self.namespace!r}")
        return story.cluster

    def _link(self, me: str, other: bytes, value: bytes) -> Link | None:
        return layout.unpack_link(me, other.decode("utf-8", "surrogatepass"), value) if other else None

    def links(self, doc_id: str) -> list[Link]:
        """The article's best link, if any."""
        idkey, digest, ext = self._idkey(doc_id)
        out = self._script("LINKS", [idkey], [digest, ext])
        return [self._link(doc_id, out[0], out[1])] if out else []

    def story(self, doc_id: str, *, text: bool = False) -> Story | None:
        """Cluster id, canonical copy and best link, in one bounded round trip
        (``text``: the article's stored text comes with its about, see :meth:`about`)."""
        return self.stories([doc_id], text=text)[0]

    def stories(self, doc_ids: list[str], *, text: bool = False) -> list[Story | None]:
        """:meth:`story` of several articles in one round trip (one script call)."""
        if not doc_ids:
            return []
        keys, args = self._idkeys(doc_ids)
        got: list[Story | None] = []
        for doc_id, out in zip(doc_ids, self._script("STORY", keys, [int(text), *args])):
            if not out:
                got.append(None)
                continue
            name, canon = (x.decode("utf-8", "surrogatepass") for x in out[:2])
            best = self._link(doc_id, out[2], out[3])
            self._note(doc_id, out[5])
            if best is not None:
                self._note(best.b, out[6])
            got.append(Story(name, canon, best))
        return got

    def members(self, doc_id: str, start: int = 0, count: int = 50) -> Page | None:
        """One page of the cluster holding ``doc_id`` (one round trip, O(count))."""
        idkey, digest, ext = self._idkey(doc_id)
        out = self._script("MEMBERS", [idkey], [digest, ext, max(0, int(start)), max(0, int(count))])
        if not out:
            return None
        ms = []
        for i in range(3, len(out), 6):
            mid = out[i].decode("utf-8", "surrogatepass")
            ms.append((mid, layout.field_value("published", out[i + 1]), int(out[i + 2]),
                       self._link(mid, out[i + 3], out[i + 4])))
            self._note(mid, out[i + 5])
        name, canon = (x.decode("utf-8", "surrogatepass") for x in out[:2])
        return Page(name, canon, int(out[2]), start, ms)

    def cluster(self, doc_id: str) -> tuple[str, list[Member]] | None:
        """The story holding ``doc_id``: its cluster id (stable: its
        founder's id) and each member's ``(id, published, words)``, in one
        round trip (O(cluster size): prefer :meth:`story`, :meth:`members`)."""
        idkey, digest, ext = self._idkey(doc_id)
        out = self._script("CLUSTER", [idkey], [digest, ext])
        if not out:
            return None
        members = [(out[i].decode("utf-8", "surrogatepass"), layout.field_value("published", out[i + 1]), int(out[i + 2]))
                   for i in range(1, len(out), 3)]
        return out[0].decode("utf-8", "surrogatepass"), members

    # -- what a person reads --------------------------------------------------
    @contextmanager
    def noting(self) -> Iterator[None]:
        """Within this block (one request), the about values that replies
        carry (candidates of a query, the best match of an add, a story, a
        cluster page) are kept, so :meth:`about` answers them without
        another round trip."""
        token = _SEEN.set({})
        try:
            yield
        finally:
            _SEEN.reset(token)

    def _note(self, doc_id: str, value: bytes) -> None:
        seen = _SEEN.get()
        if seen is not None:
            seen[self.prefix, doc_id] = value

    def about(self, doc_ids: list[str]) -> dict[str, layout.About]:
        """Title, url, source (and the text, when a :meth:`story` with
        ``text`` read it) of each id: those the replies of this
        :meth:`noting` block carried, the others in one round trip (empty
        for an unknown id)."""
        seen = _SEEN.get() or {}
        values = {i: seen[self.prefix, i] for i in doc_ids if (self.prefix, i) in seen}
        missing = [i for i in dict.fromkeys(doc_ids) if i not in values]
        if missing:
            keys, args = self._idkeys(missing)
            values.update(zip(missing, self._script("ABOUT", keys, args)))
        return {i: layout.unpack_about(values[i]) for i in doc_ids}

    def __len__(self) -> int:
        with self._translated():
            return int(self.client.hget(self.prefix + b"m", b"n") or 0)

    def pending(self, limit: int, added_before: float) -> list[Fingerprint]:
        """Up to ``limit`` articles still pending that were added before
        ``added_before`` (seconds since the epoch), oldest first: one round
        trip, no write."""
        flat = self._script("PENDING_SCAN", [], [repr(float(added_before)), int(limit)])
        return [self._fingerprint(flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3) if flat[i + 1]]

    # -- retention ------------------------------------------------------------
    def _cutoff(self) -> int:
        return int((self.clock() - self.retention) * 1000)

    def purge_expired(self, limit: int = 10_000) -> int:
        """Remove up to ``limit`` articles older than the retention window,
        with every key they touched; returns how many were removed. Runs a
        bounded batch on every :meth:`add` as well."""
        if self.retention is None:
            return 0
        done = 0
        while done < limit:
            scan = self._script("PURGE_SCAN", [], [self._cutoff(), self.purge_batch])
            removed = self._remove_many(scan)
            if not removed:
                break
            done += removed
        return done

    def ping(self) -> bool:
        """``True`` when Redis answers (raises :class:`StoreUnavailable` otherwise)."""
        with self._translated():
            return bool(self.client.ping())

    def keys(self) -> list[bytes]:
        """Every key of this namespace (SCAN; for tests and operators)."""
        pattern = b"".join(b"\\" + bytes([c]) if c in b"*?[]\\" else bytes([c]) for c in self.prefix) + b"*"
        with self._translated():
            return sorted(self.client.scan_iter(match=pattern, count=1000))

    # -- reliability (issue 16): generation marker, export ----------------------
    # One block, appended: the marker that tells a Redis restarted empty from
    # one that kept its data, and the read side of ``dedup export``.
    def _generation_key(self) -> bytes:
        """``<prefix>:generation``: one per Redis (and key prefix), not per namespace."""
        return self.prefix[: self.prefix.index(b"{")] + b":generation"

    def generation(self, known: str | None = None) -> dict:
        """This Redis's generation marker, made when missing.

        ``{"id", "created", "previous", "lost_at"}``: ``id`` is random, made
        once per Redis data set; a Redis that restarts with its data keeps
        it (it is persisted like any key), one restarted empty (or flushed)
        has none. ``known`` is the id the caller saw before: when the marker
        is missing or differs, the new marker records it as ``previous``,
        with ``lost_at`` (seconds since the epoch), for every process to see.
        """
        import json
        import uuid

        key = self._generation_key()
        with self._translated():
            raw = self.client.get(key)
            if raw is None:
                made = {"id": uuid.uuid4().hex, "created": self.clock(), "previous": known,
                        "lost_at": self.clock() if known else None}
                self.client.set(key, json.dumps(made), nx=True)
                raw = self.client.get(key) or json.dumps(made).encode()
            got = json.loads(raw)
            if known and got["id"] != known and not got.get("previous"):  # another process made it first, unaware
                got.update(previous=known, lost_at=self.clock())
                self.client.set(key, json.dumps(got), xx=True)
        return got

    def export(self, batch: int = 500) -> Iterator[tuple[Fingerprint, Story | None, bool, layout.About]]:
        """Every stored article in insertion order: its fingerprint (id,
        signature, word ids, dates), its story, whether it is still pending
        (stored, not yet linked), and its title, url, source and text (as
        stored). What ``dedup export`` writes and ``dedup reindex`` rebuilds
        from; articles removed while it runs are left out. Holds 4 bytes per
        article (the sorted internal ids)."""
        pattern = b"".join(b"\\" + bytes([c]) if c in b"*?[]\\" else bytes([c]) for c in self.prefix) + b"r????"
        with self._translated():
            iids = sorted(k[-4:] for k in self.client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(iids), batch):
            part = iids[start : start + batch]
            with self._translated():
                pipe = self.client.pipeline(transaction=False)
                for iid in part:
                    for kind in (b"r", b"t", b"a"):
                        pipe.get(self.prefix + kind + iid)
                got = pipe.execute()
            found = [(rec, tok, about or b"") for rec, tok, about in zip(got[0::3], got[1::3], got[2::3])
                     if rec is not None and tok is not None]
            fps = [self._fingerprint(rec, tok) for rec, tok, _ in found]
            stories = self.stories([fp.id for fp in fps])
            for fp, story, (rec, _, about) in zip(fps, stories, found):
                yield fp, story, self._unpack(rec).pending, layout.unpack_about(about)
