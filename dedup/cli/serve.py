"""``dedup serve``: run the HTTP service (gunicorn; ``--dev`` for Flask's server).

Only this command needs the service's dependencies (the ``service`` extra);
they are imported when it runs, so the rest of the command line stays light.
Without a Redis URL (``--redis-url`` or ``DEDUP_REDIS_URL``) it starts a
private ``redis-server`` persisting to ``--data-dir``, stopped with the command.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import tempfile
from pathlib import Path

import click

__all__ = ["serve_command"]


def _service_modules():
    try:
        from dedup_service import server
        from dedup_service.errors import ServerError
    except ImportError as exc:
        raise click.ClickException(
            f"dedup serve needs the service extra ({exc.name} is missing): pip install 'dedup-news[service]'"
        ) from None
    return server, ServerError


def _check_configuration(redis_url: str | None, redis_cluster: bool) -> None:
    """Build the app once here, so a bad ``DEDUP_*`` setting is one clear line,
    not a traceback in every gunicorn worker (building it opens no connection)."""
    from dedup.errors import DedupError
    from dedup_service.app import create_app

    try:
        given = {"REDIS_URL": redis_url} if redis_url else {}
        create_app({**given, "REDIS_CLUSTER": True} if redis_cluster else given or None).extensions["dedup"].close()
    except DedupError as exc:
        raise click.ClickException(f"configuration: {exc.message}") from None


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port already taken before a private Redis is started for nothing."""
    import socket

    try:
        with socket.create_server((host, port), reuse_port=False) as _:
            pass
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep loopback unless API keys are set).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--threads", default=20, show_default=True, type=click.IntRange(1, 256), help="Threads per worker.")
@click.option("--timeout", default=30, show_default=True, type=click.IntRange(1, 3600), help="gunicorn worker timeout (s).")
@click.option("--redis-url", envvar="DEDUP_REDIS_URL", default=None, help="Redis to use [env DEDUP_REDIS_URL]; none: start a private one.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".dedup-redis"),
              show_default=True, help="Where the private redis-server persists (when no --redis-url).")
@click.option("--redis-cluster", is_flag=True, envvar="DEDUP_REDIS_CLUSTER",
              help="The Redis is a Redis Cluster; --redis-url names any of its nodes [env DEDUP_REDIS_CLUSTER].")
@click.option("--dev", is_flag=True, help="Flask's development server (one process, reloader off) instead of gunicorn.")
def serve_command(host: str, port: int, workers: int, threads: int, timeout: int, redis_url: str | None,
                  data_dir: Path, redis_cluster: bool, dev: bool) -> None:
    """Run the HTTP service (POST /v1/articles, see /openapi.json)."""
    if redis_cluster and redis_url is None:
        raise click.ClickException("--redis-cluster needs --redis-url (or DEDUP_REDIS_URL) naming a node of the cluster")
    if not dev and workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # before anything imports prometheus_client: it picks multi-process mode at import
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="dedup-metrics-")
    server, ServerError = _service_modules()
    _check_configuration(redis_url, redis_cluster)
    if host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get("DEDUP_API_KEYS"):
        click.echo(f"warning: binding {host} without DEDUP_API_KEYS: anyone who can reach it can write", err=True)
    _check_port_free(host, port)
    redis_died: list[int] = []
    try:
        if redis_url is None:
            proc, redis_url = server.start_private_redis(data_dir)
            owner = os.getpid()  # gunicorn workers are forks: only this process stops the server
            stopping: list[bool] = []

            def _stop() -> None:
                if os.getpid() == owner and proc.poll() is None:
                    stopping.append(True)
                    proc.terminate()
                    proc.wait()

            def _died(code: int) -> None:
                if not stopping and os.getpid() == owner:
                    redis_died.append(code)
                    click.echo(f"dedup serve: the private redis-server exited (code {code}); stopping", err=True)
                    os.kill(owner, signal.SIGTERM)

            atexit.register(_stop)
            server.watch_private_redis(proc, _died)
            if dev:  # Flask's server has no SIGTERM handler: exit cleanly so atexit runs
                signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            click.echo(f"started a private redis-server at {redis_url} (data in {data_dir})", err=True)
        os.environ["DEDUP_REDIS_URL"] = redis_url
        if redis_cluster:
            os.environ["DEDUP_REDIS_CLUSTER"] = "true"
        if dev:
            from dedup_service.app import create_app

            create_app().run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        else:
            try:
                server.run_gunicorn(host, port, workers, threads, timeout)
            except SystemExit as stop:  # gunicorn's master exits by SystemExit, 0 after a SIGTERM
                if redis_died:
                    raise click.ClickException("stopped: the private redis-server is gone") from None
                raise stop
        if redis_died:
            raise click.ClickException("stopped: the private redis-server is gone")
    except ServerError as exc:
        raise click.ClickException(exc.message) from None
    except OSError as exc:  # e.g. a --data-dir that cannot be made
        raise click.ClickException(f"{exc.filename or ''}: {exc.strerror or exc}") from None
