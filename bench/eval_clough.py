"""Clough-Stevenson text reuse: which answers are put with their Wikipedia source, and where the others are lost.

The corpus (``../shared/data/clough-stevenson-text-reuse``): 95 short answers
by students to 5 questions, each labelled cut (copied from the source), light
(light revision), heavy (heavy revision) or non (written independently), and
the 5 source passages. All 100 texts go through the default detector, in
batch (``dedup.batch.cluster_articles``) and online (``Deduplicator.add`` in
file order, each source before its answers), with the same ``Params``.

Scores:

* **recall** per category: the share of its answers put in the same cluster
  as their source (the positives are the (answer, source) pairs of cut and
  light answers; heavy answers are reported but counted nowhere);
* **pair precision**: of the predicted pairs (two texts in one cluster) that
  touch no heavy answer, the share whose two texts are one source and its
  cut/light answers (a pair of two cut/light answers to one question counts
  as right). A non answer with anything else is wrong. Pairs with a heavy
  answer are left out, so a heavy answer put with its source neither helps
  nor hurts;
* **stage lost**, for each cut/light answer not with its source (batch):
  ``not in source`` (under a tenth of its words lie in 4-word runs found in
  the source passage: the student copied another part of the Wikipedia
  article, which the corpus does not hold), ``candidate`` (the pair is not
  proposed by LSH nor short-inside-long), ``confirmation`` (proposed,
  rejected by ``dedup.refine.confirm``: the verdict is given), ``clustering``
  (confirmed, but the clustering guards kept them apart);
* the same per question group: questions 1-3 and, held out, 4-5 (in the
  order the sources first appear in the file).

Usage:
    python bench/eval_clough.py [--param shared_opening=None] [--no-online] [--json out.json]
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from rapidfuzz.distance import Indel  # noqa: E402

from evalset_corpora import clough_stevenson  # noqa: E402

from dedup.batch import cluster_articles  # noqa: E402
from dedup.corpus import Skips, fingerprint_corpus  # noqa: E402
from dedup.deduplicator import Deduplicator  # noqa: E402
from dedup.normalisation import Normaliser  # noqa: E402
from dedup.pairs import all_candidates  # noqa: E402
from dedup.params import Params  # noqa: E402
from dedup.refine import GRAM, _coverage_kernel, _lead_aligned, _lead_found, confirm, opening_words  # noqa: E402
from dedup.types import Article, Link  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
COPIES = ("cut_and_paste", "light_revision")
SHOWN = ("cut_and_paste", "light_revision", "heavy_revision", "independent_answer")
HELD_OUT = ("cs-src-4", "cs-src-5")
NOT_IN_SOURCE = 0.1


def batch_groups(records: list[dict], params: Params) -> dict[str, object]:
    """``{id: cluster number}`` (singletons get their own number) from ``dedup batch``'s clustering."""
    res = cluster_articles([Article(r["id"], r["text"]) for r in records], params)
    group = {r["id"]: -n for n, r in enumerate(records, start=1)}
    group.update((m, c.id) for c in res.clusters for m in c.members)
    return group


def online_groups(records: list[dict], params: Params) -> dict[str, object]:
    """``{id: cluster}`` from the online path, articles added in file order."""
    d = Deduplicator(params)
    for r in records:
        d.add(Article(r["id"], r["text"]))
    return {r["id"]: d.story(r["id"])[0] for r in records}


def scores(records: list[dict], group: dict, questions: set[str] | None = None) -> dict:
    """Recall per category and pair precision (module docstring), optionally on some questions only."""
    recs = [r for r in records if questions is None or r["question"] in questions]
    source_group = {r["id"]: group[r["id"]] for r in recs if r["category"] == "original"}
    out: dict = {}
    for cat in SHOWN:
        mine = [r for r in recs if r["category"] == cat]
        found = sum(group[r["id"]] == source_group[r["question"]] for r in mine)
        out[cat] = {"answers": len(mine), "with_source": found, "recall": round(found / len(mine), 4) if mine else None}
    members = defaultdict(list)
    for r in recs:
        if r["category"] != "heavy_revision":
            members[group[r["id"]]].append(r)
    right = wrong = 0
    for ms in members.values():
        for x in range(len(ms)):
            for y in range(x + 1, len(ms)):
                a, b = ms[x], ms[y]
                same = a["label"] == b["label"] and a["category"] != "independent_answer"
                right, wrong = right + same, wrong + (not same)
    out["predicted_pairs"] = right + wrong
    out["wrong_pairs"] = wrong
    out["pair_precision"] = round(right / (right + wrong), 4) if right + wrong else 1.0
    return out


