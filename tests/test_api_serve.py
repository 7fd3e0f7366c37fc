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


def _get(url: str, data: bytes | None = None):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read()


def test_serve_gunicorn_with_private_redis(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEDUP_", "PROMETHEUS_"))}
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from dedup.cli.serve import serve_command; "
            f"serve_command(['--port', '{port}', '--workers', '2', '--data-dir', {str(tmp_path / 'r')!r}])")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(base + "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
            time.sleep(0.1)
        text = "Storm warnings were issued for the whole northern coast as winds reached record speeds overnight."
        status, body = _get(base + "/v1/articles", json.dumps({"id": "a", "text": text}).encode())
        assert status == 201 and json.loads(body)["cluster"] == "a"
        status, body = _get(base + "/v1/articles", json.dumps({"id": "b", "text": "UPDATE: " + text}).encode())
        assert [d["id"] for d in json.loads(body)["duplicates"]] == ["a"]
        metrics = _get(base + "/metrics")[1].decode()
        assert 'dedup_http_requests_total{method="POST",route="/v1/articles",status="201"} 2.0' in metrics
        assert (tmp_path / "r").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    time.sleep(0.3)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(tmp_path / "r") not in ps  # the private redis-server stopped too
