"""House boilerplate: `dedup.house.house_lines`, the `dedup house` command, and
the normaliser stripping a caller's own lines even from a brief shorter than them."""

import json
import random
import re

from click.testing import CliRunner

from dedup.batch import cluster_articles
from dedup.cli import cli
from dedup.deduplicator import Deduplicator
from dedup.house import house_lines
from dedup.normalisation import Normaliser
from dedup.types import Article

FOOTER = ("Our coverage of this region is supported by readers like you and we thank every one of them for it. "
          "Read more stories from the newsroom on our website and follow the desk for the latest updates through "
          "the day. The views of contributors are their own and do not reflect the position of the publisher.")
COMPANIES = "Acme Birch Cobalt Delta Ember Fulton Granite Harbor".split()
def brief(i: int, company: str) -> str:
    """One dividend brief of a template: another company, other figures."""
    return (f"{company} Corp said its board declared a quarterly dividend of {10 + 3 * i} cents a share, "
            f"payable on June {i + 1} to shareholders of record on May {i + 10}.")


def arts(texts, outlet=None):
    return [Article(f"t{i}", t, source=outlet) for i, t in enumerate(texts)]


def word(rng: random.Random) -> str:
    """A made-up word: stories made of them share few words, as different stories do."""
    return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(1, 4)))


def story(rng: random.Random, n: int, paragraphs: int = 4) -> list[str]:
    """A made-up story of ``paragraphs`` paragraphs of 25 words, all its own."""
    return [f"Story {n} paragraph {p}: " + " ".join(word(rng) for _ in range(25)) + "."
            for p in range(paragraphs)]


def test_a_footer_on_different_stories_is_found_and_stripped_even_from_a_short_brief():
    rng = random.Random(1)
    texts = ["\n".join(story(rng, n)) + "\n" + FOOTER for n in range(40)]
    texts += [brief(i, c) + "\n" + FOOTER for i, c in enumerate(COMPANIES)]
    found = house_lines(arts(texts), min_articles=20)
    assert [h.text for h in found] == [FOOTER.rstrip(".")]
    assert found[0].articles == 48 and found[0].share < 0.5 and found[0].outlets == 0
    n = Normaliser(boilerplate=(found[0].pattern,))
    # the footer is longer than the brief: the quarter rule keeps built-in boilerplate there, not the caller's own
    assert n(texts[-1]) == n(brief(7, "Harbor"))
    assert Normaliser()(texts[-1]) != Normaliser()(brief(7, "Harbor"))


def test_template_briefs_under_a_found_footer_stay_apart_in_batch_and_online():
    rng = random.Random(2)
    arts = [Article(str(i), brief(i, c) + "\n\n" + FOOTER) for i, c in enumerate(COMPANIES)]
    others = ["\n".join(story(rng, n)) + "\n\n" + FOOTER for n in range(30)]

    def merged(normaliser):
        batch = [sorted(c.members) for c in cluster_articles(arts, normaliser=normaliser).clusters if len(c.members) > 1]
        d = Deduplicator(normaliser=normaliser)
        online = sum(len(d.add(a).duplicates) for a in arts)
        return batch, online

    batch, online = merged(Normaliser())
    assert batch and online  # the premise: the footer makes some briefs look alike
    found = house_lines(arts + [Article(f"o{i}", t) for i, t in enumerate(others)], min_articles=20)
    assert merged(Normaliser(boilerplate=tuple(h.pattern for h in found))) == ([], 0)


def test_a_story_picked_up_a_thousand_times_gives_no_house_line():
    rng = random.Random(3)
    paragraphs = story(rng, 0, paragraphs=8)
    texts = []
    for k in range(1000):  # datelines, a local paragraph anywhere, two paragraphs swapped, the end cut
        ps = list(paragraphs)
        ps[0] = f"CITY {k} (Wire) - " + ps[0]
        i, j = rng.sample(range(1, len(ps)), 2)
        ps[i], ps[j] = ps[j], ps[i]
        ps.insert(rng.randrange(1, len(ps) + 1), f"Local note {k}: " + " ".join(word(rng) for _ in range(20)))
        texts.append("\n".join(ps[: len(ps) - rng.randrange(3)]))
    texts += ["\n".join(story(rng, n)) for n in range(1, 60)]
    assert house_lines(arts(texts), min_articles=20) == []


def test_copies_edited_on_most_lines_share_a_few_whole_lines_but_are_one_story():
    rng = random.Random(8)
    paragraphs = story(rng, 0, paragraphs=10)
    texts = []
    for k in range(100):  # the last line kept whole, every other line with a word or two changed
        ps = [" ".join(word(rng) if rng.random() < 0.08 else w for w in p.split()) for p in paragraphs[:-1]]
        texts.append("\n".join(ps + paragraphs[-1:]))
    texts += ["\n".join(story(rng, n)) for n in range(1, 60)]
    assert house_lines(arts(texts)) == []


