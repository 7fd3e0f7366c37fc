"""The Flask app factory: configuration, the Redis-backed service object,
one JSON error handler, Prometheus metrics.

Example:
    >>> app = create_app({"REDIS_URL": "redis://127.0.0.1:6380/0"})
    >>> app.extensions["dedup"].deduplicator("news")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import threading
import time

import click
import redis
from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry
from werkzeug.exceptions import HTTPException

from dedup.errors import DedupError
from dedup_service import config as cfg
from dedup_service.backpressure import Gate
from dedup_service.errors import RETRY_AFTER_SECONDS, StoreUnavailable, http_error_code
from dedup_service.store import RedisIndex, StoringDeduplicator, written_namespaces

__all__ = ["DedupService", "create_app", "redis_client"]


def redis_client(url: str, timeout: float, cluster: bool = False) -> redis.Redis:
    """A binary client with bounded timeouts and one quick retry, so a Redis
    that is down gives an error within about ``2 * timeout`` seconds;
    ``cluster``: a ``RedisCluster`` that learns the cluster from the node
    ``url`` names (any node)."""
    kw = dict(socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1),
              decode_responses=False)
    if cluster:
        try:  # it asks a node for the cluster's slots now
            return RedisCluster.from_url(url, **kw)
        except (redis.RedisError, RedisClusterException) as e:  # the latter is no RedisError
            raise StoreUnavailable(f"redis cluster at {url}: {e}") from None
    return redis.Redis.from_url(url, health_check_interval=30, **kw)


class DedupService:
    """What the routes need, created once per app: the Redis client and one
    :class:`StoringDeduplicator` over a :class:`RedisIndex` per namespace."""

    def __init__(self, config) -> None:
        self.config = config
        self.params = cfg.params(config)
        self.normaliser = cfg.normaliser(config)  # BOILERPLATE_FILE: the same patterns for every namespace
        self.client = redis_client(config["REDIS_URL"], float(config["REDIS_TIMEOUT"]), bool(config["REDIS_CLUSTER"]))
        self.api_keys = cfg.parse_api_keys(config["API_KEYS"])
        days = config["RETENTION_DAYS"]
        self.retention = float(days) * 86400 if days else None
        self._dedups: dict[str, StoringDeduplicator] = {}
        self._lock = threading.Lock()
        self.gate = Gate(config["MAX_CONCURRENT"], config["MAX_WAITING"], config["QUEUE_TIMEOUT"])
        self._generation: dict | None = None  # the marker this process last saw
        self._generation_checked = 0.0

    #: Seconds between two checks of the generation marker piggybacked on requests.
    GENERATION_CHECK_SECONDS = 5.0

    def generation(self, force: bool = True) -> dict | None:
        """This Redis's generation marker (:meth:`RedisIndex.generation`),
        checked against the one this process saw before: a new one means
        Redis restarted empty (or was flushed), which is logged once, as a
        warning, by every process that notices. ``force=False``: at most
        every :data:`GENERATION_CHECK_SECONDS` (``None`` in between)."""
        now = time.monotonic()
        if not force and now - self._generation_checked < self.GENERATION_CHECK_SECONDS:
            return None
        self._generation_checked = now
        known = self._generation["id"] if self._generation else None
        got = self.index(self.config["DEFAULT_NAMESPACE"]).generation(known)
        if known is not None and got["id"] != known:
            logging.getLogger("dedup_service").warning(
                "redis restarted empty or was flushed: generation %s replaced by %s; the articles stored before "
                "are gone from every namespace: rebuild them with `dedup reindex` (from `dedup export` files or "
                "the feed dumps)", known, got["id"])
            with self._lock:  # the registry of written namespaces went too: each lists itself again
                for d in self._dedups.values():
                    d.index.listed = False
        self._generation = got
        return got

    def index(self, namespace: str) -> RedisIndex:
        """The namespace's index (cheap: no Redis call)."""
        return self.deduplicator(namespace).index  # type: ignore[return-value]

    def deduplicator(self, namespace: str) -> StoringDeduplicator:
        """The namespace's deduplicator, built on first use."""
        with self._lock:
            d = self._dedups.get(namespace)
            if d is None:
                index = RedisIndex(
                    self.client, self.params, namespace=namespace, prefix=self.config["KEY_PREFIX"],
                    capacity=int(self.config["CAPACITY"]), retention=self.retention,
                    retention_by=self.config["RETENTION_BY"], store_text=bool(self.config["STORE_TEXT"]),
                    boilerplate=self.normaliser.boilerplate,
                )
                d = self._dedups[namespace] = StoringDeduplicator(self.params, index, normaliser=self.normaliser)
            return d

    def namespaces(self) -> list[str]:
        with self._lock:
            return sorted(self._dedups)

    def close(self) -> None:
        """Write the pending flags the namespaces' last adds deferred (best
        effort: what Redis misses, a repair does), then close the client."""
        for ns in self.namespaces():
            try:
                self.index(ns).settle()
            except StoreUnavailable:
                pass
        self.client.close()


