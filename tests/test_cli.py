"""The dedup command line through click's CliRunner."""

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner

from _processes import kill_group, opened_under, wait_until

from dedup.cli import cli

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "seeds" / "sample.jsonl"
RECORDS = [json.loads(line) for line in SAMPLE.open()]


def run(*args, input=None):
    return CliRunner().invoke(cli, list(map(str, args)), input=input, catch_exceptions=False)


def clusters_of(text):
    return [sorted(json.loads(line)["members"]) for line in text.splitlines() if line.strip()]


def test_sample_to_stdout_gives_the_one_cluster():
    r = run("batch", SAMPLE, "--quiet")
    assert r.exit_code == 0
    assert clusters_of(r.stdout) == [["2", "3"]]
    line = json.loads(r.stdout)
    assert set(line) == {"cluster", "canonical", "latest", "members", "pairs"}
    assert set(line["pairs"][0]) == {"a", "b", "kind", "jaccard", "containment_ab", "containment_ba", "score"}


def test_all_outputs(tmp_path):
    out = {k: tmp_path / k for k in ("c.jsonl", "d.jsonl", "r.json", "c.csv")}
    r = run("batch", SAMPLE, "--clusters", out["c.jsonl"], "--deduped", out["d.jsonl"], "--report", out["r.json"], "-q")
    assert r.exit_code == 0 and r.stdout == ""
    assert clusters_of(out["c.jsonl"].read_text()) == [["2", "3"]]
    deduped = [json.loads(line) for line in out["d.jsonl"].open()]
    assert [d["id"] for d in deduped] == ["1", "2", "4", "5"]
    assert deduped[1]["duplicates"] == ["3"] and deduped[1]["source"] == "AP"
    report = json.loads(out["r.json"].read_text())
    assert report["articles"] == 5 and report["clusters"] == 1 and report["cluster_sizes"] == {"2": 1}
    assert report["params"]["similarity"] == 0.8 and "total" in report["seconds"]
    run("batch", SAMPLE, "--clusters", out["c.csv"], "--format", "csv", "-q")
    rows = list(csv.DictReader(out["c.csv"].open()))
    assert [(r["cluster"], r["member"], r["kind"]) for r in rows] == [("1", "2", ""), ("1", "3", "exact")]


