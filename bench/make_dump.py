"""Write a deterministic synthetic feed dump (JSON Lines) for ``bench_batch.py``.

    .venv/bin/python bench/make_dump.py --n 100000 --out /tmp/dump-100k.jsonl [--seed 7]

Each line is ``{"id", "text", "title", "source", "published"}``. The text
comes from the real corpora in ``../shared/data`` (BBC News 2004-05 and
Reuters-21578 bodies); the same ``--seed`` and ``--n`` write the same bytes.

How a dump is built:

* **Stories (about 70%)**: each is a run of whole paragraphs dealt from a
  *shuffled deck* of every paragraph of both corpora, until the text reaches
  a target length drawn from a log-normal around 400 words (clipped to
  80-1,500). Successive stories take successive paragraphs of the deck, so
  two stories dealt in the same pass over the deck share no paragraph; the
  deck is reshuffled for each pass (about 60k paragraphs, so ~10 passes for
  100k records), and two stories from different passes share more than one
  paragraph only by chance (a few hundred pairs in 100k, Jaccard well under
  0.3). So stories are distinct, yet realistic text, and some share a
  paragraph, as same-topic articles do.
* **Wire copies (about 30%, ``--copies``)**: a copy of an earlier story with
  one to three of the syndication changes of
  :mod:`dedup.evaluation.transforms` (dateline, byline, wire credit,
  boilerplate line, curly quotes, HTML, whitespace, headline, editor's note,
  truncation, a dropped paragraph). A story gets 1-3 copies, published 0-48
  hours after it.

The corpora's own near-duplicates (the BBC set has a few) are kept as is.

Past ~100k records every paragraph recurs many times (about 130 times at
1M), so stories share passages far more than a real feed's do and LSH
candidates grow much faster than the input. ``--fresh`` perturbs 40% of the
words of every paragraph dealt after the first pass over the deck, so a
re-dealt paragraph keeps only ~8% of its 5-word shingles.
"""

from __future__ import annotations

import argparse
import glob
import html
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

