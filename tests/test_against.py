"""Incremental runs: batch(A) then batch(B --against A) gives the clusters of batch(A+B)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dedup import Params, cluster_articles
from dedup.against import LINK_DTYPE, StateError, cluster_against, links_array, links_of
from dedup.cli import cli
from dedup.errors import InvalidParams
from dedup.evaluation.cosmetic import Doc
from dedup.evaluation.transforms import COSMETIC, apply_transforms
from dedup.pairs import PairLink

ROOT = Path(__file__).parent.parent
BBC = ROOT.parent / "shared" / "data" / "bbc-news"
if not BBC.exists():
    BBC = Path("/work/shared/data/bbc-news")


def generated_set(n_stories: int = 160, seed: int = 3) -> list[dict]:
    """BBC stories and 0-3 transformed copies each (cosmetic edits, truncation,
    a dropped paragraph), shuffled, so copies fall on both sides of any split;
    plus 70 identical copies of one story (one LSH bucket past the batch's
    bound of 64), dated so the canonical copy comes late."""
    if not BBC.exists():
        pytest.skip("../shared/data is not beside the repo")
    rng = random.Random(seed)
    files = sorted(BBC.glob("*/*.txt"))[:n_stories]
    rows = []
    for f in files:
        text = f.read_bytes().decode("utf-8", "replace")
        rows.append({"id": f"{f.parent.name}/{f.stem}", "text": text})
        for k in range(rng.randrange(4)):
            kinds = rng.sample(COSMETIC, 2) + rng.sample(["truncate", "drop_paragraph"], rng.randrange(2))
            rows.append({"id": f"{f.parent.name}/{f.stem}-copy{k}", "text": apply_transforms(Doc(text), kinds, rng).text,
                         "published": f"2024-05-{rng.randrange(1, 28):02d}T10:00:00Z"})
    rng.shuffle(rows)
    wire = rows[0]["text"]
    for k in range(70):
        rows.insert(rng.randrange(len(rows)), {"id": f"wire-{k}", "text": wire,
                                               "published": f"2024-06-{1 + k % 28:02d}T{k % 24:02d}:00:00Z"})
    return rows


def _dicts(result) -> list[dict]:
    return [c.to_dict() for c in result.clusters]


@pytest.fixture(scope="module")
def rows():
    return generated_set()


def test_batch_then_against_equals_one_batch_over_both(rows, tmp_path):
    a, b = rows[: len(rows) // 2], rows[len(rows) // 2:]
    whole = cluster_articles(a + b)
    first = cluster_against(a, save=str(tmp_path / "a"))
    assert _dicts(first) == _dicts(cluster_articles(a))
    second = cluster_against(b, previous=str(tmp_path / "a"), save=str(tmp_path / "ab"), jobs=2)
    assert _dicts(second) == _dicts(whole)
    assert len(whole.clusters) > 30 and any(len(c.members) >= 70 for c in whole.clusters)
    s = second.stats
    assert s["earlier_articles"] == len(a) and s["new_articles"] == len(b)
    assert 0 < s["earlier_links_kept"] <= s["earlier_candidate_pairs"]  # the earlier pairs were not refined again
    assert sum(s["rejected_pairs"].values()) + s["confirmed_pairs"] - s["earlier_links_kept"] \
        == s["candidate_pairs"] - s["earlier_candidate_pairs"] + s["earlier_updates_confirmed_again"]


def test_a_chain_of_three_dumps_equals_one_batch(rows, tmp_path):
    k = len(rows) // 3
    parts = [rows[:k], rows[k: 2 * k], rows[2 * k:]]
    cluster_against(parts[0], save=str(tmp_path / "1"))
    cluster_against(parts[1], previous=str(tmp_path / "1"), save=str(tmp_path / "2"))
    third = cluster_against(parts[2], previous=str(tmp_path / "2"))
    assert _dicts(third) == _dicts(cluster_articles(rows))


def test_an_id_of_the_earlier_run_is_a_bad_record(rows, tmp_path):
    cluster_against(rows[:50], save=str(tmp_path / "a"))
    skipped = []
    got = cluster_against([rows[3], rows[60]], previous=str(tmp_path / "a"), on_skip=lambda i, why: skipped.append((i, why)))
    assert skipped == [(rows[3]["id"], f"duplicate id {rows[3]['id']!r} (an article of the earlier run {tmp_path / 'a'})")]
    assert got.stats["new_articles"] == 1 and got.n_articles == 51
    assert got.stats["ids_of_the_earlier_run"] == 1 and got.n_skipped == 0  # a bad record, not a skipped article


def test_cli_counts_an_id_of_the_earlier_run_as_a_bad_record(rows, tmp_path):
    """As a repeated id within one input is: ``bad_records``, not ``skipped_articles``."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in rows[:30]))
    b.write_text("".join(json.dumps(r) + "\n" for r in [rows[3], *rows[30:40]]))
    run = CliRunner().invoke
    assert run(cli, ["batch", str(a), "--state", str(tmp_path / "st"), "-q"]).exit_code == 0
    r = run(cli, ["batch", str(b), "--against", str(tmp_path / "st"), "--report", str(tmp_path / "r.json"), "-q"])
    assert r.exit_code == 0, r.output
    assert f"duplicate id {rows[3]['id']!r}" in r.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["bad_records"], report["skipped_articles"], report["new_articles"]) == (1, 0, 10)
    again = run(cli, ["batch", str(a), "--against", str(tmp_path / "st"), "-q"])  # the same input again: nothing new
    assert again.exit_code == 1 and "no new article in" in again.output and "30 records" in again.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    r = run(cli, ["batch", str(empty), "--against", str(tmp_path / "st"), "-q"])
    assert r.exit_code == 1 and "no new article in" in r.output and "0 records" in r.output
    r = run(cli, ["batch", str(empty), "--state", str(tmp_path / "first"), "-q"])  # a first run: nothing read
    assert r.exit_code == 1 and "no article could be read" in r.output


