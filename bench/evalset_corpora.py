"""Readers for the corpora under shared/data, used by ``bench/evalset.py``.

Each reader returns plain dict records ``{"id", "text", "title", "label",
"source", ...}`` in a fixed order; see each corpus's SOURCE.md for formats.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import xxhash

__all__ = ["shingles", "char_shingles", "multilingual_articles", "bbc_articles", "reuters_documents", "template_briefs", "semeval_same_story", "clough_stevenson"]

_TOKEN = re.compile(r"\w+")
_NUMBER_WORDS = set(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_CP1252 = str.maketrans({"\x91": "\u2018", "\x92": "\u2019", "\x93": "\u201c", "\x94": "\u201d", "\x96": "\u2013", "\x97": "\u2014", "\x85": "\u2026"})


def shingles(text: str, k: int = 5) -> set[int]:
    """Hashed ``k``-word shingles of the lower-cased ``\\w+`` tokens (one shingle if shorter)."""
    toks = _TOKEN.findall(text.lower())
    if len(toks) <= k:
        return {xxhash.xxh64_intdigest(" ".join(toks).encode())} if toks else set()
    return {xxhash.xxh64_intdigest(" ".join(toks[i : i + k]).encode()) for i in range(len(toks) - k + 1)}


def _derived_ids(path: Path) -> set[str]:
    ids: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            a, b = line.split("\t")[:2]
            ids.update((a, b))
    return ids


def bbc_articles(data: Path) -> list[dict]:
    """BBC News articles not named in any DERIVED near-duplicate candidate pair."""
    root = data / "bbc-news"
    excluded = _derived_ids(root / "DERIVED_near_dup_candidates.tsv")
    out = []
    for path in sorted(root.glob("*/*.txt")):
        rel = f"{path.parent.name}/{path.name}"
        if rel in excluded:
            continue
        raw = path.read_bytes().decode("utf-8", errors="replace")
        title, _, body = raw.strip().partition("\n")
        body = body.strip()
        if len(body.split()) < 80:
            continue
        rid = f"bbc-{path.parent.name}-{path.stem}"
        out.append({"id": rid, "text": body, "title": title.strip(), "label": rid, "source": "bbc"})
    return out


@lru_cache(maxsize=4)
def _reuters(data: Path, nfiles: int) -> tuple[dict, ...]:
    docs = []
    for path in sorted((data / "reuters21578").glob("reut2-*.sgm"))[:nfiles]:
        raw = path.read_text(encoding="latin-1")
        for d in re.findall(r"<REUTERS(.*?)</REUTERS>", raw, re.S):
            body = re.search(r"<BODY>(.*?)</BODY>", d, re.S)
            if not body or 'TYPE="UNPROC"' in d or 'TYPE="BRIEF"' in d:
                continue
            title = re.search(r"<TITLE>(.*?)</TITLE>", d, re.S)
            date = re.search(r"<DATE>\s*(\d+-[A-Z]{3}-\d{4} \d\d:\d\d:\d\d)", d)
            text = html.unescape(body.group(1))
            text = re.sub(r"\s*Reuter\s*\x03?\s*$", "", text).replace("\x03", "").strip()
            published = None
            if date:
                published = datetime.strptime(date.group(1).title(), "%d-%b-%Y %H:%M:%S").isoformat()
            docs.append({
                "newid": re.search(r'NEWID="(\d+)"', d).group(1),
                "title": html.unescape(title.group(1)).strip() if title else None,
                "raw": text,
                "published": published,
            })
    return tuple(docs)


def _is_brief(raw: str) -> bool:
    return re.match(r"\s*(Shr|Qtly div)\b", raw) is not None


def reuters_documents(data: Path, nfiles: int = 22) -> list[dict]:
    """Reuters-21578 stories of 80-1500 words, not briefs, not in any DERIVED candidate pair.

    The SGML line wrapping is undone: indented lines start paragraphs.
    """
    excluded = _derived_ids(data / "reuters21578" / "DERIVED_near_dup_candidates.tsv")
    out = []
    for d in _reuters(data, nfiles):
        if d["newid"] in excluded or _is_brief(d["raw"]) or not d["title"]:
            continue
        paras = [" ".join(p.split()) for p in re.split(r"\n(?=\s{2,}\S)", d["raw"])]
        text = "\n\n".join(p for p in paras if p)
        if not 80 <= len(text.split()) <= 1500:
            continue
        rid = f"reuters-{d['newid']}"
        out.append({"id": rid, "text": text, "title": d["title"], "label": rid, "source": "reuters", "published": d["published"]})
    return out


def _figures(text: str) -> tuple[str, ...]:
    return tuple(t for t in _TOKEN.findall(text.lower()) if t[0].isdigit() or t in _NUMBER_WORDS)


def template_briefs(data: Path, nfiles: int = 22) -> list[dict]:
    """Reuters earnings/dividend briefs (``Shr ...``, ``Qtly div ...``), one per distinct figures.

    Two briefs with the same words, or the same sequence of figures (digits,
    number words, months), may be one brief re-sent: only the first is kept,
    so every pair left shares a template but not its figures.
    """
    seen_text: set[str] = set()
    seen_fig: set[tuple[str, ...]] = set()
    out = []
    for d in _reuters(data, nfiles):
        if not _is_brief(d["raw"]):
            continue
        text = "\n".join(line.strip() for line in d["raw"].splitlines() if line.strip())
        key, fig = " ".join(_TOKEN.findall(text.lower())), _figures(text)
        if key in seen_text or fig in seen_fig or len(text.split()) < 8:
            continue
        seen_text.add(key)
        seen_fig.add(fig)
        rid = f"brief-{d['newid']}"
        out.append({"id": rid, "text": text, "title": d["title"], "label": rid, "source": "reuters",
                    "published": d["published"], "category": "template_brief", "track": "negative"})
    return out


def semeval_same_story(data: Path) -> list[tuple[dict, dict]]:
    """SemEval-2022 Task 8 en-en pairs scored the same story (Overall <= 1.5), full text first.

    From the full-text file and the en-en original (not machine-translated)
    pairs of the HFL sample (title + text truncated to ~1,000 characters).
    Pairs repeating an article already used, or with a text under 50 words,
    are skipped.
    """
    seen: set[str] = set()
    pairs: list[tuple[dict, dict]] = []

    def add(pid: str, t1: str, x1: str, t2: str | None, x2: str) -> None:
        x1, x2 = x1.strip(), x2.strip()
        if len(x1.split()) < 50 or len(x2.split()) < 50 or x1 in seen or x2 in seen or x1 == x2:
            return
        seen.update((x1, x2))
        recs = tuple(
            {"id": f"{pid}-{k}", "text": x, "title": (t or None), "label": f"{pid}-{k}", "source": "semeval",
             "category": "semeval_same_story", "track": "negative"}
            for k, (t, x) in enumerate(((t1, x1), (t2, x2)), 1)
        )
        pairs.append(recs)

    full = data / "semeval2022-task8-en-fulltext" / "corpus_en_notes.csv"
    with open(full, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if float(row["Overall"]) <= 1.5:
                add(f"semeval-{row['']}", row["title_1"], row["text_1"], row["title_2"], row["text_2"])
    for name in ("training_set.csv", "testing_set.csv"):
        with open(data / "semeval2022-task8-hfl-sample" / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["lang1"] == row["lang2"] == "en" and re.fullmatch(r"\d+_\d+", row["pair_id"]) and float(row["Overall"]) <= 1.5:
                    add(f"semevalhfl-{row['pair_id']}", None, row["text1"], None, row["text2"])
    return pairs


def clough_stevenson(data: Path, *, full: bool = False) -> list[dict]:
    """Clough-Stevenson: the 5 Wikipedia sources and the label 3, 2 and 0 answers.

    Cut-and-paste (3) and light-revision (2) answers share their source's
    gold label (track ``reworded``); independent answers (0) each have their
    own (track ``negative``). Heavy revisions (1) are left out; with
    ``full`` they are kept as ``heavy_revision`` with their own label (track
    ``heavy``: neither a copy nor a negative; ``bench/eval_clough.py``
    leaves their pairs out of the scores), and every record names its
    ``question`` (its source's id).
    """
    path = data / "clough-stevenson-text-reuse" / "plagiarism-clough-stevenson.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    sources: dict[str, str] = {}
    out = []
    for n, (answer, source, label) in enumerate(rows):
        source = source.translate(_CP1252).strip()
        if source not in sources:
            sources[source] = f"cs-src-{len(sources) + 1}"
            out.append({"id": sources[source], "text": source, "title": None, "label": sources[source],
                        "source": "clough-stevenson", "category": "original", "track": "reworded",
                        **({"question": sources[source]} if full else {})})
        cat = {"3": "cut_and_paste", "2": "light_revision", "0": "independent_answer",
               "1": "heavy_revision" if full else None}.get(label.strip())
        if cat is None:
            continue
        rid = f"cs-{n:03d}"
        gold = sources[source] if cat in ("cut_and_paste", "light_revision") else rid
        track = {"independent_answer": "negative", "heavy_revision": "heavy"}.get(cat, "reworded")
        out.append({"id": rid, "text": answer.translate(_CP1252).strip(), "title": None, "label": gold,
                    "source": "clough-stevenson", "category": cat, "track": track,
                    **({"question": sources[source]} if full else {})})
    return out


def char_shingles(text: str, k: int = 5) -> set[int]:
    """Hashed ``k``-character shingles of the text without blanks (for scripts without spaces, e.g. CJK)."""
    t = "".join(text.lower().split())
    if len(t) <= k:
        return {xxhash.xxh64_intdigest(t.encode())} if t else set()
    return {xxhash.xxh64_intdigest(t[i : i + k].encode()) for i in range(len(t) - k + 1)}


_NON_LATIN = {"ar": "arabic", "zh": "cjk", "ru": "cyrillic", "hi": "devanagari", "ja": "cjk", "ko": "cjk", "fa": "arabic",
              "uk": "cyrillic"}


def multilingual_articles(data: Path) -> list[dict]:
    """Non-Latin-script articles of the SemEval-2022 HFL sample (Arabic, Chinese, Russian ... as it holds).

    Every ``text1``/``text2`` whose language is written in a non-Latin script,
    once per distinct text (an article recurs across pairs), in file order.
    The first line is the headline when it is short and followed by more;
    texts under 300 characters, and an article id met before, are skipped. Chinese and Russian occur only
    on the machine-translated side of HFL's augmented pairs (``pair_id`` with
    a language suffix), Arabic in original pairs: ``mt`` says which.
    """
    seen: set[str] = set()
    taken: set[str] = set()
    out = []
    for name in ("training_set.csv", "testing_set.csv"):
        with open(data / "semeval2022-task8-hfl-sample" / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                ids = row["pair_id"].split("_")
                for k in ("1", "2"):
                    lang = row["lang" + k]
                    raw = row["text" + k].strip()
                    if lang not in _NON_LATIN or len(raw) < 300 or raw in seen:
                        continue
                    seen.add(raw)
                    head, sep, body = raw.partition("\n")
                    title = head.strip() if sep and len(head) <= 200 and len(body.strip()) >= 200 else None
                    text = body.strip() if title else raw
                    aid = re.sub(r"\D", "", ids[int(k) - 1]) or str(len(out))
                    rid = f"ml-{lang}-{aid}"
                    if rid in taken:  # the same article again (another pair, or cut differently)
                        continue
                    taken.add(rid)
                    out.append({"id": rid, "text": text, "title": title, "label": rid, "source": "semeval-ml",
                                "lang": lang, "mt": not ids[int(k) - 1].isdigit()})
    return out
