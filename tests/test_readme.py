"""Every example in the README that can run here runs, so the README cannot
drift from the product.

* Each ```python block runs as written; a ``print(...)  # -> VALUE`` line
  must print exactly VALUE.
* Each ``dedup batch`` / ``dedup eval`` line of a ```sh block runs in a
  scratch folder with its input files provided (``INPUTS`` names them: a
  README line reading a file not listed there fails this test, so a new
  example cannot go unchecked). ``dedup serve``, ``dedup bench``,
  ``docker compose`` and commands aimed at a Redis on port 6379 are not run.
* Each ``curl`` line runs against a real server (the app on the suite's
  private Redis, served over HTTP on a free port); it must succeed, and
  where the README shows the answer (``# {...}``), the answer must have the
  shown fields, with the shown ids, kinds and statuses (numbers and ``...``
  are not compared).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SAMPLE = ROOT / "seeds" / "sample.jsonl"
TINY = ROOT / "seeds" / "eval_tiny.jsonl"

#: README file names -> the file each example reads here.
INPUTS = {
    "seeds/sample.jsonl": SAMPLE,
    "dump.jsonl": SAMPLE,
    "LABELLED.jsonl": TINY,
    "/tmp/eval_full.jsonl": TINY,
    "/tmp/eval_full_seed7.jsonl": TINY,
}
_NOT_RUN = ("dedup serve", "dedup bench", "docker ", "redis-server", "6379")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, re.S | re.M)


def _commands(block: str) -> list[str]:
    """The block's commands, continuation lines joined, comments dropped."""
    out, cur = [], ""
    for line in block.splitlines():
        if line.startswith("#") and not cur:
            continue
        cur += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            out.append(cur.strip())
            cur = ""
    return [c for c in out if c]


# -- Python -------------------------------------------------------------------

PY_BLOCKS = _blocks("python")


def test_readme_has_python_examples():
    assert PY_BLOCKS, "the README's Python API section lost its example"


@pytest.mark.parametrize("block", PY_BLOCKS, ids=[f"python-{i}" for i in range(len(PY_BLOCKS))])
def test_python_block_runs_and_prints_what_it_says(block, tmp_path):
    expected = [m.group(1).strip() for line in block.splitlines()
                if line.lstrip().startswith(("print(", "    print(")) and (m := re.search(r"# .*?-> (.*)$", line))]
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == expected


# -- command lines ------------------------------------------------------------

CLI_LINES = [c for b in _blocks("sh") for c in _commands(b)
             if c.startswith(("dedup ", "python3 -m venv")) and not any(x in c for x in _NOT_RUN)]


def test_readme_cli_lines_found():
    assert any(c.startswith("dedup batch") for c in CLI_LINES)


def _prepare(cmd: str, where: Path) -> str:
    """``cmd`` with every input file it names copied into ``where``."""
    if cmd.startswith("python3 -m venv"):  # the set-up line: its last command is the main job
        cmd = cmd.split("&&")[-1].strip()
    words = cmd.split()
    for w in words[2:]:
        if w.startswith("-") or "." not in w:
            continue
        if w in INPUTS:
            dest = where / w.lstrip("/").replace("/", "_")
            shutil.copy(INPUTS[w], dest)
            cmd = cmd.replace(w, dest.name)
        elif not any(w == o for o in _output_names(words)):
            raise AssertionError(f"README line {cmd!r} reads {w!r}: add it to INPUTS in tests/test_readme.py")
    return cmd


def _output_names(words: list[str]) -> list[str]:
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("--clusters", "--deduped", "--report", "--html")]


@pytest.mark.parametrize("cmd", CLI_LINES)
def test_cli_line_runs(cmd, tmp_path):
    line = _prepare(cmd, tmp_path)
    exe = Path(sys.executable).parent / "dedup"
    r = subprocess.run(str(exe) + line[len("dedup"):], shell=True, cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, f"{line}\n{r.stderr}"
    if line.startswith("dedup batch") and "sample" in line and "--clusters" not in line:
        clusters = [json.loads(x) for x in r.stdout.splitlines()]
        assert [c["members"] for c in clusters] == [["2", "3"]]


# -- curl ---------------------------------------------------------------------

def _curl_examples() -> list[tuple[str, str | None]]:
    """``(command, shown answer or None)`` in README order."""
    out = []
    for block in _blocks("sh"):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.startswith("curl "):
                i += 1
                continue
            cmd = line
            while cmd.endswith("\\"):
                i += 1
                cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
            cmd = re.sub(r"\s+#.*$", "", cmd) if "'" not in cmd.split("#")[-1] else cmd
            shown = []
            while i + 1 < len(lines) and lines[i + 1].startswith("# "):
                i += 1
                shown.append(lines[i][2:])
            out.append((cmd.strip(), "\n".join(shown) or None))
            i += 1
    return out


CURLS = _curl_examples()


def _like(shown, got, where: str = "") -> None:
    """``got`` has every field of ``shown``; ids, kinds, codes and statuses equal."""
    if isinstance(shown, dict):
        assert isinstance(got, dict), f"{where}: expected an object, got {got!r}"
        for k, v in shown.items():
            assert k in got, f"{where}: missing field {k!r} in {got!r}"
            _like(v, got[k], f"{where}.{k}")
    elif isinstance(shown, list):
        assert isinstance(got, list), f"{where}: expected a list, got {got!r}"
        assert len(got) >= len(shown) or not shown, f"{where}: {got!r}"
        for n, (a, b) in enumerate(zip(shown, got)):
            _like(a, b, f"{where}[{n}]")
    elif isinstance(shown, str):
        if "..." not in shown:
            assert got == shown, f"{where}: {got!r} != {shown!r}"
    elif isinstance(shown, bool) or shown is None:
        assert got == shown, f"{where}: {got!r} != {shown!r}"


@pytest.fixture(scope="module")
def live_server(redis_server):
    from werkzeug.serving import make_server

    from dedup_service.app import create_app

    app = create_app({"REDIS_URL": redis_server.url, "DEFAULT_NAMESPACE": "readme", "KEY_PREFIX": "readme"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    index = app.extensions["dedup"].index("readme")
    for key in index.keys():
        index.client.delete(key)
    app.extensions["dedup"].close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_examples_answer_as_shown(live_server, tmp_path):
    assert len(CURLS) >= 8, "the README's HTTP examples were lost"
    (tmp_path / "articles.jsonl").write_text(
        json.dumps({"id": "wire-1", "text": "Oil prices rose on Monday after the producers agreed to cut output."})
        + "\n" + json.dumps({"id": "wire-2"}) + "\n")
    for cmd, shown in CURLS:
        run = cmd.replace("localhost:8080", f"127.0.0.1:{live_server}")
        r = subprocess.run(run + " -w '\\n%{http_code}'", shell=True, cwd=tmp_path, capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, f"{cmd}: {r.stderr}"
        body, _, status = r.stdout.rpartition("\n")
        assert status.startswith(("2",)), f"{cmd}: HTTP {status}: {body}"
        if shown is None:
            continue
        shown_lines = [json.loads(x) for x in _json_values(shown)]
        got_lines = [json.loads(x) for x in body.splitlines() if x.strip()]
        assert len(got_lines) >= len(shown_lines), f"{cmd}: {body}"
        for n, (want, got) in enumerate(zip(shown_lines, got_lines)):
            _like(want, got, f"{cmd} line {n + 1}")


def _json_values(shown: str) -> list[str]:
    """The JSON values of a shown answer (one per line, or one spread over lines)."""
    try:
        json.loads(shown)
        return [shown]
    except ValueError:
        return [x for x in shown.splitlines() if x.strip()]
