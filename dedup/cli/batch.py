"""``dedup batch``: cluster the articles of a feed dump (a thin layer over
:func:`dedup.cluster_articles`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from dedup.batch import cluster_articles, write_deduped
from dedup.cli.options import params_from_options, params_options
from dedup.cli.readers import FORMATS, count_records, read_records, spool_stdin
from dedup.normalisation import Normaliser

__all__ = ["batch"]

# A record is read only up to this many times Params.max_text_bytes (its
# text, JSON escapes, other fields), and at least _MIN_RECORD_BYTES.
_RECORD_PER_TEXT_BYTES = 10
_MIN_RECORD_BYTES = 1 << 20


@click.command()
@click.argument("input_path", metavar="INPUT")
@click.option("--clusters", "clusters_path", type=click.Path(dir_okay=False, writable=True),
              help="Write clusters of 2+ articles here (default: stdout when no output is named).")
@click.option("--deduped", "deduped_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the input minus non-canonical copies (JSONL), canonicals annotated with their duplicates.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True), help="Write a JSON summary here.")
@click.option("--format", "out_format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="Format of --clusters.")
@click.option("--input-format", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True)
@click.option("--id-field", default="id", show_default=True)
@click.option("--text-field", default="text", show_default=True)
@click.option("--boilerplate", type=click.Path(exists=True, dir_okay=False),
              help="File of extra boilerplate patterns, one regular expression per line.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True, help="Worker processes (0 = all cores).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--strict", is_flag=True, help="Stop with exit code 1 at the first bad record.")
@params_options
def batch(input_path, clusters_path, deduped_path, report_path, out_format, input_format, id_field, text_field,
          boilerplate, jobs, quiet, strict, **param_opts) -> None:
    """Cluster the articles of a feed dump (JSONL, CSV, folder of .txt, RSS/Atom, or - for stdin)."""
    params = params_from_options(param_opts)
    normaliser = _normaliser(boilerplate)
    stdin_copy = None
    if input_path == "-":
        stdin_copy, path = spool_stdin()
        fmt = "jsonl" if input_format == "auto" else input_format
    else:
        if not os.path.exists(input_path):
            raise click.BadParameter(f"{input_path} does not exist", param_hint="INPUT")
        path, fmt = input_path, input_format
    counts = {"records": 0, "bad_records": 0}

    def bad(where: str, reason: str) -> None:
        counts["bad_records"] += 1
        click.echo(f"dedup: {input_path}: {where}: {reason}" + ("" if strict else " (skipped)"), err=True)
        if strict:
            raise click.ClickException(f"stopped at a bad record ({where}) because of --strict")

    def records():
        try:
            yield from read_records(path, fmt, id_field=id_field, text_field=text_field,
                                    max_record_bytes=max(params.max_text_bytes * _RECORD_PER_TEXT_BYTES, _MIN_RECORD_BYTES))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    def articles():
        for rec in records():
            counts["records"] += 1
            if rec.article is None:
                bad(rec.locator, rec.error)
            else:
                yield rec.article

    try:
        result = cluster_articles(articles(), params, jobs=jobs, progress=not quiet, normaliser=normaliser,
                                  total=None if quiet else count_records(path, fmt),
                                  on_skip=lambda art_id, why: bad(f"id {art_id}", why))
        if clusters_path or not (deduped_path or report_path):
            with (open(clusters_path, "w", encoding="utf-8", newline="") if clusters_path else _stdout()) as out:
                result.write_clusters(out, out_format)
        written = None
        if deduped_path:
            with open(deduped_path, "w", encoding="utf-8") as out:
                rows = ((rec.article.id, rec.raw or {}) for rec in records() if rec.article is not None)
                written = write_deduped(result, rows, out)
    finally:
        if stdin_copy:
            stdin_copy.close()
    if report_path:
        report = result.report(input=input_path, records_read=counts["records"],
                               bad_records=counts["bad_records"] - result.n_skipped, deduped_written=written)
        Path(report_path).write_text(json.dumps(report, indent=2) + "\n")
    if not quiet:
        s = result.stats
        click.echo(f"dedup: {_count(result.n_articles, 'article')}, {_count(s['clusters'], 'cluster')}, "
                   f"{_count(s['duplicates'], 'duplicate')}, {counts['bad_records']} skipped, "
                   f"{s['seconds']['total']:.1f}s", err=True)


def _normaliser(boilerplate: str | None) -> Normaliser:
    """The normaliser with the extra patterns of ``--boilerplate`` (one a line)."""
    lines = Path(boilerplate).read_text().splitlines() if boilerplate else []
    try:
        return Normaliser(boilerplate=tuple(ln.strip() for ln in lines if ln.strip()))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--boilerplate") from None


def _count(n: int, noun: str) -> str:
    """``1 cluster``, ``2 clusters``: the plural only when needed."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class _stdout:
    def __enter__(self):
        return sys.stdout

    def __exit__(self, *exc):
        sys.stdout.flush()
