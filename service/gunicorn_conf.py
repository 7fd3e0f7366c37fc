"""gunicorn settings shared by the image (``gunicorn -c python:dedup_service.gunicorn_conf``)
and ``dedup serve``: the hooks, nothing that the command line sets.

* ``on_starting``: the master loads every numba kernel once, before it forks
  the workers (see :mod:`dedup.warm`), so no worker pays a compile or a cache
  load on its first request.
* ``worker_exit``: a worker writes the pending flags its store deferred
  (see ``RedisIndex.attach``) before it exits.
* ``child_exit``: a dead worker's Prometheus files are marked dead, so
  ``/metrics`` (multi-process mode) stops counting its live gauges.
* gunicorn's own error answers (a request line over ``limit_request_line``:
  414, a malformed request: 400, headers too large: 431) are the service's
  JSON, ``{"error": {"code", "message"}}``, not gunicorn's HTML page: gunicorn
  has no setting or hook for that body, so :func:`json_error` replaces
  ``gunicorn.util.write_error`` (same signature; the worker calls it through
  the module) when this file is loaded. tests/reliability check it against
  the installed gunicorn.
* ``control_socket_disable``: no control socket (see below).
* ``graceful_timeout``: on SIGTERM a worker stops accepting and finishes the
  requests it holds for up to this many seconds (gunicorn's default, 30,
  stated here because the image's stop timeout must exceed it).
"""

from __future__ import annotations

import json

import gunicorn.util

from dedup.warm import on_starting

__all__ = ["child_exit", "control_socket_disable", "worker_exit", "graceful_timeout", "json_error", "on_starting"]

graceful_timeout = 30
#: gunicorn 27's control socket lives at one path per home directory: a second
#: server removed the first's, and a read-only home cannot hold it anyway
control_socket_disable = True

#: gunicorn's status -> the service's error code (see the README's "Errors").
_CODES = {400: "bad_request", 403: "forbidden", 414: "request_line_too_long", 417: "expectation_failed",
          431: "headers_too_large", 500: "internal_error", 501: "not_implemented"}


def json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, answering the service's JSON error body."""
    body = json.dumps({"error": {"code": _CODES.get(status_int, "bad_request"), "message": mesg or reason}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    gunicorn.util.write_nonblock(sock, head + body)


gunicorn.util.write_error = json_error


def worker_exit(server, worker) -> None:
    """gunicorn hook, in the worker as it exits: write the pending flags its
    store deferred to its next add (``RedisIndex.settle``), so a restart does
    not leave its last briefs pending until a repair."""
    app = getattr(worker, "wsgi", None)
    service = getattr(app, "extensions", {}).get("dedup") if app is not None else None
    if service is not None:
        try:
            service.close()
        except Exception as exc:  # Redis gone: a repair confirms them later, with the same answer
            server.log.warning("dedup: deferred pending flags not written at exit: %s", exc)


def child_exit(server, worker) -> None:
    """gunicorn hook: forget the dead worker's live Prometheus gauges (only in
    multi-process mode: one worker keeps its metrics in memory)."""
    import os

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
