"""gunicorn settings shared by the image (``gunicorn -c python:dedup_service.gunicorn_conf``)
and ``dedup serve``: the hooks, nothing that the command line sets.

* ``on_starting``: the master loads every numba kernel once, before it forks
  the workers (see :mod:`dedup.warm`), so no worker pays a compile or a cache
  load on its first request.
* ``child_exit``: a dead worker's Prometheus files are marked dead, so
  ``/metrics`` (multi-process mode) stops counting its live gauges.
"""

from __future__ import annotations

from dedup.warm import on_starting

__all__ = ["child_exit", "on_starting"]


def child_exit(server, worker) -> None:
    """gunicorn hook: forget the dead worker's live Prometheus gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
