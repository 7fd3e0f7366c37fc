"""``dedup export``, ``dedup reindex`` and ``dedup load``: a namespace to
JSON Lines, a namespace rebuilt from such an export or from a feed dump
(after Redis lost its data, or to move it to other LSH parameters), and a
batch or Spark run's saved state loaded into a namespace. A thin layer over
:mod:`dedup_service.export`; the service's own configuration (``DEDUP_*``)
applies, so the keys, shards and parameters are the service's.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field

import click

from dedup.cli.options import encoding_option, field_options
from dedup.cli.readers import FORMATS, bad_record, open_binary
from dedup.errors import record_place

__all__ = ["export_command", "load_command", "reindex_command"]

_redis_url = click.option("--redis-url", envvar="DEDUP_REDIS_URL", required=True,
                          help="The service's Redis [env DEDUP_REDIS_URL].")
_namespace = click.option("--namespace", "-n", default=None, help="Namespace (default: the service's DEFAULT_NAMESPACE).")


def _service(redis_url: str):
    """The service object, configured like the service (``DEDUP_*``) on ``redis_url``."""
    try:
        from dedup.errors import DedupError
        from dedup_service.app import create_app
    except ImportError as exc:
        raise click.ClickException(f"needs the service extra ({exc.name} is missing): pip install 'dedup-news[service]'")
    try:
        return create_app({"REDIS_URL": redis_url}).extensions["dedup"]
    except DedupError as exc:
        raise click.ClickException(f"configuration: {exc.message}") from None


def _namespace_of(service, namespace: str | None) -> str:
    from dedup_service.store import valid_namespace

    ns = namespace or service.config["DEFAULT_NAMESPACE"]
    if not valid_namespace(ns):
        raise click.BadParameter(f"{ns!r}: must be 1-64 characters of [A-Za-z0-9_.-]", param_hint="--namespace")
    return ns


@click.command("export")
@_redis_url
@_namespace
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True,
              help="Where to write the JSON Lines (- : stdout).")
def export_command(redis_url: str, namespace: str | None, output: str) -> None:
    """Write a namespace to JSON Lines: everything `dedup reindex` needs to rebuild it."""
    from dedup.errors import DedupError
    from dedup_service.export import Exported, export_lines

    service = _service(redis_url)
    ns = _namespace_of(service, namespace)
    try:
        index = service.index(ns)
        if len(index) == 0 and index.decision_count() == 0:  # a typo would make an empty backup
            raise click.ClickException(f"namespace {ns!r} holds no article and no decision: nothing to export "
                                       "(check --namespace)")
        gen = service.generation()["id"]
        counted = Exported()
        with contextlib.nullcontext(sys.stdout) if output == "-" else open(output, "w", encoding="utf-8") as out:
            for line in export_lines(index, gen, counted):
                out.write(line)
    except DedupError as exc:
        raise click.ClickException(f"export of namespace {ns!r} failed: {exc.message}") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"dedup: exported {counted.articles} articles and {counted.decisions} decisions of namespace {ns!r}",
               err=True)


@click.command("reindex")
@click.argument("input_path", metavar="INPUT")
@_redis_url
@_namespace
@click.option("--input-format", type=click.Choice(["auto", "export", *FORMATS]), default="auto", show_default=True,
              help="export (a `dedup export` file) or a feed dump's format; auto: an export when its first line says so.")
@field_options
@encoding_option
def reindex_command(input_path: str, redis_url: str, namespace: str | None, input_format: str, id_field: str,
                    text_field: str, encoding: str) -> None:
    """Rebuild a namespace from a `dedup export` file or a feed dump (articles already stored are kept)."""
    from dedup_service.export import is_export, read_export

    service = _service(redis_url)
    ns = _namespace_of(service, namespace)
    index = service.index(ns)
    try:
        first = b""
        if not os.path.isdir(input_path):  # a folder of .txt files is a feed dump
            with open_binary(input_path) as f:
                first = f.readline()
    except OSError as exc:
        raise click.ClickException(f"cannot read {input_path}: {exc.strerror or exc}") from None
    fmt = ("export" if is_export(first) else "auto") if input_format == "auto" else input_format

    try:
        if fmt == "export":
            with open_binary(input_path) as f:
                fps = read_export((ln.decode("utf-8") for ln in f), index.params, index.boilerplate)
                _replay(ns, index, input_path, fps, _Read())
        else:
            read = _Read()
            _replay(ns, index, input_path, _articles(input_path, fmt, id_field, text_field, read, encoding), read)
    except ValueError as exc:  # a reader's "cannot tell the format", a malformed export
        raise click.ClickException(f"{input_path}: {exc}") from None


@dataclass
class _Read:
    """What a reindex or load read besides the articles it added: records
    it could not read (each reported), editors' decisions."""

    unreadable: int = 0
    decisions: int = 0
    places: dict[str, str] = field(default_factory=dict)  # a feed dump's ids -> their records' locators


