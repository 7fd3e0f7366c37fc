"""``dedup serve --dev`` with its private redis-server: SIGTERM stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import free_port


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def test_dev_server_stops_its_private_redis_on_sigterm(tmp_path):
    proc, redis_pids = _serve_dev(tmp_path)
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert _gone(redis_pids), "the private redis-server outlived dedup serve --dev"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_bad_setting_is_one_line_not_a_traceback(monkeypatch):
    from click.testing import CliRunner

    from dedup.cli.serve import serve_command

    for name, value, needle in (("DEDUP_PARAMS", '{"similarty": 0.9}', "similarty"),
                                ("DEDUP_API_KEYS", '{"k": 5}', "API_KEYS")):
        monkeypatch.setenv(name, value)
        r = CliRunner().invoke(serve_command, ["--dev", "--redis-url", "redis://127.0.0.1:1/0"])
        monkeypatch.delenv(name)
        assert r.exit_code == 1, r.output
        assert "configuration:" in r.output and needle in r.output and "Traceback" not in r.output


def test_a_data_dir_that_cannot_be_made_is_an_error_not_a_traceback():
    from click.testing import CliRunner

    from dedup.cli.serve import serve_command

    r = CliRunner().invoke(serve_command, ["--dev", "--data-dir", "/proc/nope/redis"])
    assert r.exit_code == 1 and "Error: " in r.output and not isinstance(r.exception, OSError), r.output


def test_the_private_redis_dies_with_a_killed_server(tmp_path):
    proc, redis_pids = _serve_dev(tmp_path)
    try:
        proc.kill()
        proc.wait(10)
        assert _gone(redis_pids), "kill -9 of dedup serve left its redis-server running"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _serve_dev(tmp_path):
    """``dedup serve --dev`` on a free port with a private redis-server:
    ``(process, redis-server pids)`` once it answers /readyz."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEDUP_", "PROMETHEUS_"))}
    exe = Path(sys.executable).parent / "dedup"
    proc = subprocess.Popen([str(exe), "serve", "--dev", "--port", str(port), "--data-dir", str(tmp_path / "redis-data")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not _ready(f"http://127.0.0.1:{port}/readyz"):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
        time.sleep(0.1)
    pids = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid), "redis-server"],
                                           capture_output=True, text=True).stdout.split()]
    assert pids, "no private redis-server found"
    return proc, pids


def _gone(pids) -> bool:
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)
