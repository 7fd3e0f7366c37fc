"""``dedup batch``: cluster the articles of a feed dump (a thin layer over
:func:`dedup.cluster_articles`)."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import click

from dedup import __version__
from dedup.batch import BatchResult, cluster_articles
from dedup.cli.options import params_from_options, params_options
from dedup.cli.readers import FORMATS, read_records, spool_stdin
from dedup.normalisation import Normaliser

__all__ = ["batch"]


def _write_clusters(result: BatchResult, out, fmt: str) -> None:
    if fmt == "jsonl":
        for c in result.clusters:
            out.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
        return
    w = csv.writer(out)
    w.writerow(["cluster", "canonical", "member", "kind", "jaccard", "containment", "score"])
    for c in result.clusters:
        best: dict[str, tuple] = {}
        for p in c.pairs:  # each member's strongest link, preferring one to the canonical
            for me, other, cont in ((p.a, p.b, p.containment_ab), (p.b, p.a, p.containment_ba)):
                key = (other == c.canonical, p.score)
                if me not in best or key > best[me][0]:
                    best[me] = (key, p.kind, p.jaccard, cont, p.score)
        for m in c.members:
            _, kind, jac, cont, score = best.get(m, ((), "", "", "", ""))
            w.writerow([c.id, c.canonical, m, "" if m == c.canonical else kind,
                        *(f"{x:.4f}" if x != "" and m != c.canonical else "" for x in (jac, cont, score))])


def _write_deduped(result: BatchResult, records, out) -> int:
    drop: set[str] = set()
    dups: dict[str, list[str]] = {}
    for c in result.clusters:
        dups[c.canonical] = [m for m in c.members if m != c.canonical]
        drop.update(dups[c.canonical])
    written = 0
    for rec in records:
        if rec.article is None or rec.article.id in drop:
            continue
        row = dict(rec.raw) if rec.raw is not None else {}
        row.setdefault("id", rec.article.id)
        if rec.article.id in dups:
            row["duplicates"] = dups[rec.article.id]
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
    return written


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
    extra = tuple(ln.strip() for ln in Path(boilerplate).read_text().splitlines() if ln.strip()) if boilerplate else ()
    try:
        normaliser = Normaliser(boilerplate=extra)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--boilerplate") from None
    stdin_copy = None
    if input_path == "-":
        stdin_copy = spool_stdin()
        path, fmt = stdin_copy, ("jsonl" if input_format == "auto" else input_format)
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
                                    max_record_bytes=max(params.max_text_bytes * 10, 1 << 20))
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
                                  on_skip=lambda art_id, why: bad(f"id {art_id}", why))
        if clusters_path or not (deduped_path or report_path):
            with (open(clusters_path, "w", encoding="utf-8", newline="") if clusters_path else _stdout()) as out:
                _write_clusters(result, out, out_format)
        written = None
        if deduped_path:
            with open(deduped_path, "w", encoding="utf-8") as out:
                written = _write_deduped(result, records(), out)
    finally:
        if stdin_copy:
            os.unlink(stdin_copy)
    if report_path:
        report = {
            "input": input_path,
            "records_read": counts["records"],
            "bad_records": counts["bad_records"] - result.n_skipped,
            "skipped_articles": result.n_skipped,
            "articles": result.n_articles,
            "deduped_written": written,
            **{k: v for k, v in result.stats.items() if k not in ("articles", "skipped")},
            "version": __version__,
        }
        Path(report_path).write_text(json.dumps(report, indent=2) + "\n")
    if not quiet:
        s = result.stats
        click.echo(f"dedup: {result.n_articles} articles, {s['clusters']} clusters, {s['duplicates']} duplicates, "
                   f"{counts['bad_records']} skipped, {s['seconds']['total']:.1f}s", err=True)


class _stdout:
    def __enter__(self):
        return sys.stdout

    def __exit__(self, *exc):
        sys.stdout.flush()