def stages(records: list[dict], group: dict, params: Params) -> list[dict]:
    """For every cut/light answer not with its source: the stage that lost it (module docstring)."""
    arts = [Article(r["id"], r["text"]) for r in records]
    corpus = fingerprint_corpus(iter(arts), params, Normaliser(), jobs=1, chunk_size=500, skip=Skips(None))
    at = {i: n for n, i in enumerate(corpus.ids)}
    pairs, _ = all_candidates(corpus, params)
    proposed = {(int(a), int(b)) for a, b in pairs}
    source_of = {r["question"]: r["id"] for r in records if r["category"] == "original"}
    out = []
    for r in records:
        if r["category"] not in COPIES or group[r["id"]] == group[source_of[r["question"]]]:
            continue
        a, s = at[r["id"]], at[source_of[r["question"]]]
        ta, ts = corpus.text(a), corpus.text(s)
        ca = np.frombuffer(ta.encode("utf-32-le", "surrogatepass"), np.uint32)
        cs = np.frombuffer(ts.encode("utf-32-le", "surrogatepass"), np.uint32)
        in_source = float(_coverage_kernel(ca, cs, 4)[0].mean())
        jac = float((corpus.signatures[a] == corpus.signatures[s]).mean())
        verdict = confirm("", ta, "", ts, params, jaccard=jac)
        if in_source < NOT_IN_SOURCE:
            stage = "not in source"
        elif (min(a, s), max(a, s)) not in proposed:
            stage = "candidate"
        elif not isinstance(verdict, Link):
            stage = "confirmation"
        else:
            stage = "clustering"
        out.append({"id": r["id"], "category": r["category"], "question": r["question"], "stage": stage,
                    "in_source_4gram": round(in_source, 2), "jaccard_estimate": round(jac, 3),
                    "verdict": verdict.kind if isinstance(verdict, Link) else verdict,
                    "words": len(ta), "source_words": len(ts), **tests(ta, ts, params)})
    return out


def tests(ta: str, ts: str, params: Params) -> dict:
    """The scores each confirmation test of :func:`dedup.refine.confirm` gives
    the pair, against its threshold, and the tests it fails (``fails``)."""
    ops = Indel.opcodes(ta, ts)
    lcs = sum(op.src_end - op.src_start for op in ops if op.tag == "equal")
    short_is_a = len(ta) <= len(ts)
    ca = np.frombuffer(ta.encode("utf-32-le", "surrogatepass"), np.uint32)
    cs = np.frombuffer(ts.encode("utf-32-le", "surrogatepass"), np.uint32)
    cov_a, cov_s = _coverage_kernel(ca, cs, GRAM)
    (c_short, c_long) = (cov_a, cov_s) if short_is_a else (cov_s, cov_a)
    got = {
        "indel": round(2 * lcs / (len(ta) + len(ts)), 3),
        "in_order_containment": round(lcs / min(len(ta), len(ts)), 3),
        "lead_in_alignment": _lead_aligned(ops, short_is_a, min(len(ta), len(ts))),
        "order_free_shorter": round(float(c_short.mean()), 3),
        "order_free_shorter_lead": _lead_found(c_short),
        "order_free_longer": round(float(c_long.mean()), 3),
        "order_free_longer_lead": _lead_found(c_long),
        "opening_words": max(opening_words(ops, True), opening_words(ops, False)),
    }
    fails = []
    if got["indel"] < params.similarity:
        fails.append(f"near: indel < {params.similarity}")
    if got["in_order_containment"] < params.containment or not got["lead_in_alignment"]:
        fails.append(f"contained: in order < {params.containment} or lead not aligned")
    of = params.order_free or 1.0
    if (got["order_free_shorter"] < of or not got["order_free_shorter_lead"]
            or (got["order_free_longer"] < of and not got["order_free_longer_lead"])):
        fails.append(f"order-free: shorter < {of}, or its lead, or the longer (or its lead) not found")
    if got["opening_words"] < (params.shared_opening or 10**9):
        fails.append(f"shared opening: < {params.shared_opening} words")
    return {**got, "fails": fails}


def _param(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    return name, ast.literal_eval(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--param", action="append", type=_param, default=[], help="a Params field, NAME=VALUE")
    ap.add_argument("--no-online", action="store_true", help="skip the online run")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    params = Params(**dict(args.param))
    records = clough_stevenson(args.data, full=True)
    group = batch_groups(records, params)
    all_q = {r["question"] for r in records}
    result = {
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                 cwd=Path(__file__).parent).stdout.strip(),
        "params": dict((k, v) for k, v in args.param),
        "batch": scores(records, group),
        "batch_questions_1_3": scores(records, group, all_q - set(HELD_OUT)),
        "batch_questions_4_5_held_out": scores(records, group, set(HELD_OUT)),
        "lost": stages(records, group, params),
    }
    if not args.no_online:
        result["online"] = scores(records, online_groups(records, params))
    result["lost_by_stage"] = {cat: dict(Counter(x["stage"] for x in result["lost"] if x["category"] == cat))
                               for cat in COPIES}
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
