"""Small text helpers shared by the edits, the builder and the tests.

Words are whitespace tokens (punctuation attached) except for CJK text,
where the unit is a non-space character. Sentences are split with a
conservative regex that does not break after common abbreviations,
initials (``U.S.``) or single capitals.
"""

from __future__ import annotations

import re
from collections import defaultdict

__all__ = ["words", "units", "paragraphs", "join_paragraphs", "split_sentences", "shingles",
           "near_copy_filter", "FIGURE_RE", "figure_tokens", "digits_of"]

ABBREV = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "co", "corp", "inc", "ltd", "no", "vs", "gen", "gov",
          "sen", "rep", "prof", "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec", "mt",
          "ft", "fig", "e.g", "i.e", "approx", "est", "dept", "lt", "col", "capt", "sgt", "messrs"}


def words(text: str) -> list[str]:
    return text.split()


def units(text: str, lang: str = "en") -> list[str]:
    """Length units: characters for CJK, whitespace words otherwise."""
    if lang in ("zh", "ja"):
        return [c for c in text if not c.isspace()]
    return text.split()


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def join_paragraphs(paras: list[str]) -> str:
    return "\n\n".join(paras)


_SENT_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]?\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")


def split_sentences(par: str) -> list[str]:
    """Split an English paragraph into sentences (keeps the text recoverable by ``" ".join``)."""
    out, start = [], 0
    for m in _SENT_END.finditer(par):
        before = par[start:m.start()].rstrip("\"'\u201d\u2019)")
        last = before.split()[-1] if before.split() else ""
        core = last.rstrip(".!?").lower()
        if core in ABBREV or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?", last) or (len(core) == 1 and core.isalpha()):
            continue
        out.append(par[start:m.end()].strip())
        start = m.end()
    out.append(par[start:].strip())
    return [s for s in out if s]


def shingles(text: str, k: int = 5, lang: str = "en") -> set:
    """Lower-cased k-word shingles (k-character for CJK; 8 characters then)."""
    if lang in ("zh", "ja"):
        s = "".join(c for c in text.lower() if not c.isspace())
        n = 8
        return {s[i:i + n] for i in range(max(1, len(s) - n + 1))}
    toks = re.findall(r"\w+", text.lower())
    return {" ".join(toks[i:i + k]) for i in range(max(1, len(toks) - k + 1))}


def near_copy_filter(docs: list[tuple[str, set]], max_jaccard: float = 0.3, max_containment: float = 0.5) -> tuple[list[str], list[tuple[str, str, float]]]:
    """Greedy: keep a document unless it is a near copy of one already kept.

    A near copy has shingle Jaccard >= ``max_jaccard`` or containment
    (intersection over the smaller set) >= ``max_containment`` with a kept
    document. Exact overlap counts come from an inverted index over the
    kept documents' shingles (plain Python sets and dicts).

    Returns:
        (kept keys in input order, dropped ``(key, kept_key, jaccard)``).
    """
    index: dict[str, list[int]] = defaultdict(list)
    kept_keys: list[str] = []
    kept_sizes: list[int] = []
    dropped = []
    for key, sh in docs:
        if not sh:
            continue
        counts: dict[int, int] = defaultdict(int)
        for s in sh:
            for j in index.get(s, ()):
                counts[j] += 1
        bad = None
        for j, inter in counts.items():
            jac = inter / (len(sh) + kept_sizes[j] - inter)
            cont = inter / min(len(sh), kept_sizes[j])
            if jac >= max_jaccard or cont >= max_containment:
                bad = (key, kept_keys[j], round(jac, 3))
                break
        if bad:
            dropped.append(bad)
            continue
        n = len(kept_keys)
        kept_keys.append(key)
        kept_sizes.append(len(sh))
        for s in sh:
            index[s].append(n)
    return kept_keys, dropped


# a figure: number (with , or . groups) possibly with currency sign and unit suffix; or weekday / month name
FIGURE_RE = re.compile(
    r"(?<![\w.])[$£€]?\d[\d,]*(?:\.\d+)?(?:bn|m|%)?(?![\w])"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)


def figure_tokens(text: str) -> list[str]:
    """Numbers and weekday names in order (what an ``update`` edit may change)."""
    return FIGURE_RE.findall(text)


def digits_of(text: str) -> str:
    """All digits of the text in order (figure respellings must not change them)."""
    return "".join(re.findall(r"\d", text))
