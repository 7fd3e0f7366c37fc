"""Compile every numba kernel once, into numba's cache, for the types the product uses.

``python -m dedup.warm`` runs one tiny batch through the public paths that
reach a kernel (the batch pipeline, with and without reused-passage search,
and the online :class:`~dedup.Deduplicator`), so each kernel is compiled for
exactly the argument types it gets in real use. With a writable cache
(``NUMBA_CACHE_DIR``, or see :mod:`dedup.jit`) later processes load the
compiled code instead of compiling it: the Dockerfile runs this at
image-build time.

As a gunicorn hook (``on_starting``, which :mod:`dedup_service.gunicorn_conf`, the
image's and ``dedup serve``'s gunicorn settings, use), it loads every kernel once in the master before it
forks the workers, so no worker pays a cache load (or, with no cache, a
compile) on its first request.
"""

from __future__ import annotations

import sys
import time

#: two copies (one with a dateline) and an unrelated text: enough to reach
#: every kernel (signatures, candidate pairs, reused-passage pairs).
_BODY = ("Russian President Vladimir Putin signed treaties on Friday to annex four occupied regions of Ukraine. "
         "Western leaders called the move illegal and promised further sanctions against Moscow. ") * 3
_OTHER = "Shares in Asia rose on Monday as investors weighed fresh data on inflation and interest rates."
#: four paragraphs, and a copy with three of them moved: reaches the order-free kernel ("reused").
_PARAGRAPHS = (
    "Russian President Vladimir Putin signed treaties on Friday to annex four occupied regions of Ukraine, in a "
    "ceremony at the Kremlin attended by the regions' Moscow-installed leaders.",
    "Western leaders called the move illegal and promised further sanctions against Moscow, while Kyiv said it "
    "would keep fighting to take back every part of its territory.",
    "The annexation follows referendums held at gunpoint that the United Nations and most governments have "
    "refused to recognise as legitimate votes of the people living there.",
    "Markets in Europe fell sharply after the announcement, with energy prices rising again as traders feared new "
    "cuts in the supply of Russian gas to the continent this winter.",
)


def warm(batch: bool = True) -> float:
    """Compile (or load) the kernels of the online path and, with ``batch``, of ``dedup batch``; the seconds it took."""
    from dedup import buckets
    from dedup.deduplicator import Deduplicator
    from dedup.params import Params
    from dedup.types import Article

    t0 = time.perf_counter()
    articles = [Article("a", _BODY), Article("b", "KYIV (AP) - " + _BODY), Article("c", _OTHER)]
    if batch:
        from dedup.batch import cluster_articles

        for params in (Params(), Params(reuse=0.25)):
            result = cluster_articles(articles, params)
            if [c.members for c in result.clusters] != [("a", "b")]:
                raise RuntimeError(f"warm-up batch gave unexpected clusters: {result.clusters}")
    buckets.warm()  # the in-memory index's tables: every kernel, growth included
    online = Deduplicator()
    online.add(articles[0])
    if not online.add(articles[1]).duplicates:
        raise RuntimeError("warm-up: the online path missed a copy")
    p = _PARAGRAPHS
    online.add(Article("r1", "\n\n".join(p)))
    if [link.kind for link in online.add(Article("r2", "\n\n".join((p[0], p[3], p[2], p[1])))).duplicates] != ["reused"]:
        raise RuntimeError("warm-up: the online path missed a reordered copy")
    return time.perf_counter() - t0


def on_starting(server) -> None:
    """gunicorn hook: the service's kernels loaded in the master, inherited by every forked worker."""
    seconds = warm(batch=False)
    server.log.info("dedup: numba kernels ready in %.1f s, before forking workers", seconds)


def main() -> int:
    seconds = warm()
    print(f"dedup: numba kernels compiled or loaded in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