def _write_inputs(tmp_path):
    """The sample in every supported format."""
    paths = {}
    (tmp_path / "csv").mkdir()
    with open(tmp_path / "csv" / "s.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, ["id", "text", "source"])
        w.writeheader()
        w.writerows(RECORDS)
    paths["csv"] = tmp_path / "csv" / "s.csv"
    folder = tmp_path / "txt"
    folder.mkdir()
    for rec in RECORDS:
        (folder / f"{rec['id']}.txt").write_text(rec["text"])
    paths["txt"] = folder
    items = "".join(
        f"<item><guid>{r['id']}</guid><title>t{r['id']}</title><description><![CDATA[<p>{r['text']}</p>]]></description>"
        f"<pubDate>Fri, 30 Sep 2022 1{r['id']}:00:00 GMT</pubDate></item>" for r in RECORDS)
    (tmp_path / "feed.rss").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>AP</title>{items}</channel></rss>')
    paths["rss"] = tmp_path / "feed.rss"
    paths["gz"] = tmp_path / "s.jsonl.gz"
    paths["gz"].write_bytes(gzip.compress(SAMPLE.read_bytes()))
    paths["zst"] = tmp_path / "s.jsonl.zst"
    paths["zst"].write_bytes(zstandard.ZstdCompressor().compress(SAMPLE.read_bytes()))
    return paths


@pytest.mark.parametrize("fmt", ["csv", "txt", "rss", "gz", "zst"])
def test_every_input_format(tmp_path, fmt):
    path = _write_inputs(tmp_path)[fmt]
    r = run("batch", path, "-q")
    assert r.exit_code == 0, r.output
    assert clusters_of(r.stdout) == [["2", "3"]]


def test_stdin_and_custom_field_names(tmp_path):
    renamed = "".join(json.dumps({"key": r["id"], "body": r["text"]}) + "\n" for r in RECORDS)
    r = run("batch", "-", "--id-field", "key", "--text-field", "body", "-q", "--deduped", tmp_path / "d.jsonl", input=renamed)
    assert r.exit_code == 0
    assert [json.loads(x)["key"] for x in (tmp_path / "d.jsonl").open()] == ["1", "2", "4", "5"]


def test_records_without_id_get_stable_content_ids():
    lines = "".join(json.dumps({"text": r["text"]}) + "\n" for r in RECORDS)
    a, b = run("batch", "-", "-q", input=lines), run("batch", "-", "-q", input=lines)
    assert a.stdout == b.stdout and clusters_of(a.stdout)[0][0].startswith("sha1:")


def test_bad_records_are_reported_and_skipped(tmp_path):
    bad = tmp_path / "bad.jsonl"
    with open(bad, "wb") as fh:
        fh.write(SAMPLE.read_bytes())
        fh.write(b'{"id": "broken", "text": \n')
        fh.write(b'{"id": "latin", "text": "caf\xe9"}\n')
        fh.write(b'{"id": "notext"}\n')
        fh.write(b'{"id": "num", "text": 12}\n')
        fh.write(b'{"id": "2", "text": "a second record with an id already used"}\n')
        fh.write(b'{"id": "huge", "text": "' + b"x " * (6 * 1024 * 1024) + b'"}\n')
        fh.write(b'{"id": "punct", "text": "!!! ..."}\n')
        fh.write(b'["not", "an", "object"]\n')
    r = run("batch", bad, "-q", "--report", tmp_path / "r.json", "--clusters", tmp_path / "c.jsonl")
    assert r.exit_code == 0
    errs = r.stderr.splitlines()
    for needle in ["line 6: broken JSON", "line 7: not valid UTF-8", "line 8 (id 'notext'): missing field 'text'",
                   "line 9 (id 'num'): field 'text' must be a string", "line 10 (id '2'): duplicate id '2'",
                   "line 11: record is", "line 12 (id 'punct'): text has no words", "line 13: expected a JSON object"]:
        assert any(e.startswith(f"dedup: {bad}: {needle}") and e.endswith(" (skipped)") for e in errs), (needle, errs)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["bad_records"] + report["skipped_articles"] == 8 and report["articles"] == 5
    assert clusters_of((tmp_path / "c.jsonl").read_text()) == [["2", "3"]]


def test_every_bad_record_message_names_its_record_the_same_way(tmp_path):
    """Tester: messages said "line N" for a record the reader refused and
    "id X" for an article refused later. Every one names the input, the
    record's place and its id when known, in one format, for JSON Lines
    (parsed in the workers) and CSV (read in the parent)."""
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("id,text\na1," + RECORDS[0]["text"].replace(",", " ") + "\na2,!!! ...\na3,\n", encoding="utf-8")
    r = run("batch", csv_path, "-q", "--clusters", tmp_path / "c.jsonl")
    assert r.exit_code == 0
    errs = sorted(r.stderr.splitlines())
    assert errs == [f"dedup: {csv_path}: row 3 (id 'a2'): text has no words after normalisation (skipped)",
                    f"dedup: {csv_path}: row 4 (id 'a3'): field 'text' is empty (skipped)"], errs
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text(json.dumps({"id": "b1", "text": RECORDS[0]["text"]}) + "\n"
                     + json.dumps({"id": "b2", "text": "!!! ..."}) + "\n", encoding="utf-8")
    r = run("batch", jsonl, "-q", "--clusters", tmp_path / "c.jsonl")
    assert r.stderr.splitlines() == [f"dedup: {jsonl}: line 2 (id 'b2'): text has no words after normalisation (skipped)"]
    strict = run("batch", jsonl, "-q", "--strict")
    assert strict.exit_code == 1 and "stopped at a bad record (line 2 (id 'b2')) because of --strict" in strict.stderr


def test_strict_stops_with_exit_code_1(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(SAMPLE.read_bytes() + b"{oops\n")
    r = run("batch", bad, "-q", "--strict")
    assert r.exit_code == 1 and "line 6: broken JSON" in r.stderr and "--strict" in r.stderr


def test_canonical_is_earliest_published(tmp_path):
    recs = [dict(RECORDS[1], published="2022-09-30T12:00:00Z"), dict(RECORDS[2], published="2022-09-30T08:00:00Z")]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert json.loads(run("batch", path, "-q").stdout)["canonical"] == "3"
    recs[1]["published"] = "yesterday"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    r = run("batch", path, "-q")
    assert "line 2 (id '3'): published: 'yesterday' is not an ISO 8601 date" in r.stderr


def test_usage_errors():
    assert run("batch", "nope.jsonl").exit_code == 2
    r = run("batch", SAMPLE, "--similarity", "1.5")
    assert r.exit_code == 2 and "similarity" in r.output
    assert run("batch", ROOT / "pyproject.toml").exit_code == 2


def test_spark_refuses_reuse_before_it_starts_spark(tmp_path, monkeypatch):
    import dedup.cli.spark as spark_cli

    monkeypatch.setattr(spark_cli, "_session", lambda *a: pytest.fail("a Spark session was started"))
    r = run("spark", SAMPLE, str(tmp_path / "out"), "--reuse", "0.5")
    assert r.exit_code == 2 and "reuse: not supported by dedup spark" in r.output and "--state/--against" not in r.output


def test_custom_boilerplate_file(tmp_path):
    bp = tmp_path / "bp.txt"
    bp.write_text("subscribe to the ap daily.*\n")
    recs = [RECORDS[1], dict(RECORDS[2], text="Subscribe to the AP Daily for more\n" + RECORDS[2]["text"])]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    pairs = json.loads(run("batch", path, "-q", "--boilerplate", bp).stdout)["pairs"]
    assert pairs[0]["kind"] == "exact"
    bp.write_text("fine.*\n([unclosed\n")
    r = run("batch", path, "-q", "--boilerplate", bp)
    assert r.exit_code == 2 and "pattern 2 ('([unclosed')" in r.output and "position 1" in r.output


def test_bench_runs_the_repository_scripts():
    from dedup.cli.bench import BENCHMARKS, bench_dir

    assert all((bench_dir() / script).exists() for script, _ in BENCHMARKS.values())
    r = CliRunner().invoke(cli, ["bench", "dump", "--", "--help"])
    assert r.exit_code == 0
    assert run("bench", "nope").exit_code == 2


def test_default_run_with_progress_bar_as_the_readme_shows(monkeypatch):
    monkeypatch.setattr("dedup.cli.batch._terminal", lambda: True)  # stderr a terminal, as in the README
    r = run("batch", SAMPLE)  # no --quiet: the progress bar and summary go to stderr
    assert r.exit_code == 0, r.output
    assert clusters_of(r.stdout) == [["2", "3"]]
    assert "fingerprinting" in r.stderr and "5/5" in r.stderr  # the bar has a total, hence an ETA
    assert "5 articles, 1 cluster, 1 duplicate," in r.stderr  # the plural only when needed


def test_no_progress_bar_when_stderr_is_not_a_terminal():
    r = run("batch", SAMPLE)  # CliRunner's stderr is not a terminal: a log file, a CI job
    assert r.exit_code == 0, r.output
    assert "fingerprinting" not in r.stderr and "articles/s" not in r.stderr
    assert "5 articles, 1 cluster, 1 duplicate," in r.stderr  # the summary line stays


def test_json_that_python_cannot_read_is_a_bad_record_not_a_crash(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(SAMPLE.read_bytes() + b'{"id": ' + b"9" * 5000 + b', "text": "x"}\n' + b"[" * 100000 + b"\n")
    r = run("batch", path, "-q")
    assert r.exit_code == 0 and clusters_of(r.stdout) == [["2", "3"]]
    assert "line 6: unreadable JSON" in r.stderr and "line 7:" in r.stderr


def test_gzip_input_closes_its_file(tmp_path):
    import gc
    import warnings

    from dedup.cli.readers import read_records

    path = tmp_path / "s.jsonl.gz"
    path.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert len(list(read_records(path))) == 5
        gc.collect()
    assert not [w for w in seen if issubclass(w.category, ResourceWarning)]  # nothing left unclosed





def test_kill_9_of_the_command_reading_stdin_leaves_no_temporary_file(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", "from dedup.cli import main; main()", "batch", "-", "-q"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    try:
        proc.stdin.write(SAMPLE.read_bytes())
        proc.stdin.flush()
        # stdin stays open: the command is copying it, into a file under TMPDIR
        wait_until(lambda: opened_under(proc.pid, tmp_path))
    finally:
        kill_group(proc)
        proc.wait(timeout=30)
    assert list(tmp_path.iterdir()) == []


def test_nothing_read_is_a_failure_not_success(tmp_path):
    path = tmp_path / "dump.csv"
    path.write_bytes("id;body\n1;Café news\n".encode("cp1252"))
    r = run("batch", path, "-q")  # not UTF-8, and no 'text' column: no article at all
    assert r.exit_code == 1 and "no article could be read" in r.stderr
    r = run("batch", "-", "-q", input="")  # empty stdin: as an empty file, not "cannot tell the format"
    assert r.exit_code == 1 and "no article could be read from -" in r.stderr


def test_piped_csv_is_read_without_input_format():
    r = CliRunner().invoke(cli, ["batch", "-", "-q"], input="id,text\n" + "".join(
        f'{rec["id"]},"{rec["text"]}"\n' for rec in RECORDS))
    assert r.exit_code == 0, r.stderr
    assert clusters_of(r.stdout) == [["2", "3"]]


def test_clusters_dash_is_stdout(tmp_path):
    r = run("batch", SAMPLE, "-q", "--clusters", "-", "--report", tmp_path / "r.json")
    assert r.exit_code == 0 and clusters_of(r.stdout) == [["2", "3"]]
    assert not Path("-").exists()


def test_unwritable_output_fails_before_the_work(tmp_path):
    r = run("batch", SAMPLE, "-q", "--clusters", tmp_path / "missing-dir" / "c.jsonl")
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert "cannot write" in r.stderr and "its folder does not exist" in r.stderr  # the reason, not only the path


def test_a_fifo_output_is_written_in_place_not_replaced(tmp_path):
    """A device or FIFO (``--clusters /dev/null`` as root) must stay what it
    is: replacing it with a regular file once broke the machine's /dev/null."""
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    r = run("batch", SAMPLE, "-q", "--clusters", fifo)
    reader.join(timeout=30)
    assert r.exit_code == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert clusters_of(got[0]) == [["2", "3"]]


def test_a_symlinked_output_replaces_its_target_and_keeps_the_link(tmp_path):
    target, link = tmp_path / "target.jsonl", tmp_path / "link.jsonl"
    target.write_text("old\n")
    link.symlink_to(target)
    r = run("batch", SAMPLE, "-q", "--clusters", link)
    assert r.exit_code == 0, r.stderr
    assert link.is_symlink() and clusters_of(target.read_text()) == [["2", "3"]]


def test_an_output_folder_that_takes_no_file_fails_before_the_work():
    r = run("batch", SAMPLE, "-q", "--report", "/proc/dedup-report.json")
    assert r.exit_code == 2 and "cannot write /proc/dedup-report.json" in r.stderr and "Traceback" not in r.stderr


def test_a_full_disk_on_stdout_is_one_line_not_a_traceback():
    r = subprocess.run([sys.executable, "-c", "from dedup.cli import main; main()", "batch", str(SAMPLE), "-q"],
                       stdout=open("/dev/full", "w"), stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 1 and "No space left on device" in r.stderr and "Traceback" not in r.stderr


def test_a_text_skipped_for_no_words_is_not_in_deduped(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(SAMPLE.read_text() + json.dumps({"id": "empty", "text": "!!! ... ---"}) + "\n")
    out = tmp_path / "dedup.jsonl"
    r = run("batch", path, "-q", "--deduped", out)
    assert r.exit_code == 0, r.stderr
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert "empty" not in ids and "3" not in ids and "2" in ids


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(SAMPLE.read_bytes())
    for opt in ("--deduped", "--clusters", "--report"):
        r = run("batch", feed, "-q", opt, feed)
        assert r.exit_code == 2 and "is the input" in r.stderr
    assert feed.read_bytes() == SAMPLE.read_bytes()


def test_a_failed_run_leaves_no_output_behind(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    r = run("batch", bad, "-q", "--clusters", tmp_path / "c.jsonl", "--report", tmp_path / "r.json")
    assert r.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


def test_a_folder_read_as_jsonl_is_an_error_not_a_traceback(tmp_path):
    r = run("batch", tmp_path, "--input-format", "jsonl")
    assert r.exit_code == 1 and "cannot read" in r.stderr and "Traceback" not in r.stderr


def test_dash_means_stdout_for_every_output_and_only_one_may_use_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("batch", SAMPLE, "-q", "--report", "-")
    assert r.exit_code == 0 and json.loads(r.stdout)["clusters"] == 1 and not Path("-").exists()
    r = run("batch", SAMPLE, "-q", "--deduped", "-")
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 4 and not Path("-").exists()
    r = run("batch", SAMPLE, "-q", "--deduped", "-", "--report", "-")
    assert r.exit_code == 2 and "only one output" in r.stderr


def test_a_mistyped_id_field_is_warned_about():
    r = run("batch", SAMPLE, "-q", "--id-field", "nope")
    assert r.exit_code == 0 and "no record of" in r.stderr and "has the field 'nope'" in r.stderr
    assert "has the field" not in run("batch", SAMPLE, "-q").stderr  # no field named: hashing is the default


def test_a_csv_quote_left_open_is_a_broken_row_not_the_rest_of_the_file(tmp_path):
    """The lenient csv reader made an unterminated quote's field swallow every
    row after it: one record read, none bad, exit 0 (a tester's finding)."""
    path = tmp_path / "open.csv"
    path.write_text('id,text,source\na,"hello world this is a text,x\nb,"second one",x\nc,a third text here,y\n')
    report = tmp_path / "r.json"
    r = run("batch", path, "-q", "--report", report)
    assert "row 2: broken CSV (a quote opened in this row is not closed where it should be: 2 lines" in r.output
    got = json.loads(report.read_text())
    assert got["bad_records"] == 1 and got["articles"] == 1  # c, after the broken row, is read


@pytest.mark.parametrize("args, module, extra", [
    (["spark", "seeds/sample.jsonl", "OUT"], "pyspark", "spark"),
    (["eval", "seeds/eval_tiny.jsonl", "--baseline"], "datasketch", "datasketch"),
])
def test_a_missing_optional_dependency_is_named_with_its_extra_not_a_traceback(monkeypatch, args, module, extra):
    """Tester: without the extra, `dedup spark` and `dedup eval --baseline` ended in a traceback."""
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: find_spec says None, import fails
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f"needs {module}, which is not installed: pip install 'dedup-news[{extra}]'" in r.output
