"""``dedup batch``: cluster the articles of a feed dump (a thin layer over
:func:`dedup.cluster_articles`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from dedup.batch import cluster_articles, write_deduped
from dedup.cli.options import encoding_option, field_options, params_from_options, params_options
from dedup.cli.outputs import check_outputs, normaliser_option, replaced, stdout
from dedup.cli.readers import (FORMATS, JsonLines, bad_record, count_records, detect_format, line_bytes, read_records,
                               spool_stdin)
from dedup.errors import record_place
from dedup.htmlreport import MAX_SHOWN, SHOWN, report_ids, write_html_report
from dedup.jit import skip_blas_probe
from dedup.report import figure_ids, name_figures

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
@click.option("--html", "html_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write a self-contained HTML report here: summary, sizes, rejections, the largest clusters side by side.")
@click.option("--html-clusters", type=click.IntRange(0, MAX_SHOWN), default=SHOWN, show_default=True,
              help="Clusters shown side by side in --html (largest first); the others are listed.")
@click.option("--format", "out_format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="Format of --clusters.")
@click.option("--input-format", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True,
              help="auto: from the name (.jsonl .ndjson .json .csv .txt .xml .rss .atom, also .gz/.zst), else from the "
                   "first bytes; a folder is read as .txt files.")
@encoding_option
@field_options
@click.option("--boilerplate", type=click.Path(exists=True, dir_okay=False),
              help="File of extra boilerplate patterns, one regular expression per line.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True, help="Worker processes (0 = all cores).")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bar and no summary line (the bar shows only when stderr is a terminal).")
@click.option("--strict", is_flag=True, help="Stop with exit code 1 at the first bad record.")
@click.option("--checkpoint", "checkpoint_dir", type=click.Path(file_okay=False),
              help="Save fingerprinted chunks in this folder as they are made (removed once the run succeeds).")
@click.option("--resume", is_flag=True, help="Go on from --checkpoint's folder, left by a run that was killed.")
@click.option("--state", "state_path", type=click.Path(file_okay=False),
              help="Save signatures, words and links to this folder, for a later --against run (see dedup.against).")
@click.option("--against", "against_path", type=click.Path(exists=True, file_okay=False),
              help="Cluster INPUT after the articles of an earlier run's --state folder, without redoing them.")
@click.option("--decisions", "decisions_path", type=click.Path(exists=True, dir_okay=False),
              help="Editors' decisions (JSON Lines, as the service's GET /v1/decisions lists them) to respect.")
@params_options
def batch(input_path, clusters_path, deduped_path, report_path, html_path, html_clusters, out_format, input_format, encoding,
          id_field, text_field, boilerplate, jobs, quiet, strict, checkpoint_dir, resume, state_path, against_path,
          decisions_path, **param_opts) -> None:
    """Cluster the articles of a feed dump (JSONL, CSV, folder of .txt, RSS/Atom, or - for stdin)."""
    skip_blas_probe()  # ~0.5 CPU s of scipy imports that dedup's kernels never use
    params = params_from_options(param_opts)
    normaliser = normaliser_option(boilerplate)
    stdin_copy, path = spool_stdin() if input_path == "-" else (None, input_path)  # stdin: format from the content
    if stdin_copy is None and not os.path.exists(input_path):
        raise click.BadParameter(f"{input_path} does not exist", param_hint="INPUT")
    fmt = input_format
    check_outputs(input_path, clusters_path, deduped_path, report_path, html_path)
    if checkpoint_dir and (state_path or against_path):  # before _checkpoint makes its folder
        raise click.BadParameter("--checkpoint is not supported with --state or --against yet", param_hint="--checkpoint")
    if decisions_path and (state_path or against_path):
        raise click.BadParameter("--decisions is not supported with --state or --against yet", param_hint="--decisions")
    decisions = _decisions(decisions_path) if decisions_path else None
    checkpoint = _checkpoint(checkpoint_dir, resume, input_path, params=params.to_dict(), input_format=fmt,
                             encoding=encoding, id_field=id_field, text_field=text_field, boilerplate=boilerplate and
                             Path(boilerplate).read_text(encoding="utf-8", errors="replace"))
    counts = {"records": 0, "bad_records": 0, "with_id": 0}
    skipped: set[str] = set()  # read, but not fingerprinted: kept out of --deduped too

    def bad(where: str | None, reason: str, doc_id: str | None = None) -> None:
        counts["bad_records"] += 1
        place = record_place(where, doc_id)
        click.echo(bad_record(input_path, place, reason, skipped=not strict), err=True)
        if strict:
            raise click.ClickException(f"stopped at a bad record ({place}) because of --strict")

    max_record_bytes = max(params.max_text_bytes * _RECORD_PER_TEXT_BYTES, _MIN_RECORD_BYTES)

    places: dict[str, str] = {}  # id -> its record's locator, as the first read kept it (named by on_skip)

    def records(first: bool = False):
        try:
            yield from read_records(path, fmt, id_field=id_field, text_field=text_field, encoding=encoding,
                                    max_record_bytes=max_record_bytes, places=places if first else None)
        except ValueError as exc:
            raise click.UsageError(str(exc).replace(path, "stdin") if stdin_copy else str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"cannot read {input_path}: {exc.strerror or exc}") from None

    def on_record(where: str, error: str | None, has_id: bool, doc_id: str | None = None) -> None:
        counts["records"] += 1
        counts["with_id"] += has_id
        if error is not None:
            bad(where, error, doc_id)

    def articles():
        for rec in records(first=True):
            on_record(rec.locator, rec.error, rec.raw is not None and rec.raw.get(id_field) not in (None, ""), rec.id)
            if rec.article is not None:
                yield rec.article
        warn_no_id()

    def warn_no_id() -> None:
        if id_field != "id" and counts["records"] and not counts["with_id"]:  # a mistyped --id-field
            click.echo(f"dedup: warning: no record of {input_path} has the field {id_field!r}: "
                       "every id is a hash of the text", err=True)

    # JSON Lines are parsed in the workers (not with --checkpoint, --state or --against, which take articles)
    source = None
    if checkpoint is None and not (state_path or against_path) and _is_jsonl(path, fmt, encoding):
        source = _Input(path, on_record, id_field=id_field, text_field=text_field, encoding=encoding,
                        max_record_bytes=max_record_bytes, name=input_path)

    def again(wanted: set[str]):
        """The articles of ``wanted`` ids read again: only theirs when the source kept their places."""
        if source is not None and source.seekable:
            return source.again(wanted)
        return (rec.article for rec in records() if rec.article is not None and rec.article.id in wanted)

    def on_skip(art_id: str, why: str) -> None:
        skipped.add(art_id)
        bad(source.where(art_id) if source is not None else places.get(art_id), why, art_id)

    try:
        if state_path or against_path:
            result = _against(articles(), params, jobs, normaliser, on_skip, against_path, state_path)
        else:
            bar = not quiet and _terminal()  # a log file gets the summary line, not the bar's redraws
            result = cluster_articles(articles() if source is None else source, params, jobs=jobs, progress=bar,
                                      normaliser=normaliser, total=count_records(path, fmt) if bar else None,
                                      on_skip=on_skip, checkpoint=checkpoint, decisions=decisions)
            if source is not None:
                warn_no_id()
        if result.n_articles == 0:
            raise click.ClickException(
                f"no article could be read from {input_path} ({_count(counts['records'], 'record')}, "
                f"{counts['bad_records']} bad); check --input-format, --encoding, --text-field")
        if against_path and result.stats.get("new_articles") == 0:
            raise click.ClickException(
                f"no new article in {input_path}: its {_count(counts['records'], 'record')} were bad or already in "
                f"{against_path} (an earlier run of the same input?)")
        if clusters_path or not (deduped_path or report_path or html_path):
            to_file = clusters_path not in (None, "-")
            # updates' changed figures by their words (their articles read again, only when there are updates)
            need = figure_ids(result)
            if need:
                name_figures(result, again(need), normaliser)
            with (replaced(clusters_path, newline="") if to_file else stdout()) as out:
                result.write_clusters(out, out_format)
        written = None
        if deduped_path:
            with (stdout() if deduped_path == "-" else replaced(deduped_path)) as out:
                rows = ((rec.article.id, rec.raw or {}) for rec in records()
                        if rec.article is not None and rec.article.id not in skipped)
                written = write_deduped(result, rows, out)
        facts = {"input": input_path, "records_read": counts["records"],
                 "bad_records": counts["bad_records"] - result.n_skipped, "deduped_written": written}
        if html_path:
            wanted = report_ids(result, html_clusters)  # two texts per cluster shown, read again
            texts = {art.id: art for art in again(wanted)}
            with (stdout() if html_path == "-" else replaced(html_path)) as out:
                write_html_report(result, texts, out, facts=facts, shown=html_clusters, params=params, normaliser=normaliser)
    finally:
        if stdin_copy:
            stdin_copy.close()
    if report_path:
        report = result.report(**facts)
        with (stdout() if report_path == "-" else replaced(report_path)) as out:
            out.write(json.dumps(report, indent=2) + "\n")
    if checkpoint is not None:
        checkpoint.remove()
    if not quiet:
        click.echo(_summary(result, counts["bad_records"]), err=True)


def _terminal() -> bool:
    """Whether stderr is a terminal (where a progress bar can redraw itself)."""
    return sys.stderr is not None and sys.stderr.isatty()  # the stream tqdm draws on


class _Input(JsonLines):
    """The input file as JSON Lines parsed in the workers; a read error stops
    the run naming the input as given (``name``: ``-`` for stdin)."""

    def __init__(self, *args, name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name = name

    def chunks(self, size: int):
        try:
            yield from super().chunks(size)
        except OSError as exc:
            raise click.ClickException(f"cannot read {self.name}: {exc.strerror or exc}") from None

    def admit(self, context, records):
        try:
            return super().admit(context, records)
        except OSError as exc:  # a worker could not read its range
            raise click.ClickException(f"cannot read {self.name}: {exc}") from None


def _is_jsonl(path: str, fmt: str, encoding: str) -> bool:
    """Whether the input is JSON Lines in a known encoding (anything else, an
    error included, is left to :func:`read_records` to read or report)."""
    import codecs

    try:
        codecs.lookup(encoding)
        return line_bytes(encoding) and (detect_format(path) if fmt == "auto" else fmt) == "jsonl"
    except (ValueError, LookupError, OSError):
        return False


def _checkpoint(folder: str | None, resume: bool, input_path: str, **options):
    """The run's :class:`~dedup.checkpoint.Checkpoint` (``None`` without ``--checkpoint``)."""
    from dedup.checkpoint import Checkpoint, CheckpointError, run_identity

    if folder is None:
        if resume:
            raise click.BadParameter("--resume needs --checkpoint DIR (the folder the killed run wrote)",
                                     param_hint="--resume")
        return None
    try:
        ck = Checkpoint(folder, run_identity(input_path, **options), resume)
    except CheckpointError as exc:
        raise click.BadParameter(exc.message, param_hint="--checkpoint") from None
    except OSError as exc:
        raise click.BadParameter(f"{folder}: {exc.strerror or exc}", param_hint="--checkpoint") from None
    if ck.done:
        click.echo(f"dedup: resuming from {folder}: {ck.done} chunks already fingerprinted", err=True)
    return ck


