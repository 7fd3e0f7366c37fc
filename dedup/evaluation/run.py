"""Run a detector on labelled records and report its quality (no files here).

:func:`run_evaluation` clusters the records with our batch pipeline (and,
if asked, the plain MinHash baseline) and scores both with
:func:`~dedup.evaluation.metrics.evaluate`; :func:`format_report` turns the
result into the table ``dedup eval`` prints.

Example:
    >>> recs = [{"id": "a", "text": "Shares rose sharply on Monday after the results. " * 8, "label": 1},
    ...         {"id": "b", "text": "LONDON (Reuters) - " + "Shares rose sharply on Monday after the results. " * 8, "label": 1}]
    >>> run_evaluation(recs)["ours"]["pairwise"]["recall"]
    1.0
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from dedup.batch import cluster_articles
from dedup.evaluation.baseline import baseline_clusters
from dedup.evaluation.metrics import evaluate
from dedup.params import Params
from dedup.types import Article

__all__ = ["predict", "run_evaluation", "format_report"]


def predict(records: Sequence[Mapping], params: Params | None = None, *, jobs: int = 1) -> tuple[list[list[str]], dict]:
    """Cluster labelled records with :func:`dedup.batch.cluster_articles`.

    Args:
        records: mappings with at least ``id`` and ``text`` (``title``,
            ``published`` ... are passed on; other fields are ignored).
        params: detection parameters (defaults when ``None``).
        jobs: worker processes.

    Returns:
        ``(clusters, info)``: member-id lists, and ``{"seconds", "skipped"}``.

    Raises:
        InvalidArticle: a record the core cannot read.
    """
    fields = ("id", "text", "title", "url", "source", "published")
    articles = [Article.from_dict({k: r.get(k) for k in fields}) for r in records]
    t0 = time.perf_counter()
    result = cluster_articles(articles, params or Params(), jobs=jobs)
    seconds = time.perf_counter() - t0
    return [list(c.members) for c in result.clusters], {"seconds": round(seconds, 3), "skipped": result.n_skipped}


def run_evaluation(
    records: Sequence[Mapping],
    params: Params | None = None,
    *,
    baseline: bool = False,
    jobs: int = 1,
    max_examples: int = 20,
) -> dict:
    """Score our detector (and optionally the plain MinHash baseline) on labelled records.

    Args:
        records: labelled records (``id``, ``text``, ``label``, optional
            ``category``/``track``): see :func:`~dedup.evaluation.metrics.evaluate`.
        params: detection parameters for our detector.
        baseline: also run datasketch ``MinHashLSH`` (5-word shingles,
            threshold 0.5, 128 permutations, no refinement).
        jobs: worker processes for our detector.
        max_examples: false-merge pairs listed per group.

    Returns:
        ``{"params": ..., "ours": {...metrics, "seconds", "skipped"},
        "baseline": {...}}`` (``baseline`` only when asked).
    """
    params = params or Params()
    clusters, info = predict(records, params, jobs=jobs)
    out = {"params": params.to_dict(), "ours": {**evaluate(records, clusters, max_examples=max_examples), **info}}
    if baseline:
        t0 = time.perf_counter()
        base = baseline_clusters((str(r["id"]), r["text"]) for r in records)
        seconds = round(time.perf_counter() - t0, 3)
        out["baseline"] = {**evaluate(records, base, max_examples=max_examples), "seconds": seconds, "skipped": 0}
    return out


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.4f}"
    return str(x)


def format_report(report: Mapping, *, examples: int = 3, name: str = "") -> str:
    """The human table ``dedup eval`` prints.

    Args:
        report: the result of :func:`run_evaluation`.
        examples: false-merge pairs shown per group and detector.
        name: what was evaluated (a file name), for the heading.

    Returns:
        Plain text, one column per detector.
    """
    systems = [s for s in ("ours", "baseline") if s in report]
    ours = report["ours"]
    lines = [f"{name or 'evaluation'}: {ours['articles']} articles, {ours['gold_clusters']} gold clusters"]
    p = report.get("params", {})
    if p:
        lines.append("params: " + ", ".join(f"{k}={p[k]}" for k in ("similarity", "containment", "lsh_threshold", "shingle_size", "num_perm", "bands", "rows") if k in p))
    width = 38

    def row(label: str, values: list) -> str:
        return f"{label:<{width}}" + "".join(f"{_fmt(v):>16}" for v in values)

    lines += ["", row("", systems)]
    for label, get in [
        ("pairwise precision", lambda r: r["pairwise"]["precision"]),
        ("pairwise recall", lambda r: r["pairwise"]["recall"]),
        ("pairwise F1", lambda r: r["pairwise"]["f1"]),
        ("adjusted Rand index", lambda r: r["ari"]),
        ("B-cubed F1", lambda r: r["bcubed"]["f1"]),
        ("predicted clusters", lambda r: r["predicted_clusters"]),
        ("seconds", lambda r: r["seconds"]),
    ]:
        lines.append(row(label, [get(report[s]) for s in systems]))
    if ours["tracks"]:
        lines += ["", row("track: pairwise P / R / F1", systems)]
        for t in ours["tracks"]:
            pw = [report[s]["tracks"][t]["pairwise"] for s in systems]
            for key, count in (("precision", "predicted_pairs"), ("recall", "gold_pairs"), ("f1", "gold_pairs")):
                lines.append(row(f"  {t} {key}", ["-" if not x[count] else x[key] for x in pw]))  # "-": no pair to score
    negative = set(ours.get("negative_categories", []))
    cols = [f"{s}:{k}" for s in systems for k in ("pairs", "copies")]
    lines += ["", row("recall by category (gold pairs)", cols)]
    for c, d in ours["categories"].items():
        if d["gold_pairs"]:
            vals = [report[s]["categories"][c][k] for s in systems for k in ("recall", "copy_recall")]
            lines.append(row(f"  {c} ({d['gold_pairs']})", ["-" if v is None else v for v in vals]))
    lines.append("  (pairs: share of gold pairs touching the category found; copies: share of its copies")
    lines.append("   put in the same cluster as their original)")
    lines += ["", row("precision by category (pred. pairs)", systems)]
    for c, d in ours["categories"].items():
        counts = "/".join(str(report[s]["categories"][c]["predicted_pairs"]) for s in systems)
        if c in negative or any(report[s]["categories"][c]["precision"] < 1.0 for s in systems):
            lines.append(row(f"  {c} ({counts})", [report[s]["categories"][c]["precision"] for s in systems]))
    groups = sorted({g for s in systems for g in report[s]["false_merges"]} | negative)
    lines += ["", row("false merges (pairs)", systems)]
    for g in groups:
        lines.append(row(f"  {g}", [report[s]["false_merges"].get(g, {}).get("count", 0) for s in systems]))
    for s in systems:
        shown = [(g, e) for g, fm in report[s]["false_merges"].items() for e in fm["examples"][:examples]]
        if shown:
            lines += ["", f"false merge examples ({s}):"] + [f"  {g}: {a}  ~  {b}" for g, (a, b) in shown]
    return "\n".join(lines)
