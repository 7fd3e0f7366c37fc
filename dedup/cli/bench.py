"""``dedup bench``: run one of the repository's benchmarks.

The benchmarks live in ``bench/`` beside the packages (they read the corpora
in ``../shared/data`` and write ``bench/results/``); this command finds and
runs them with the current interpreter, passing the remaining arguments on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

__all__ = ["bench_command", "BENCHMARKS"]

#: name -> (script, arguments put before the user's)
BENCHMARKS = {
    "minhash": ("bench_minhash.py", []),
    "batch": ("bench_batch.py", []),
    "service": ("bench_service.py", []),
    "quality": ("eval_search.py", ["--quality"]),
    "dump": ("make_dump.py", []),
}


def bench_dir() -> Path:
    """``bench/`` of the source checkout this package runs from (editable
    install), else ``./bench`` (a checkout beside a regular install)."""
    beside = Path(__file__).resolve().parents[2] / "bench"
    return beside if beside.is_dir() else Path.cwd() / "bench"


@click.command("bench", context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]})
@click.argument("which", type=click.Choice(sorted(BENCHMARKS)))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_command(which: str, args: tuple[str, ...]) -> None:
    """Run a benchmark from bench/ (minhash, batch, service, quality, dump).

    Extra arguments go to the script, e.g. ``dedup bench batch --sizes 10000``;
    ``dedup bench minhash -- --help`` shows a script's own options.
    """
    script, pre = BENCHMARKS[which]
    path = bench_dir() / script
    if not path.exists():
        raise click.ClickException(
            f"{path} not found: the benchmarks ship with the source checkout, not the package; run this from a "
            "checkout, installed with: pip install -e '.[bench]'")
    raise SystemExit(subprocess.call([sys.executable, str(path), *pre, *args], cwd=path.parent.parent))