def test_a_state_made_with_other_parameters_or_incomplete_is_refused(rows, tmp_path):
    cluster_against(rows[:20], save=str(tmp_path / "a"))
    with pytest.raises(StateError, match="other parameters \\(similarity\\)"):
        cluster_against(rows[20:30], Params(similarity=0.9), previous=str(tmp_path / "a"))
    manifest = tmp_path / "a" / "manifest.json"
    saved = manifest.read_text()
    manifest.write_text(saved.replace('"dedup-state/2"', '"dedup-state/1"'))  # links found by the older rule
    with pytest.raises(StateError, match="format 'dedup-state/1', expected 'dedup-state/2' \\(saved by another"):
        cluster_against(rows[20:30], previous=str(tmp_path / "a"))
    manifest.write_text(saved)
    cluster_against(rows[20:30], previous=str(tmp_path / "a"))  # as saved: read
    manifest.unlink()
    with pytest.raises(StateError, match="not a complete saved state"):
        cluster_against(rows[20:30], previous=str(tmp_path / "a"))
    with pytest.raises(InvalidParams, match="reuse: not supported"):
        cluster_against(rows[20:30], Params(reuse=0.3))


def test_links_round_trip_through_the_saved_array():
    links = [PairLink(3, 9, "contained", 0.4, 0.97, 0.3, 0.5, (10, 90)), PairLink(1, 2, "exact", 1.0, 1.0, 1.0, 1.0, None)]
    arr = links_array(links)
    assert arr.dtype == LINK_DTYPE
    assert links_of(arr) == links
    assert links_of(np.array([], dtype=LINK_DTYPE)) == []


