"""What ships, run as it runs in the image (no Docker engine here, so by hand).

A wheel of the project is installed non-editable into a fresh root-owned
virtual environment, which is then made read-only; an unprivileged user
(uid 10001, as in the Dockerfile) with a read-only home then runs the
Dockerfile's own warm-up, ``dedup batch`` and the Dockerfile's ``CMD``
(gunicorn) and ``HEALTHCHECK``. The dependencies are the test venv's, seen
through a ``.pth`` path line (which puts the directory on ``sys.path`` but
runs none of its ``.pth`` files, so the editable install stays invisible);
the project itself is imported only from the wheel, which the tests check.

Needs root (to build the read-only tree and drop to uid 10001) and
``setpriv``; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from _processes import stop
from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
UID = 10001  # the Dockerfile's runtime user
SETPRIV = shutil.which("setpriv")

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(os.geteuid() != 0 or SETPRIV is None, reason="needs root and setpriv to run as uid 10001"),
]


def _dockerfile_json(instruction: str) -> list[str]:
    """The exec-form arguments of the Dockerfile's ``CMD`` (or ``HEALTHCHECK ... CMD``)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith(instruction + " "))
    return yaml.safe_load(re.search(r"CMD\s+(\[.*\])\s*$", line).group(1))


def _dockerfile_run_lines() -> list[str]:
    return [ln for ln in DOCKERFILE.read_text().replace("\\\n", " ").splitlines() if ln.startswith("RUN ")]


class Shipped:
    """The installed tree and how to run a command in it as uid 10001."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.home = root / "home"  # root-owned, read-only: like the image's /app
        self.data = root / "data"
        self.python = str(self.venv / "bin" / "python")

    def env(self, cache: Path | None, **extra: str) -> dict[str, str]:
        env = {"PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home),
               "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        if cache is not None:
            env["NUMBA_CACHE_DIR"] = str(cache)
        env.update(extra)
        return env

    def as_user(self, args: list[str]) -> list[str]:
        return _as_user(args)

    def run(self, args: list[str], cache: Path | None, timeout: float = 180, **extra: str):
        t0 = time.perf_counter()
        r = subprocess.run(self.as_user(args), cwd=self.home, env=self.env(cache, **extra),
                           capture_output=True, text=True, timeout=timeout)
        r.seconds = time.perf_counter() - t0
        return r

    def user_dir(self, name: str) -> Path:
        """A fresh directory the user owns (a cache, the metrics dir)."""
        d = self.root / f"{name}-{uuid.uuid4().hex[:8]}"
        d.mkdir()
        os.chown(d, UID, UID)
        return d


def _as_user(args: list[str]) -> list[str]:
    return [SETPRIV, f"--reuid={UID}", f"--regid={UID}", "--clear-groups", "--", *args]


def _base_python() -> str:
    """A Python of this minor version (the ABI of the shared dependencies) that uid 10001 really runs.

    The test venv's own base may live where the user cannot reach (pyenv under
    a 0700 /root): its binary then starts with another libpython, so an
    interpreter counts only if it reports the same version to root and to the user.
    """
    ver = "%d.%d" % sys.version_info[:2]
    probe = ["-c", "import sys; print(sys.version)"]
    for cand in dict.fromkeys([getattr(sys, "_base_executable", sys.executable),
                               f"/usr/local/bin/python{ver}", f"/usr/bin/python{ver}"]):
        if not os.path.exists(cand):
            continue
        mine = subprocess.run([cand, *probe], capture_output=True, text=True)
        theirs = subprocess.run(_as_user([cand, *probe]), capture_output=True, text=True)
        if mine.returncode == theirs.returncode == 0 and mine.stdout == theirs.stdout and mine.stdout.startswith(ver + "."):
            return cand
    pytest.skip(f"no Python {ver} that uid {UID} can run")


def _shared_dependencies(root: Path) -> Path:
    """The test venv's installed packages, minus this project, as a directory of
    symlinks; or of hard links when uid 10001 cannot reach the venv (one made
    under a 0700 ``mktemp -d``, as ``.ci/run`` does)."""
    farm = root / "deps"
    farm.mkdir()
    purelib = Path(sysconfig.get_paths()["purelib"])
    reachable = subprocess.run(_as_user(["test", "-r", str(purelib / "numpy" / "__init__.py")])).returncode == 0
    for entry in purelib.iterdir():
        name = entry.name.lower()
        if name.startswith(("dedup", "__editable__", "_distutils_hack", "distutils-precedence", "__pycache__")) \
                or name.endswith(".pth"):
            continue
        if reachable:
            (farm / entry.name).symlink_to(entry)
        elif entry.is_dir():
            shutil.copytree(entry, farm / entry.name, copy_function=_link_or_copy, symlinks=True)
        else:
            _link_or_copy(entry, farm / entry.name)
    subprocess.run(["chmod", "-R", "a+rX", str(farm)], check=True)
    return farm


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


def _build_isolation() -> list[str]:
    """``--no-build-isolation`` when this venv has the build backend pyproject asks for (saves ~15 s of downloads)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        new_enough = int(version("setuptools").split(".")[0]) >= 77 and version("wheel")
    except PackageNotFoundError:
        return []
    return ["--no-build-isolation"] if new_enough else []


