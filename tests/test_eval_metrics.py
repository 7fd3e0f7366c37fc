"""Evaluation metrics on tiny hand-computed examples and against O(n^2) references."""

from __future__ import annotations

import json
from itertools import combinations
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.evaluation import (
    adjusted_rand_index,
    bcubed_scores,
    category_scores,
    evaluate,
    false_merges,
    pairwise_scores,
)

# Six articles: gold clusters {a,b,c} {d,e} {f}; predicted {a,b} {c,d,e} (f a singleton).
GOLD = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2, "f": 3}
PRED = [["a", "b"], ["c", "d", "e"]]


def test_pairwise_by_hand():
    # gold pairs: ab ac bc de (4); predicted pairs: ab cd ce de (4); both: ab de (2)
    s = pairwise_scores(GOLD, PRED)
    assert (s["gold_pairs"], s["predicted_pairs"], s["true_pairs"]) == (4, 4, 2)
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5


def test_ari_by_hand():
    # contingency cells 2,1,2,1 -> index = C(2,2)+C(2,2) = 2
    # row sums 3,2,1 -> 3+1+0 = 4 ; column sums 2,3,1 -> 1+3+0 = 4 ; C(6,2) = 15
    # expected = 4*4/15 = 16/15 ; max = (4+4)/2 = 4
    # ARI = (2 - 16/15) / (4 - 16/15) = (14/15) / (44/15) = 14/44
    assert adjusted_rand_index(GOLD, PRED) == pytest.approx(14 / 44, abs=1e-6)


def test_ari_perfect_and_trivial():
    assert adjusted_rand_index(GOLD, [["a", "b", "c"], ["d", "e"]]) == 1.0
    singles = {str(i): i for i in range(5)}
    assert adjusted_rand_index(singles, []) == 1.0
    # everything merged against a gold of singletons: no agreement beyond chance
    assert adjusted_rand_index(singles, [list(singles)]) == 0.0


def test_bcubed_by_hand():
    # precision per article: a 1, b 1, c 1/3, d 2/3, e 2/3, f 1 -> 14/3 / 6
    # recall per article:    a 2/3, b 2/3, c 1/3, d 1, e 1, f 1 -> 14/3 / 6
    s = bcubed_scores(GOLD, PRED)
    assert s["precision"] == pytest.approx(14 / 18, abs=1e-4)
    assert s["recall"] == pytest.approx(14 / 18, abs=1e-4)
    assert s["f1"] == pytest.approx(14 / 18, abs=1e-4)


def test_category_recall_and_precision_by_hand():
    cats = {"a": "original", "b": "dateline", "c": "truncate", "d": "original", "e": "html", "f": "semeval"}
    s = category_scores(GOLD, PRED, cats)
    # truncate: gold pairs touching c: ac bc (2), none predicted; predicted pairs touching c: cd ce (2), none gold
    assert s["truncate"]["gold_pairs"] == 2 and s["truncate"]["recall"] == 0.0
    assert s["truncate"]["predicted_pairs"] == 2 and s["truncate"]["precision"] == 0.0
    # dateline: gold ab bc -> found ab -> 1/2 ; predicted ab -> precision 1
    assert s["dateline"]["recall"] == 0.5 and s["dateline"]["precision"] == 1.0
    # html: gold de found; predicted ce de -> precision 1/2
    assert s["html"]["recall"] == 1.0 and s["html"]["precision"] == 0.5
    # original: gold ab ac de (3) found ab de (2); predicted ab cd de (3), gold 2
    assert s["original"]["gold_pairs"] == 3 and s["original"]["found_pairs"] == 2
    assert s["original"]["predicted_pairs"] == 3
    # a category with no pair at all scores 1.0 on empty denominators, with zero counts
    assert s["semeval"]["gold_pairs"] == 0 and s["semeval"]["recall"] == 1.0
    # copy recall: is the copy in its original's predicted cluster? b yes, c no, e yes; f has no original
    assert (s["dateline"]["copies"], s["dateline"]["copies_attached"], s["dateline"]["copy_recall"]) == (1, 1, 1.0)
    assert (s["truncate"]["copies"], s["truncate"]["copy_recall"]) == (1, 0.0)
    assert s["html"]["copy_recall"] == 1.0 and s["semeval"]["copy_recall"] is None


