"""``dedup spark``: ``dedup batch`` on Spark (needs the ``spark`` extra).

Also the ``spark-submit`` entry point: this file takes the same arguments::

    spark-submit --master yarn "$(python -c 'import dedup.cli.spark as m; print(m.__file__)')" INPUT OUTPUT
"""

from __future__ import annotations

import json
import os
import sys

import click

from dedup.cli.batch import _count
from dedup.cli.outputs import normaliser_option
from dedup.cli.options import field_options, params_from_options, params_options, require_extra
from dedup.cli.readers import bad_record

__all__ = ["spark_command"]


@click.command("spark")
@click.argument("input_path", metavar="INPUT")
@click.argument("output", metavar="OUTPUT", type=click.Path(file_okay=False))
@click.option("--master", default=None,
              help="Spark master URL (default: the one spark-submit gives, else local[*]).")
@click.option("--partitions", type=click.IntRange(min=1), default=None, help="Input partitions (at least).")
@click.option("--against", "against_path", type=click.Path(exists=True, file_okay=False),
              help="Cluster INPUT after an earlier run's state folder (OUTPUT/state, or dedup batch --state).")
@field_options
@click.option("--boilerplate", type=click.Path(exists=True, dir_okay=False),
              help="File of extra boilerplate patterns, one regular expression per line.")
@click.option("--driver-memory", default="2g", show_default=True, help="spark.driver.memory of a local master.")
@click.option("--quiet", "-q", is_flag=True, help="No summary line.")
@params_options
def spark_command(input_path, output, master, partitions, against_path, id_field, text_field, boilerplate,
                  driver_memory, quiet, **param_opts) -> None:
    """Cluster a JSON Lines dump (plain, .gz or .bz2; a folder or glob of them) with Spark.

    Writes OUTPUT/clusters/ and OUTPUT/deduped/ (JSON Lines part files, in
    order), OUTPUT/state/ (for a later --against) and OUTPUT/report.json.
    """
    from dedup.against import check_supported
    from dedup.errors import DedupError

    require_extra("pyspark", "spark", "dedup spark")
    from dedup.spark.pipeline import SparkRun, run

    params = params_from_options(param_opts)
    try:
        check_supported(params, short_in_long=True)  # before the JVM starts
    except DedupError as exc:
        raise click.BadParameter(exc.message, param_hint="--reuse") from None
    if "://" not in input_path and not any(c in input_path for c in "*?[{") and not os.path.exists(input_path):
        raise click.BadParameter(f"{input_path} does not exist", param_hint="INPUT")
    job = SparkRun(input_path, output, params, normaliser_option(boilerplate), against_path, id_field, text_field,
                   partitions, max(params.max_text_bytes * 10, 1 << 20))
    session = _session(master, driver_memory)
    try:
        report = run(session.sparkContext, job)
    except DedupError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        session.stop()
    for where, reason in report["bad_examples"]:
        click.echo(bad_record(input_path, where, reason), err=True)
    if not quiet:
        click.echo(f"dedup: {_count(report['articles'], 'article')}, {_count(report['clusters'], 'cluster')}, "
                   f"{_count(report['duplicates'], 'duplicate')}, {report['bad_records']} skipped, "
                   f"{report['seconds']['total']:.1f}s -> {output}", err=True)
        click.echo(json.dumps({k: report[k] for k in ("candidate_pairs", "confirmed_pairs", "components",
                                                      "largest_component", "component_rounds")}), err=True)


def _session(master: str | None, driver_memory: str):
    """A Spark session: spark-submit's, or a local one on loopback with this Python."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("dedup")
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not started by spark-submit
        master = "local[*]"
    if master is not None:
        builder = builder.master(master)
    if master is not None and master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # PySpark 4 reads its workers' Python from here only
        builder = (builder.config("spark.pyspark.python", sys.executable)
                   .config("spark.driver.memory", driver_memory).config("spark.ui.showConsoleProgress", "false"))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


if __name__ == "__main__":  # spark-submit .../dedup/cli/spark.py INPUT OUTPUT
    spark_command(prog_name="dedup spark")