@pytest.fixture(scope="module")
def shipped() -> Shipped:
    root = Path(tempfile.mkdtemp(prefix="dedup-deploy-"))
    root.chmod(0o755)
    s = Shipped(root)
    try:
        # The build context the Dockerfile copies, so the checkout gets no build/ or egg-info.
        src = root / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, src / name)
        for name in ("dedup", "service"):
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *_build_isolation(),
                        "-w", str(root / "dist"), str(src)], check=True, capture_output=True, timeout=300)
        wheel = next((root / "dist").glob("dedup_news-*.whl"))
        subprocess.run([_base_python(), "-m", "venv", "--without-pip", str(s.venv)], check=True, timeout=120)
        site = Path(subprocess.check_output([s.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                            text=True).strip())
        # a path line: on sys.path, but none of its .pth files run
        (site / "_shared_dependencies.pth").write_text(f"{_shared_dependencies(root)}\n")
        # as the Dockerfile: the wheel with the service extra; pip adds only what the shared set lacks
        subprocess.run([sys.executable, "-m", "pip", "--python", s.python, "install", "-q", f"{wheel}[service]"],
                       check=True, capture_output=True, timeout=300)
        subprocess.run(["chmod", "-R", "a-w", str(s.venv)], check=True)
        s.home.mkdir(mode=0o555)
        s.data.mkdir()
        shutil.copy2(ROOT / "seeds" / "sample.jsonl", s.data / "sample.jsonl")
        yield s
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(root)], check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def warmed(shipped) -> Path:
    """A cache dir warmed by the Dockerfile's own warm-up, run as the user (as the image build does)."""
    warm = next((ln for ln in _dockerfile_run_lines() if "dedup.warm" in ln), None)
    assert warm is not None, "the Dockerfile warms numba's cache at build time"
    cmd = warm[len("RUN "):].split()
    cache = shipped.user_dir("cache")
    r = shipped.run(cmd, cache)
    assert r.returncode == 0, r.stderr
    assert "CacheUnavailableWarning" not in r.stderr
    print(f"\n[deploy] warm-up into an empty cache: {r.seconds:.1f} s")
    assert any(cache.rglob("*.nbi")), "the warm-up wrote numba's cache"
    return cache


def _snapshot(cache: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in cache.rglob("*") if p.is_file()}


def _cluster_of_2_and_3(stdout: str) -> None:
    clusters = [json.loads(ln) for ln in stdout.splitlines() if ln.strip()]
    assert [c["members"] for c in clusters] == [["2", "3"]], stdout


def test_the_project_is_imported_from_the_wheel_in_a_read_only_venv(shipped):
    r = shipped.run([shipped.python, "-c", "import os, dedup, dedup.minhash, dedup_service, sys; "
                     "print(dedup.__file__); print(dedup_service.__file__); "
                     "print(os.access(os.path.dirname(dedup.__file__), os.W_OK), os.access(os.environ['HOME'], os.W_OK))"],
                    cache=None)
    assert r.returncode == 0, r.stderr
    dedup_file, service_file, writable = r.stdout.split("\n")[:3]
    for f in (dedup_file, service_file):
        assert f.startswith(str(shipped.venv)), f"{f} is not the installed wheel"
    assert writable == "False False"


def test_warmed_batch_loads_every_kernel_from_the_cache(shipped, warmed):
    before = _snapshot(warmed)
    r = shipped.run(["dedup", "batch", "--quiet", str(shipped.data / "sample.jsonl")], warmed)
    assert r.returncode == 0, r.stderr
    _cluster_of_2_and_3(r.stdout)
    assert "CacheUnavailableWarning" not in r.stderr
    assert _snapshot(warmed) == before, "a kernel was compiled again: the warm-up missed its types"
    print(f"\n[deploy] dedup batch seeds/sample.jsonl, warmed cache: {r.seconds:.2f} s")


