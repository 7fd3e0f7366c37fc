"""What a batch run writes comes from the library: report, clusters, deduped dump."""

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from dedup import Article, cluster_articles
from dedup.batch import write_deduped
from dedup.cli import cli
from dedup.cli.readers import count_records

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "seeds" / "sample.jsonl"
RECORDS = [json.loads(line) for line in SAMPLE.open()]


def _untimed(report):
    return {k: v for k, v in json.loads(json.dumps(report)).items() if k != "seconds"}


def test_the_library_gives_what_the_command_line_writes(tmp_path):
    paths = {k: tmp_path / k for k in ("c.jsonl", "c.csv", "d.jsonl", "r.json")}
    r = CliRunner().invoke(cli, ["batch", str(SAMPLE), "-q", "--clusters", str(paths["c.jsonl"]),
                                 "--deduped", str(paths["d.jsonl"]), "--report", str(paths["r.json"])])
    assert r.exit_code == 0, r.output
    CliRunner().invoke(cli, ["batch", str(SAMPLE), "-q", "--format", "csv", "--clusters", str(paths["c.csv"])])

    result = cluster_articles(RECORDS, jobs=0)
    for fmt in ("jsonl", "csv"):
        out = io.StringIO(newline="")
        result.write_clusters(out, fmt)
        assert out.getvalue() == paths[f"c.{fmt}"].read_bytes().decode(), fmt
    out = io.StringIO()
    assert write_deduped(result, RECORDS, out) == 4
    assert out.getvalue() == paths["d.jsonl"].read_text()
    facts = dict(input=str(SAMPLE), records_read=5, bad_records=0, deduped_written=4)
    assert _untimed(result.report(**facts)) == _untimed(json.loads(paths["r.json"].read_text()))


def test_write_deduped_takes_articles_mappings_and_id_row_pairs():
    result = cluster_articles(RECORDS)
    arts = [Article.from_dict(r) for r in RECORDS]
    for records in (arts, RECORDS, [(a.id, r) for a, r in zip(arts, RECORDS)]):
        out = io.StringIO()
        write_deduped(result, records, out)
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [row["id"] for row in rows] == ["1", "2", "4", "5"] and rows[1]["duplicates"] == ["3"]


def test_csv_clusters_name_each_members_strongest_link():
    out = io.StringIO()
    cluster_articles(RECORDS).write_clusters(out, "csv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["member"], r["kind"], r["score"]) for r in rows] == [("2", "", ""), ("3", "exact", "1.0000")]


def test_count_records_is_cheap_and_only_when_known(tmp_path):
    assert count_records(SAMPLE) == 5
    no_newline = tmp_path / "x.jsonl"
    no_newline.write_bytes(SAMPLE.read_bytes().rstrip(b"\n"))
    assert count_records(no_newline) == 5
    assert count_records(SAMPLE, "csv") is None
    gz = tmp_path / "x.jsonl.gz"
    import gzip

    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert count_records(gz) is None