def _error(code: str, message: str, status: int):
    return jsonify({"error": {"code": code, "message": message}}), status


def _install_metrics(app: Flask, service: DedupService) -> None:
    registry = CollectorRegistry(auto_describe=True)
    requests = Counter("dedup_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry)
    latency = Histogram("dedup_http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry,
                        buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

    class IndexSize:
        def collect(self):
            gauge = GaugeMetricFamily("dedup_index_articles", "Stored articles per namespace", labels=["namespace"])
            try:  # every namespace written to, by any worker: the same series whichever worker answers
                names = written_namespaces(service.client, service.config["KEY_PREFIX"])
                for ns in names:
                    gauge.add_metric([ns], len(service.index(ns)))
            except StoreUnavailable:
                pass
            yield gauge

    registry.register(IndexSize())
    app.extensions["dedup_metrics"] = registry
    exposed = registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # gunicorn workers: sum every process's files
        from prometheus_client import multiprocess

        exposed = CollectorRegistry()
        multiprocess.MultiProcessCollector(exposed)
        exposed.register(IndexSize())

    @app.before_request
    def _start() -> None:
        g.t0 = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(request.method, route).observe(time.perf_counter() - g.get("t0", time.perf_counter()))
        return response

    @app.get("/metrics")
    def metrics():
        """Prometheus text format: request counts, latency histograms, index size."""
        return Response(generate_latest(exposed), content_type=CONTENT_TYPE_LATEST)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then ``DEDUP_*`` variables, then ``test_config``.

    Args:
        test_config: settings that override the defaults and the
            environment (tests, embedding: what the caller passes wins).

    Raises:
        InvalidParams: a setting out of range, naming it (every setting is
            checked once, here).
    """
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(cfg.DEFAULTS)
    app.config.from_prefixed_env(cfg.ENV_PREFIX)
    if test_config:
        app.config.from_mapping(test_config)
    cfg.validate(app.config)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_BATCH_BYTES"])
    app.json.sort_keys = False
    service = DedupService(app.config)
    app.extensions["dedup"] = service

    @app.errorhandler(DedupError)
    def _dedup_error(e: DedupError):
        body, status = _error(e.code, e.message, e.status)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}
        return body, status, headers

    @app.before_request
    def _admit() -> None:  # backpressure: only the routes that talk to Redis wait for a turn
        if request.blueprint == "api":
            slot = service.gate.slot()
            slot.__enter__()  # raises Overloaded (503) when the process is full
            g.dedup_slot = slot
            service.generation(force=False)  # Redis unavailable: 503 now, not after the route's own wait too

    @app.teardown_request
    def _release(exc: BaseException | None) -> None:
        slot = g.pop("dedup_slot", None)
        if slot is not None:
            slot.__exit__(None, None, None)

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        message = e.description or e.name
        if e.code == 413:  # werkzeug's: a body over MAX_CONTENT_LENGTH (its own message names no number)
            message = f"the body is over the limit of {app.config['MAX_CONTENT_LENGTH']} bytes (DEDUP_MAX_BATCH_BYTES)"
        return _error(http_error_code(e.code, e.name), message, e.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):  # Redis's own errors never get here: the store translates them
        app.logger.exception("unhandled error")
        return _error("internal_error", "unexpected server error (logged)", 500)

    @app.cli.command("repair")
    @click.argument("namespaces", nargs=-1)
    @click.option("--limit", default=1000, show_default=True, help="at most this many articles per namespace")
    @click.option("--grace", default=60.0, show_default=True, help="leave articles pending for less (seconds)")
    def repair(namespaces: tuple[str, ...], limit: int, grace: float) -> None:
        """Link the articles that failed requests left half-linked (pending), per namespace (default: the default one)."""
        for ns in namespaces or (app.config["DEFAULT_NAMESPACE"],):
            try:
                click.echo(f"{ns}: {service.deduplicator(ns).repair(limit, grace)} repaired")
            except DedupError as e:  # a bad namespace, Redis down: one line, not a traceback
                raise click.ClickException(f"{ns}: {e.message}") from None

    _install_metrics(app, service)
    from dedup_service.api import articles_blueprint, ops

    app.register_blueprint(articles_blueprint())
    app.register_blueprint(ops)
    from dedup_service.web import web_blueprint

    app.register_blueprint(web_blueprint())
    return app