def test_a_template_briefs_figures_line_is_never_listed():
    rng = random.Random(9)
    texts = ["\n".join(story(rng, n, paragraphs=2)) + "\nQtly div five cts vs five cts prior" for n in range(40)]
    assert house_lines(arts(texts)) == []


def test_lines_the_normaliser_strips_or_too_few_articles_are_not_listed():
    rng = random.Random(4)
    credit = "Copyright 2024 The Associated Press. All rights reserved."  # a built-in whole line
    texts = ["\n".join(story(rng, n)) + "\n" + FOOTER + "\n" + credit for n in range(19)]
    assert house_lines(arts(texts), min_articles=20) == []  # 19 articles
    found = house_lines(arts(texts), min_articles=19)
    assert [h.text for h in found] == [FOOTER.rstrip(".")]  # the credit is built in
    assert house_lines(arts(texts), min_articles=19, normaliser=Normaliser(boilerplate=(found[0].pattern,))) == []


def test_dedup_house_writes_patterns_that_keep_briefs_apart_in_dedup_batch(tmp_path):
    rng = random.Random(5)
    dump = tmp_path / "feed.jsonl"
    rows = [{"id": f"s{n}", "text": "\n".join(story(rng, n)) + "\n\n" + FOOTER} for n in range(25)]
    rows += [{"id": f"b{i}", "text": brief(i, c) + "\n\n" + FOOTER} for i, c in enumerate(COMPANIES)]
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")

    def clusters(*opts):
        r = CliRunner().invoke(cli, ["batch", str(dump), "-q", *opts], catch_exceptions=False)
        assert r.exit_code == 0
        return [json.loads(x)["members"] for x in r.stdout.splitlines()]

    assert clusters()  # the premise: under the footer, some briefs are merged
    out = tmp_path / "house.txt"
    r = CliRunner().invoke(cli, ["house", str(dump), "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "line 34" in r.stderr and "skipped" in r.stderr  # the bad record is named, the rest is read
    assert "1 house line(s) in 33 article(s) read" in r.stderr and "33 of 33 articles name no outlet" in r.stderr
    assert out.read_text(encoding="utf-8").splitlines() == [re.escape(FOOTER.rstrip(".")).replace("\\ ", " ")]
    assert clusters("--boilerplate", str(out)) == []
    again = tmp_path / "again.txt"  # an earlier list is kept at the head of the new one
    r = CliRunner().invoke(cli, ["house", str(dump), "--boilerplate", str(out), "--out", str(again)])
    assert r.exit_code == 0 and again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    assert "0 house line(s)" in r.stderr


def test_dedup_house_output_checks(tmp_path):
    dump = tmp_path / "feed.jsonl"
    dump.write_text(json.dumps({"id": "a", "text": "One story.\nIts second line here."}) + "\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["house", str(dump), "--out", str(dump)])
    assert r.exit_code == 2 and "is the input" in r.stderr
    stale = tmp_path / "stale.txt"
    stale.write_text("old pattern\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["house", str(dump), "--out", str(stale)])
    assert r.exit_code == 0 and stale.read_text(encoding="utf-8") == ""  # nothing found: the file says so
    r = CliRunner().invoke(cli, ["house", "-"], input=dump.read_text(encoding="utf-8"))
    assert r.exit_code == 0 and "in 1 article(s) read" in r.stderr
    r = CliRunner().invoke(cli, ["house", str(dump), "--max-share", "nan"])
    assert r.exit_code == 2 and "nan is not a share" in r.stderr
    r = CliRunner().invoke(cli, ["house", "-"], input="junk\n")
    assert r.exit_code == 2 and "stdin: cannot tell the format" in r.stderr


def test_a_wire_brief_many_outlets_ran_with_longer_additions_is_not_a_house_line():
    rng = random.Random(6)
    wire = ["The central bank raised its main interest rate by a quarter point on Thursday, to 5.25 pct.",
            "It was the third increase this year, and the governor said more could follow if prices kept rising.",
            "Markets had expected the move after inflation figures last week came in above forecasts again."]
    copies = [Article(f"c{k}", "\n".join(wire + [f"Local {k}.{j}: " + " ".join(word(rng) for _ in range(22))
                                             for j in range(3)]), source=f"outlet{k}") for k in range(60)]
    others = [Article(f"o{n}", "\n".join(story(rng, n)), source=f"outlet{n % 60}") for n in range(200)]
    assert house_lines(copies + others) == []
    # named by their url instead: the same
    assert house_lines([Article(a.id, a.text, url=f"https://{a.source}.example/x") for a in copies + others]) == []


def test_one_outlets_footer_longer_than_its_briefs_is_found_when_outlets_are_named():
    briefs = [Article(f"b{i}", f"{c} Corp {i} said its board declared a dividend of {10 + i} cents.\n" + FOOTER,
                      source="Daily Example") for i, c in enumerate(COMPANIES * 4)]
    assert house_lines(Article(a.id, a.text) for a in briefs) == []  # unnamed: the footer is most of each
    found = house_lines(briefs, min_articles=20)
    assert [(h.text, h.outlets) for h in found] == [(FOOTER.rstrip("."), 1)]


def test_found_patterns_strip_their_line_in_any_script():
    rng = random.Random(7)
    for footer in ("İstanbul haberleri için İnternet sitemizi ziyaret edin ve bizi takip edin.",
                   "Читайте больше новостей на нашем сайте и подписывайтесь на наш канал.",
                   "อ่านข่าวเพิ่มเติมได้ที่เว็บไซต์ของเราและติดตามเราได้ทุกวัน",
                   "Read more from our newsroom on our website [link] (c) 100% *free*?",
                   "Support our newsroom by subscribing today and read every story first. Click here to get the Fox News app."):
        texts = ["\n".join(story(rng, n)) + "\n" + footer for n in range(25)]
        found = house_lines(arts(texts))
        assert len(found) == 1, footer
        n = Normaliser(boilerplate=(found[0].pattern,))
        assert n(texts[0]) == n("\n".join(texts[0].split("\n")[:-1])), footer


def test_dedup_house_on_input_with_nothing_readable_fails(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\nnor this\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["house", str(bad)])
    assert r.exit_code == 1
    assert "no article could be read" in r.stderr and "line 2" in r.stderr


def test_one_outlets_many_versions_of_a_story_give_no_house_line_and_stay_one_story():
    """Updates of one story (a new lead, a paragraph inserted, the end cut), all from one named outlet."""
    rng = random.Random(10)
    paragraphs = story(rng, 0, paragraphs=8)
    versions = []
    for k in range(50):
        ps = [f"Update {k}: " + " ".join(word(rng) for _ in range(20))] + list(paragraphs)
        ps.insert(rng.randrange(2, 8), f"Added {k}: " + " ".join(word(rng) for _ in range(20)))
        versions.append("\n".join(ps[: len(ps) - rng.randrange(3)]))
    texts = versions + ["\n".join(story(rng, n)) for n in range(1, 101)]
    named = [Article(f"t{i}", t, source="Reuters") for i, t in enumerate(texts)]
    assert house_lines(named) == []
    assert house_lines(arts(texts)) == []
    assert house_lines(Article(a.id, a.text, source=f"o{i % 50}") for i, a in enumerate(named)) == []


def test_a_block_over_max_share_is_a_story_without_outlets_and_over_one_house_share_with_them():
    rng = random.Random(11)
    texts = ["\n".join(story(rng, n, paragraphs=1)) + "\n" + FOOTER for n in range(30)]  # the footer: ~0.65 of each
    assert house_lines(arts(texts)) == []
    [found] = house_lines(arts(texts), max_share=0.7)
    assert found.text == FOOTER.rstrip(".") and 0.5 < found.share < 0.7
    tiny = [f"Item {n} {word(rng)}.\n" + FOOTER + " " + FOOTER for n in range(30)]  # the footer: over 0.9 of each
    assert house_lines(arts(tiny, outlet="Daily Example")) == []
    assert [h.outlets for h in house_lines(arts(texts, outlet="Daily Example"))] == [1]


def test_only_long_lines_at_an_edge_count_and_the_most_frequent_comes_first():
    rng = random.Random(12)
    middle = "This line repeats in the middle of every story and nowhere near its edges at all."
    short = "More at our site"  # 4 words, 16 characters
    texts = []
    for n in range(40):
        ps = story(rng, n, paragraphs=6)
        ps.insert(3, middle)
        texts.append("\n".join(ps + [short, FOOTER] + (["Second house line of this outlet is here."] if n < 25 else [])))
    found = house_lines(arts(texts))
    assert [(h.text, h.articles) for h in found] == [(FOOTER.rstrip("."), 40),
                                                       ("Second house line of this outlet is here", 25)]


def test_one_outlets_header_and_footer_on_short_briefs_are_found_beside_other_constant_lines():
    footer = [f"Footer line {k} of the Daily Example: read more on our website and follow our desk today." for k in range(3)]
    header = "The Daily Example morning briefing for readers across the whole region and beyond"
    for extra_top, extra_bottom in (([header], []), ([], ["Advertisement"]), (["Share this story"], ["All rights reserved."])):
        briefs = [Article(f"b{i}", "\n".join(extra_top + [f"{c} Corp {i} said its board declared a dividend of "
                                                          f"{10 + i} cents."] + footer + extra_bottom),
                          source="Daily Example") for i, c in enumerate(COMPANIES * 4)]
        found = {h.text for h in house_lines(briefs)}
        assert {f.rstrip(".") for f in footer} <= found, (extra_top, extra_bottom)