def test_cli_batch_state_then_against(rows, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in rows[:120]))
    b.write_text("".join(json.dumps(r) + "\n" for r in rows[120:200]))
    (tmp_path / "ab.jsonl").write_text(a.read_text() + b.read_text())
    run = CliRunner().invoke
    r = run(cli, ["batch", str(tmp_path / "ab.jsonl"), "--clusters", str(tmp_path / "whole.jsonl"), "-q", "-j", "1"])
    assert r.exit_code == 0, r.output
    r = run(cli, ["batch", str(a), "--state", str(tmp_path / "st"), "--clusters", str(tmp_path / "ca.jsonl"), "-q"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "st" / "manifest.json").exists()
    r = run(cli, ["batch", str(b), "--against", str(tmp_path / "st"), "--clusters", str(tmp_path / "cab.jsonl"),
                  "--deduped", str(tmp_path / "dedup.jsonl"), "-q"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cab.jsonl").read_text() == (tmp_path / "whole.jsonl").read_text()
    written = [json.loads(x)["id"] for x in (tmp_path / "dedup.jsonl").read_text().splitlines()]
    assert set(written) <= {r["id"] for r in rows[120:200]}  # the new dump's records only
    r = run(cli, ["batch", str(b), "--against", str(tmp_path / "st"), "--similarity", "0.9", "-q"])
    assert r.exit_code == 1 and "other parameters (similarity)" in r.output


def test_a_brief_cut_from_an_earlier_long_story_is_found_against_it(tmp_path):
    """Short-inside-long candidates come from all signatures, earlier and new,
    as in one run: a brief in the new dump joins the long story of the earlier
    one, which its tiny Jaccard keeps out of LSH's candidates."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from edit_kinds import DATA, lead_of_longest

    if not (DATA / "bbc-news").exists():
        pytest.skip("needs ../shared/data")
    long_, short = lead_of_longest()
    first = cluster_against([{"id": "long", "text": long_}], save=str(tmp_path / "a"))
    assert first.clusters == [] and first.n_articles == 1
    got = cluster_against([{"id": "short", "text": short}], previous=str(tmp_path / "a"))
    assert [c.members for c in got.clusters] == [("long", "short")]
    assert got.stats["earlier_candidate_pairs"] == 0 and got.stats["confirmed_pairs"] == 1


def test_checkpoint_with_state_is_refused_before_any_work(rows, tmp_path):
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:20]))
    r = CliRunner().invoke(cli, ["batch", str(tmp_path / "a.jsonl"), "--state", str(tmp_path / "st"),
                                 "--checkpoint", str(tmp_path / "ck"), "-q"])
    assert r.exit_code == 2 and "--checkpoint is not supported with --state or --against" in r.output
    assert not (tmp_path / "ck").exists() and not (tmp_path / "st").exists()


def test_a_saved_update_between_two_editions_is_refused_against_it(tmp_path, monkeypatch):
    """A state keeps no changed figures: its update links are confirmed again, so the editions
    rule (dedup.editions) refuses one that a state made before the rule saved."""
    import dedup.pairs
    from test_editions import MONDAY, WEDNESDAY

    later = {"id": "later", "text": "An unrelated report on the harvest across the region this week. " * 12}
    monkeypatch.setattr(dedup.pairs, "separate_editions", lambda *a: False)  # a state made before the rule
    first = cluster_against([MONDAY, WEDNESDAY], save=str(tmp_path / "old"))
    assert [c.members for c in first.clusters] == [("mon", "wed")]
    monkeypatch.undo()
    second = cluster_against([later], previous=str(tmp_path / "old"))
    assert second.clusters == [] and second.stats["earlier_updates_confirmed_again"] == 1


def test_an_update_across_the_two_runs_names_the_new_sides_figures(tmp_path):
    """The state keeps the earlier articles' word ids, not their words: an update linking an
    earlier article to a new one names the new side's changed figures (the earlier side's stay
    word offsets, ``#8``); one run over both names both."""
    story = ("The storm killed 12 people on Monday and left 4,000 homes without power across the region, "
             "officials said, as rescue teams searched flooded villages for the missing. ") * 4
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"id": "o", "text": story, "published": "2024-01-01T00:00:00Z"}) + "\n")
    b.write_text(json.dumps({"id": "u", "text": story.replace("12 people", "15 people", 1),
                             "published": "2024-01-02T00:00:00Z"}) + "\n")
    run = CliRunner().invoke
    assert run(cli, ["batch", str(a), "--state", str(tmp_path / "st"), "-q"]).exit_code == 0
    r = run(cli, ["batch", str(b), "--against", str(tmp_path / "st"), "-q"])
    assert r.exit_code == 0, r.output
    changed = json.loads(r.stdout.splitlines()[0])["pairs"][0]["changed"]
    assert changed[0][0].startswith("#") and changed[0][1] == "15", changed
