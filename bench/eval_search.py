"""Threshold search and quality report on labelled sets (see bench/evalset.py).

One parameter at a time is swept around the defaults (similarity,
containment, lsh_threshold, shingle_size, min_contained_tokens); each point
is scored with :func:`dedup.evaluation.run_evaluation`. Writes, under
``--out-dir`` (default ``bench/results``):

* ``threshold_search.json``: every point, with the targets of issue 5;
* ``quality_threshold.png``: precision and recall against each parameter;
* ``threshold_search.md``: the same as a table.

``--quality`` instead writes ``quality_tables.md``: ours vs the plain MinHash
baseline per track and per category, on each labelled set given.

Usage:
    python bench/evalset.py --size full --out /tmp/eval_full.jsonl
    python bench/eval_search.py /tmp/eval_full.jsonl --jobs 2
    python bench/eval_search.py --quality /tmp/eval_full.jsonl /tmp/eval_small.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dedup.evaluation.run import run_evaluation  # noqa: E402
from dedup.params import Params  # noqa: E402

SWEEPS = {
    "similarity": [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
    "containment": [0.7, 0.8, 0.85, 0.9, 0.95],
    "lsh_threshold": [0.15, 0.2, 0.3, 0.4, 0.5, 0.6],
    "shingle_size": [3, 4, 5, 6, 7],
    "min_contained_tokens": [20, 30, 40, 60],
}
SYNDICATED_CATS = ("dateline", "byline", "wire_credit", "boilerplate", "typography", "html", "whitespace",
                   "headline", "editor_note", "truncate", "drop_paragraph")


def targets(res: dict) -> dict:
    """The issue-5 figures of one detector's result."""
    cats, fm = res["categories"], res["false_merges"]
    syn = res["tracks"].get("syndicated", res)
    cs = [cats[c] for c in ("cut_and_paste", "light_revision") if c in cats]
    rew = [cats[c] for c in ("reword", "ocr_noise") if c in cats]
    return {
        "precision": res["pairwise"]["precision"],
        "recall": res["pairwise"]["recall"],
        "f1": res["pairwise"]["f1"],
        "ari": res["ari"],
        "bcubed_f1": res["bcubed"]["f1"],
        "syndicated_f1": syn["pairwise"]["f1"],
        "syndicated_precision": syn["pairwise"]["precision"],
        "syndicated_recall": syn["pairwise"]["recall"],
        "truncate_recall": cats.get("truncate", {}).get("recall"),
        "truncate_copy_recall": cats.get("truncate", {}).get("copy_recall"),
        "template_brief_precision": cats.get("template_brief", {}).get("precision"),
        "semeval_false_merges": fm.get("semeval_same_story", {}).get("count", 0),
        "cs_pair_recall": round(sum(c["found_pairs"] for c in cs) / max(1, sum(c["gold_pairs"] for c in cs)), 4),
        "cs_copy_recall": round(sum(c["copies_attached"] for c in cs) / max(1, sum(c["copies"] for c in cs)), 4),
        "reword_ocr_recall": round(sum(c["found_pairs"] for c in rew) / max(1, sum(c["gold_pairs"] for c in rew)), 4),
        "reworded_track_precision": res["tracks"].get("reworded", res)["pairwise"]["precision"],
        "seconds": res.get("seconds"),
    }


def search(records: list[dict], jobs: int) -> list[dict]:
    points = []
    for name, values in SWEEPS.items():
        for v in values:
            params = Params().with_(**{name: v})
            res = run_evaluation(records, params, jobs=jobs)["ours"]
            point = {"param": name, "value": v, "bands": params.banding[0], "rows": params.banding[1], **targets(res)}
            points.append(point)
            print(json.dumps(point), file=sys.stderr, flush=True)
    return points


