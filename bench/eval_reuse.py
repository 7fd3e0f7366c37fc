"""Measure the reworded-copy detector (``Params.reuse``) ON against OFF.

On a labelled set from ``bench/evalset.py``: per-category pair and copy
recall, precision on every category with predicted pairs, false merges by
group, candidate pairs and seconds per stage. On the SemEval-2022 Task 8
pairs (hard negatives nobody tuned on): every en-en pair with Overall <=
2.5 from both files in ``../shared/data``; each distinct text is its own
gold story, so every predicted pair is a false merge (listed).

Usage:
    python bench/eval_reuse.py /tmp/rw_full.jsonl [--reuse 0.5] [--jobs 2] [--json out.json]
    python bench/eval_reuse.py --semeval [--reuse 0.5]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dedup.batch import cluster_articles  # noqa: E402
from dedup.evaluation.metrics import evaluate  # noqa: E402
from dedup.params import Params  # noqa: E402
from dedup.types import Article  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
FIELDS = ("id", "text", "title", "url", "source", "published")


def run(records: list[dict], params: Params, jobs: int) -> dict:
    arts = [Article.from_dict({k: r.get(k) for k in FIELDS}) for r in records]
    res = cluster_articles(arts, params, jobs=jobs)
    clusters = [list(c.members) for c in res.clusters]
    kinds: dict[str, int] = {}
    for c in res.clusters:
        for link in c.pairs:
            kinds[link.kind] = kinds.get(link.kind, 0) + 1
    return {"metrics": evaluate(records, clusters, max_examples=50), "stats": res.stats, "link_kinds": kinds,
            "clusters": clusters}


def semeval_records(max_overall: float = 2.5) -> tuple[list[dict], dict]:
    """Distinct texts of the en-en SemEval pairs with Overall <= ``max_overall``, each its own label.

    ``counts["pairs"]`` lists each rated pair as ``(file, id_1, id_2)``. The
    same article can appear in both files (full text, and title + first
    ~1,000 characters), so a merge *across* pairs may be one article; a
    merge of the two articles *of* a pair is a false merge by the raters.
    """
    seen: dict[str, str] = {}
    recs: list[dict] = []
    counts: dict = {"fulltext_pairs": 0, "hfl_pairs": 0, "pairs": []}

    def add(text: str, origin: str) -> str | None:
        text = text.strip()
        if text and text not in seen:
            seen[text] = f"{origin}-{len(seen)}"
            recs.append({"id": seen[text], "text": text, "label": seen[text], "category": origin, "track": "negative"})
        return seen.get(text)

    def pair(origin: str, x: str, y: str) -> None:
        a, b = add(x, origin), add(y, origin)
        if a and b and a != b:
            counts["pairs"].append((origin, a, b))

    with open(DATA / "semeval2022-task8-en-fulltext" / "corpus_en_notes.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if float(row["Overall"]) <= max_overall:
                counts["fulltext_pairs"] += 1
                pair("semeval_fulltext", row["text_1"], row["text_2"])
    for name in ("training_set.csv", "testing_set.csv"):
        with open(DATA / "semeval2022-task8-hfl-sample" / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["lang1"] == row["lang2"] == "en" and float(row["Overall"]) <= max_overall:
                    counts["hfl_pairs"] += 1
                    pair("semeval_hfl", row["text1"], row["text2"])
    return recs, counts


def summary(out: dict) -> dict:
    m = out["metrics"]
    cats = {c: {k: d.get(k) for k in ("gold_pairs", "recall", "copy_recall", "predicted_pairs", "precision")}
            for c, d in m["categories"].items()}
    return {
        "pairwise": m["pairwise"], "ari": m["ari"], "categories": cats,
        "false_merges": {g: {"count": fm["count"], "examples": fm["examples"][:10]} for g, fm in m["false_merges"].items()},
        "tracks": {t: tr["pairwise"] for t, tr in m["tracks"].items()},
        "stats": {k: out["stats"][k] for k in ("candidate_pairs", "confirmed_pairs", "reuse_candidate_pairs",
                                                "reused_pairs", "rejected_pairs", "seconds") if k in out["stats"]},
        "link_kinds": out["link_kinds"],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", help="labelled JSONL from bench/evalset.py")
    ap.add_argument("--semeval", action="store_true", help="run the SemEval hard negatives instead")
    ap.add_argument("--reuse", type=float, default=0.5)
    ap.add_argument("--reuse-sentence", type=float, default=0.7)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", help="write the full report here")
    args = ap.parse_args(argv)
    if args.semeval:
        records, counts = semeval_records()
    else:
        records, counts = [json.loads(line) for line in open(args.path, encoding="utf-8")], {}
    report: dict = {"input": args.path or "semeval", "counts": counts, "articles": len(records)}
    for name, params in (("off", Params()), ("on", Params(reuse=args.reuse, reuse_sentence=args.reuse_sentence))):
        out = run(records, params, args.jobs)
        report[name] = summary(out)
        if args.semeval:
            text = {r["id"]: r["text"] for r in records}
            report[name]["merged"] = [[m[:6], [text[x][:160] for x in m[:2]]] for m in out["clusters"]]
            where = {x: k for k, m in enumerate(out["clusters"]) for x in m}
            within = [p for p in counts["pairs"] if p[1] in where and where.get(p[1]) == where.get(p[2])]
            report[name]["rated_pairs_merged"] = {f: sum(1 for p in within if p[0] == f)
                                                  for f in ("semeval_fulltext", "semeval_hfl")}
            report[name]["rated_pairs_merged_list"] = within
    print(json.dumps({"input": report["input"], "articles": report["articles"],
                      "counts": {k: v for k, v in counts.items() if k != "pairs"}}))
    for name in ("off", "on"):
        r = report[name]
        print(f"== {name}: P {r['pairwise']['precision']} R {r['pairwise']['recall']} F1 {r['pairwise']['f1']} "
              f"ARI {r['ari']} kinds {r['link_kinds']}")
        print("   stats", json.dumps(r["stats"]))
        print("   false merges", {g: fm["count"] for g, fm in r["false_merges"].items()})
        if "rated_pairs_merged" in r:
            print("   rated pairs merged (the two articles of one SemEval pair)", r["rated_pairs_merged"],
                  r["rated_pairs_merged_list"])
    print(f"{'category':<24}{'gold':>7}{'rec off':>9}{'rec on':>9}{'copy off':>9}{'copy on':>9}{'pred off/on':>14}{'prec off':>9}{'prec on':>9}")
    for c, off in report["off"]["categories"].items():
        on = report["on"]["categories"][c]
        f = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
        print(f"{c:<24}{off['gold_pairs']:>7}{f(off['recall']):>9}{f(on['recall']):>9}{f(off['copy_recall']):>9}"
              f"{f(on['copy_recall']):>9}{str(off['predicted_pairs']) + '/' + str(on['predicted_pairs']):>14}"
              f"{f(off['precision']):>9}{f(on['precision']):>9}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