DATA = os.environ.get("DEDUP_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
COPY_TRANSFORMS = ("dateline", "byline", "wire_credit", "boilerplate", "typography", "html", "whitespace",
                   "headline", "editor_note", "truncate", "drop_paragraph")
SOURCES = ("bbc", "reuters", "ap", "afp", "guardian", "local-herald", "daily-wire", "newsnow")


def code_version() -> dict:
    """The commit benchmarked, and whether the core had uncommitted changes."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    def git(*a):
        return subprocess.run(["git", "-C", root, *a], capture_output=True, text=True).stdout.strip()
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted_in_core": git("status", "--porcelain", "--", "dedup", "service").splitlines()}


def write_results(out: str, result: dict, report) -> None:
    """Write ``OUT.json`` (the figures) and ``OUT.md`` (``report(result)``), and print the report."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".json", "w") as f:
        json.dump(result, f, indent=2)
    text = report(result)
    with open(out + ".md", "w") as f:
        f.write(text)
    print(text)


def bbc_articles(data: str = DATA) -> list[tuple[str, list[str]]]:
    """``(title, paragraphs)`` of every BBC article, in path order."""
    out = []
    for path in sorted(glob.glob(os.path.join(data, "bbc-news", "*", "*.txt"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [ln.strip() for ln in f.read().split("\n")]
        title, body = lines[0], "\n".join(lines[1:])
        out.append((title, [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]))
    return out


def reuters_articles(data: str = DATA, min_words: int = 0) -> list[tuple[str, list[str]]]:
    """``(title, paragraphs)`` of every Reuters-21578 ``<BODY>`` (latin-1,
    ``html.unescape``), in file order, with at least ``min_words`` words."""
    out = []
    for path in sorted(glob.glob(os.path.join(data, "reuters21578", "reut2-*.sgm"))):
        with open(path, encoding="latin-1") as f:
            sgml = f.read()
        for doc in re.finditer(r"<REUTERS.*?</REUTERS>", sgml, re.S):
            body = re.search(r"<BODY>(.*?)</BODY>", doc.group(), re.S)
            if not body:
                continue
            text = html.unescape(body.group(1)).replace("\x03", "")
            text = re.sub(r"\s*reuter\W*(?:\^M)?\s*$", "", text.strip(), flags=re.I)
            if len(text.split()) < min_words:
                continue
            title = re.search(r"<TITLE>(.*?)</TITLE>", doc.group(), re.S)
            paras = [" ".join(p.split()) for p in re.split(r"\n {2,}", text) if p.strip()]
            out.append((html.unescape(title.group(1)).strip() if title else "", paras))
    return out


def benchmark_texts(n: int = 5000, data: str = DATA) -> tuple[list[str], dict]:
    """The MinHash benchmark input: all BBC articles, then Reuters bodies of
    100+ words in file order, up to ``n`` texts (title, blank line, body)."""
    bbc = bbc_articles(data)
    texts = [t + "\n\n" + "\n\n".join(p) for t, p in bbc]
    reuters = reuters_articles(data, min_words=100)
    texts += [t + "\n\n" + "\n\n".join(p) for t, p in reuters[: max(0, n - len(texts))]]
    return texts[:n], {"bbc": min(len(bbc), n), "reuters_100_words": max(0, min(n, len(texts)) - len(bbc))}


def _fresh(rng: random.Random, paragraph: str, vocabulary: list[str], share: float = 0.4) -> str:
    """The paragraph with ``share`` of its words replaced by random corpus
    words: a re-dealt paragraph keeps only ~(1 - share)**5 of its 5-word
    shingles (8% at 0.4), so it no longer makes its stories look related."""
    words = paragraph.split()
    for i in range(len(words)):
        if rng.random() < share:
            words[i] = vocabulary[rng.randrange(len(vocabulary))]
    return " ".join(words)


def _stories(rng: random.Random, paragraphs: list[tuple[int, str]], titles: list[str], fresh: bool = False):
    """Endless stories dealt from a reshuffled deck of paragraphs; with
    ``fresh``, paragraphs dealt again after the first pass are perturbed."""
    deck: list[tuple[int, str]] = []
    passes = 0
    vocabulary = sorted({w for _, p in paragraphs for w in p.split()}) if fresh else []
    while True:
        target = min(1500, max(80, int(rng.lognormvariate(math.log(400), 0.45))))
        paras, words, first = [], 0, None
        while words < target:
            if not deck:
                deck = paragraphs[:]
                rng.shuffle(deck)
                passes += 1
            src, p = deck.pop()
            if fresh and passes > 1:
                p = _fresh(rng, p, vocabulary)
            first = src if first is None else first
            paras.append(p)
            words += p.count(" ") + 1
        yield titles[first], paras


def make_dump(n: int, seed: int = 7, copies: float = 0.3, data: str = DATA, fresh: bool = False):
    """Yield ``n`` records (dicts); see the module docstring."""
    from dedup.evaluation.transforms import Doc, apply_transforms

    rng = random.Random(seed)
    arts = bbc_articles(data) + reuters_articles(data)
    titles = [t for t, _ in arts]
    paragraphs = [(k, p) for k, (_, ps) in enumerate(arts) for p in ps]
    stories = _stories(rng, paragraphs, titles, fresh)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    recent: list[tuple[str, str, datetime]] = []  # stories that may still be copied
    pending: list[tuple[datetime, str, str]] = []  # copies waiting to be emitted
    for i in range(n):
        now = start + timedelta(seconds=30 * i)
        if recent and rng.random() < copies:
            if len(pending) < 20:  # copy a random recent story 1-3 times
                text0, title0, pub0 = recent.pop(rng.randrange(len(recent)))
                for _ in range(rng.choice((1, 1, 2, 3))):
                    names = rng.sample(COPY_TRANSFORMS, rng.choice((1, 2, 2, 3)))
                    doc = apply_transforms(Doc(text0, title0), names, rng)
                    pending.append((pub0 + timedelta(minutes=rng.randrange(48 * 60)), doc.title or title0, doc.text))
            pub, title, text = pending.pop(rng.randrange(len(pending)))
        else:
            title, paras = next(stories)
            text, pub = "\n\n".join(paras), now
            recent.append((text, title, pub))
            if len(recent) > 2000:
                recent.pop(0)
        source = rng.choice(SOURCES)
        yield {"id": f"a{i:07d}", "text": text, "title": title, "source": source,
               "published": pub.strftime("%Y-%m-%dT%H:%M:%SZ")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="records (default 100,000)")
    ap.add_argument("--out", required=True, help="output JSONL path ('-' for stdout)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--copies", type=float, default=0.3, help="share of wire copies (default 0.3)")
    ap.add_argument("--data", default=DATA, help="the shared data folder")
    ap.add_argument("--fresh", action="store_true",
                    help="perturb paragraphs dealt again after the first pass over the deck (40%% of their words), "
                         "so that large dumps do not recycle passages across unrelated stories")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    t0 = time.perf_counter()
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    words = 0
    with out:
        for rec in make_dump(args.n, args.seed, args.copies, args.data, args.fresh):
            words += len(rec["text"].split())
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{args.n} records, {words / max(args.n, 1):.0f} words mean, {time.perf_counter() - t0:.1f}s -> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