def _articles(input_path: str, fmt: str, id_field: str, text_field: str, read: _Read | None = None,
              encoding: str = "utf-8"):
    """The articles of a feed dump; a bad record is reported in one line, counted in ``read`` and skipped."""
    from dedup.cli.readers import read_records

    read = _Read() if read is None else read
    for rec in read_records(input_path, fmt, id_field=id_field, text_field=text_field, places=read.places,
                            encoding=encoding):
        if rec.article is None:
            read.unreadable += 1
            click.echo(bad_record(input_path, record_place(rec.locator, rec.id), rec.error), err=True)
        else:
            yield rec.article


def _counted(items, read: _Read):
    for item in items:
        if isinstance(item, dict):  # an export's decision
            read.decisions += 1
        yield item


def _replay(ns: str, index, input_path: str, items, read: _Read) -> None:
    """Add ``items`` to the namespace as POSTs would (:func:`dedup_service.export.replay`) and say what was done:
    every line reported skipped is counted, as refused (an article the service refuses) or unreadable."""
    from dedup.errors import DedupError
    from dedup_service.export import replay

    def refused(doc_id: str, why: str) -> None:
        click.echo(bad_record(input_path, record_place(read.places.get(doc_id), doc_id), why), err=True)

    try:
        done = replay(index, _counted(items, read), refused)
    except DedupError as exc:
        raise click.ClickException(f"{input_path}: {exc.message} (a rerun keeps what is stored and goes on)") from None
    except OSError as exc:
        raise click.ClickException(f"cannot read {input_path}: {exc.strerror or exc}") from None
    skipped = f"{len(done.refused)} refused, {read.unreadable} unreadable"
    if done.created + done.existing == 0 and not read.decisions:
        raise click.ClickException(f"no article could be stored from {input_path} ({skipped})")
    decisions = f", {read.decisions} decisions" if read.decisions else ""
    click.echo(f"dedup: namespace {ns!r}: {done.created} stored, {done.existing} already there, {skipped}{decisions} "
               f"({done.round_trips} round trips)", err=True)


@click.command("load")
@click.argument("state_path", metavar="STATE", type=click.Path(exists=True, file_okay=False))
@click.argument("input_path", metavar="INPUT")
@_redis_url
@_namespace
@click.option("--input-format", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True,
              help="The input's format, as the run read it.")
@field_options
@encoding_option
@click.option("--order", type=click.Choice(["published", "input"]), default="published", show_default=True,
              help="Add the articles by published date (undated last) or in input order.")
def load_command(state_path: str, input_path: str, redis_url: str, namespace: str | None, input_format: str,
                 id_field: str, text_field: str, encoding: str, order: str) -> None:
    """Load a batch or Spark run's saved state (dedup batch --state, OUTPUT/state) into a namespace.

    INPUT is the input that run read (the state keeps signatures and words,
    not the texts and titles the service stores). The namespace ends up as
    if the state's articles had been posted one by one in published order
    (or input order); writes are pipelined, and a rerun goes on where an
    interrupted one stopped.
    """
    from dedup_service.export import state_fingerprints

    service = _service(redis_url)
    ns = _namespace_of(service, namespace)
    index = service.index(ns)
    try:
        read = _Read()
        articles = _articles(input_path, input_format, id_field, text_field, read, encoding)
        fps = state_fingerprints(state_path, articles, index.params, order=order, boilerplate=index.boilerplate)
        _replay(ns, index, input_path, fps, read)
    except ValueError as exc:  # a reader's "cannot tell the format"
        raise click.ClickException(f"{input_path}: {exc}") from None