def test_a_read_only_warmed_cache_is_not_enough(shipped, warmed):
    """numba writes a probe file before it reads a cache: the cache dir must stay writable (the Dockerfile does)."""
    ro = shipped.root / f"ro-cache-{uuid.uuid4().hex[:8]}"
    shutil.copytree(warmed, ro)
    subprocess.run(["chmod", "-R", "a-w", str(ro)], check=True)
    r = shipped.run([shipped.python, "-c", "import dedup.lsh"], ro)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("CacheUnavailableWarning") == 1, r.stderr


class Gunicorn:
    """The Dockerfile's CMD and HEALTHCHECK, as the user, on a free port."""

    def __init__(self, shipped: Shipped, cache: Path | None, redis_url: str) -> None:
        args = _dockerfile_json("CMD")
        assert args[0] == "gunicorn"
        self.port = free_port()
        args = [a.replace("0.0.0.0:8080", f"127.0.0.1:{self.port}") for a in args]
        assert f"127.0.0.1:{self.port}" in args
        self.shipped, self.cache = shipped, cache
        self.namespace = f"deploy{uuid.uuid4().hex[:8]}"
        self.env = dict(DEDUP_REDIS_URL=redis_url, DEDUP_DEFAULT_NAMESPACE=self.namespace,
                        PROMETHEUS_MULTIPROC_DIR=str(shipped.user_dir("metrics")))
        # the gunicorn console script is in the test venv; its module is the same program
        cmd = shipped.as_user([shipped.python, "-m", "gunicorn", *args[1:]])
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, cwd=shipped.home, env=shipped.env(cache, **self.env),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"gunicorn did not start:\n{self.output()}")
            time.sleep(0.1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def healthcheck(self):
        args = [a.replace("127.0.0.1:8080", f"127.0.0.1:{self.port}") for a in _dockerfile_json("HEALTHCHECK")]
        return self.shipped.run(args, self.cache, timeout=10)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read()), time.perf_counter() - t0

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        stop(self.proc, 20)


def _post_a_copy(server: Gunicorn) -> tuple[float, float]:
    body = ("Russian President Vladimir Putin signed treaties on Friday to annex four occupied regions of Ukraine, "
            "and Western leaders called the move illegal. ") * 3
    status, first, t_first = server.request("POST", "/v1/articles", {"id": "orig", "text": body})
    assert status == 201 and first["duplicates"] == [], first
    status, copy, t_copy = server.request("POST", "/v1/articles", {"id": "copy", "text": "KYIV (AP) - " + body})
    assert status == 201 and [d["id"] for d in copy["duplicates"]] == ["orig"], copy
    return t_first, t_copy


def test_the_image_cmd_serves_with_a_warmed_cache(shipped, warmed, redis_server):
    before = _snapshot(warmed)
    server = Gunicorn(shipped, warmed, redis_server.url)
    try:
        assert server.healthcheck().returncode == 0
        status, ready, _ = server.request("GET", "/readyz")
        assert status == 200 and ready["status"] == "ready" and ready["data_lost"] is None
        t_first, t_copy = _post_a_copy(server)
    finally:
        server.stop()
    log = server.output()
    assert "Traceback" not in log and "CacheUnavailableWarning" not in log, log
    assert _snapshot(warmed) == before, "a worker compiled a kernel: the warm-up missed its types"
    print(f"\n[deploy] gunicorn, warmed cache: first POST {t_first * 1000:.0f} ms, its copy {t_copy * 1000:.0f} ms")
    assert t_first < 1.0 and t_copy < 1.0, (t_first, t_copy)


def test_without_any_writable_cache_it_still_serves_with_one_warning(shipped, redis_server):
    """No NUMBA_CACHE_DIR, read-only package and home: compiled in-process, one warning, no crash."""
    server = Gunicorn(shipped, None, redis_server.url)
    try:
        status, _, _ = server.request("GET", "/readyz")
        assert status == 200
        t_first, t_copy = _post_a_copy(server)
    finally:
        server.stop()
    log = server.output()
    assert "Traceback" not in log, log
    workers = len(re.findall(r"Booting worker", log))
    assert 1 <= log.count("CacheUnavailableWarning") <= workers, log  # one per process, at most
    print(f"\n[deploy] gunicorn, no cache: first POST {t_first:.1f} s, its copy {t_copy:.1f} s")


def test_without_any_writable_cache_batch_still_runs_with_one_warning(shipped):
    r = shipped.run(["dedup", "batch", "--quiet", str(shipped.data / "sample.jsonl")], cache=None)
    assert r.returncode == 0, r.stderr
    _cluster_of_2_and_3(r.stdout)
    assert r.stderr.count("CacheUnavailableWarning") == 1, r.stderr
    print(f"\n[deploy] dedup batch seeds/sample.jsonl, no cache at all: {r.seconds:.1f} s")
