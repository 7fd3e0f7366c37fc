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


def test_csv_rows_name_the_latest_version_and_the_changed_figures():
    from dedup.report import name_figures

    story = ("The storm killed 12 people on Monday and left 4,000 homes without power across the region, "
             "officials said, as rescue teams searched flooded villages for the missing. ") * 4
    later = story.replace("12 people", "15 people", 1)
    arts = [Article("o", story, published="2024-01-01T00:00:00Z"), Article("u", later, published="2024-01-02T00:00:00Z"),
            Article("c", "PARIS (AP) - " + story, published="2024-01-03T00:00:00Z")]
    res = cluster_articles(arts)
    assert name_figures(res, arts) >= 1
    out = io.StringIO()
    res.write_clusters(out, "csv")
    rows = {r["member"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert {r["latest"] for r in rows.values()} == {"u"}
    assert rows["u"]["kind"] == "update" and rows["u"]["changed"] == "12 -> 15"
    assert rows["c"]["changed"] == "" and rows["o"]["changed"] == ""
    line = json.loads(_jsonl(res))
    assert line["latest"] == "u" and {"a": "o", "b": "u", "changed": [["12", "15"]]}.items() <= next(
        p for p in line["pairs"] if (p["a"], p["b"]) == ("o", "u")).items()


def _jsonl(res) -> str:
    out = io.StringIO()
    res.write_clusters(out, "jsonl")
    return out.getvalue()
