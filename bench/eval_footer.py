"""House footers: the detector on a labelled set where outlets bolt their own
boilerplate paragraph onto their articles.

A publisher's archive ends every article with the same paragraph (a
subscription plea, a standards line, a "read more" block); an aggregator's
feed carries one such footer per outlet. The normaliser strips the
boilerplate it knows (wire credits, "All rights reserved", newsletter
lines), not a house's own paragraph, so two short items under one footer
share most of their words. This script makes that case from a set of
``bench/evalset.py`` (seeded, deterministic): each record is given one of
``--outlets`` outlets at random and, with probability ``--share``, that
outlet's footer (three 40-60-word paragraphs written here, none of them in
the normaliser's lists). A copy and its original may therefore end in two
different footers, or one in none. Labels are unchanged: a footer makes
nothing a copy.

Then both paths cluster it: ``cluster_articles`` (what ``dedup batch``
answers) and the online ``Deduplicator`` fed in published order. Printed
(and with ``--json``, written): pair precision and recall, F1, the false
pairs by category pair, and the same for the set without footers. With
``--declared``, both paths are told the footers (``--boilerplate``: one
whole-line pattern each, what a user who knows their house footer passes); with
``--found``, the lines :func:`dedup.house.house_lines` finds in each set
(what ``dedup house FILE > house.txt`` writes for ``--boilerplate house.txt``).

    python bench/evalset.py --size full --out /tmp/eval_full.jsonl
    python bench/eval_footer.py /tmp/eval_full.jsonl [--share 0.6] [--outlets 1] [--declared] [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dedup.batch import cluster_articles  # noqa: E402
from dedup.deduplicator import Deduplicator  # noqa: E402
from dedup.house import house_lines  # noqa: E402
from dedup.normalisation import Normaliser  # noqa: E402
from dedup.types import Article  # noqa: E402

FOOTERS = (
    "Our coverage of this region is supported by readers like you and we thank every one of them for it. "
    "Read more stories from the newsroom on our website and follow the desk for the latest updates through the day. "
    "The views of contributors are their own and do not reflect the position of the publisher or its editors.",
    "This article was produced by the city desk, which you can reach by writing to the address printed on page two "
    "of every edition. Corrections are published in the same place each morning, and our standards editor reviews "
    "every complaint we receive within five working days.",
    "If you value independent local reporting, please consider becoming a member today: members keep our reporters "
    "in the courtroom, the council chamber and the stadium, and they get early access to the weekend magazine and "
    "an invitation to our annual open evening.",
)
FIELDS = ("id", "text", "published")


def with_footers(records: list[dict], share: float, outlets: int, seed: int, *, top: bool = False,
                 split: bool = False, named: bool = False) -> list[dict]:
    """``records`` with an outlet's footer appended to about ``share`` of them
    (put on top with ``top``; one sentence a line with ``split``; each
    record's outlet as its ``source`` with ``named``)."""
    rng = random.Random(seed)
    out = []
    for r in records:
        outlet = rng.randrange(outlets)
        if rng.random() < share:
            house = FOOTERS[outlet % len(FOOTERS)]
            if split:
                house = "\n".join(re.split(r"(?<=\.) ", house))
            text = r["text"].strip()
            r = {**r, "text": house + "\n\n" + text if top else text + "\n\n" + house}
        out.append({**r, "source": f"outlet{outlet}"} if named else r)
    return out


def batch_pairs(records: list[dict], jobs: int, normaliser: Normaliser) -> set[tuple[str, str]]:
    res = cluster_articles([Article.from_dict({k: r[k] for k in FIELDS if k in r}) for r in records], jobs=jobs,
                           normaliser=normaliser)
    return {p for c in res.clusters for p in itertools.combinations(sorted(c.members), 2)}


def online_pairs(records: list[dict], normaliser: Normaliser) -> set[tuple[str, str]]:
    d = Deduplicator(normaliser=normaliser)
    for r in sorted(records, key=lambda r: r.get("published") or "~"):
        d.add(Article.from_dict({k: r[k] for k in FIELDS if k in r}))
    pairs, seen = set(), set()
    for r in records:
        if r["id"] not in seen:
            _, _, members = d.story(r["id"])
            seen.update(members)
            pairs.update(itertools.combinations(sorted(members), 2))
    return pairs


def score(records: list[dict], pairs: set[tuple[str, str]]) -> dict:
    label = {r["id"]: r["label"] for r in records}
    cat = {r["id"]: r.get("category", "unknown") for r in records}
    groups = defaultdict(list)
    for r in records:
        groups[r["label"]].append(r["id"])
    gold = {p for g in groups.values() for p in itertools.combinations(sorted(g), 2)}
    tp = len(pairs & gold)
    false = Counter(" + ".join(sorted((cat[a], cat[b]))) for a, b in pairs - gold)
    p, r = tp / max(len(pairs), 1), tp / max(len(gold), 1)
    return {"pairs": len(pairs), "gold_pairs": len(gold), "true_pairs": tp, "precision": round(p, 4),
            "recall": round(r, 4), "f1": round(2 * p * r / max(p + r, 1e-12), 4),
            "false_pairs": sum(false.values()), "false_by_categories": dict(false.most_common(8))}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labelled", type=Path)
    ap.add_argument("--share", type=float, default=0.6, help="share of the articles given their outlet's footer")
    ap.add_argument("--outlets", type=int, default=1, help="outlets (each its own footer, at most 3 distinct)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--top", action="store_true", help="put the house paragraph on top (a header), not at the bottom")
    ap.add_argument("--split", action="store_true", help="one sentence of it a line (a footer of several lines)")
    ap.add_argument("--declared", action="store_true", help="tell both paths the footers (--boilerplate)")
    ap.add_argument("--found", action="store_true",
                    help="tell both paths the lines dedup.house finds in each set (what `dedup house` writes)")
    ap.add_argument("--named", action="store_true",
                    help="every record names its outlet (source): dedup.house judges by outlets, not by the text rule")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    plain = [json.loads(x) for x in args.labelled.read_text().splitlines() if x.strip()]
    footed = with_footers(plain, args.share, args.outlets, args.seed, top=args.top, split=args.split, named=args.named)
    if args.named:
        plain = with_footers(plain, 0.0, args.outlets, args.seed, named=True)
    res: dict = {"file": args.labelled.name, "records": len(plain), "share": args.share, "outlets": args.outlets,
                 "seed": args.seed, "top": args.top, "split": args.split, "declared": args.declared, "found": args.found,
                 "named": args.named,
                 "with_footer": sum(a["text"] != b["text"] for a, b in zip(plain, footed))}
    # a pattern sees the line without its closing full stop (dedup.normalisation._CORE)
    normaliser = Normaliser(boilerplate=tuple(re.escape(f.rstrip(" .-")) for f in FOOTERS)) if args.declared else Normaliser()
    for name, recs in (("plain", plain), ("footers", footed)):
        if args.found:  # what `dedup house` finds in this very set, as a user would run it
            lines = house_lines(Article(r["id"], r["text"], source=r.get("source")) for r in recs)  # --named: outlets
            normaliser = Normaliser(boilerplate=tuple(h.pattern for h in lines))
            res[f"{name}_found"] = [{"articles": h.articles, "share": h.share, "line": h.text, "pattern": h.pattern} for h in lines]
            print(f"{name:8} dedup house found {len(lines)} lines: {[h.text[:40] for h in lines]}", file=sys.stderr)
        res[name] = {"batch": score(recs, batch_pairs(recs, args.jobs, normaliser)),
                     "online": score(recs, online_pairs(recs, normaliser))}
        for path in ("batch", "online"):
            s = res[name][path]
            print(f"{name:8} {path:7} precision {s['precision']:.4f} recall {s['recall']:.4f} F1 {s['f1']:.4f} "
                  f"false pairs {s['false_pairs']}: {s['false_by_categories']}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    main()
