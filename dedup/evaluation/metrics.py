"""Clustering quality against a gold labelling: pure functions, linear time.

Every metric is computed from counts, never by walking all ``n * (n - 1) / 2``
pairs of articles: a *contingency table* ``n_ij`` (how many articles of gold
cluster ``i`` fell in predicted cluster ``j``) gives pairwise precision and
recall, the Adjusted Rand Index and B-cubed scores in ``O(n)``. Articles that
no predicted cluster names are predicted singletons.

Vocabulary:
    * a *gold pair* is two articles with the same gold label;
    * a *predicted pair* is two articles in the same predicted cluster;
    * a *false merge* is a predicted pair whose gold labels differ.

Example:
    >>> gold = {"a": 1, "b": 1, "c": 2}
    >>> pairwise_scores(gold, [["a", "b", "c"]])["precision"]
    0.3333
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from itertools import islice

__all__ = [
    "assign_clusters",
    "pairwise_scores",
    "adjusted_rand_index",
    "bcubed_scores",
    "category_scores",
    "false_merges",
    "evaluate",
]

Clusters = Iterable[Sequence[str]]


def _c2(k: int) -> int:
    return k * (k - 1) // 2


def _ratio(num: float, den: float, empty: float | None = 1.0) -> float | None:
    """``num / den`` rounded; ``empty`` when there is nothing to measure."""
    return round(num / den, 4) if den else empty


def _f1(p: float, r: float) -> float:
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


def assign_clusters(gold: Mapping[str, Hashable], predicted: Clusters) -> dict[str, Hashable]:
    """Map every gold article to a predicted cluster key.

    Articles that no predicted cluster contains get a key of their own
    (singletons are implicit in ``predicted``).

    Args:
        gold: ``{article_id: gold_label}`` for every article evaluated.
        predicted: member-id lists, one per predicted cluster.

    Returns:
        ``{article_id: cluster_key}`` covering exactly the ids in ``gold``.

    Raises:
        ValueError: an id is in two predicted clusters or not in ``gold``.
    """
    assigned: dict[str, Hashable] = {}
    for j, members in enumerate(predicted):
        for m in members:
            if m not in gold:
                raise ValueError(f"predicted cluster {j} names {m!r}, which has no gold label")
            if m in assigned:
                raise ValueError(f"article {m!r} is in two predicted clusters")
            assigned[m] = ("c", j)
    for m in gold:
        if m not in assigned:
            assigned[m] = ("s", m)
    return assigned


def _tables(gold: Mapping[str, Hashable], assigned: Mapping[str, Hashable]):
    cells = Counter((gold[m], assigned[m]) for m in gold)
    rows = Counter(gold.values())
    cols = Counter(assigned.values())
    return cells, rows, cols


def pairwise_scores(gold: Mapping[str, Hashable], predicted: Clusters) -> dict:
    """Pairwise precision, recall and F1 over article pairs.

    Precision is the share of predicted pairs that are gold pairs; recall
    the share of gold pairs that are predicted pairs. An empty denominator
    scores 1.0 (nothing to get wrong).

    Args:
        gold: ``{article_id: gold_label}``.
        predicted: member-id lists of the predicted clusters.

    Returns:
        ``precision``, ``recall``, ``f1`` and the counts ``true_pairs``,
        ``predicted_pairs``, ``gold_pairs``.
    """
    cells, rows, cols = _tables(gold, assign_clusters(gold, predicted))
    tp = sum(_c2(v) for v in cells.values())
    pred = sum(_c2(v) for v in cols.values())
    true = sum(_c2(v) for v in rows.values())
    p, r = _ratio(tp, pred), _ratio(tp, true)
    return {"precision": p, "recall": r, "f1": _f1(p, r), "true_pairs": tp, "predicted_pairs": pred, "gold_pairs": true}


def adjusted_rand_index(gold: Mapping[str, Hashable], predicted: Clusters) -> float:
    """Adjusted Rand Index (Hubert & Arabie 1985) of the two partitions.

    1.0 for identical partitions, about 0 for a random one. When both
    partitions are trivial in the same way (all singletons, or one cluster)
    the index is undefined and 1.0 is returned, as scikit-learn does.

    Args:
        gold: ``{article_id: gold_label}``.
        predicted: member-id lists of the predicted clusters.

    Returns:
        The index, rounded to 6 decimals.
    """
    cells, rows, cols = _tables(gold, assign_clusters(gold, predicted))
    n = len(gold)
    if n < 2:
        return 1.0
    index = sum(_c2(v) for v in cells.values())
    sum_rows = sum(_c2(v) for v in rows.values())
    sum_cols = sum(_c2(v) for v in cols.values())
    expected = sum_rows * sum_cols / _c2(n)
    maximum = (sum_rows + sum_cols) / 2
    if maximum == expected:
        return 1.0
    return round((index - expected) / (maximum - expected), 6)


def bcubed_scores(gold: Mapping[str, Hashable], predicted: Clusters) -> dict:
    """B-cubed precision, recall and F1 (Bagga & Baldwin 1998).

    Per article: precision is the share of its predicted cluster (itself
    included) with its gold label, recall the share of its gold cluster
    in its predicted cluster; both averaged over articles.

    Args:
        gold: ``{article_id: gold_label}``.
        predicted: member-id lists of the predicted clusters.

    Returns:
        ``precision``, ``recall`` and ``f1``.
    """
    cells, rows, cols = _tables(gold, assign_clusters(gold, predicted))
    n = len(gold)
    if not n:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    p = sum(v * v / cols[j] for (_, j), v in cells.items()) / n
    r = sum(v * v / rows[i] for (i, _), v in cells.items()) / n
    p, r = round(p, 4), round(r, 4)
    return {"precision": p, "recall": r, "f1": _f1(p, r)}


def category_scores(
    gold: Mapping[str, Hashable], predicted: Clusters, categories: Mapping[str, str], *, original: str = "original"
) -> dict[str, dict]:
    """Pairwise recall and precision restricted to pairs touching a category.

    For category ``c``: recall is the share of gold pairs with at least one
    member of category ``c`` that are predicted together; precision the
    share of predicted pairs with at least one member of ``c`` that are gold
    pairs. Computed from counts per (cell, category): ``O(n * categories)``.

    ``copy_recall`` asks the simpler question "was this copy attached to its
    source?": the share of the category's articles, in gold clusters that
    hold an article of category ``original``, predicted in the same cluster
    as one of those originals (``None`` when no such article exists).

    Args:
        gold: ``{article_id: gold_label}``.
        predicted: member-id lists of the predicted clusters.
        categories: ``{article_id: category}`` (e.g. the transformation that
            made a copy); ids missing here count as ``"unknown"``.
        original: the category of the source articles copies derive from.

    Returns:
        ``{category: {"articles", "gold_pairs", "found_pairs", "recall",
        "predicted_pairs", "precision", "copies", "copies_attached",
        "copy_recall"}}``, sorted by category.
    """
    assigned = assign_clusters(gold, predicted)
    cells, rows, cols = _tables(gold, assigned)
    cat_of = {m: categories.get(m, "unknown") for m in gold}
    in_row: Counter = Counter((gold[m], cat_of[m]) for m in gold)
    in_col: Counter = Counter((assigned[m], cat_of[m]) for m in gold)
    in_cell: Counter = Counter((gold[m], assigned[m], cat_of[m]) for m in gold)
    out: dict[str, dict] = defaultdict(lambda: dict.fromkeys(("articles", "gold_pairs", "found_pairs", "predicted_pairs"), 0))
    for m in gold:
        out[cat_of[m]]["articles"] += 1
    # pairs of a group of size k that touch the k_c members of category c: C(k,2) - C(k-k_c,2)
    for (i, c), k in in_row.items():
        out[c]["gold_pairs"] += _c2(rows[i]) - _c2(rows[i] - k)
    for (j, c), k in in_col.items():
        out[c]["predicted_pairs"] += _c2(cols[j]) - _c2(cols[j] - k)
    for (i, j, c), k in in_cell.items():
        out[c]["found_pairs"] += _c2(cells[(i, j)]) - _c2(cells[(i, j)] - k)
    source_clusters: dict[Hashable, set] = defaultdict(set)  # gold label -> predicted keys of its originals
    for m in gold:
        if cat_of[m] == original:
            source_clusters[gold[m]].add(assigned[m])
    copies: Counter = Counter()
    attached: Counter = Counter()
    for m in gold:
        if cat_of[m] != original and gold[m] in source_clusters:
            copies[cat_of[m]] += 1
            attached[cat_of[m]] += assigned[m] in source_clusters[gold[m]]
    result = {}
    for c in sorted(out):
        d = out[c]
        d["recall"] = _ratio(d["found_pairs"], d["gold_pairs"])
        d["precision"] = _ratio(d["found_pairs"], d["predicted_pairs"])
        d["copies"], d["copies_attached"] = copies[c], attached[c]
        d["copy_recall"] = _ratio(attached[c], copies[c], None) if copies[c] else None
        result[c] = d
    return result


def _merge_group(c1: str, c2: str, negative: frozenset[str]) -> str:
    neg = sorted({c for c in (c1, c2) if c in negative})
    return "+".join(neg) if neg else "other"


def false_merges(
    gold: Mapping[str, Hashable],
    predicted: Clusters,
    categories: Mapping[str, str],
    negative_categories: Iterable[str] = (),
    *,
    max_examples: int = 20,
) -> dict[str, dict]:
    """Predicted pairs whose gold labels differ, grouped by negative category.

    A false merge is filed under the hard-negative category of its member(s)
    (``"a+b"`` when both are negatives of different categories) and under
    ``"other"`` when neither is a hard negative (two unrelated positive
    stories merged). Counts come from per-cluster category tallies, so a
    giant predicted cluster costs ``O(size * categories**2)``, not
    ``O(size**2)``; only up to ``max_examples`` pairs per group are listed.

    Args:
        gold: ``{article_id: gold_label}``.
        predicted: member-id lists of the predicted clusters.
        categories: ``{article_id: category}``.
        negative_categories: categories that are hard negatives.
        max_examples: pairs listed per group.

    Returns:
        ``{group: {"count": int, "examples": [[id_a, id_b], ...]}}``.
    """
    negative = frozenset(negative_categories)
    out: dict[str, dict] = {}

    def group(key: str) -> dict:
        return out.setdefault(key, {"count": 0, "examples": []})

    for members in predicted:
        members = [m for m in members if m in gold]
        by_label: dict[Hashable, list[str]] = defaultdict(list)
        for m in members:
            by_label[gold[m]].append(m)
        if len(by_label) < 2:
            continue
        total: Counter = Counter(categories.get(m, "unknown") for m in members)
        within: Counter = Counter()  # (c1, c2) pairs inside one label group
        for ms in by_label.values():
            cnt = Counter(categories.get(m, "unknown") for m in ms)
            for c1, k1 in cnt.items():
                for c2, k2 in cnt.items():
                    within[(c1, c2)] += k1 * k2
        cats = sorted(total)
        for a, c1 in enumerate(cats):
            for c2 in cats[a:]:
                across = total[c1] * total[c2] - within[(c1, c2)]
                if c1 == c2:
                    across //= 2
                if across:
                    group(_merge_group(c1, c2, negative))["count"] += across
        # a few concrete examples: walk only pairs across label groups, a bounded number of them
        groups = list(by_label.values())
        across_pairs = ((u, v) for a, ga in enumerate(groups) for gb in groups[a + 1 :] for u in ga for v in gb)
        for u, v in islice(across_pairs, 50 * max(max_examples, 1)):
            g = group(_merge_group(categories.get(u, "unknown"), categories.get(v, "unknown"), negative))
            if len(g["examples"]) < max_examples:
                g["examples"].append(sorted([u, v]))
    return dict(sorted(out.items()))


def evaluate(records: Iterable[Mapping], predicted_clusters: Clusters, *, max_examples: int = 20) -> dict:
    """Every metric, overall and per track, as one JSON-able dict.

    Args:
        records: labelled articles: mappings with ``id`` and ``label`` and
            optionally ``category`` (default ``"unknown"``) and ``track``
            (default ``"all"``). Records on the ``"negative"`` track define
            the hard-negative categories.
        predicted_clusters: member-id lists of the predicted clusters
            (clusters of one may be omitted).
        max_examples: false-merge pairs listed per group.

    Returns:
        ``{"articles", "gold_clusters", "predicted_clusters", "pairwise",
        "ari", "bcubed", "categories", "false_merges", "tracks"}``. Each
        track ``t`` other than ``"negative"`` is scored on the articles of
        ``t`` plus the hard negatives, with the predicted clusters cut down
        to those articles, so a track's precision counts merges with hard
        negatives.

    Raises:
        ValueError: duplicate ids, a record without ``id``/``label``, or a
            predicted id that is not among the records.
    """
    gold: dict[str, Hashable] = {}
    cats: dict[str, str] = {}
    tracks: dict[str, str] = {}
    for rec in records:
        if "id" not in rec or "label" not in rec:
            raise ValueError(f"record without 'id' or 'label': {dict(rec)!r:.200}")
        i = str(rec["id"])
        if i in gold:
            raise ValueError(f"duplicate id {i!r}")
        gold[i] = rec["label"]
        cats[i] = str(rec.get("category") or "unknown")
        tracks[i] = str(rec.get("track") or "all")
    clusters = [[str(m) for m in c] for c in predicted_clusters]
    clusters = [c for c in clusters if len(c) > 1]
    negative = sorted({cats[i] for i, t in tracks.items() if t == "negative"})
    result = _scores(gold, clusters, cats, negative, max_examples)
    result["negative_categories"] = negative
    result["tracks"] = {}
    for t in sorted(set(tracks.values())):
        keep = {i for i, tt in tracks.items() if tt == t or (t != "negative" and tt == "negative")}
        sub_gold = {i: gold[i] for i in gold if i in keep}
        sub = [[m for m in c if m in keep] for c in clusters]
        result["tracks"][t] = _scores(sub_gold, [c for c in sub if len(c) > 1], cats, negative, max_examples)
    return result


def _scores(gold, clusters, cats, negative, max_examples) -> dict:
    return {
        "articles": len(gold),
        "gold_clusters": len(set(gold.values())),
        "predicted_clusters": len(clusters),
        "pairwise": pairwise_scores(gold, clusters),
        "ari": adjusted_rand_index(gold, clusters),
        "bcubed": bcubed_scores(gold, clusters),
        "categories": category_scores(gold, clusters, cats),
        "false_merges": false_merges(gold, clusters, cats, negative, max_examples=max_examples),
    }
