"""Input readers: what a user hands ``dedup batch`` is read, or refused with a
reason naming the record; never a traceback."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.cli.readers import detect_format, read_records

TEXT = "The central bank raised interest rates on Thursday for the third time this year."


def _articles(records):
    return [r.article.id for r in records if r.article is not None]


def test_a_single_txt_file_is_one_article(tmp_path):
    f = tmp_path / "one.txt"
    f.write_text(TEXT)
    assert _articles(read_records(f)) == ["one"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_is_taken_from_the_header(tmp_path, delimiter):
    f = tmp_path / "d.csv"
    f.write_text(f"id{delimiter}text\n1{delimiter}{TEXT}\n2{delimiter}Other news today.\n")
    assert _articles(read_records(f)) == ["1", "2"]


def test_windows_1252_csv_says_how_to_read_it_and_reads_with_the_encoding(tmp_path):
    f = tmp_path / "w.csv"
    f.write_bytes(f"id,text\n1,Caf\xe9 prices rose \u201csharply\u201d {TEXT}\n".encode("cp1252"))
    bad = list(read_records(f))
    assert bad[0].article is None and "--encoding cp1252" in bad[0].error
    good = list(read_records(f, encoding="cp1252"))
    assert good[0].article.text.startswith("Café prices rose \u201csharply\u201d")


def test_unknown_encoding_is_refused():
    with pytest.raises(ValueError, match="unknown encoding"):
        read_records("x.jsonl", encoding="no-such-codec")


@pytest.mark.parametrize("head,fmt", [('{"id": 1, "text": "x"}\n', "jsonl"), ("id,text\n1,x\n", "csv"),
                                       ("<rss><channel></channel></rss>", "rss"), ("id;text\n1;x\n", "csv")])
def test_a_file_without_a_suffix_is_read_by_its_content(tmp_path, head, fmt):
    f = tmp_path / "dedup-stdin-abc"
    f.write_text(head)
    assert detect_format(f) == fmt


def test_content_that_is_no_known_format_names_the_option(tmp_path):
    f = tmp_path / "blob"
    f.write_text("just some words\n")
    with pytest.raises(ValueError, match="--input-format"):
        detect_format(f)


def test_broken_json_message_reads_well(tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text('{"id": 1, "text": "unterminated\n')
    err = list(read_records(f))[0].error
    assert err.startswith("broken JSON: ") and " at (" not in err and "character" in err


def test_one_undecodable_row_costs_that_row_only(tmp_path):
    f = tmp_path / "mixed.csv"
    rows = [f"{i},Story number {i} about the harbour. {TEXT}" for i in range(1, 11)]
    rows[3] = "4,Caf\xe9 story about the harbour."
    f.write_bytes(("id,text\n" + "\n".join(rows) + "\n").encode("cp1252"))
    recs = list(read_records(f))
    assert [r.article.id for r in recs if r.article] == [str(i) for i in range(1, 11) if i != 4]
    bad = [r for r in recs if r.article is None]
    assert [r.locator for r in bad] == ["row 5"] and "--encoding cp1252" in bad[0].error


def test_a_jsonl_byte_order_mark_is_not_a_bad_record(tmp_path):
    f = tmp_path / "bom.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + b'{"id": "1", "text": "Harbour news."}\n')
    assert _articles(read_records(f)) == ["1"]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(1 << 80), max_value=1 << 80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3), max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "text", "title", "published", "x"]), _json_values, max_size=5),
       st.booleans(), st.booleans())
def test_fast_json_lines_parse_equals_json_loads(record, first, bom):
    """The orjson fast path reads exactly what ``json.loads`` reads (big integers, floats, nesting included)."""
    import json

    from dedup.cli.readers import _json_loads

    line = (b"\xef\xbb\xbf" if first and bom else b"") + json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n"
    try:
        want = repr(json.loads(line.decode("utf-8").removeprefix("\ufeff") if first else line.decode("utf-8")))
    except ValueError as exc:  # lone surrogates in UTF-8, a BOM on a later line
        want = f"{type(exc).__name__}: {exc}"
    try:
        got = repr(_json_loads(line, first, True))
    except ValueError as exc:
        got = f"{type(exc).__name__}: {exc}"
    assert got == want
    escaped = json.dumps(record).encode("ascii") + b"\n"  # \ud800 escapes, non-ASCII as \u escapes
    assert repr(_json_loads(escaped, False, True)) == repr(json.loads(escaped.decode("ascii")))


def test_a_gzip_file_cut_short_keeps_its_complete_lines_and_says_where_it_ends(tmp_path):
    """gzip's EOFError once reached click as a bare "Aborted!", losing every
    record read before the cut."""
    import gzip as gz

    lines = "".join(json.dumps({"id": f"d{i}", "text": f"story number {i} " * 40}) + "\n" for i in range(200))
    packed = gz.compress(lines.encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    got = list(read_records(cut))
    assert got[-1].article is None and "ends early" in got[-1].error
    good = [r.article.id for r in got if r.article is not None]
    assert good and good == [f"d{i}" for i in range(len(good))]  # every complete line before the cut, in order


def test_a_json_string_line_is_a_bad_record_not_its_own_reason(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text('"field text is fine, nothing wrong here"\n{"id": "a", "text": "hello there world"}\n')
    recs = list(read_records(f))
    assert recs[0].article is None and recs[0].error == "expected a JSON object, got string"
    assert recs[1].article.id == "a"


def test_a_null_line_is_a_bad_record_and_a_blank_one_is_nothing(tmp_path):
    f = tmp_path / "n.jsonl"
    f.write_text('null\n\n  \n[1]\n42\n{"id": "a", "text": "hello there world"}\n')
    recs = list(read_records(f))
    assert [(r.locator, r.error) for r in recs[:3]] == [("line 1", "expected a JSON object, got null"),
                                                       ("line 4", "expected a JSON object, got array"),
                                                       ("line 5", "expected a JSON object, got number")]
    assert recs[3].article.id == "a" and len(recs) == 4


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_json_lines_in_utf16_or_utf32_are_read_with_their_encoding(tmp_path, encoding):
    f = tmp_path / "u.jsonl"
    rows = [{"id": "a", "text": "Überschwemmung in der Stadt am Montag"}, {"id": "b", "text": "second story here"}]
    f.write_bytes(("\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:1]) + "\n\nnull\n"
                   + json.dumps(rows[1]) + "\n").encode(encoding))
    recs = list(read_records(f, encoding=encoding))
    assert [(r.locator, r.article.text if r.article else r.error) for r in recs] == [
        ("line 1", rows[0]["text"]), ("line 3", "expected a JSON object, got null"), ("line 4", rows[1]["text"])]


def test_a_utf16_file_read_as_utf8_names_the_encoding_to_pass(tmp_path):
    f = tmp_path / "u.jsonl"
    f.write_text(json.dumps({"id": "a", "text": "one story"}) + "\n", encoding="utf-16")
    assert "pass --encoding utf-16" in list(read_records(f))[0].error


def test_dedup_batch_clusters_a_utf16_dump_given_its_encoding(tmp_path):
    from click.testing import CliRunner

    from dedup.cli import cli

    f = tmp_path / "u.jsonl"
    story = "Storms closed schools across the region on Friday, officials said, and more rain is due."
    f.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in (("a", story), ("b", "LONDON - " + story))),
                 encoding="utf-16")
    r = CliRunner().invoke(cli, ["batch", str(f), "-q", "--encoding", "utf-16"])
    assert r.exit_code == 0 and json.loads(r.stdout)["members"] == ["a", "b"]


def test_a_string_left_open_at_the_end_of_a_line_and_a_cut_feed_say_what_is_wrong(tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text('{"id": 1, "text": "unterminated\n{"id": 2, "text": "fine here"}\n')
    recs = list(read_records(f))
    assert recs[0].error.startswith("broken JSON: a string is not closed when the line ends") and recs[1].article.id == "2"
    rss = tmp_path / "cut.rss"
    rss.write_text("<rss><channel><item><title>a</ti")
    [rec] = list(read_records(rss))
    assert rec.error.startswith("missing field 'text' (the feed is not well-formed XML")


def test_a_zstd_file_cut_short_or_broken_is_reported_and_its_frames_are_all_read(tmp_path):
    import zstandard

    from click.testing import CliRunner

    from dedup.cli import cli

    lines = "".join(json.dumps({"id": f"d{i}", "text": f"story number {i} " * 40}) + "\n" for i in range(200)).encode()
    packed = zstandard.ZstdCompressor().compress(lines)
    cut = tmp_path / "cut.jsonl.zst"
    cut.write_bytes(packed[: len(packed) - 3])  # no silent end: the last frame is not finished
    got = list(read_records(cut))
    assert got[-1].article is None and "ends early" in got[-1].error
    two = tmp_path / "two.jsonl.zst"
    two.write_bytes(packed + zstandard.ZstdCompressor().compress(lines.replace(b'"d', b'"e')))
    assert len([r for r in read_records(two) if r.article is not None]) == 400
    broken = tmp_path / "broken.zst"  # no suffix to read the format from: it is sniffed
    broken.write_bytes(b"\x28\xb5\x2f\xfd" + b"junk" * 4)
    for command in ("batch", "house"):
        r = CliRunner().invoke(cli, [command, str(broken)])
        assert r.exit_code == 2 and "compressed input cannot be read" in r.output and "Traceback" not in r.output
    gz = tmp_path / "broken.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00junk")
    r = CliRunner().invoke(cli, ["batch", str(gz)])
    assert r.exit_code == 2 and "compressed input cannot be read" in r.output


def test_a_utf16_line_that_does_not_decode_costs_that_line_only(tmp_path):
    f = tmp_path / "u.jsonl"
    good = [json.dumps({"id": f"d{i}", "text": f"story number {i} " * 20}) for i in range(300)]
    data = b"".join((g + "\n").encode("utf-16-le") for g in good[:99])
    data += '{"id": "bad", "text": "'.encode("utf-16-le") + b"\x00\xd8" + '"}\n'.encode("utf-16-le")  # a lone surrogate
    data += b"".join((g + "\n").encode("utf-16-le") for g in good[100:])
    f.write_bytes(b"\xff\xfe" + data)
    recs = list(read_records(f, encoding="utf-16"))
    assert [r.locator for r in recs if r.article is None] == ["line 100"] and "not valid utf-16" in recs[99].error
    assert len([r for r in recs if r.article is not None]) == 299
    f.write_bytes(data)  # no byte order mark: the encoding to pass is named
    assert "utf-16-le" in list(read_records(f, encoding="utf-16"))[0].error


def test_a_zstd_file_with_a_broken_tail_gives_every_line_before_it(tmp_path):
    import zstandard

    lines = "".join(json.dumps({"id": f"d{i}", "text": f"story number {i} " * 40}) + "\n" for i in range(3000)).encode()
    f = tmp_path / "tail.jsonl.zst"
    f.write_bytes(zstandard.ZstdCompressor().compress(lines) + b"garbage!")
    got = list(read_records(f))
    assert len([r for r in got if r.article is not None]) == 3000 and "ends early" in got[-1].error


def test_a_utf16_gzip_cut_short_keeps_its_complete_lines_and_says_where_it_ends(tmp_path):
    import gzip as gz

    lines = "".join(json.dumps({"id": f"d{i}", "text": f"story number {i} " * 30}) + "\n" for i in range(300))
    packed = gz.compress(lines.encode("utf-16"))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    got = list(read_records(cut, encoding="utf-16"))
    assert got[-1].article is None and "ends early" in got[-1].error
    good = [r.article.id for r in got if r.article is not None]
    assert good and good == [f"d{i}" for i in range(len(good))]