def _against(articles, params, jobs, normaliser, on_skip, against_path, state_path):
    """``--state``/``--against``: the incremental run of :mod:`dedup.against`."""
    from dedup.against import cluster_against
    from dedup.errors import DedupError

    try:
        return cluster_against(articles, params, previous=against_path, save=state_path, jobs=jobs,
                               normaliser=normaliser, on_skip=on_skip)
    except DedupError as exc:
        raise click.ClickException(exc.message) from None


def _decisions(path: str):
    """The decisions file: one JSON object per line (blank lines skipped); a
    bad line stops the run, naming it (a decision silently skipped would
    change the clusters)."""
    from dedup.decisions import Decisions, parse_decision
    from dedup.errors import DedupError

    records = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    records.append(parse_decision(json.loads(line)))
                except (ValueError, RecursionError) as e:
                    raise click.ClickException(f"{path}: line {n}: not JSON ({e})") from None
                except DedupError as e:
                    raise click.ClickException(f"{path}: line {n}: {e.code}: {e.message}") from None
    except UnicodeDecodeError as e:
        raise click.ClickException(f"{path}: not UTF-8 (byte {e.start})") from None
    except OSError as e:
        raise click.ClickException(f"cannot read {path}: {e.strerror or e}") from None
    return Decisions.from_records(records)


def _summary(result, bad_records: int) -> str:
    """``dedup: 5 articles, 1 cluster, 1 duplicate, 0 skipped, 0.4s``."""
    s = result.stats
    return (f"dedup: {_count(result.n_articles, 'article')}, {_count(s['clusters'], 'cluster')}, "
            f"{_count(s['duplicates'], 'duplicate')}, {bad_records} skipped, {s['seconds']['total']:.1f}s")


def _count(n: int, noun: str) -> str:
    """``1 cluster``, ``2 clusters``: the plural only when needed."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


