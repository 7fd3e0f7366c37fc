"""House boilerplate: `dedup.house.house_lines`, the `dedup house` command, and
the normaliser stripping a caller's own lines even from a brief shorter than them."""

import json
import random

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
WORDS = ("council mayor bridge river vote budget school road police fire court market harbour station park "
         "rail tax hospital union strike election museum festival").split()


def brief(i: int, company: str) -> str:
    """One dividend brief of a template: another company, other figures."""
    return (f"{company} Corp said its board declared a quarterly dividend of {10 + 3 * i} cents a share, "
            f"payable on June {i + 1} to shareholders of record on May {i + 10}.")


def story(rng: random.Random, n: int, paragraphs: int = 4) -> list[str]:
    """A made-up story of ``paragraphs`` paragraphs of 25 words, all its own."""
    return [f"Story {n} paragraph {p}: " + " ".join(rng.choice(WORDS) for _ in range(25)) + "."
            for p in range(paragraphs)]


def test_a_footer_on_different_stories_is_found_and_stripped_even_from_a_short_brief():
    rng = random.Random(1)
    texts = ["\n".join(story(rng, n)) + "\n" + FOOTER for n in range(40)]
    texts += [brief(i, c) + "\n" + FOOTER for i, c in enumerate(COMPANIES)]
    found = house_lines(texts, min_articles=20)
    assert [h.text for h in found] == [FOOTER.rstrip(".").lower()]
    assert found[0].articles == 48 and found[0].share < 0.5
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
    found = house_lines([a.text for a in arts] + others, min_articles=20)
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
        ps.insert(rng.randrange(1, len(ps) + 1), f"Local note {k}: " + " ".join(rng.choice(WORDS) for _ in range(20)))
        texts.append("\n".join(ps[: len(ps) - rng.randrange(3)]))
    texts += ["\n".join(story(rng, n)) for n in range(1, 60)]
    assert house_lines(texts, min_articles=20) == []


def test_lines_the_normaliser_strips_or_too_few_articles_are_not_listed():
    rng = random.Random(4)
    credit = "The Associated Press contributed to this report."
    texts = ["\n".join(story(rng, n)) + "\n" + FOOTER + "\n" + credit for n in range(19)]
    assert house_lines(texts, min_articles=20) == []  # 19 articles
    found = house_lines(texts, min_articles=19)
    assert [h.text for h in found] == [FOOTER.rstrip(".").lower()]  # the credit is built in
    assert house_lines(texts, min_articles=19, normaliser=Normaliser(boilerplate=(found[0].pattern,))) == []


def test_dedup_house_writes_patterns_that_dedup_batch_reads(tmp_path):
    rng = random.Random(5)
    dump = tmp_path / "feed.jsonl"
    rows = [{"id": f"s{n}", "text": "\n".join(story(rng, n)) + "\n" + FOOTER} for n in range(25)]
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    out = tmp_path / "house.txt"
    r = CliRunner().invoke(cli, ["house", str(dump), "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "line 26" in r.stderr and "skipped" in r.stderr  # the bad record is named, the rest is read
    assert "1 house line(s) in 25 article(s) read" in r.stderr
    assert out.read_text(encoding="utf-8").splitlines() == [house_lines([x["text"] for x in rows])[0].pattern]
    r = CliRunner().invoke(cli, ["batch", str(dump), "-q", "--boilerplate", str(out)], catch_exceptions=False)
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 0  # no two stories merged


def test_dedup_house_on_input_with_nothing_readable_fails(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\nnor this\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["house", str(bad)])
    assert r.exit_code == 1
    assert "no article could be read" in r.stderr and "line 2" in r.stderr