def test_false_merges_grouped_by_negative_category():
    gold = {"s1": "s1", "s2": "s2", "t1": "t1", "t2": "t2", "t3": "t3", "o": "x", "c": "x", "p": "p"}
    cats = {"s1": "semeval", "s2": "semeval", "t1": "brief", "t2": "brief", "t3": "brief", "o": "original", "c": "html", "p": "original"}
    pred = [["s1", "s2"], ["t1", "t2", "t3"], ["o", "c", "p"]]
    fm = false_merges(gold, pred, cats, ["semeval", "brief"])
    assert fm["semeval"] == {"count": 1, "examples": [["s1", "s2"]]}
    assert fm["brief"]["count"] == 3
    assert fm["other"]["count"] == 2  # o-p and c-p; o-c is a gold pair
    assert sorted(map(tuple, fm["other"]["examples"])) == [("c", "p"), ("o", "p")]


def test_false_merges_mixed_negatives_and_example_cap():
    gold = {str(i): i for i in range(30)}
    cats = {str(i): ("a" if i < 10 else "b") for i in range(30)}
    fm = false_merges(gold, [list(gold)], cats, ["a", "b"], max_examples=3)
    assert fm["a"]["count"] == comb(10, 2)
    assert fm["b"]["count"] == comb(20, 2)
    assert fm["a+b"]["count"] == 200
    assert all(len(g["examples"]) <= 3 for g in fm.values())


def test_unknown_or_repeated_ids_are_errors():
    with pytest.raises(ValueError, match="no gold label"):
        pairwise_scores(GOLD, [["a", "zzz"]])
    with pytest.raises(ValueError, match="two predicted clusters"):
        pairwise_scores(GOLD, [["a", "b"], ["b", "c"]])
    with pytest.raises(ValueError, match="duplicate id"):
        evaluate([{"id": "a", "label": 1}, {"id": "a", "label": 2}], [])


def test_evaluate_is_json_and_splits_tracks():
    records = [
        {"id": "o1", "label": "L1", "category": "original", "track": "syndicated"},
        {"id": "c1", "label": "L1", "category": "truncate", "track": "syndicated"},
        {"id": "o2", "label": "L2", "category": "original", "track": "reworded"},
        {"id": "c2", "label": "L2", "category": "light_revision", "track": "reworded"},
        {"id": "n1", "label": "N1", "category": "semeval_same_story", "track": "negative"},
        {"id": "n2", "label": "N2", "category": "semeval_same_story", "track": "negative"},
    ]
    out = evaluate(records, [["o1", "c1", "n1"], ["n2"]])
    json.dumps(out)
    assert out["negative_categories"] == ["semeval_same_story"]
    assert out["pairwise"]["gold_pairs"] == 2 and out["pairwise"]["true_pairs"] == 1
    assert out["false_merges"]["semeval_same_story"]["count"] == 2
    syn = out["tracks"]["syndicated"]
    assert syn["articles"] == 4 and syn["pairwise"]["recall"] == 1.0 and syn["pairwise"]["precision"] == 0.3333
    rew = out["tracks"]["reworded"]
    assert rew["pairwise"]["recall"] == 0.0 and rew["pairwise"]["predicted_pairs"] == 0
    assert out["tracks"]["negative"]["articles"] == 2
    assert out["categories"]["truncate"]["recall"] == 1.0


# ---- reference implementations: plain O(n^2) over all pairs -------------------------------


