"""Real processes to break on purpose: a redis-server that can be killed with
``kill -9`` and restarted on the same port and data folder, a real gunicorn
serving the app, and a small HTTP client that tells refused connections from
answers. Loopback only; every process is started here and stopped by its pid.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from _processes import stop


def _root_conftest():
    """tests/conftest.py as a module of its own name (``conftest`` is ambiguous with two of them)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_dedup_tests_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_shared = _root_conftest()
free_port, redis_server_binary = _shared.free_port, _shared.redis_server_binary


def wait_for(ready, timeout: float = 30.0, what: str = "condition", interval: float = 0.05):
    """Poll ``ready()`` until it returns something true; raise ``AssertionError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        got = ready()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class ManagedRedis:
    """A private redis-server on a fixed port and folder, so it can be
    ``kill -9``-ed and started again on the same data (or on none)."""

    def __init__(self, *args: str, binary: str | None = None, user: str = "", password: str | None = None,
                 tls: dict | None = None) -> None:
        self.binary = binary or redis_server_binary()
        self.args, self.user, self.password, self.tls = list(args), user, password, tls
        self.dir = tempfile.mkdtemp(prefix="dedup-rel-redis-")
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        auth = f"{self.user}:{self.password}@" if self.password else ""
        return f"{'rediss' if self.tls else 'redis'}://{auth}127.0.0.1:{self.port}/0"

    def version(self) -> tuple[int, ...]:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, check=True).stdout
        return tuple(int(x) for x in out.split("v=")[1].split()[0].split("."))

    def command(self) -> list[str]:
        cmd = [self.binary, "--bind", "127.0.0.1", "--dir", self.dir, "--protected-mode", "yes", "--save", ""]
        if self.version() >= (7,):
            cmd += ["--enable-debug-command", "local"]  # DEBUG SLEEP, to stall it on purpose
        if self.tls:
            cmd += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", self.tls["cert"],
                    "--tls-key-file", self.tls["key"], "--tls-ca-cert-file", self.tls["ca"], "--tls-auth-clients", "no"]
        else:
            cmd += ["--port", str(self.port)]
        return cmd + self.args

    def client(self, **kw) -> redis.Redis:
        return redis.Redis.from_url(self.url, **{"socket_timeout": 5, "socket_connect_timeout": 5, **kw})

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.proc.returncode}: {self.command()}")
            try:
                return self.client(**self._tls_client()).ping()
            except (redis.ConnectionError, redis.BusyLoadingError, OSError):
                return False

        wait_for(up, 20, "redis-server to answer")

    def _tls_client(self) -> dict:
        return {"ssl_ca_certs": self.tls["ca"]} if self.tls else {}

    def stall(self, seconds: float) -> threading.Thread:
        """Make Redis answer nobody for ``seconds`` (``DEBUG SLEEP``, from a thread); returns the thread."""
        t = threading.Thread(target=lambda: self.client(socket_timeout=seconds + 10).execute_command(
            "DEBUG", "SLEEP", str(seconds)))
        t.start()
        time.sleep(0.1)  # the command has reached Redis
        return t

    def kill9(self) -> None:
        """``kill -9``: no shutdown, no final fsync."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def restart_empty(self) -> None:
        """Kill it and start it again with its data folder emptied."""
        self.kill9()
        for f in Path(self.dir).rglob("*"):
            if f.is_file():
                f.unlink()
        self.start()

    def close(self) -> None:
        if self.proc is not None:
            stop(self.proc, 5)
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return json.loads(self.body)


class Gunicorn:
    """``gunicorn -c python:dedup_service.gunicorn_conf`` (the image's command)
    on a free loopback port, configured by ``DEDUP_*`` variables."""

    def __init__(self, workers: int = 2, threads: int = 4, timeout: int = 30, log=None, **settings) -> None:
        self.port = free_port()
        self.metrics_dir = tempfile.mkdtemp(prefix="dedup-rel-metrics-")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEDUP_", "PROMETHEUS_"))}
        env.update({f"DEDUP_{k}": v if isinstance(v, str) else json.dumps(v) for k, v in settings.items()})
        env.update(PROMETHEUS_MULTIPROC_DIR=self.metrics_dir, PYTHONPATH=str(ROOT))
        self.log = log or tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:dedup_service.gunicorn_conf", "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(workers), "--threads", str(threads), "--timeout", str(timeout),
             "dedup_service.app:create_app()"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(ROOT), start_new_session=True,
        )
        self.workers = workers

        def up():
            assert self.proc.poll() is None, f"gunicorn exited: {self.output()}"
            try:
                return self.request("GET", "/healthz").status == 200 and len(self.worker_pids()) == workers
            except OSError:
                return False

        wait_for(up, 90, "gunicorn to answer")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def worker_pids(self) -> list[int]:
        """The master's live children (its workers)."""
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(p) for p in children]

    def request(self, method: str, path: str, body=None, headers: dict | None = None, timeout: float = 30) -> Response:
        """One request on a new connection; raises ``OSError`` (refused, reset) when no answer came."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        except http.client.HTTPException as e:  # RemoteDisconnected, BadStatusLine: no answer
            raise ConnectionError(str(e)) from e
        finally:
            conn.close()

    def post(self, path: str, article: dict, **kw) -> Response:
        return self.request("POST", path, article, **kw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        import shutil

        shutil.rmtree(self.metrics_dir, ignore_errors=True)


#: Words for texts that are far apart from each other (one random draw per text).
WORDS = ["inflation", "markets", "council", "river", "election", "storm", "vaccine", "harbour", "tariff", "minister", "court", "league", "orchestra", "drought", "satellite", "refinery", "strike", "festival", "budget", "pipeline", "senate", "wildfire", "merger", "archive", "glacier", "copper", "railway", "parliament", "hospital", "embassy", "protest", "treaty", "quarterly", "airline", "telescope", "nuclear", "verdict", "museum", "coalition", "monsoon", "refugee", "auction", "bridge", "cathedral", "turbine", "lithium", "mayor", "pension", "border"]


def story(seed: int, words: int = 60) -> str:
    """A text of ``words`` words drawn from :data:`WORDS` by ``seed``: two seeds give unrelated stories."""
    import random

    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


# -- fixtures (here, not in a conftest.py: a second conftest module would shadow
# tests/conftest.py for the suite's `from conftest import ...`) -----------------
@pytest.fixture
def managed_redis():
    """A factory of private redis-servers (``ManagedRedis(*args)``), all stopped after the test."""
    made: list[ManagedRedis] = []

    def make(*args: str, **kw) -> ManagedRedis:
        made.append(ManagedRedis(*args, **kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def gunicorn():
    """A factory of real gunicorn servers of the app (``Gunicorn(workers=, threads=, **DEDUP_settings)``)."""
    made: list[Gunicorn] = []

    def make(**kw) -> Gunicorn:
        made.append(Gunicorn(**kw))
        return made[-1]

    yield make
    for g in made:
        g.stop()


@pytest.fixture
def soak_requested(request):
    """Skip unless the run asked for soak tests (``-m soak``): they take minutes."""
    if "soak" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("a soak of minutes: python -m pytest -m soak -s tests/reliability")
