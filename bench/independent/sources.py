"""Readers for the real corpora under ``shared/data`` (read only, nothing copied).

Every reader returns plain dicts ``{"key", "title", "text", "published", ...}``
in a fixed order (sorted by key) so the generator is deterministic.
Paragraphs in ``text`` are separated by a blank line.
"""

from __future__ import annotations

import csv
import html
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

__all__ = ["find_data_dir", "load_bbc", "load_reuters", "load_semeval_en", "load_multilingual"]


def _copy(rows):
    return [{k: (dict(v) if isinstance(v, dict) else v) for k, v in r.items()} for r in rows]


def load_bbc(data: Path) -> list[dict]:
    """BBC News articles (fresh dicts; parsed once per process)."""
    return _copy(_load_bbc(Path(data)))


def load_reuters(data: Path) -> list[dict]:
    """Reuters-21578 prose stories of 120-900 words (fresh dicts)."""
    return _copy(_load_reuters(Path(data)))


def load_semeval_en(data: Path) -> list[dict]:
    """SemEval en-en full-text pairs (fresh dicts)."""
    return _copy(_load_semeval_en(Path(data)))


def load_multilingual(data: Path) -> list[dict]:
    """Non-Latin HFL sample texts, one per base article (fresh dicts)."""
    return _copy(_load_multilingual(Path(data)))

csv.field_size_limit(1 << 24)


def find_data_dir(repo_root: Path | None = None) -> Path | None:
    """The shared data folder: ``<repo>/../shared/data``, else ``/work/shared/data``; None if absent."""
    root = Path(repo_root) if repo_root else Path(__file__).resolve().parents[2]
    for cand in (root.parent / "shared" / "data", Path("/work/shared/data")):
        if (cand / "bbc-news").is_dir():
            return cand
    return None


@lru_cache(maxsize=4)
def _load_bbc(data: Path) -> list[dict]:
    """BBC News: ``<folder>/<NNN>.txt``, line 1 the headline."""
    out = []
    base = data / "bbc-news"
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        for f in sorted(folder.glob("*.txt")):
            raw = f.read_bytes().decode("utf-8", errors="replace")
            lines = raw.split("\n")
            title = lines[0].strip()
            paras = [p.strip() for p in "\n".join(lines[1:]).split("\n") if p.strip()]
            out.append({"key": f"bbc/{folder.name}/{f.stem}", "corpus": "bbc", "topic": folder.name,
                        "title": title, "text": "\n\n".join(paras), "published": None, "dateline": None})
    return out


_REUT = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.S)


def _tag(block: str, name: str) -> str:
    m = re.search(rf"<{name}>(.*?)</{name}>", block, re.S)
    return m.group(1) if m else ""


@lru_cache(maxsize=4)
def _load_reuters(data: Path, min_words: int = 120, max_words: int = 900) -> list[dict]:
    """Reuters-21578 stories with a prose body of ``min_words``..``max_words`` words."""
    out = []
    for f in sorted((data / "reuters21578").glob("reut2-*.sgm")):
        raw = f.read_text(encoding="latin-1")
        for m in _REUT.finditer(raw):
            newid, block = m.group(1), m.group(2)
            body = _tag(block, "BODY")
            if not body:
                continue
            body = html.unescape(body).replace("\x03", "")
            body = re.sub(r"\s*REUTER\s*$", "", body.strip(), flags=re.I)
            # paragraphs start with an indented line; other line breaks are wrapping
            paras = [" ".join(p.split()) for p in re.split(r"\n\s{2,}", body)]
            paras = [p for p in paras if p]
            text = "\n\n".join(paras)
            n = len(text.split())
            if n < min_words or n > max_words:
                continue
            # tables ("Shr 10 cts vs 12 cts") are not prose: need mostly alphabetic words
            words = text.split()
            if sum(w.isalpha() for w in words) < 0.6 * len(words):
                continue
            title = " ".join(html.unescape(_tag(block, "TITLE")).split())
            dl = " ".join(html.unescape(_tag(block, "DATELINE")).split())
            city = dl.split(",")[0].strip() if dl else ""
            try:
                dt = datetime.strptime(_tag(block, "DATE").strip().split(".")[0], "%d-%b-%Y %H:%M:%S")
                published = dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                published = None
            topics = re.findall(r"<D>(.*?)</D>", _tag(block, "TOPICS"))
            out.append({"key": f"reuters/{int(newid):05d}", "corpus": "reuters", "topic": topics[0] if topics else "",
                        "title": title, "text": text, "published": published, "dateline": city or None})
    out.sort(key=lambda d: d["key"])
    return out


@lru_cache(maxsize=4)
def _load_semeval_en(data: Path) -> list[dict]:
    """SemEval-2022 Task 8 en-en full-text pairs: ``{"row", "overall", "a": {...}, "b": {...}}``."""
    p = data / "semeval2022-task8-en-fulltext" / "corpus_en_notes.csv"
    out = []
    with open(p, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                overall = float(row["Overall"])
            except (KeyError, ValueError):
                continue
            sides = []
            for s in ("1", "2"):
                text = "\n\n".join(p.strip() for p in (row.get(f"text_{s}") or "").split("\n") if p.strip())
                sides.append({"title": (row.get(f"title_{s}") or "").strip(), "text": text})
            out.append({"row": row.get("Unnamed: 0") or str(len(out)), "overall": overall, "a": sides[0], "b": sides[1]})
    return out


NON_LATIN = {"ar": "arabic", "zh": "cjk", "ru": "cyrillic", "hi": "devanagari", "ja": "cjk", "ko": "hangul",
             "fa": "arabic", "uk": "cyrillic", "bg": "cyrillic", "el": "greek", "he": "hebrew"}


@lru_cache(maxsize=4)
def _load_multilingual(data: Path) -> list[dict]:
    """Texts in non-Latin scripts from the HFL SemEval sample, one per article id.

    The language is the ``lang1``/``lang2`` column. An id with a language
    suffix (``1484037032zh``) is HFL's machine translation of article
    ``1484037032``: we keep at most one text per base article id, so two
    translations of one article never become two "different" originals.
    """
    base = data / "semeval2022-task8-hfl-sample"
    seen: dict[str, dict] = {}
    for name in ("training_set.csv", "testing_set.csv"):
        with open(base / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                ids = row["pair_id"].split("_")
                if len(ids) != 2:
                    continue
                for side, aid in zip(("1", "2"), ids):
                    lang = row[f"lang{side}"].strip()
                    if lang not in NON_LATIN:
                        continue
                    base_id = re.match(r"\d+", aid).group(0) if re.match(r"\d+", aid) else aid
                    text = (row[f"text{side}"] or "").strip()
                    if len(text) < 300:
                        continue
                    rec = {"key": f"hfl/{aid}", "base_id": base_id, "lang": lang, "script": NON_LATIN[lang],
                           "machine_translated": aid != base_id, "text": text}
                    if base_id not in seen or (seen[base_id]["machine_translated"] and not rec["machine_translated"]):
                        seen[base_id] = rec
    return sorted(seen.values(), key=lambda d: d["key"])
