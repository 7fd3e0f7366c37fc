"""``dedup serve``: gunicorn with a private redis-server, end to end on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import free_port
from dedup.cli.serve import serve_command
from dedup_service.server import start_private_redis

ROOT = Path(__file__).resolve().parent.parent


def test_help():
    r = CliRunner().invoke(serve_command, ["--help"])
    assert r.exit_code == 0
    for opt in ("--host", "--port", "--workers", "--redis-url", "--dev"):
        assert opt in r.output


def test_bad_option_exit_code():
    assert CliRunner().invoke(serve_command, ["--port", "0"]).exit_code == 2


def test_private_redis_from_bundled_binary(tmp_path):
    from conftest import redis_server_binary

    proc, url = start_private_redis(tmp_path / "data", binary=redis_server_binary(prefer_bundled=True))
    try:
        import redis

        client = redis.Redis.from_url(url)
        assert client.config_get("appendonly")["appendonly"] in ("yes", b"yes")
    finally:
        proc.terminate()
        proc.wait()


def _redis_pids_in(data_dir: Path) -> list[int]:
    """The redis-servers working in ``data_dir`` (redis rewrites its command
    line, so its --dir is found as the process's working directory)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if "redis" in Path(f"/proc/{pid}/comm").read_text() and os.readlink(f"/proc/{pid}/cwd") == str(data_dir.resolve()):
                found.append(int(pid))
        except OSError:
            pass
    return found


def _get(url: str, data: bytes | None = None):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read()


def _serve(tmp_path, workers: int, **settings: str):
    """``dedup serve`` with ``workers`` (and ``DEDUP_<settings>``) on a free port, ready: (process, base url)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEDUP_", "PROMETHEUS_"))}
    env.update({f"DEDUP_{k}": v for k, v in settings.items()})
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from dedup.cli.serve import serve_command; "
            f"serve_command(['--port', '{port}', '--workers', '{workers}', '--data-dir', {str(tmp_path / 'r')!r}])")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if _get(base + "/readyz")[0] == 200:
                return proc, base
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(proc.stderr.read().decode())
        time.sleep(0.1)


def _chunked_post(base: str, path: str, body: bytes, pause_after: int | None = None) -> tuple[int, dict]:
    """POST ``body`` with ``Transfer-Encoding: chunked`` (no Content-Length),
    waiting a second once ``pause_after`` bytes are sent (the server has read
    past its limit by then, and answered)."""
    import http.client
    from urllib.parse import urlsplit

    def chunks():
        paused = pause_after is None
        for i in range(0, len(body), 65536):
            if not paused and i >= pause_after:
                time.sleep(1)
                paused = True
            yield body[i:i + 65536]

    conn = http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)
    try:
        conn.request("POST", path, body=chunks(), headers={"Content-Type": "application/json"}, encode_chunked=True)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_serve_gunicorn_with_private_redis(tmp_path):
    proc, base = _serve(tmp_path, workers=2)
    try:
        text = "Storm warnings were issued for the whole northern coast as winds reached record speeds overnight."
        status, body = _get(base + "/v1/articles", json.dumps({"id": "a", "text": text}).encode())
        assert status == 201 and json.loads(body)["cluster"] == "a"
        status, body = _get(base + "/v1/articles", json.dumps({"id": "b", "text": "UPDATE: " + text}).encode())
        assert [d["id"] for d in json.loads(body)["duplicates"]] == ["a"]
        metrics = _get(base + "/metrics")[1].decode()
        assert 'dedup_http_requests_total{method="POST",route="/v1/articles",status="201"} 2.0' in metrics
        assert (tmp_path / "r").exists()
        # a chunked body has no Content-Length: the limit holds all the same (it once stored a 30 MB title)
        status, body = _chunked_post(base, "/v1/articles", json.dumps({"id": "c", "text": text, "title": "t" * 3_000_000}).encode())
        assert status == 413 and body["error"]["code"] == "too_large"
        # the client is still sending when the server has refused: it reads the 413, not a broken pipe
        big = json.dumps({"id": "c", "text": text, "title": "t" * 3_000_000}).encode()
        status, body = _chunked_post(base, "/v1/articles", big, pause_after=2_500_000)
        assert status == 413 and body["error"]["code"] == "too_large"
        status, body = _chunked_post(base, "/v1/articles", json.dumps({"id": "c", "text": text, "url": "u" * 9000}).encode())
        assert status == 400 and "limit is 8192" in body["error"]["message"]
        status, body = _chunked_post(base, "/v1/articles", json.dumps({"id": "c", "text": text}).encode())
        assert status == 201 and body["cluster"] == "a"  # a small chunked body is read whole
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    time.sleep(0.3)
    assert _redis_pids_in(tmp_path / "r") == []  # the private redis-server stopped too


def test_serve_with_one_worker_stops_cleanly_on_sigterm(tmp_path):
    """One worker keeps its metrics in memory: the child_exit hook must not
    look for a multi-process folder (it raised, and the exit code was 1)."""
    proc, base = _serve(tmp_path, workers=1)
    try:
        assert _get(base + "/metrics")[0] == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        rc = proc.wait(30)
    assert rc == 0, proc.stderr.read().decode()[-2000:]


def test_a_data_dir_in_use_is_refused_before_a_second_redis_starts(tmp_path):
    from dedup_service.errors import ServerError

    proc, _ = start_private_redis(tmp_path / "data")
    try:
        with pytest.raises(ServerError, match="in use by another dedup serve"):
            start_private_redis(tmp_path / "data")
        assert _redis_pids_in(tmp_path / "data") == [proc.pid]
    finally:
        proc.terminate()
        proc.wait()


def test_a_taken_port_is_refused_before_redis_starts(tmp_path, monkeypatch):
    import socket

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)  # serve_command runs in this process

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        r = CliRunner().invoke(serve_command, ["--port", str(port), "--data-dir", str(tmp_path / "r")])
    assert r.exit_code == 1 and "cannot listen on 127.0.0.1" in r.output
    assert not (tmp_path / "r").exists() and "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_serve_stops_when_its_private_redis_dies(tmp_path):
    proc, base = _serve(tmp_path, workers=1)
    try:
        pids = _redis_pids_in(tmp_path / "r")
        assert len(pids) == 1
        os.kill(pids[0], signal.SIGKILL)
        rc = proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = proc.stderr.read().decode()
    assert rc == 1 and "the private redis-server exited" in err, err[-2000:]
