"""Build labelled evaluation sets (JSONL) from the real corpora in ../shared/data.

Deterministic: a fixed seed (``--seed``, default 20240501) decides every
choice, so the same command writes the same bytes.

Each line: ``{"id", "text", "title", "published"?, "label", "category",
"track", "source"}``; ``label`` is the gold cluster, fixed by how the set
was built (never by looking at a detector's output).

Tracks and categories:

* ``syndicated``: BBC (2004-05) and Reuters-21578 (1987) stories, each an
  ``original`` plus 1-4 copies; a copy's ``category`` is its main
  transformation (dateline, byline, wire_credit, boilerplate, typography,
  html, whitespace, headline, editor_note, truncate, drop_paragraph), often
  with one or two more cosmetic ones stacked on. Other originals are left
  without copies (``original``, singletons) as same-topic distractors.
* ``reworded``: harder copies. BBC/Reuters copies whose main change is
  ``reword`` (synonyms, word swaps on 5-10% of words) or ``ocr_noise``
  (1-2% of words), and the Clough-Stevenson answers that were made from a
  Wikipedia source by ``cut_and_paste`` (label 3) or ``light_revision``
  (label 2), with the source (``original``) in their cluster.
* ``negative``: hard negatives, each its own gold label:
  ``semeval_same_story`` (SemEval-2022 Task 8 en-en pairs with Overall <=
  1.5: the same event written by two outlets), ``template_brief`` (Reuters
  earnings/dividend briefs, ``Shr ...``/``Qtly div ...``, that share their
  wording but not their figures; a third of them also get one cosmetic
  copy, category ``template_brief_copy``, so precision on the category is
  measurable), ``independent_answer`` (Clough-Stevenson label 0 answers,
  written without copying the source), ``recurring_headline`` (different
  stories under one recurring headline, "Markets close", "Weather" ...,
  half of them with the feature's shared standfirst line on top).
* ``edited``: what syndication does to a story's content. Further BBC and
  Reuters originals with 1-3 copies whose main edit is ``reorder`` (two or
  more paragraphs moved), ``insert`` (1-3 local sentences or one local
  paragraph), ``delete`` (1-3 sentences), ``figures_respelled`` (5 pct/5%,
  10 mln/10 million, $3.5 billion/$3.5bn, 1,000/1000; texts with 2+ such
  figures), ``update`` (1-3 numbers, dates or weekdays changed in a story of
  150+ words, maybe ``UPDATE 1-`` and a correction line; a third of these
  originals end in ``Published 12 March 2024`` and the update in the next
  day), ``synonyms`` (5-15% of words) or ``short_from_long`` (a 60-120-word
  brief of a 500+-word story's sentences); cosmetic edits stack on as above.
* ``multilingual``: non-Latin-script articles of the SemEval-2022 HFL sample
  (Arabic; Chinese and Russian machine-translated by HFL), with copies
  ``ml_plain`` (1-2 of dateline, boilerplate, whitespace, typography, in the
  text's own language and punctuation), ``ml_reorder``, ``ml_insert``,
  ``ml_delete``, ``ml_truncate`` (by characters for CJK), or alone.

The ``edited``, ``multilingual`` and ``recurring_headline`` records are drawn
from their own random stream after the others and put in at random places,
so the other records keep their bytes and relative order (``edits=False``
builds the set without them).

Originals that are already near-duplicates of each other in the corpora are
dropped so the gold labels are right: every BBC/Reuters document named in a
``DERIVED_near_dup_candidates.tsv`` pair, and then any original whose
5-word shingles overlap another original's by Jaccard >= 0.5 or containment
>= 0.5, or whose headline repeats another original's (wire updates keep the
headline while rewriting the body); template briefs are instead kept apart
by distinct figures. Multilingual originals are compared by 5-character
shingles (CJK has no spaces) and by headline.

Usage:
    python bench/evalset.py --size small --out bench/results/eval_small.jsonl
    python bench/evalset.py --size full --out bench/results/eval_full.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalset_corpora import (  # noqa: E402
    bbc_articles,
    char_shingles,
    clough_stevenson,
    multilingual_articles,
    reuters_documents,
    semeval_same_story,
    shingles,
    template_briefs,
)

from dedup.evaluation.transforms import (  # noqa: E402
    COSMETIC,
    Doc,
    apply_transforms,
    figure_spots,
    synonym_slots,
)

__all__ = ["SIZES", "build", "near_duplicate_conflicts", "main"]

DEFAULT_SEED = 20240501
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

SYNDICATED_MAIN = (
    "dateline", "byline", "wire_credit", "boilerplate", "typography", "html",
    "whitespace", "headline", "editor_note", "truncate", "drop_paragraph",
)
REWORDED_MAIN = ("reword", "ocr_noise")
EDITED_MAIN = ("reorder", "insert", "delete", "figures_respelled", "update", "synonyms", "short_from_long")
ML_MAIN = ("ml_plain", "ml_reorder", "ml_insert", "ml_delete", "ml_truncate")
ML_COSMETIC = ("dateline", "boilerplate", "whitespace", "typography")
RECURRING_HEADLINES = [
    ("Markets close", "Here is how the markets closed today."),
    ("Weather", None),
    ("Morning briefing", "Good morning. Here is what you need to know today."),
    ("Stock market report", None),
    ("Business live", "Our business live page follows the day's news."),
    ("In brief", None),
    ("Sports results", "The latest results and reaction."),
    ("News in brief", None),
    ("Traffic and travel", None),
    ("Week ahead", "What to watch in the coming days."),
]
BRIEF_COPY = ("dateline", "whitespace", "headline", "wire_credit", "typography", "html")

# per source: originals with syndicated copies, with reworded/OCR copies, left alone (distractors)
SIZES = {
    "tiny": dict(bbc=(6, 2, 3), reuters=(6, 2, 4), briefs=16, semeval=5, cs_per_label=3, reuters_files=2),
    "small": dict(bbc=(30, 10, 20), reuters=(30, 10, 20), briefs=45, semeval=20, cs_per_label=None, reuters_files=4),
    "full": dict(bbc=(900, 250, 600), reuters=(1200, 300, 1500), briefs=700, semeval=None, cs_per_label=None, reuters_files=22),
}
# the edit categories added later (own random stream, so the records above keep their bytes):
# originals with edited copies, multilingual originals (with copies, alone), recurring-headline groups x bodies
EDIT_SIZES = {
    "tiny": dict(edited=10, ml=(6, 2), recurring=(2, 3)),
    "small": dict(edited=40, ml=(30, 10), recurring=(6, 3)),
    "full": dict(edited=900, ml=(450, None), recurring=(40, 4)),
}


def near_duplicate_conflicts(texts: dict[str, str], labels: dict[str, str], *, skip=lambda a, b: False,
                             jaccard: float = 0.5, containment: float = 0.5, max_postings: int = 30,
                             shingler=shingles) -> set[str]:
    """Ids to drop so that no two differently-labelled texts are near-duplicates.

    An inverted index of 5-word shingles finds every pair sharing at least
    one shingle (shingles shared by more than ``max_postings`` texts, i.e.
    boilerplate, are not used to find pairs but still count in the overlap);
    of a pair with Jaccard or containment at or above the cut-offs, the
    later id (in ``texts`` order) is dropped.

    Args:
        texts: ``{id: text}`` in a fixed order.
        labels: ``{id: gold label}``; same-label pairs are not conflicts.
        skip: ``skip(a, b)`` true for pairs that must not be checked.
        jaccard, containment: the cut-offs.
        max_postings: see above.
        shingler: text -> set of hashed shingles (5-word by default;
            5-character for scripts without spaces).

    Returns:
        The ids to drop.
    """
    order = {k: n for n, k in enumerate(texts)}
    sh = {k: shingler(t) for k, t in texts.items()}
    postings: dict[int, list[str]] = {}
    for k, s in sh.items():
        for h in s:
            postings.setdefault(h, []).append(k)
    pairs = set()
    for ids in postings.values():
        if 1 < len(ids) <= max_postings:
            for a in range(len(ids)):
                for b in range(a + 1, len(ids)):
                    pairs.add((ids[a], ids[b]))
    drop: set[str] = set()
    for a, b in sorted(pairs, key=lambda p: (order[p[0]], order[p[1]])):
        if labels[a] == labels[b] or a in drop or b in drop or skip(a, b):
            continue
        inter = len(sh[a] & sh[b])
        small = min(len(sh[a]), len(sh[b])) or 1
        if inter / (len(sh[a] | sh[b]) or 1) >= jaccard or inter / small >= containment:
            drop.add(max(a, b, key=order.__getitem__))
    return drop


def _copies(rec: dict, mains: tuple[str, ...], track: str, rng: random.Random, cycle: Iterator[str], k: int) -> list[dict]:
    out = []
    for n in range(1, k + 1):
        main = next(cycle)
        extra = [c for c in COSMETIC if c != main]
        names = [main] + rng.sample(extra, rng.choice([0, 0, 1, 1, 2]))
        doc = apply_transforms(Doc(rec["text"], rec.get("title")), names, rng)
        copy = dict(rec, id=f"{rec['id']}-c{n}", text=doc.text, title=doc.title, category=main, track=track,
                    transforms=sorted(names))
        if rec.get("published"):
            copy["published"] = _shift(rec["published"], rng)
        out.append(copy)
    return out


def _words(text: str) -> int:
    return len(text.split())


_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f\u06d4\u061f\u0964]")
_UPDATABLE = re.compile(r"(?<![\w.,$])\d+(?:\.\d+)?(?![\w,]|\.\d)|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")


def _eligible(main: str, text: str) -> bool:
    """Whether the edit ``main`` applies to a story (its category must describe what was done)."""
    n = _words(text)
    if main == "figures_respelled":
        return figure_spots(text) >= 2
    if main == "update":
        return n >= 150 and len([m for m in _UPDATABLE.findall(text) if not re.fullmatch(r"19\d\d|20\d\d", m)]) >= 2
    if main == "short_from_long":
        return n >= 500
    if main == "synonyms":
        return synonym_slots(text) >= 0.05 * n
    return len(_SENTENCE_END.findall(text)) >= 4


def _pick_mains(rec: dict, pending: list[str], names: tuple[str, ...], k: int, rng: random.Random) -> list[str]:
    """Up to ``k`` distinct edits for a story, in the order of a shuffled cycle, skipping those that do not apply."""
    out: list[str] = []
    for _ in range(k):
        for attempt in range(2):
            hit = next((c for c in pending if c not in out and _eligible(c, rec["text"])), None)
            if hit is not None:
                pending.remove(hit)
                out.append(hit)
                break
            order = list(names)
            rng.shuffle(order)
            pending += order
    return out


def _published_line(rec: dict, rng: random.Random) -> str:
    from datetime import date

    d = date.fromisoformat(rec["published"][:10]) if rec.get("published") else date(2024, rng.randint(1, 12), rng.randint(1, 28))
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    return f"\n\nPublished {d.day} {months[d.month - 1]} {d.year}"


def _edited_copies(rec: dict, mains: list[str], rng: random.Random) -> list[dict]:
    out = []
    for n, main in enumerate(mains, 1):
        extra = [c for c in COSMETIC if c != "headline" or main != "update"]
        names = [main] + rng.sample(extra, rng.choice([0, 0, 1, 1, 2]))
        doc = apply_transforms(Doc(rec["text"], rec.get("title")), names, rng)
        copy = dict(rec, id=f"{rec['id']}-c{n}", text=doc.text, title=doc.title, category=main, track="edited",
                    transforms=sorted(names))
        if rec.get("published"):
            copy["published"] = _shift(rec["published"], rng)
        out.append(copy)
    return out


def _ml_copies(rec: dict, mains: list[str], rng: random.Random) -> list[dict]:
    out = []
    for n, main in enumerate(mains, 1):
        if main == "ml_plain":
            names = rng.sample(ML_COSMETIC, rng.choice([1, 1, 2]))
        else:
            names = [main[3:]] + rng.sample(ML_COSMETIC, rng.choice([0, 0, 1, 1, 2]))
        doc = apply_transforms(Doc(rec["text"], rec.get("title")), names, rng)
        out.append(dict(rec, id=f"{rec['id']}-c{n}", text=doc.text, title=doc.title, category=main,
                        track="multilingual", transforms=sorted(names)))
    return out


def _edit_records(data: Path, size: str, seed: int, old: list[dict], used_ids: set[str],
                  pools: dict[str, list[dict]]) -> list[dict]:
    """The edited, multilingual and recurring-headline records (drawn after, and apart from, the others)."""
    cfg = EDIT_SIZES[size]
    rng = random.Random(f"{seed}-edits")
    free = [r for name in ("bbc", "reuters") for r in pools[name] if r["id"] not in used_ids]
    free = [dict(r) for r in free]
    want = cfg["edited"]
    n_long = want // 5
    long_ = [r for r in free if _words(r["text"]) >= 500]
    pick = rng.sample(long_, min(len(long_), int(n_long * 1.3) + 2))
    taken = {r["id"] for r in pick}
    rest = [r for r in free if r["id"] not in taken]
    pick += rng.sample(rest, min(len(rest), int((want - n_long) * 1.3) + 5))
    taken |= {r["id"] for r in pick}
    groups, per = cfg["recurring"]
    rest = [r for r in free if r["id"] not in taken]
    bodies = rng.sample(rest, min(len(rest), int(groups * per * 1.3) + 3))
    recurring = []
    for k, r in enumerate(bodies):
        g = k % groups
        head, standfirst = RECURRING_HEADLINES[g % len(RECURRING_HEADLINES)]
        title = head if g < len(RECURRING_HEADLINES) else f"{head} ({g // len(RECURRING_HEADLINES) + 1})"
        text = f"{standfirst}\n\n{r['text']}" if standfirst and rng.random() < 0.5 else r["text"]
        recurring.append(dict(r, id=f"rh-{r['id']}", label=f"rh-{r['id']}", title=title, text=text,
                              category="recurring_headline", track="negative", _group=g))
    # near-copies of anything already in the set, or of each other, are dropped (the later one)
    new = pick + recurring
    texts = {r["id"]: r["text"] for r in old} | {r["id"]: r["text"] for r in new}
    labels = {r["id"]: r["label"] for r in old} | {r["id"]: r["label"] for r in new}
    briefs = {r["id"] for r in old if r.get("category") in ("template_brief", "template_brief_copy")}
    drop = near_duplicate_conflicts(texts, labels, skip=lambda a, b: a in briefs and b in briefs)
    titles = {" ".join(re.findall(r"\w+", (r.get("title") or "").lower())) for r in old if r.get("category") == "original"}
    out: list[dict] = []
    pending: list[str] = []
    for r in pick:
        key = " ".join(re.findall(r"\w+", (r.get("title") or "").lower()))
        if r["id"] in drop or key in titles:
            continue
        if sum(1 for x in out if x["category"] == "original") >= want:
            break
        titles.add(key)
        mains = _pick_mains(r, pending, EDITED_MAIN, rng.randint(1, 3), rng)
        if not mains:
            continue
        if "update" in mains and rng.random() < 0.35:
            r = dict(r, text=r["text"] + _published_line(r, rng))
        out.append(dict(r, category="original", track="edited"))
        out += _edited_copies(r, mains, rng)
    per_group: dict[int, int] = {}
    for r in recurring:
        g = r.pop("_group")
        if r["id"] in drop or per_group.get(g, 0) >= per:
            continue
        per_group[g] = per_group.get(g, 0) + 1
        out.append(r)
    out += _ml_records(data, cfg["ml"], rng)
    return out


def _ml_records(data: Path, sizes: tuple[int, int | None], rng: random.Random) -> list[dict]:
    with_copies, alone = sizes
    pool = multilingual_articles(data)
    drop = near_duplicate_conflicts({r["id"]: r["text"] for r in pool}, {r["id"]: r["label"] for r in pool},
                                    shingler=char_shingles)
    titles: set[str] = set()
    kept = []
    for r in pool:
        key = " ".join((r.get("title") or "").lower().split())
        if r["id"] in drop or (key and key in titles):
            continue
        titles.add(key)
        kept.append(r)
    n_alone = len(kept) - with_copies if alone is None else alone
    pick = rng.sample(kept, min(len(kept), with_copies + max(0, n_alone)))
    out: list[dict] = []
    pending: list[str] = []
    for k, r in enumerate(pick):
        out.append(dict(r, category="original", track="multilingual"))
        if k < with_copies:
            mains = []
            for _ in range(rng.randint(1, 3)):
                if not pending:
                    pending = list(ML_MAIN)
                    rng.shuffle(pending)
                m = next((c for c in pending if c not in mains), None)
                if m:
                    pending.remove(m)
                    mains.append(m)
            out += _ml_copies(r, mains, rng)
    return out


def _shift(iso: str, rng: random.Random) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(iso) + timedelta(minutes=rng.randint(5, 72 * 60))).isoformat()


def _cycler(names: tuple[str, ...], rng: random.Random) -> Iterator[str]:
    while True:
        order = list(names)
        rng.shuffle(order)
        yield from order


def build(data: Path, size: str = "small", seed: int = DEFAULT_SEED, *, edits: bool = True) -> list[dict]:
    """Build the labelled records of one evaluation set.

    Args:
        data: the ``shared/data`` directory.
        size: ``tiny`` (CI sample), ``small`` (a few hundred) or ``full``.
        seed: the only source of randomness.
        edits: add the ``edited``, ``multilingual`` and ``recurring_headline``
            records (without them: the set as it was before they existed).

    Returns:
        Records in a shuffled but fixed order.

    Raises:
        ValueError: unknown size; FileNotFoundError: a corpus is missing.
    """
    if size not in SIZES:
        raise ValueError(f"size={size!r}: expected one of {sorted(SIZES)}")
    cfg = SIZES[size]
    rng = random.Random(seed)
    originals: list[dict] = []  # candidates; conflicts removed below
    for name, pool in (("bbc", bbc_articles(data)), ("reuters", reuters_documents(data, cfg["reuters_files"]))):
        syn, rew, alone = cfg[name]
        want = syn + rew + alone
        pick = rng.sample(pool, min(len(pool), int(want * 1.15) + 5))
        for k, rec in enumerate(pick):
            rec["_role"] = "syndicated" if k < syn else "reworded" if k < syn + rew else "alone"
            rec["_want"] = {"syndicated": syn, "reworded": rew, "alone": alone}
        originals += pick
    briefs = template_briefs(data, cfg["reuters_files"])
    briefs = rng.sample(briefs, min(len(briefs), cfg["briefs"]))
    semeval = semeval_same_story(data)
    if cfg["semeval"] is not None:
        semeval = rng.sample(semeval, min(len(semeval), cfg["semeval"]))
    semeval_recs = [r for pair in semeval for r in pair]
    cs = clough_stevenson(data)
    if cfg["cs_per_label"] is not None:
        keep = []
        for cat in ("cut_and_paste", "light_revision", "independent_answer"):
            keep += rng.sample([r for r in cs if r["category"] == cat], cfg["cs_per_label"])
        cs = [r for r in cs if r["category"] == "original"] + keep

    everything = originals + briefs + semeval_recs + cs
    is_brief = {r["id"] for r in briefs}
    drop = near_duplicate_conflicts(
        {r["id"]: r["text"] for r in everything},
        {r["id"]: r["label"] for r in everything},
        skip=lambda a, b: a in is_brief and b in is_brief,
    )
    titles: set[str] = set()  # wire updates keep their headline: one version per headline
    for rec in originals:
        key = " ".join(re.findall(r"\w+", (rec.get("title") or "").lower()))
        if key in titles:
            drop.add(rec["id"])
        elif rec["id"] not in drop:
            titles.add(key)
    records: list[dict] = []
    syn_cycle, rew_cycle, brief_cycle = _cycler(SYNDICATED_MAIN, rng), _cycler(REWORDED_MAIN, rng), _cycler(BRIEF_COPY, rng)
    used = {"bbc": {"syndicated": 0, "reworded": 0, "alone": 0}, "reuters": {"syndicated": 0, "reworded": 0, "alone": 0}}
    for rec in originals:
        src, role = rec["source"], rec.pop("_role")
        want = rec.pop("_want")
        if rec["id"] in drop or used[src][role] >= want[role]:
            continue
        used[src][role] += 1
        track = "reworded" if role == "reworded" else "syndicated"
        records.append(dict(rec, category="original", track=track))
        if role != "alone":
            mains = SYNDICATED_MAIN if role == "syndicated" else REWORDED_MAIN
            records += _copies(rec, mains, track, rng, syn_cycle if role == "syndicated" else rew_cycle, rng.randint(1, 4))
    for k, rec in enumerate(r for r in briefs if r["id"] not in drop):
        records.append(rec)
        if k % 3 == 0:
            for copy in _copies(rec, BRIEF_COPY, "negative", rng, brief_cycle, 1):
                copy["category"] = "template_brief_copy"
                records.append(copy)
    records += [r for r in semeval_recs + cs if r["id"] not in drop]
    rng.shuffle(records)
    if not edits:
        return records
    pools = {"bbc": bbc_articles(data), "reuters": reuters_documents(data, cfg["reuters_files"])}
    used_ids = {r["id"] for r in originals} | {r["id"] for r in briefs}
    extra = _edit_records(data, size, seed, records, used_ids, pools)
    place = random.Random(f"{seed}-place")  # the new records go in at random places; the others keep their order
    slots = sorted(place.randrange(len(records) + len(extra)) for _ in extra)
    out, it = [], iter(records)
    k = 0
    for n in range(len(records) + len(extra)):
        if k < len(extra) and slots[k] <= n:
            out.append(extra[k])
            k += 1
        else:
            out.append(next(it))
    out += list(it)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: write the set as JSONL and a one-line summary to stderr."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared/data directory")
    ap.add_argument("--out", default="-", help="output JSONL file, '-' for stdout")
    args = ap.parse_args(argv)
    records = build(args.data.resolve(), args.size, args.seed)
    fh = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    try:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
    finally:
        if fh is not sys.stdout:
            fh.close()
    cats: dict[str, int] = {}
    for r in records:
        cats[f"{r['track']}/{r['category']}"] = cats.get(f"{r['track']}/{r['category']}", 0) + 1
    print(f"{len(records)} records, {len({r['label'] for r in records})} gold clusters: "
          + ", ".join(f"{k} {v}" for k, v in sorted(cats.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
