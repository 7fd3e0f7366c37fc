"""docker-compose.yml and the Dockerfile, checked without a Docker engine."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dedup_service.config import DEFAULTS, ENV_PREFIX

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(__import__("sys").executable).parent))
    if not found:
        pytest.fail(f"{name} is a test dependency (pyproject [test] extra) but is not installed")
    return found


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_matches_the_compose_spec():
    r = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_passes_hadolint():
    r = subprocess.run([_tool("hadolint"), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_redis_is_persistent_and_healthchecked(compose):
    redis = compose["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    volume, _, target = redis["volumes"][0].partition(":")
    assert target == "/data" and volume in compose["volumes"]  # a named volume, not a bind mount
    assert "ping" in " ".join(redis["healthcheck"]["test"])


def test_service_waits_for_a_healthy_redis_and_is_healthchecked(compose):
    svc = compose["services"]["dedup"]
    assert svc["build"] == "." and DOCKERFILE.exists()
    assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(svc["healthcheck"]["test"])
    assert svc["environment"]["DEDUP_REDIS_URL"].startswith("redis://redis:")


def test_env_names_are_settings_the_app_reads(compose):
    for name in compose["services"]["dedup"]["environment"]:
        assert name.startswith(ENV_PREFIX + "_"), name
        assert name[len(ENV_PREFIX) + 1:] in DEFAULTS, f"{name} is not a setting of service/config.py"


def test_commands_exist():
    """The image's CMD runs gunicorn on the app factory; the healthcheck routes exist."""
    from dedup_service.app import create_app

    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.M).group(1)
    args = yaml.safe_load(cmd)
    assert args[0] == "gunicorn" and args[-1] == "dedup_service.app:create_app()"
    assert shutil.which("gunicorn") or (Path(__import__("sys").executable).parent / "gunicorn").exists()
    app = create_app({"REDIS_URL": "redis://127.0.0.1:1/0"})
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert {"/healthz", "/readyz"} <= rules
    for src in ("dedup", "service", "pyproject.toml"):
        assert (ROOT / src).exists()


def test_image_warms_numba_as_the_runtime_user_into_a_cache_it_can_write():
    """Compiled at build time, as uid 10001 (numba needs the cache dir writable at load time too)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines()]
    cache = re.search(r"NUMBA_CACHE_DIR=(\S+)", text).group(1)
    user = lines.index("USER 10001")
    warm = next(i for i, ln in enumerate(lines) if ln.startswith("RUN ") and "dedup.warm" in ln)
    assert warm > user, "warm the cache as the runtime user, so it owns what numba wrote"
    chown = next(ln for ln in lines[:user] if "chown" in ln)
    assert "$NUMBA_CACHE_DIR" in chown or cache in chown
    cmd = yaml.safe_load(re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.M).group(1))
    assert cmd[1:3] == ["-c", "python:dedup_service.gunicorn_conf"], "the service's gunicorn hooks"
    from dedup.warm import on_starting
    from dedup_service import gunicorn_conf

    assert gunicorn_conf.on_starting is on_starting, "the gunicorn master loads the kernels before forking"
    assert callable(gunicorn_conf.child_exit)