def _reference(gold: dict, pred: list[list[str]]):
    where = {m: j for j, c in enumerate(pred) for m in c}
    ids = sorted(gold)
    same_pred = {(u, v): where.get(u, ("s", u)) == where.get(v, ("s", v)) for u, v in combinations(ids, 2)}
    same_gold = {(u, v): gold[u] == gold[v] for u, v in combinations(ids, 2)}
    n11 = sum(same_pred[k] and same_gold[k] for k in same_pred)
    n10 = sum(same_gold[k] and not same_pred[k] for k in same_pred)
    n01 = sum(same_pred[k] and not same_gold[k] for k in same_pred)
    n00 = len(same_pred) - n11 - n10 - n01
    # ARI from the pair-counting form (Hubert & Arabie, via the 2x2 pair table)
    num = 2 * (n00 * n11 - n01 * n10)
    den = (n00 + n01) * (n01 + n11) + (n00 + n10) * (n10 + n11)
    ari = 1.0 if den == 0 else num / den
    # B-cubed by definition
    cl = {m: [x for x in ids if where.get(x, ("s", x)) == where.get(m, ("s", m))] for m in ids}
    bp = sum(sum(gold[x] == gold[m] for x in cl[m]) / len(cl[m]) for m in ids) / len(ids)
    br = sum(sum(gold[x] == gold[m] for x in cl[m]) / sum(gold[x] == gold[m] for x in ids) for m in ids) / len(ids)
    return n11, n11 + n01, n11 + n10, ari, bp, br


@st.composite
def labellings(draw):
    n = draw(st.integers(min_value=2, max_value=25))
    ids = [f"a{i}" for i in range(n)]
    gold = {i: draw(st.integers(0, n // 2)) for i in ids}
    keys = {i: draw(st.integers(0, n)) for i in ids}
    groups: dict[int, list[str]] = {}
    for i in ids:
        groups.setdefault(keys[i], []).append(i)
    pred = [g for g in groups.values() if len(g) > 1 or draw(st.booleans())]
    return gold, pred


@settings(max_examples=150, deadline=None)
@given(labellings())
def test_against_quadratic_reference(case):
    gold, pred = case
    tp, predicted, true, ari, bp, br = _reference(gold, pred)
    s = pairwise_scores(gold, pred)
    assert (s["true_pairs"], s["predicted_pairs"], s["gold_pairs"]) == (tp, predicted, true)
    assert adjusted_rand_index(gold, pred) == pytest.approx(ari, abs=1e-5)
    b = bcubed_scores(gold, pred)
    assert b["precision"] == pytest.approx(bp, abs=1e-4)
    assert b["recall"] == pytest.approx(br, abs=1e-4)


@settings(max_examples=200, deadline=None)
@given(labellings(), st.lists(st.sampled_from("xyz"), min_size=25, max_size=25))
def test_category_and_false_merges_against_reference(case, catlist):
    gold, pred = case
    cats = {i: catlist[k] for k, i in enumerate(sorted(gold))}
    where = {m: j for j, c in enumerate(pred) for m in c}
    pairs = list(combinations(sorted(gold), 2))
    together = {(u, v): u in where and where.get(u) == where.get(v) for u, v in pairs}
    s = category_scores(gold, pred, cats)
    for c in set(cats.values()):
        touch = [(u, v) for u, v in pairs if c in (cats[u], cats[v])]
        assert s[c]["gold_pairs"] == sum(gold[u] == gold[v] for u, v in touch)
        assert s[c]["found_pairs"] == sum(gold[u] == gold[v] and together[(u, v)] for u, v in touch)
        assert s[c]["predicted_pairs"] == sum(together[(u, v)] for u, v in touch)
    fm = false_merges(gold, pred, cats, ["x", "y"])
    expected: dict[str, int] = {}
    for u, v in pairs:
        if together[(u, v)] and gold[u] != gold[v]:
            neg = sorted({cats[u], cats[v]} & {"x", "y"})
            key = "+".join(neg) if neg else "other"
            expected[key] = expected.get(key, 0) + 1
    assert {k: g["count"] for k, g in fm.items()} == expected
