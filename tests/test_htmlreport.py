"""``dedup batch --html``: one self-contained file, bounded side-by-side views, everything escaped."""

from __future__ import annotations

import html
import json
import re

from click.testing import CliRunner

from dedup.cli import cli
from dedup.normalisation import normalise, tokens

STORIES = [
    ("The central bank raised interest rates by a quarter point on Thursday, its third increase this year, citing "
     "stubborn inflation in services and a labour market that has barely cooled. ") * 2,
    ("Flooding along the river forced thousands of residents from their homes overnight as emergency crews "
     "worked to shore up levees that officials said were close to failing. ") * 2,
    ("The league suspended the club's manager for six matches after a review found he had confronted a referee "
     "in the tunnel following last weekend's defeat at home. ") * 2,
]


CITIES = ["PARIS", "LONDON", "ROME", "OSLO", "KYIV", "LIMA"]


def dump(tmp_path, copies: dict[int, int], extra: list[dict] = ()) -> str:
    """Story ``i`` published ``copies[i]`` times (each with its own dateline), plus ``extra`` records."""
    rows = [{"id": f"s{i}-{k}", "text": f"{CITIES[k]} (AP) - " + STORIES[i], "title": f"Story {i}", "source": f"outlet {k}"}
            for i, n in copies.items() for k in range(n)]
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [*rows, *extra]) + "\n", encoding="utf-8")
    return str(path)


def run(*args: str):
    return CliRunner().invoke(cli, ["batch", *args, "--quiet", "--jobs", "1"], catch_exceptions=False)


def test_the_report_is_one_self_contained_file(tmp_path):
    src, out = dump(tmp_path, {0: 4, 1: 2}, extra=[{"id": "bad"}]), tmp_path / "report.html"
    r = run(src, "--html", str(out))
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"\b(?:src|href)=\"(?!#)", page)  # nothing to fetch: no script, image or style sheet
    assert "http" not in page.replace('http-equiv="Content-Security-Policy"', "")
    assert "<script" not in page and "<svg" in page
    summary = {label: int(n) for n, label in re.findall(r"<div><b>(\d+)</b>([^<]+)</div>", page)}
    assert summary["articles"] == 6 and summary["clusters of 2+"] == 2 and summary["duplicates"] == 4
    assert summary["bad records"] == 1
    assert "<title>4 clusters of 4</title>" not in page and "<title>1 clusters of 4</title>" in page
    assert page.count('<section class="cluster dup"') == 2
    first = re.search(r'<section class="cluster dup" id="c(\d+)">(.*?)</section>', page, re.DOTALL)
    sides = re.findall(r'<div class="text">(.*?)</div>', first.group(2), re.DOTALL)
    assert len(sides) == 2
    for side in sides:  # the story's every word highlighted on both sides, the dateline greyed
        marked = " ".join(html.unescape(m) for m in re.findall(r"<mark[^>]*>(.*?)</mark>", side, re.DOTALL))
        assert tokens(normalise(marked)) == tokens(normalise(STORIES[0]))
        assert re.search(r'<span class="removed"[^>]*>[A-Z]+ \(AP\)', side)


def test_only_the_largest_clusters_are_shown_side_by_side_the_rest_listed(tmp_path):
    src, out = dump(tmp_path, {0: 5, 1: 3, 2: 2}), tmp_path / "r.html"
    assert run(src, "--html", str(out), "--html-clusters", "1").exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert page.count('<section class="cluster dup"') == 1
    assert "s0-0" in re.search(r'<section class="cluster dup".*?</section>', page, re.DOTALL).group(0)
    rest = re.search(r'<pre class="rest">(.*?)</pre>', page, re.DOTALL).group(1).splitlines()
    assert sorted(line.split(" ", 2)[1] for line in rest) == ["(2)", "(3)"]
    assert any(line.endswith(": s1-1 s1-2") for line in rest)
    assert "The other 2 clusters" in page


def test_text_titles_and_ids_are_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    rows = [{"id": f"{evil}{k}", "text": evil + " " + STORIES[1], "title": evil} for k in range(2)]
    src = tmp_path / "evil.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "r.html"
    assert run(str(src), "--html", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_bad_options_are_one_line(tmp_path):
    src = dump(tmp_path, {0: 2})
    r = CliRunner().invoke(cli, ["batch", src, "--html", str(tmp_path / "r.html"), "--html-clusters", "100000"])
    assert r.exit_code == 2 and "--html-clusters" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["batch", src, "--html", src])
    assert r.exit_code == 2 and "is the input" in r.output