PLOTTED = (
    (("precision", "o-"), ("syndicated_recall", "s-"), ("truncate_recall", "^--"), ("reword_ocr_recall", "x:")),
    (("template_brief_precision", "v--"), ("cs_copy_recall", "d:"), ("ari", "o-")),
)


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(SWEEPS)
    fig, axes = plt.subplots(2, len(names), figsize=(4 * len(names), 6.4), sharey="row")
    for row, keys in enumerate(PLOTTED):
        low = min(p[k] for p in points for k, _ in keys)
        for ax, name in zip(axes[row], names):
            pts = [p for p in points if p["param"] == name]
            xs = [p["value"] for p in pts]
            for key, style in keys:
                ax.plot(xs, [p[key] for p in pts], style, label=key.replace("_", " "), markersize=4)
            ax.axvline(getattr(Params(), name), color="grey", lw=0.8, ls=":")
            ax.set_xlabel(name)
            ax.grid(alpha=0.3)
        axes[row][0].set_ylim(max(0.0, low - 0.01), 1.002)
        axes[row][0].set_ylabel("pairwise score" if row == 0 else "score")
        axes[row][-1].legend(loc="lower right", fontsize=7)
    fig.suptitle("dedup on the generated full set: one parameter swept, others at defaults (dotted line = default)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(points: list[dict]) -> str:
    cols = ["param", "value", "bands", "rows", "precision", "recall", "f1", "ari", "syndicated_f1", "truncate_recall",
            "template_brief_precision", "semeval_false_merges", "reword_ocr_recall", "cs_copy_recall", "seconds"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for p in points:
        lines.append("| " + " | ".join(str(p[c]) for c in cols) + " |")
    return "\n".join(lines)


def quality(paths: list[Path], jobs: int, params: Params) -> str:
    out = [f"Parameters of ours: {params.to_dict()}", ""]
    for path in paths:
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rep = run_evaluation(records, params, baseline=True, jobs=jobs)
        ours, base = rep["ours"], rep["baseline"]
        t_o, t_b = targets(ours), targets(base)
        out += [f"### {path.name}: {ours['articles']} articles, {ours['gold_clusters']} gold clusters", "",
                "| metric | ours | plain MinHashLSH |", "|---|---|---|"]
        for k in ("precision", "recall", "f1", "ari", "bcubed_f1", "syndicated_precision", "syndicated_recall",
                  "syndicated_f1", "truncate_recall", "truncate_copy_recall", "template_brief_precision",
                  "semeval_false_merges", "reword_ocr_recall", "cs_pair_recall", "cs_copy_recall", "seconds"):
            out.append(f"| {k} | {t_o[k]} | {t_b[k]} |")
        out += ["", "| track | ours P / R / F1 / ARI | baseline P / R / F1 / ARI |", "|---|---|---|"]
        for t in ours["tracks"]:
            a, b = ours["tracks"][t], base["tracks"][t]
            fmt = lambda r: f"{r['pairwise']['precision']} / {r['pairwise']['recall']} / {r['pairwise']['f1']} / {r['ari']}"  # noqa: E731
            out.append(f"| {t} ({a['articles']} articles) | {fmt(a)} | {fmt(b)} |")
        out += ["", "| category | gold pairs | ours pair recall | ours copy recall | ours precision | baseline pair recall | baseline copy recall | baseline precision |",
                "|---|---|---|---|---|---|---|---|"]
        for c, d in ours["categories"].items():
            e = base["categories"][c]
            out.append(f"| {c} | {d['gold_pairs']} | {d['recall']} | {d['copy_recall'] if d['copy_recall'] is not None else '-'} | {d['precision']} "
                       f"| {e['recall']} | {e['copy_recall'] if e['copy_recall'] is not None else '-'} | {e['precision']} |")
        out += ["", "| false merges | ours | baseline |", "|---|---|---|"]
        for g in sorted(set(ours["false_merges"]) | set(base["false_merges"]) | set(ours["negative_categories"])):
            out.append(f"| {g} | {ours['false_merges'].get(g, {}).get('count', 0)} | {base['false_merges'].get(g, {}).get('count', 0)} |")
        ex = [f"{g}: {a} ~ {b}" for g, fm in ours["false_merges"].items() for a, b in fm["examples"][:5]]
        if ex:
            out += ["", "False merges of ours (first 5 per group): " + "; ".join(ex)]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("labelled", nargs="+", type=Path)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--quality", action="store_true", help="write quality_tables.md (ours vs baseline) instead")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a Params field for --quality")
    ap.add_argument("--name", default="quality_tables.md", help="file name for --quality")
    ap.add_argument("--replot", action="store_true", help="redraw the plot and table from threshold_search.json")
    args = ap.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.replot:
        points = json.loads((args.out_dir / "threshold_search.json").read_text(encoding="utf-8"))
        (args.out_dir / "threshold_search.md").write_text(table(points) + "\n", encoding="utf-8")
        plot(points, args.out_dir / "quality_threshold.png")
        return 0
    if args.quality:
        given = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
        (args.out_dir / args.name).write_text(quality(args.labelled, args.jobs, Params(**given)), encoding="utf-8")
        return 0
    records = [json.loads(line) for line in args.labelled[0].read_text(encoding="utf-8").splitlines() if line.strip()]
    points = search(records, args.jobs)
    (args.out_dir / "threshold_search.json").write_text(json.dumps(points, indent=1), encoding="utf-8")
    (args.out_dir / "threshold_search.md").write_text(table(points) + "\n", encoding="utf-8")
    plot(points, args.out_dir / "quality_threshold.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
