"""``dedup house``: find an outlet's own boilerplate lines in a feed dump.

A thin click layer over :func:`dedup.house.house_lines`. It writes one
whole-line pattern a line, the file that ``dedup batch --boilerplate`` and
the service's ``BOILERPLATE_FILE`` read, and lists what it found (how many
articles carry each line) on stderr for a person to check.
"""

from __future__ import annotations

import click

from dedup.cli.options import field_options
from dedup.cli.readers import FORMATS, bad_record, read_records
from dedup.errors import record_place
from dedup.house import house_lines
from dedup.normalisation import Normaliser, boilerplate_file

__all__ = ["house_command"]


@click.command("house")
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True))
@click.option("--out", "out_path", type=click.File("w", encoding="utf-8", atomic=True), default="-",
              help="Write the patterns here (default: stdout).")
@click.option("--sample", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Articles read (house lines are frequent: the first ones are enough).")
@click.option("--min-articles", type=click.IntRange(min=2), default=20, show_default=True,
              help="Articles that must carry a line at their top or bottom.")
@click.option("--max-share", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.5, show_default=True,
              help="A line is a house line when, in the median article carrying it, it and the lines that go with it "
                   "hold under this share of the words (copies of one story are mostly their shared lines).")
@click.option("--boilerplate", type=click.Path(exists=True, dir_okay=False),
              help="Patterns already known (a file of this command's output): lines they strip are not listed again.")
@click.option("--input-format", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True)
@click.option("--encoding", default="utf-8", show_default=True)
@field_options
def house_command(input_path, out_path, sample, min_articles, max_share, boilerplate, input_format, encoding,
                  id_field, text_field):
    """Find the lines an outlet puts on many different stories in INPUT.

    Writes them as patterns for `dedup batch --boilerplate` (and the
    service's BOILERPLATE_FILE): two briefs under one house footer are
    otherwise mostly the same words. Check the list before using it.
    """
    try:
        normaliser = boilerplate_file(boilerplate) if boilerplate else Normaliser()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="--boilerplate") from None
    counts = {"records": 0, "bad": 0}

    def texts():
        try:
            for rec in read_records(input_path, input_format, id_field=id_field, text_field=text_field,
                                    encoding=encoding):
                counts["records"] += 1
                if rec.article is None:
                    counts["bad"] += 1
                    click.echo(bad_record(input_path, record_place(rec.locator, rec.id), rec.error), err=True)
                    continue
                yield rec.article.text
                if counts["records"] - counts["bad"] >= sample:
                    return
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"cannot read {input_path}: {exc.strerror or exc}") from None

    found = house_lines(texts(), min_articles=min_articles, max_share=max_share, normaliser=normaliser)
    read = counts["records"] - counts["bad"]
    if read == 0:
        raise click.ClickException(f"no article could be read from {input_path} ({counts['records']} records, "
                                   f"{counts['bad']} bad); check --input-format, --encoding, --text-field")
    for h in found:
        out_path.write(h.pattern + "\n")
    for h in found:
        click.echo(f"dedup: {h.articles} articles ({h.share:.0%} of their words with it): {h.text[:100]}", err=True)
    click.echo(f"dedup: {len(found)} house line(s) in {read} article(s) read", err=True)
