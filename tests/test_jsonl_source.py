"""JSON Lines parsed in the workers (dedup.cli.readers.JsonLines) read exactly
what read_records reads: the same records, the same ids, the same message for
each bad one, in the same order, whatever the chunk boundaries."""

from __future__ import annotations

import gzip
import json

import pytest

from dedup.batch import cluster_articles
from dedup.cli.readers import JsonLines, read_records

BODY = "The central bank raised interest rates on Thursday for the third time this year, citing inflation. "
OTHER = "Floods closed the main road into the valley after two days of heavy rain, police said on Monday. "


def _lines() -> list[bytes]:
    good = [json.dumps({"id": f"a{k}", "text": BODY * 3 + f"Story {k}.", "published": "2024-03-0%dT10:00:00Z" % (k % 9 + 1)})
            for k in range(6)]
    return [
        b"\xef\xbb\xbf" + good[0].encode(),  # a BOM on line 1
        good[1].encode(),
        b"",  # blank: no record, but it counts as a line
        b'{"id": "b1", "text": ',  # broken JSON
        b'{"id": "b2", "text": "caf\xe9 news"}',  # not UTF-8
        b'{"id": "b3"}',  # no text
        b'[1, 2]',  # not an object
        good[1].encode(),  # a repeated explicit id
        json.dumps({"text": OTHER * 3}).encode(),  # no id: a content hash
        json.dumps({"text": OTHER * 3}).encode(),  # the same text again: the hash with .2
        json.dumps({"id": "x" * 10, "text": "big " * 400}).encode(),  # over the record limit below
        b'{"id": "p", "text": "..."}',  # no words: rejected by the fingerprinter, not the reader
        b'{"id": 7, "text": "' + (OTHER * 2).encode() + b'", "published": "yesterday"}',  # a bad date
        *[g.encode() for g in good[2:]],
        json.dumps({"id": "last", "text": BODY * 2}).encode(),  # no newline at the end
    ]


def _write(path, lines, gz=False):
    data = b"\n".join(lines)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _via_source(path, size, **kw):
    seen = []
    src = JsonLines(path, lambda loc, err, has_id, doc_id: seen.append((loc, err, has_id, doc_id)), max_record_bytes=1000,
                    **kw)
    texts = []
    for ctx, work in src.chunks(size):
        records, chunk_texts = work.parse()
        rows = src.admit(ctx, records)
        assert len(rows) == len(chunk_texts)
        texts += [(row, t) for row, t in zip(rows, chunk_texts) if row is not None]
    return src, seen, texts


def _via_reader(path, **kw):
    recs = list(read_records(path, max_record_bytes=1000, **kw))
    seen = [(r.locator, r.error, r.raw is not None and r.raw.get("id") not in (None, ""), r.id) for r in recs]
    return seen, [r.article for r in recs if r.article is not None]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("size", [1, 2, 3, 500])
def test_the_source_reads_what_read_records_reads(tmp_path, gz, size):
    path = _write(tmp_path / ("d.jsonl.gz" if gz else "d.jsonl"), _lines(), gz)
    src, seen, texts = _via_source(path, size)
    want_seen, want = _via_reader(path)
    assert seen == want_seen
    assert [e for _, e, _, _ in seen if e] and len(seen) == len(_lines()) - 1  # bad ones there; the blank line is none
    assert [(row[0], t) for row, t in texts] == [(a.id, a.text) for a in want]
    assert [row[1] for row, _ in texts] == [a.published_ts for a in want]
    assert src.seekable is not gz


def test_a_gzip_input_cut_short_reports_the_same_line_as_read_records(tmp_path):
    data = gzip.compress(b"\n".join(_lines()) + b"\n")
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    _, seen, _ = _via_source(path, 2)
    want_seen, _ = _via_reader(path)
    assert seen == want_seen and "ends early" in seen[-1][1]


def test_again_reads_back_the_articles_asked_for_with_the_ids_the_run_gave(tmp_path):
    path = _write(tmp_path / "d.jsonl", _lines())
    src, _, texts = _via_source(path, 2)
    _, want = _via_reader(path)
    ids = [a.id for a in want]
    wanted = {ids[0], ids[-1], next(i for i in ids if i.endswith(".2"))}
    assert list(src.again(wanted)) == [a for a in want if a.id in wanted]


def test_a_non_utf8_encoding_is_read_the_same(tmp_path):
    path = tmp_path / "w.jsonl"
    path.write_bytes("\n".join(json.dumps({"id": str(k), "text": f"Café {k} " + BODY}, ensure_ascii=False)
                               for k in range(5)).encode("cp1252"))
    _, seen, texts = _via_source(path, 2, encoding="cp1252")
    want_seen, want = _via_reader(path, encoding="cp1252")
    assert seen == want_seen and [t for _, t in texts] == [a.text for a in want]


def test_clusters_from_the_source_in_workers_equal_those_from_articles(tmp_path):
    lines = [json.dumps({"id": f"{k}", "text": (BODY if k % 2 else OTHER) * 4 + f"Filed {k % 3}."}).encode()
             for k in range(40)] + _lines()
    path = _write(tmp_path / "d.jsonl", lines)
    skipped_src, skipped_art = [], []
    src = JsonLines(path, lambda *_: None, max_record_bytes=1000)
    got = cluster_articles(src, jobs=2, chunk_size=3, on_skip=lambda i, r: skipped_src.append((i, r)))
    arts = [r.article for r in read_records(path, max_record_bytes=1000) if r.article is not None]
    want = cluster_articles(arts, jobs=1, on_skip=lambda i, r: skipped_art.append((i, r)))
    assert [c.to_dict() for c in got.clusters] == [c.to_dict() for c in want.clusters] and got.clusters
    assert skipped_src == skipped_art == [("p", "text has no words after normalisation")]
    assert got.n_articles == want.n_articles


def test_a_range_a_worker_cannot_read_stops_the_run(tmp_path):
    path = _write(tmp_path / "d.jsonl", _lines())
    src = JsonLines(path, lambda *_: None)
    ctx, work = next(src.chunks(2))
    path.unlink()  # gone before the worker reads its range
    records, texts = work.parse()
    assert texts == []
    with pytest.raises(OSError, match="No such file"):
        src.admit(ctx, records)


def test_a_long_first_line_does_not_make_every_range_long(tmp_path, monkeypatch):
    import dedup.cli.readers as readers

    monkeypatch.setattr(readers, "_MAX_RANGE", 4096)
    lines = [json.dumps({"id": "long", "text": BODY * 200}).encode()] + \
        [json.dumps({"id": f"s{k}", "text": OTHER}).encode() for k in range(300)]
    path = _write(tmp_path / "d.jsonl", lines)
    ranges = [work.length for _, work in JsonLines(path, lambda *_: None).chunks(500)]
    assert len(ranges) > 5 and max(ranges[1:]) < 4096 + 200  # one line past the cut at most
    _, seen, texts = _via_source(path, 500)  # the long line is over _via_source's record limit
    assert seen[0][1].startswith("record is") and [row[0] for row, _ in texts] == [f"s{k}" for k in range(300)]


def test_a_json_string_line_is_reported_as_read_records_reports_it(tmp_path):
    path = _write(tmp_path / "s.jsonl", [b'"a plain string, not a reason"', b"null", b"", b'{"id": "a", "text": "hello there world"}'])
    _, seen, _ = _via_source(path, 500)
    assert seen == _via_reader(path)[0]
    assert seen[0][1] == "expected a JSON object, got string" and seen[1][1] == "expected a JSON object, got null"
