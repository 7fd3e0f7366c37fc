"""One detector: the online ``Deduplicator`` fed a labelled set one article
at a time, in published order, clusters it as ``cluster_articles`` does
(adjusted Rand index between the two clusterings >= 0.99)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from dedup.batch import cluster_articles
from dedup.deduplicator import Deduplicator
from dedup.evaluation.metrics import adjusted_rand_index
from dedup.types import Article

from edit_kinds import DATA, bbc_stories, delete, join, paragraphs, truncate

ROOT = Path(__file__).resolve().parent.parent


def online_clusters(records: list[dict]) -> list[list[str]]:
    d = Deduplicator()
    for r in records:
        d.add(Article.from_dict(r))
    seen: set[str] = set()
    out = []
    for r in records:
        if r["id"] not in seen:
            _, _, members = d.story(r["id"])
            seen.update(members)
            if len(members) > 1:
                out.append(sorted(members))
    return out


def agreement(records: list[dict]) -> float:
    records = sorted(records, key=lambda r: r.get("published") or "~")  # the order a feed delivers them
    records = [{k: r[k] for k in ("id", "text", "published") if k in r} for r in records]
    batch = {m: j for j, c in enumerate(cluster_articles(records).clusters) for m in c.members}
    labels = {r["id"]: batch.get(r["id"], "alone-" + r["id"]) for r in records}
    return adjusted_rand_index(labels, online_clusters(records))


def test_online_agrees_with_batch_on_the_tiny_labelled_set():
    records = [json.loads(line) for line in (ROOT / "seeds" / "eval_tiny.jsonl").open()]
    assert agreement(records) >= 0.99


@pytest.mark.skipif(not (DATA / "bbc-news").exists(), reason="needs ../shared/data")
def test_online_agrees_with_batch_on_a_shorter_text_between_two_stories_and_a_roundup():
    # The cases the batch guards exist for: a copy cut to its lead that
    # matches two stories sharing that lead (it joins only its best match),
    # and a roundup holding two unrelated stories (it merges neither).
    rng = random.Random(5)
    stories = bbc_stories()[:40]
    records, t = [], 0

    def add(i, text):
        nonlocal t
        t += 1
        records.append({"id": i, "text": text, "published": f"2024-01-01T{t // 60:02d}:{t % 60:02d}:00"})

    for k, s in enumerate(stories[:20]):
        add(f"s{k}", s)
        add(f"s{k}-cut", truncate(s, rng))
        add(f"s{k}-del", delete(s, rng))
    for k in range(20, 40, 2):  # roundups of two stories
        a, b = stories[k], stories[k + 1]
        add(f"r{k}-a", a)
        add(f"r{k}-b", b)
        add(f"r{k}-roundup", join(paragraphs(a)[:4] + paragraphs(b)[:4]))
    for k in range(0, 10):  # a second story under the same lead paragraph as s{k}
        lead = paragraphs(stories[k])[0]
        other = paragraphs(stories[39 - k])
        add(f"v{k}", join([lead] + other[1:]))
        add(f"v{k}-lead", lead + " " + paragraphs(stories[k])[1])
    assert agreement(records) >= 0.99
