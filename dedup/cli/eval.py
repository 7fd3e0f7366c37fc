"""``dedup eval``: detection quality on a labelled JSONL set.

A thin click layer over :func:`dedup.evaluation.run_evaluation`; register
it with ``cli.add_command(eval_command)``.
"""

from __future__ import annotations

import json

import click

from dedup.errors import DedupError
from dedup.evaluation.run import format_report, run_evaluation
from dedup.cli.options import params_from_options, params_options, require_extra

__all__ = ["eval_command", "read_labelled"]


def read_labelled(fh) -> list[dict]:
    """Read labelled JSONL records (blank lines skipped).

    Args:
        fh: an open text file.

    Returns:
        The records, each with at least ``id``, ``text`` and ``label``.

    Raises:
        click.ClickException: a line that is not a JSON object with those fields.
    """
    records = []
    for n, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"line {n}: not JSON ({exc.msg})") from None
        if not isinstance(rec, dict):
            raise click.ClickException(f"line {n}: expected a JSON object")
        missing = [k for k in ("id", "text", "label") if k not in rec]
        if missing:
            raise click.ClickException(f"line {n}: missing field(s) {', '.join(missing)}")
        records.append(rec)
    return records


@click.command("eval")
@click.argument("labelled", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@params_options
@click.option("--baseline", is_flag=True, help="Also run plain datasketch MinHashLSH (5-gram, 0.5) side by side.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True, help="Worker processes (0 = all cores).")
@click.option("--examples", type=click.IntRange(min=0), default=3, show_default=True, help="False-merge pairs shown per group.")
def eval_command(labelled, as_json, baseline, jobs, examples, **param_opts):
    """Measure detection quality on LABELLED, a JSONL file ('-' for stdin).

    Each line: {"id", "text", "label"} (gold cluster), optionally "title",
    "published", "category" (reported separately) and "track"
    ("negative" marks hard negatives). Prints pairwise precision, recall
    and F1, the adjusted Rand index, B-cubed F1, recall per category and
    the false merges on hard negatives.
    """
    if baseline:
        require_extra("datasketch", "datasketch", "dedup eval --baseline")
    params = params_from_options(param_opts)
    records = read_labelled(labelled)
    if not records:
        raise click.ClickException("no labelled records")
    try:
        report = run_evaluation(records, params, baseline=baseline, jobs=jobs)
    except (DedupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    report["file"] = getattr(labelled, "name", "-")
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(format_report(report, examples=examples, name=report["file"]))
