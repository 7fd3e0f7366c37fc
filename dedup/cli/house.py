"""``dedup house``: find an outlet's own boilerplate lines in a feed dump.

A thin click layer over :func:`dedup.house.house_lines`. It writes one
whole-line pattern a line, the file that ``dedup batch --boilerplate`` and
the service's ``DEDUP_BOILERPLATE_FILE`` read, and lists what it found (how many
articles carry each line) on stderr for a person to check.
"""

from __future__ import annotations

import os

import click

from dedup.cli.options import encoding_option, field_options
from dedup.cli.outputs import check_outputs, normaliser_option, replaced, stdout
from dedup.cli.readers import FORMATS, bad_record, read_records, spool_stdin
from dedup.errors import record_place
from dedup.house import house_lines, outlet
from dedup.params import Params

__all__ = ["house_command"]

_RECORD_PER_TEXT_BYTES, _MIN_RECORD_BYTES = 10, 1 << 20  # a record is read up to the size dedup batch reads


def _not_a_number(param):
    raise click.BadParameter("nan is not a share", param=param)  # FloatRange lets NaN through


@click.command("house")
@click.argument("input_path", metavar="INPUT")
@click.option("--out", "out_path", default="-", help="Write the patterns here (default: stdout).")
@click.option("--limit", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Articles read (house lines are frequent: the first ones are enough).")
@click.option("--min-articles", type=click.IntRange(min=2), default=20, show_default=True,
              help="Articles that must carry a line at their top or bottom.")
@click.option("--max-share", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.5, show_default=True,
              callback=lambda ctx, param, v: v if v == v else _not_a_number(param),
              help="When the articles name no outlet (source, url): a line is a house line when, in the median article "
                   "carrying it, it and the lines that go with it hold under this share of the words.")
@click.option("--boilerplate", type=click.Path(exists=True, dir_okay=False),
              help="Patterns already known (an earlier output): written first, their lines not listed again.")
@click.option("--input-format", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True)
@encoding_option
@field_options
def house_command(input_path, out_path, limit, min_articles, max_share, boilerplate, input_format, encoding,
                  id_field, text_field):
    """Find the lines an outlet puts on many different stories in INPUT ('-': stdin).

    Writes them as patterns for `dedup batch --boilerplate` (and the
    service's DEDUP_BOILERPLATE_FILE), after those of --boilerplate: two briefs
    under one house footer are otherwise mostly the same words. Check the
    list it prints before using it.
    """
    normaliser = normaliser_option(boilerplate)
    stdin_copy, path = spool_stdin() if input_path == "-" else (None, input_path)
    if stdin_copy is None and not os.path.exists(input_path):
        raise click.BadParameter(f"{input_path} does not exist", param_hint="INPUT")
    check_outputs(input_path, out_path)
    counts = {"records": 0, "bad": 0, "named": 0}
    max_record_bytes = max(Params().max_text_bytes * _RECORD_PER_TEXT_BYTES, _MIN_RECORD_BYTES)

    def articles():
        try:
            for rec in read_records(path, input_format, id_field=id_field, text_field=text_field,
                                    encoding=encoding, max_record_bytes=max_record_bytes):
                counts["records"] += 1
                if rec.article is None:
                    counts["bad"] += 1
                    click.echo(bad_record(input_path, record_place(rec.locator, rec.id), rec.error), err=True)
                    continue
                counts["named"] += outlet(rec.article) is not None
                yield rec.article
                if counts["records"] - counts["bad"] >= limit:
                    return
        except ValueError as exc:
            raise click.UsageError(str(exc).replace(path, "stdin") if stdin_copy else str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"cannot read {input_path}: {exc.strerror or exc}") from None

    try:
        found = house_lines(articles(), min_articles=min_articles, max_share=max_share, normaliser=normaliser)
    finally:
        if stdin_copy:
            stdin_copy.close()
    read = counts["records"] - counts["bad"]
    if read == 0:
        raise click.ClickException(f"no article could be read from {input_path} ({counts['records']} records, "
                                   f"{counts['bad']} bad); check --input-format, --encoding, --text-field")
    with stdout() if out_path == "-" else replaced(out_path) as out:
        for pattern in (*normaliser.boilerplate, *(h.pattern for h in found)):
            out.write(pattern + "\n")
    for h in found:
        where = f", {h.outlets} outlet(s)" if h.outlets else ""
        click.echo(f"dedup: {h.articles} articles{where} ({h.share:.0%} of their words with it): {h.text[:100]}", err=True)
    click.echo(f"dedup: {len(found)} house line(s) in {read} article(s) read", err=True)
    if 2 * counts["named"] < read:  # the text rule judged (some) lines: it can be wrong both ways
        click.echo(f"dedup: warning: {read - counts['named']} of {read} articles name no outlet (source or url): a wire "
                   "brief that many outlets ran with longer additions of their own can look like a footer; check each "
                   "line", err=True)
