"""The ``dedup`` command line: a thin click layer over the library.

``dedup batch`` clusters a feed dump; ``dedup eval`` measures detection
quality on a labelled set; ``dedup serve`` runs the HTTP service (it needs
the ``service`` extra); ``dedup bench`` runs a benchmark of a source
checkout. Each command lives in its own module and is imported only when it
runs, so ``dedup --help`` loads neither numba nor Flask.
"""

from __future__ import annotations

import importlib
import sys

import click

from dedup import __version__

__all__ = ["cli", "main"]

#: command -> (module, attribute, one-line help shown by ``dedup --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "batch": ("dedup.cli.batch", "batch", "Cluster the articles of a feed dump (JSONL, CSV, .txt folder, RSS/Atom, -)."),
    "eval": ("dedup.cli.eval", "eval_command", "Measure detection quality on a labelled JSONL set."),
    "house": ("dedup.cli.house", "house_command", "Find an outlet's own boilerplate lines in a dump (for --boilerplate)."),
    "serve": ("dedup.cli.serve", "serve_command", "Run the HTTP service (needs the service extra)."),
    "spark": ("dedup.cli.spark", "spark_command", "Cluster a JSON Lines dump with Spark (needs the spark extra)."),
    "bench": ("dedup.cli.bench", "bench_command", "Run a benchmark from bench/ (source checkout only)."),
    "export": ("dedup.cli.export", "export_command", "Write a namespace of the service to JSON Lines (needs the service extra)."),
    "reindex": ("dedup.cli.export", "reindex_command", "Rebuild a namespace from an export or a feed dump (service extra)."),
    "load": ("dedup.cli.export", "load_command", "Load a batch or Spark run's saved state into a namespace (service extra)."),
}


class _LazyGroup(click.Group):
    """A group whose commands are imported when used (click's documented
    lazy-loading pattern); the listing in ``--help`` needs no import."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dedup")
def cli() -> None:
    """Find duplicate and near-duplicate news articles."""


def main() -> None:
    """Console-script entry point. An output that fails while it is written
    (a full disk, ``> /dev/full``) ends the run with one line, not a traceback."""
    try:
        cli()
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"dedup: cannot write output: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
