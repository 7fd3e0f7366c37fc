"""``dedup batch``: cluster the articles of a feed dump (a thin layer over
:func:`dedup.cluster_articles`)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from dedup.batch import cluster_articles, write_deduped
from dedup.cli.options import params_from_options, params_options
from dedup.cli.readers import FORMATS, count_records, read_records, spool_stdin
from dedup.normalisation import Normaliser
from dedup.report import name_figures

__all__ = ["batch"]

# A record is read only up to this many times Params.max_text_bytes (its
# text, JSON escapes, other fields), and at least _MIN_RECORD_BYTES.
_RECORD_PER_TEXT_BYTES = 10
_MIN_RECORD_BYTES = 1 << 20


@click.command()
@click.argument("input_path", metavar="INPUT")
@click.option("--clusters", "clusters_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write clusters of 2+ articles here (- or default: stdout when no output is named).")
@click.option("--deduped", "deduped_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the input minus non-canonical copies (JSONL), canonicals annotated with their duplicates.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, allow_dash=True), help="Write a JSON summary here.")
@click.option("--format", "out_format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="Format of --clusters.")
@click.option("--input-format", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True)
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of JSONL, CSV and .txt input (e.g. cp1252).")
@click.option("--id-field", default="id", show_default=True)
@click.option("--text-field", default="text", show_default=True)
@click.option("--boilerplate", type=click.Path(exists=True, dir_okay=False),
              help="File of extra boilerplate patterns, one regular expression per line.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True, help="Worker processes (0 = all cores).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--strict", is_flag=True, help="Stop with exit code 1 at the first bad record.")
@params_options
def batch(input_path, clusters_path, deduped_path, report_path, out_format, input_format, encoding, id_field,
          text_field, boilerplate, jobs, quiet, strict, **param_opts) -> None:
    """Cluster the articles of a feed dump (JSONL, CSV, folder of .txt, RSS/Atom, or - for stdin)."""
    params = params_from_options(param_opts)
    normaliser = _normaliser(boilerplate)
    stdin_copy, path = spool_stdin() if input_path == "-" else (None, input_path)  # stdin: format from the content
    if stdin_copy is None and not os.path.exists(input_path):
        raise click.BadParameter(f"{input_path} does not exist", param_hint="INPUT")
    fmt = input_format
    _check_outputs(input_path, clusters_path, deduped_path, report_path)
    counts = {"records": 0, "bad_records": 0}
    skipped: set[str] = set()  # read, but not fingerprinted: kept out of --deduped too

    def bad(where: str, reason: str) -> None:
        counts["bad_records"] += 1
        click.echo(f"dedup: {input_path}: {where}: {reason}" + ("" if strict else " (skipped)"), err=True)
        if strict:
            raise click.ClickException(f"stopped at a bad record ({where}) because of --strict")

    def records():
        try:
            yield from read_records(path, fmt, id_field=id_field, text_field=text_field, encoding=encoding,
                                    max_record_bytes=max(params.max_text_bytes * _RECORD_PER_TEXT_BYTES, _MIN_RECORD_BYTES))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"cannot read {input_path}: {exc.strerror or exc}") from None

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
                                  on_skip=lambda art_id, why: (skipped.add(art_id), bad(f"id {art_id}", why)))
        if result.n_articles == 0:
            raise click.ClickException(
                f"no article could be read from {input_path} ({_count(counts['records'], 'record')}, "
                f"{counts['bad_records']} bad); check --input-format, --encoding, --text-field")
        if clusters_path or not (deduped_path or report_path):
            to_file = clusters_path not in (None, "-")
            # updates' changed figures by their words (the input read again, only when there are updates)
            name_figures(result, (rec.article for rec in records() if rec.article is not None), normaliser)
            with (_replaced(clusters_path, newline="") if to_file else _stdout()) as out:
                result.write_clusters(out, out_format)
        written = None
        if deduped_path:
            with (_stdout() if deduped_path == "-" else _replaced(deduped_path)) as out:
                rows = ((rec.article.id, rec.raw or {}) for rec in records()
                        if rec.article is not None and rec.article.id not in skipped)
                written = write_deduped(result, rows, out)
    finally:
        if stdin_copy:
            stdin_copy.close()
    if report_path:
        report = result.report(input=input_path, records_read=counts["records"],
                               bad_records=counts["bad_records"] - result.n_skipped, deduped_written=written)
        with (_stdout() if report_path == "-" else _replaced(report_path)) as out:
            out.write(json.dumps(report, indent=2) + "\n")
    if not quiet:
        click.echo(_summary(result, counts["bad_records"]), err=True)


def _summary(result, bad_records: int) -> str:
    """``dedup: 5 articles, 1 cluster, 1 duplicate, 0 skipped, 0.4s``."""
    s = result.stats
    return (f"dedup: {_count(result.n_articles, 'article')}, {_count(s['clusters'], 'cluster')}, "
            f"{_count(s['duplicates'], 'duplicate')}, {bad_records} skipped, {s['seconds']['total']:.1f}s")


def _check_outputs(input_path: str, *paths: str | None) -> None:
    """Fail before the work, not after it: an output that is the input (it is
    read twice), two outputs on one file, or one that cannot be written."""
    if sum(p == "-" for p in paths) > 1:
        raise click.BadParameter("only one output can be - (stdout)", param_hint="output")
    named = [p for p in paths if p not in (None, "-")]
    for i, p in enumerate(named):
        if input_path != "-" and os.path.exists(p) and os.path.samefile(p, input_path):
            raise click.BadParameter(f"{p} is the input: it would be overwritten while it is read", param_hint="output")
        if any(os.path.abspath(p) == os.path.abspath(q) for q in named[:i]):
            raise click.BadParameter(f"{p} is named for two outputs", param_hint="output")
        folder = os.path.dirname(os.path.abspath(p))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK) or (os.path.exists(p) and not os.access(p, os.W_OK)):
            raise click.BadParameter(f"cannot write {p}", param_hint="output")


@contextlib.contextmanager
def _replaced(path: str, newline: str | None = None) -> Iterator:
    """A text file written beside ``path`` and moved over it only once complete:
    a run that fails leaves the old file (or none), never half of a new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as out:
            yield out
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _normaliser(boilerplate: str | None) -> Normaliser:
    """The normaliser with the extra patterns of ``--boilerplate`` (one a line)."""
    try:
        lines = Path(boilerplate).read_text(encoding="utf-8").splitlines() if boilerplate else []
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {boilerplate}: {exc}", param_hint="--boilerplate") from None
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
