"""The edits wire editors really make, applied to real stories (fixtures and a quick evaluation set).

Each edit takes ``(text, rng)`` and returns the edited text; paragraphs are
separated by blank lines (BBC files) or single line breaks. Used by
``tests/test_edit_kinds.py`` and, as a script, to write a labelled JSONL set
for ``dedup eval`` (fixed seed)::

    python tests/edit_kinds.py --out /tmp/edits.jsonl [--n 300] [--seed 13]

Kinds: ``reorder`` (two or more paragraphs moved), ``insert`` (1-3 local
sentences or a paragraph), ``delete`` (1-3 sentences), ``respell`` (figures
written another way, values unchanged), ``update`` (1-3 figures changed in a
150+ word story, sometimes under ``UPDATE n-`` or with a ``Published`` line),
``truncate`` (first 40-80%), and for non-Latin scripts (SemEval's multilingual
sample) ``ml_truncate`` / ``ml_delete`` / ``ml_reorder``. Hard negatives:
``follow_up`` (a new lead over two or three of the original's background
paragraphs), plus whatever negatives of another set are merged in with
``--negatives FILE`` (template briefs, SemEval same-story pairs).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")

_SENT = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[\u3002\uff01\uff1f\u06d4])\s*(?=\S)")
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def join(paras: list[str]) -> str:
    return "\n\n".join(paras)


def sentences(par: str) -> list[str]:
    return [s for s in _SENT.split(par) if s.strip()]


def bbc_stories(min_words: int = 150, max_words: int = 900) -> list[str]:
    out, seen = [], set()
    for f in sorted((DATA / "bbc-news").glob("*/*.txt")):
        text = f.read_text(encoding="latin-1")
        paras = paragraphs(text)
        body = join(paras[1:])  # the first line is the headline
        words = body.lower().split()
        if not (min_words <= len(words) <= max_words and len(paras) >= 6):
            continue
        grams = {" ".join(words[i : i + 8]) for i in range(len(words) - 7)}
        if len(grams & seen) > 3:  # the BBC set holds some stories twice: keep one
            continue
        seen |= grams
        out.append(body)
    return out


def reorder(text: str, rng: random.Random) -> str:
    """Move two or more paragraphs (the lead may move too, one time in four)."""
    paras = paragraphs(text)
    first = 0 if rng.random() < 0.25 else 1
    idx = list(range(first, len(paras)))
    for _ in range(20):
        moved = rng.sample(idx, min(len(idx), rng.randint(2, 4)))
        order = list(range(len(paras)))
        vals = [order[i] for i in moved]
        rng.shuffle(vals)
        for i, v in zip(moved, vals):
            order[i] = v
        if sum(order[i] != i for i in range(len(order))) >= 2:
            return join([paras[i] for i in order])
    return join(paras[::-1])


def insert(text: str, rng: random.Random, donor: str) -> str:
    """Insert 1-3 local sentences (or one paragraph) taken from ``donor``."""
    paras = paragraphs(text)
    dparas = paragraphs(donor)
    if rng.random() < 0.3:
        new = [rng.choice(dparas)]
    else:
        ds = [s for p in dparas for s in sentences(p)]
        k = rng.randint(1, 3)
        start = rng.randrange(max(1, len(ds) - k))
        new = [" ".join(ds[start : start + k])]
    at = rng.randint(1, len(paras))
    return join(paras[:at] + new + paras[at:])


def delete(text: str, rng: random.Random) -> str:
    """Delete 1-3 sentences, never the first."""
    sents = [(i, s) for i, p in enumerate(paragraphs(text)) for s in sentences(p)]
    k = min(rng.randint(1, 3), len(sents) - 2)
    drop = set(rng.sample(range(1, len(sents)), k))
    paras: dict[int, list[str]] = {}
    for n, (i, s) in enumerate(sents):
        if n not in drop:
            paras.setdefault(i, []).append(s)
    return join([" ".join(v) for _, v in sorted(paras.items())])


_RESPELL = [
    (re.compile(r"(\d)%"), [r"\1 per cent", r"\1 pct", r"\1 percent"]),
    (re.compile(r"(\d) per cent\b"), [r"\1%", r"\1 pct"]),
    (re.compile(r"(\d)bn\b"), [r"\1 billion", r"\1 bln"]),
    (re.compile(r"([£$€]\d+(?:\.\d+)?)m\b"), [r"\1 million", r"\1 mln"]),
    (re.compile(r"(\d) (?:million|mln)\b"), [r"\1m", r"\1 mln"]),
    (re.compile(r"\b(\d{1,3}),(\d{3})\b"), [r"\1\2"]),
    (re.compile(r"\b([1-9]\d?)(\d{3})\b(?![.,]\d)"), [r"\1,\2"]),
]


def respell(text: str, rng: random.Random) -> str:
    """Write the figures another way: ``5%`` -> ``5 per cent``, ``£5m`` -> ``£5 million``, ``1,000`` -> ``1000``."""
    out = text
    for pat, reps in _RESPELL:
        out = pat.sub(lambda m: m.expand(rng.choice(reps)), out)
    return out


_NUMBER = re.compile(r"(?<![\w.,])\d+(?:\.\d+)?(?![\w.,]\d)")
_WEEKDAY = re.compile(r"\b(?:" + "|".join(WEEKDAYS) + r")\b")


def update(text: str, rng: random.Random, nth: int = 1) -> str:
    """A later version: 1-3 numbers or weekdays changed; sometimes ``UPDATE n-`` or a ``Published`` line."""
    spots = [(m.start(), m.end(), m.group()) for m in _NUMBER.finditer(text)]
    spots += [(m.start(), m.end(), m.group()) for m in _WEEKDAY.finditer(text)]
    k = min(len(spots), rng.randint(1, 3))
    out = text
    for s, e, old in sorted(rng.sample(spots, k), reverse=True):
        if old in WEEKDAYS:
            new = WEEKDAYS[(WEEKDAYS.index(old) + 1) % 7]
        elif "." in old:
            new = f"{float(old) * rng.choice([1.1, 1.25, 0.9]):.{len(old.split('.')[1])}f}"
        else:
            new = str(int(old) + rng.randint(1, 9))
        out = out[:s] + new + out[e:]
    r = rng.random()
    if r < 0.3:
        out = f"UPDATE {nth}-" + out
    elif r < 0.45:
        out = out + f"\n\nPublished {10 + nth} March 2024"
    return out


def truncate(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    return " ".join(words[: int(len(words) * rng.uniform(0.4, 0.8))])


def brief(text: str, rng: random.Random, words: int = 90) -> str:
    """A brief cut from a long story: its lead sentence and others picked at random, in order, about ``words``."""
    sents = [x for p in paragraphs(text) for x in sentences(p)]
    picked, n = [0], len(sents[0].split())
    for k in sorted(rng.sample(range(1, len(sents)), len(sents) - 1)):
        if n >= words:
            break
        if rng.random() < 0.3:
            picked.append(k)
            n += len(sents[k].split())
    return " ".join(sents[k] for k in picked)


def lead_of_longest(words: int = 80) -> tuple[str, str]:
    """The longest BBC story and its first paragraphs (about ``words`` words,
    under a fifth of it): a brief LSH cannot propose (its Jaccard is tiny)."""
    long_ = max(bbc_stories(max_words=2000), key=lambda s: len(s.split()))
    paras, short = paragraphs(long_), ""
    while len(short.split()) < words:
        short = (short + "\n\n" + paras.pop(0)).strip()
    assert len(short.split()) * 5 < len(long_.split())
    return long_, short


def follow_up(text: str, rng: random.Random, donor: str) -> str:
    """A new story (the donor's first paragraphs) over two or three background paragraphs of ``text``."""
    paras = paragraphs(text)
    new = paragraphs(donor)[: rng.randint(3, 5)]
    back = paras[-rng.randint(2, 3):] if rng.random() < 0.5 else paras[1 : 1 + rng.randint(2, 3)]
    return join(new + back)


def multilingual(langs=("ar", "zh", "ru", "tr", "pl", "de")) -> list[tuple[str, str]]:
    csv.field_size_limit(10**9)
    out, seen = [], set()
    for name in ("training_set.csv", "testing_set.csv"):
        with open(DATA / "semeval2022-task8-hfl-sample" / name, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                for lang, t in ((r["lang1"], r["text1"]), (r["lang2"], r["text2"])):
                    t = t.strip()
                    key = t[:60]
                    if lang in langs and len(t) > 400 and key not in seen and "Ã" not in t:
                        seen.add(key)
                        out.append((lang, t))
    return out


def ml_split(text: str) -> list[str]:
    return [s for s in _SENT.split(text) if s.strip()]


def build(n: int = 200, seed: int = 13) -> list[dict]:
    rng = random.Random(seed)
    stories = bbc_stories()
    rng.shuffle(stories)
    recs: list[dict] = []

    def add(i, label, cat, text, track="edits"):
        recs.append({"id": f"{label}-{cat}-{i}", "label": label, "category": cat, "track": track, "text": text})

    for i, s in enumerate(stories[:n]):
        lab = f"bbc{i}"
        add(i, lab, "original", s)
        donor = stories[2 * n + n // 2 + i % (len(stories) - 2 * n - n // 2)]  # never an original
        add(i, lab, "reorder", reorder(s, rng))
        add(i, lab, "insert", insert(s, rng, donor))
        add(i, lab, "delete", delete(s, rng))
        r = respell(s, rng)
        if r != s:
            add(i, lab, "respell", r)
        add(i, lab, "update", update(s, rng, rng.randint(1, 3)))
        add(i, lab, "truncate", truncate(s, rng))
    for i, s in enumerate(stories[n : 2 * n : 2]):
        donor = stories[2 * n + i]
        add(i, f"fu{i}", "follow_up_original", s, "negative")
        add(i, f"fu{i}b", "follow_up", follow_up(s, rng, donor), "negative")
    ml = multilingual()
    rng.shuffle(ml)
    for i, (lang, t) in enumerate(ml[: n // 2]):
        lab = f"ml{i}"
        add(i, lab, "ml_original_" + lang, t)
        sents = ml_split(t)
        add(i, lab, "ml_truncate", " ".join(sents[: max(1, int(len(sents) * rng.uniform(0.5, 0.8)))]) if len(sents) > 3 else t[: len(t) * 2 // 3])
        if len(sents) >= 5:
            drop = rng.randrange(1, len(sents))
            add(i, lab, "ml_delete", " ".join(s for k, s in enumerate(sents) if k != drop))
            j = rng.randrange(1, len(sents) - 1)
            moved = sents[:j] + sents[j + 1 :]
            moved.insert(len(moved), sents[j])
            add(i, lab, "ml_reorder", " ".join(moved))
    return recs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--negatives", help="a labelled JSONL whose negative track is merged in")
    args = ap.parse_args()
    recs = build(args.n, args.seed)
    if args.negatives:
        with open(args.negatives) as f:
            recs += [r for r in map(json.loads, f) if r.get("track") == "negative"]
    with open(args.out, "w") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(len(recs), "records")


if __name__ == "__main__":
    main()
