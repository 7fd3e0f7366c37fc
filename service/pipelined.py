"""Many adds in two pipelined round trips (issue 18): what
:mod:`dedup_service.bulk` needs of a :class:`~dedup_service.store.RedisIndex`
to add a run of articles with the same scripts as one add at a time,
without a round trip per article. A mixin of ``RedisIndex``: its methods
use the index's connection, scripts and error translation."""

from __future__ import annotations

from dedup.index import Fingerprint
from dedup.types import Link
from dedup_service import layout

__all__ = ["PipelinedAdds"]


class PipelinedAdds:
    """The pipelined look-ups and adds of a ``RedisIndex`` (mixed into it)."""

    def _pipelined(self, calls: list[tuple[str, list, list]]) -> list:
        """Run the scripts ``(name, keys, args)`` in one pipeline, one round
        trip (on Redis Cluster, to the master serving the namespace's slot: a
        reshard under way is an error, a rerun goes on): the scripts are
        loaded first (on every master), then called by their digest."""
        if not calls:
            return []
        with self._translated():
            if not getattr(self, "_loaded_for_pipelines", False):
                for script in self._scripts.values():
                    script.sha = self.client.script_load(script.script)
                self._loaded_for_pipelines = True
            client = self.client
            if hasattr(client, "get_node_from_key"):  # RedisCluster: its pipelines refuse scripts; the namespace's node's do not
                client = client.get_redis_connection(client.get_node_from_key(self._fixed[0]))
            pipe = client.pipeline(transaction=False)
            for name, keys, args in calls:
                keys = [*self._fixed, *keys]
                pipe.evalsha(self._scripts[name].sha, len(keys), *keys, self.prefix, self.layout, self._siglen, *args)
            return pipe.execute()

    def look_up_many(self, fps: list[Fingerprint]) -> list[tuple[bool, list[Fingerprint], set[bytes]]] | None:
        """For each fingerprint, in one round trip and without a write:
        whether its add must go alone (its id is stored, or names a live
        story: its add takes a fresh name, see :meth:`add`), its bounded
        candidates (as :meth:`add` would return them now) and the cluster
        roots (internal ids) of those.
        ``None`` when expired articles are waiting to be removed
        (:meth:`purge_expired`, then look up again)."""
        calls = [("PURGE_SCAN", [], [self._cutoff(), 1])] if self.retention is not None else []
        for fp in fps:
            idkey, digest, ext = self._idkey(fp.id)
            calls += [("GET", [idkey], [digest, ext]), ("ADD", *self._add_args("query", fp))]
        out = self._pipelined(calls)
        if self.retention is not None and out.pop(0):
            return None
        got, size = [], layout.record_dtype(self.params.num_perm).itemsize
        for stored, reply in zip(out[0::2], out[1::2]):
            fixed = reply[3][0]  # the packed candidates' records, header and signature back to back
            got.append((bool(stored) or bool(reply[5]), self._candidates_from(reply[3]),
                        {layout.field_bytes(fixed[i:i + size], "root") for i in range(0, len(fixed), size)}))
        return got

    def add_many(self, items: list[tuple[Fingerprint, list[Link] | None]]) -> list[tuple[bytes, list[str], int]]:
        """:meth:`add` (without the purge of expired articles) of each
        fingerprint, then :meth:`attach` of its links when they are not
        ``None``, in order, in one round trip. Returns per item its add's
        status (``b"ok"`` for a new article), the ids of the candidates that
        add found (as :meth:`add` returns them), and how many links the
        attach kept, for the caller to check against what it confirmed."""
        self._list_namespace()
        calls = []
        for fp, links in items:
            calls.append(("ADD", *self._add_args("add", fp)))
            if links is not None:
                calls.append(("ATTACH", *self._attach_args(fp.id, links)))
        out = iter(self._pipelined(calls))
        got = []
        for fp, links in items:
            reply = next(out)
            kept = len(next(out)[4:]) if links is not None else 0  # ATTACH: name, canonical, note, latest, kept...
            ids = [f.id for f in self._candidates_from(reply[3])] if reply[0] in (b"ok", b"pending") else []
            got.append((reply[0], ids, kept))
        return got

    def expired_on_arrival(self, fp: Fingerprint) -> bool:
        """Whether ``fp`` would be expired as soon as it is stored (retention
        by a published date older than the window, or an old ``added``)."""
        return self.retention is not None and self._time_bucket(fp) <= self._cutoff()
