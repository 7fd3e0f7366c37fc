"""``RedisIndex``: the :class:`dedup.index.Index` protocol on a real Redis.

This module and the two it mixes in, :mod:`dedup_service.decisions` (the
editors' decisions) and :mod:`dedup_service.pipelined` (the pipelined adds
of a bulk load), are the only ones of the project that talk to Redis. The
connection is injected (a binary ``redis.Redis``, ``decode_responses=False``,
with socket timeouts); nothing here creates one.

The keys and their values are :mod:`dedup_service.keyspace`'s (its table is
the key schema); the service's ``StoringDeduplicator`` is in
:mod:`dedup_service.storing`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

import numpy as np
import redis
from redis.exceptions import ResponseError

from dedup.cluster import latest_version
from dedup.errors import InvalidParams, NotFound
from dedup.index import Fingerprint, Member, Page, Story
from dedup.params import Params
from dedup.types import Link
from dedup_service import layout, lua
from dedup_service.decisions import _DECIDING, DecisionStore
from dedup_service.errors import NamespaceMismatch, StoreUnavailable
from dedup_service.keyspace import Keyspace, registry_key, valid_namespace
from dedup_service.pipelined import PipelinedAdds
from dedup_service.storing import ArticleFingerprint, StoringDeduplicator  # re-exported: the app imports them from here

__all__ = ["ArticleFingerprint", "RedisIndex", "StoringDeduplicator", "valid_namespace", "written_namespaces"]


def _decodes_responses(client) -> bool:
    """Whether ``client`` decodes replies to ``str`` (``redis.Redis`` and
    ``RedisCluster`` alike: the latter has no ``connection_pool``)."""
    get_encoder = getattr(client, "get_encoder", None)
    if callable(get_encoder):
        return bool(getattr(get_encoder(), "decode_responses", False))
    pool = getattr(client, "connection_pool", None)
    return bool(getattr(pool, "connection_kwargs", {}).get("decode_responses"))


class _Side(NamedTuple):
    """A link as :func:`dedup.cluster.latest_version` reads one."""

    a: str
    b: str
    kind: str


def _latest(canonical: str, summary: list) -> str:
    """The story's latest version from the scripts' bounded summary
    (``latest_summary`` in :mod:`dedup_service.lua`): ``[]`` when no
    version has an update (the canonical copy), else the last-published
    first copy of a version with an update and the canonical's version's
    first copy; :func:`dedup.cluster.latest_version` picks between them
    as it does over a whole cluster (the later of the two)."""
    if not summary:
        return canonical
    top, first = summary[0:3], summary[3:6]
    when = {x[0].decode("utf-8", "surrogatepass"): (layout.field_value("published", x[1]), int.from_bytes(x[2], "big"))
            for x in (top, first)}
    a, b = (x[0].decode("utf-8", "surrogatepass") for x in (first, top))
    return latest_version(a, [_Side(a, b, "update")], when)


#: Whether the id of this context's last query was stored with the same words (:meth:`RedisIndex.stored`).
_STORED: ContextVar[tuple | None] = ContextVar("dedup_stored", default=None)

#: Deferred pending flags an ADD (or a SETTLE) clears at most, per call.
SETTLE_MAX = 64

#: The about values this request's replies carried, by (prefix, id): see :meth:`RedisIndex.noting`.
_SEEN: ContextVar[dict | None] = ContextVar("dedup_seen_about", default=None)


def written_namespaces(client: redis.Redis, prefix: str) -> list[str]:
    """The namespaces written to under ``prefix`` by any process (one SMEMBERS)."""
    try:
        got = client.smembers(registry_key(prefix))
    except redis.RedisError as e:  # down, a cluster without a quorum, a wrong type: no series, not a 500
        raise StoreUnavailable(f"redis unavailable: {e}") from None
    return sorted(m.decode() for m in got)


class RedisIndex(Keyspace, DecisionStore, PipelinedAdds):
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
        boilerplate: the extra patterns of the normaliser the fingerprints
            are made with (``Normaliser.boilerplate``): part of the layout,
            so a namespace is never fed words made with other patterns.

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
        boilerplate: tuple[str, ...] = (),
    ) -> None:
        if _decodes_responses(client):
            raise InvalidParams("client: needs decode_responses=False (keys and values are binary)")
        if not (isinstance(purge_batch, int) and purge_batch >= 1):
            raise InvalidParams(f"purge_batch={purge_batch!r}: must be an int >= 1")
        super().__init__(params, namespace=namespace, prefix=prefix, capacity=capacity, retention=retention,
                         retention_by=retention_by, clock=clock, store_text=store_text, boilerplate=boilerplate)
        self.client, self.purge_batch = client, purge_batch
        self._scripts = lua.register(client)
        # Articles confirmed without a link whose pending flag is still set
        # (iid + added each): the next ADD, or settle(), clears it (see attach).
        self._unsettled: deque[bytes] = deque()
        # .done: this thread's last add that stored a pending article; .named: (id, the fresh name of its story)
        self._last_add = threading.local()
        self.listed = False  # listed in the registry (``registry_key``) by this process; the app clears it on a flush

    def _list_namespace(self) -> None:
        """List the namespace as written to, once per process: every worker's ``/metrics`` then names it."""
        if not self.listed:
            with self._translated():
                self.client.sadd(self.registry, self.namespace)
            self.listed = True

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

    def _add_args(self, mode: str, fp: Fingerprint, purge: bool = False,
                  old: tuple[bytes, bytes] | None = None, settle: bytes = b"") -> tuple[list, list]:
        idkey, digest, ext = self._idkey(fp.id)
        keys, fields = self._buckets(fp.signature)
        tokens = np.ascontiguousarray(fp.tokens, dtype="<u4").tobytes()
        cutoff, limit = (self._cutoff(), self.purge_batch) if purge and self.retention is not None else (0, 0)
        vkeys, vfields = self._values(fp.signature, len(fp.tokens))
        old_iid, old_check, old_keys, old_args = b"", b"", [], []
        if old is not None:
            old_iid, old_rec = old
            old_check = layout.field_bytes(old_rec, "added")
            old_sig = self._unpack(old_rec).signature
            old_keys, old_fields = self._buckets(old_sig)
            old_vkeys, old_vfields = self._values(old_sig)  # the script checks whether it had them
            old_keys, old_args = [*old_keys, *old_vkeys], [*old_fields, old_vfields]
        p = self.params
        args = [mode, digest, ext, self._record(fp), tokens, len(keys), cutoff, limit, old_iid, old_check,
                self._about(fp) if mode == "add" else b"", p.min_contained_tokens, repr(float(p.containment)),
                p.shingle_size, *fields, vfields, *old_args, settle]
        return [idkey, *keys, *vkeys, *old_keys], args

    def _candidates_from(self, packed: list, with_about: bool = False) -> list[Fingerprint]:
        """Decode the script's packed candidates in one go, leaving out any
        that already expired (the sweep that removes them may still be on
        its way); ``with_about``: their about values (a query's) noted."""
        if not packed[0]:  # none (most adds)
            return []
        got = layout.unpack_candidates(packed, self.params.num_perm)
        head = got.head
        if with_about:
            for doc_id, about in zip(got.ids, got.abouts):
                self._note(doc_id, about)
        live = (head["bucket"] > self._cutoff()).tolist() if self.retention is not None else [True] * len(head)
        sigs = head["signature"].astype(np.uint32)  # one copy, native order, each row contiguous
        pubs, added = head["published"].tolist(), head["added"].tolist()
        return [Fingerprint(id=got.ids[j], signature=sigs[j], tokens=got.tokens[j],
                            published=None if pubs[j] != pubs[j] else pubs[j], added=added[j])
                for j in range(len(head)) if live[j]]

    # -- the Index protocol -------------------------------------------------
    def add(self, fp: Fingerprint) -> list[Fingerprint] | None:
        """Atomically return the bounded candidates of ``fp``, then store it
        (one round trip, which also finds a bounded batch of expired articles
        and clears the pending flags that :meth:`attach` left to it; one more
        to remove the expired ones when there are some, and one more when
        the id was stored with other words; a story founded under an id a
        live story holds takes its fresh name in the same call); ``None``
        and no write but a changed ``published`` when it was stored and
        linked with the same words; the candidates again when it is still
        pending)."""
        self._list_namespace()
        self._last_add.done = self._last_add.named = None
        settle = self._take_unsettled()
        try:
            keys, args = self._add_args("add", fp, purge=True, settle=settle)
            out = self._script("ADD", keys, args)
        except BaseException:
            self._requeue(settle)
            raise
        old = None
        for _ in range(8):
            if out[1]:
                self._remove_many(out[1])
            if out[0] in (b"ok", b"pending"):
                _DECIDING.set((self.prefix, out[4]))  # for decision_view: no round trip to ask
                found = self._candidates_from(out[3])
                if out[5]:  # its story's fresh name (a retry's too: founded() answers it)
                    self._last_add.named = (fp.id, out[5].decode("utf-8", "surrogatepass"))
                if out[0] == b"ok" and out[3][0]:  # stored pending (it had candidates): attach() settles it
                    mine = out[2] + layout.field_bytes(args[3], "added")
                    if found:
                        self._last_add.done = (fp.id, mine)
                    else:  # every candidate expired meanwhile: nothing to confirm, nothing to link
                        self._unsettled.append(mine)
                return found
            if out[0] == b"same":
                return None
            old = (out[2], out[3])  # exists: stored with other words, replaced knowing its old bands
            keys, args = self._add_args("add", fp, old=old)
            out = self._script("ADD", keys, args)
        raise StoreUnavailable(f"could not replace {fp.id!r}: it keeps changing under concurrent writers")

    def _take_unsettled(self) -> bytes:
        """Up to :data:`SETTLE_MAX` deferred pending flags, packed, taken off the queue."""
        got = []
        while len(got) < SETTLE_MAX:
            try:
                got.append(self._unsettled.popleft())
            except IndexError:  # none left (another thread may have taken the last one)
                break
        return b"".join(got)

    def _requeue(self, settle: bytes) -> None:
        """Put back what a failed call was to settle (clearing a flag twice is harmless)."""
        step = layout.IID + layout.RECORD["added"].size
        self._unsettled.extend(settle[j : j + step] for j in range(0, len(settle), step))

    def settle(self) -> None:
        """Clear now the pending flags :meth:`attach` left to the next add
        (one round trip per :data:`SETTLE_MAX`, none when there are none)."""
        while settle := self._take_unsettled():
            try:
                self._script("SETTLE", [], [settle])
            except BaseException:
                self._requeue(settle)
                raise

    def candidates(self, fp: Fingerprint) -> list[Fingerprint]:
        """The bounded candidates of ``fp`` (no write)."""
        out = self._script("ADD", *self._add_args("query", fp))
        _DECIDING.set((self.prefix, out[4]))  # for decision_view: no round trip to ask
        _STORED.set((self.prefix, fp.id, out[2] == b"1"))  # for stored: no round trip to ask
        return self._candidates_from(out[3], with_about=True)

    def stored(self, fp: Fingerprint) -> bool:
        """Whether ``fp``'s id is stored with the same words: from the last
        :meth:`candidates` call of ``fp`` in this context (no round trip),
        else one GET."""
        known = _STORED.get()
        if known is not None and known[:2] == (self.prefix, fp.id):
            return known[2]
        got = self.get(fp.id)
        return got is not None and np.array_equal(got.tokens, fp.tokens)

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
            vkeys, vfields = self._values(r.signature)  # the script checks whether it had them
            keys += [idkey, *bkeys, *vkeys]
            args += [digest, ext, iid, layout.field_bytes(rec, "added"), vfields, *fields]
        if not keys:
            return 0
        p = self.params
        head = [p.banding[0], p.num_perm if self.value_shards else 0, p.min_contained_tokens]
        return sum(1 for x in self._script("REMOVE", keys, [*head, *args]) if x == 1)

    def _attach_args(self, doc_id: str, links: list[Link]) -> tuple[list, list]:
        """The keys and arguments of ATTACH (:meth:`attach`)."""
        ka, da, ea = self._idkey(doc_id)
        keys, args = [ka], [da, ea]
        for lk in links:
            kb, db, eb = self._idkey(lk.b)
            keys.append(kb)
            args += [db, eb, layout.pack_link(lk, True)]
        return keys, args

    def attach(self, doc_id: str, links: list[Link]) -> tuple[Story, list[Link]]:
        """Store ``doc_id``'s best link, merge its cluster with every linked
        one's, clear its pending flag: one round trip whatever the sizes.

        No round trip when there is no link to store for the article this
        thread's last :meth:`add` just stored (a template brief among its
        look-alikes): its story is its own, as that add left it, and its
        pending flag is cleared by the next :meth:`add` (any thread's) or
        :meth:`settle`. Until then a retry or a repair confirms it again
        and finds what this one found.

        Raises:
            NotFound: ``doc_id`` is not stored.
        """
        done, self._last_add.done = getattr(self._last_add, "done", None), None
        if not links and done is not None and done[0] == doc_id:
            self._unsettled.append(done[1])
            return Story(self.founded(doc_id), doc_id, None, doc_id), []  # its own story, its own latest version
        out = self._script("ATTACH", *self._attach_args(doc_id, links))
        kept = [links[int(j) - 1] for j in out[4:]]
        if kept:
            self._note(kept[0].b, out[2])
        name, canon = (x.decode("utf-8", "surrogatepass") for x in out[:2])
        return Story(name, canon, kept[0] if kept else None, _latest(canon, out[3])), kept

    def founded(self, doc_id: str) -> str:
        """The name of the story this thread's last :meth:`add` founded for
        ``doc_id``, or found it in when it was a retry of a pending article
        (no round trip: that add's reply said): its id, unless a live story
        held it (a fresh name, ``<id>~2`` ...)."""
        named = getattr(self._last_add, "named", None)
        return named[1] if named is not None and named[0] == doc_id else doc_id

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
            name, canon, partner = (x.decode("utf-8", "surrogatepass") for x in (out[0], out[1], out[8]))
            best = self._link(doc_id, out[2], out[3])
            self._note(doc_id, out[5])
            if best is not None or partner:
                self._note(best.b if best is not None else partner, out[6])
            got.append(Story(name, canon, best, _latest(canon, out[7]), partner or None))
        return got

    def members(self, doc_id: str, start: int = 0, count: int = 50) -> Page | None:
        """One page of the story named ``doc_id``, else of the cluster holding the article ``doc_id`` (one round trip, O(count))."""
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
            values.update(zip(missing, self._script("ABOUT", keys, [0, *args])))
        return {i: layout.unpack_about(values[i]) for i in doc_ids}

    def texts(self, doc_ids: list[str]) -> dict[str, str | None]:
        """The stored original text of each id (``None``: not stored, or
        stored without it): within a :meth:`noting` block those an earlier
        call read are not read again, the others in one round trip."""
        seen = _SEEN.get()
        known = {} if seen is None else {i: seen[self.prefix, i, "text"] for i in doc_ids if (self.prefix, i, "text") in seen}
        missing = [i for i in dict.fromkeys(doc_ids) if i not in known]
        if missing:
            keys, args = self._idkeys(missing)
            for i, v in zip(missing, self._script("ABOUT", keys, [1, *args])):
                self._note(i, v)
                known[i] = layout.unpack_about(v).text
                if seen is not None:
                    seen[self.prefix, i, "text"] = known[i]
        return {i: known[i] for i in doc_ids}

    def __len__(self) -> int:
        with self._translated():
            return int(self.client.hget(self.prefix + b"m", b"n") or 0)

    def pending(self, limit: int, added_before: float) -> list[Fingerprint]:
        """Up to ``limit`` articles still pending that were added before
        ``added_before`` (seconds since the epoch), oldest first: one round
        trip and no write, once :meth:`settle` wrote what this process deferred."""
        self.settle()
        flat = self._script("PENDING_SCAN", [], [repr(float(added_before)), int(limit)])
        return [self._fingerprint(flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3) if flat[i + 1]]

    # -- retention ------------------------------------------------------------
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
        self.settle()  # what this process deferred is not pending
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

    # -- the page's views (issue 17) -------------------------------------------
    def recent(self, start: int = 0, count: int = 50) -> tuple[list[dict], int]:
        """The stored articles among the ``count`` newest internal ids from
        ``start`` (0: the newest), newest first: ``id``, ``title``,
        ``source``, ``added``, ``published``, ``cluster``, ``seq`` (its
        internal number: a cursor); and where the
        next page starts (0: none left). One round trip, O(count)."""
        out = self._script("RECENT", [], [int(start), int(count)])
        got = []
        for i in range(1, len(out), 6):
            about = layout.unpack_about(out[i + 5])
            got.append({"seq": int(out[i]), "id": out[i + 1].decode("utf-8", "surrogatepass"), "title": about.title, "source": about.source,
                        "added": layout.field_value("added", out[i + 2]),
                        "published": layout.field_value("published", out[i + 3]),
                        "cluster": out[i + 4].decode("utf-8", "surrogatepass")})
        return got, int(out[0])

    def pending_count(self) -> int:
        """Articles stored but not linked yet (their add is in flight, or failed: see repair)."""
        with self._translated():
            return int(self.client.zcard(self.prefix + b"p"))
