"""Editions of a recurring report (a daily market wrap) are not versions of one story
(:mod:`dedup.editions`): batch and the online path refuse the ``update`` link between two
editions that each name their own publication's weekday, and keep it for a same-day correction."""

from __future__ import annotations

import pytest

from dedup import Deduplicator
from dedup.batch import cluster_articles
from dedup.types import Article

WRAP = ("London's FTSE 100 index closed {day} up 0.5 percent at {level} points, as shares in mining companies "
        "and banks rose after a quiet session in which trading volumes were below their thirty day average. "
        "Shell and BP were among the biggest movers, while the pound traded at 1.27 dollars. The more "
        "domestically focused FTSE 250 index ended the day up 0.3 percent. Traders said attention was turning "
        "to central bank meetings later in the month and to a string of company results due next week, which "
        "would show how retailers and housebuilders had coped with higher borrowing costs over the summer. "
        "Analysts at several brokers said the index could test its record high before the end of the year if "
        "inflation kept falling, though others warned that a slowing Chinese economy weighed on miners and "
        "that the outlook for oil prices remained uncertain as producers met to discuss their quotas.")

MONDAY = {"id": "mon", "text": WRAP.format(day="Monday", level="7,512"), "published": "2024-09-16T17:00:00Z"}
WEDNESDAY = {"id": "wed", "text": WRAP.format(day="Wednesday", level="7,534"), "published": "2024-09-18T17:00:00Z"}
#: A correction sent the same day: "Monday" was wrong, the index closed on Tuesday.
CORRECTED = {"id": "fix", "text": WRAP.format(day="Tuesday", level="7,534"), "published": "2024-09-16T19:00:00Z"}


def _batch_pairs(rows) -> set[tuple[str, str, str]]:
    return {(p.a, p.b, p.kind) for c in cluster_articles(rows).clusters for p in c.pairs}


def _online(rows):
    d = Deduplicator()
    return [d.add(Article.from_dict(r)) for r in rows]


def test_two_editions_of_a_daily_report_stay_apart_in_batch_and_online():
    assert _batch_pairs([MONDAY, WEDNESDAY]) == set()
    assert [m.duplicates for m in _online([MONDAY, WEDNESDAY])] == [[], []]


@pytest.mark.parametrize("rows", [
    [MONDAY, CORRECTED],  # a same-day correction of the weekday: only one side names its own day
    [dict(MONDAY, published=None), dict(WEDNESDAY, published=None)],  # no calendar to read
])
def test_versions_keep_their_update_link(rows):
    assert {k for _, _, k in _batch_pairs(rows)} == {"update"}
    second = _online(rows)[1]
    assert [lk.kind for lk in second.duplicates] == ["update"]
