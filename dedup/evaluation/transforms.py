"""Seeded text transformations that syndication really makes.

Each transformation is a pure function ``(doc, rng) -> doc`` over a
:class:`Doc` (title and body); all randomness comes from the
``random.Random`` passed in, so a seed fixes the output exactly. Each has a
*category* name under which the evaluation reports its recall.

Categories (``TRANSFORMS``):
    dateline, byline, wire_credit, boilerplate, typography, html,
    whitespace, headline, editor_note: *cosmetic*: the story is intact,
    words are added around it or its characters re-encoded.
    truncate: the first 40-80% of the words, cut at a sentence end when one
    lies in that range, else at a word boundary.
    drop_paragraph: one paragraph (not the lead) removed, or one sentence
    when the text has fewer than three paragraphs.
    reword: synonym swaps and swaps of adjacent words on 5-10% of words.
    ocr_noise: character confusions (rn/m, l/1, O/0, ...) on 1-2% of words.

Example:
    >>> import random
    >>> copy = apply_transforms(Doc("Prices rose.", "Oil"), ["dateline"], random.Random(1))
    >>> copy.text
    'NEW YORK (AFP) \u2014 Prices rose.'
"""

from __future__ import annotations

import html as _html
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

__all__ = ["Doc", "TRANSFORMS", "COSMETIC", "CONTENT", "apply_transforms", "SYNONYMS"]


@dataclass(frozen=True)
class Doc:
    """An article as the transformations see it: body text and headline."""

    text: str
    title: str | None = None


Transform = Callable[[Doc, random.Random], Doc]

_CITIES = [
    ("LONDON", None), ("WASHINGTON", None), ("NEW YORK", None), ("KYIV", "Ukraine"), ("PARIS", None),
    ("TOKYO", None), ("BRUSSELS", None), ("SYDNEY", "Australia"), ("NAIROBI", "Kenya"), ("CHICAGO", None),
]
_AGENCIES = ["AP", "Reuters", "AFP", "PA"]
_FIRST = ["Jane", "David", "Maria", "Ahmed", "Sarah", "Tom", "Li", "Olga", "James", "Priya"]
_LAST = ["Smith", "Brown", "Garcia", "Khan", "Johnson", "Chen", "Petrova", "Wilson", "Okafor", "Patel"]
_OUTLETS = ["Associated Press", "Reuters", "AFP", "Press Association", "Staff Reporter"]
_TOP_BOILERPLATE = [
    "Sign up for our newsletter to get the day's top stories delivered to your inbox.",
    "Fox News Flash top headlines are here. Check out what's clicking on Foxnews.com.",
    "Advertisement",
    "This article is more than 2 years old.",
    "Listen to this article. 4 min",
]
_BOTTOM_BOILERPLATE = [
    "Copyright 2022 The Associated Press. All rights reserved. This material may not be published, "
    "broadcast, rewritten or redistributed.",
    "Sign up for our newsletter to get the latest news delivered to your inbox every morning.",
    "Read more: Five things to watch in the markets this week",
    "Our Standards: The Thomson Reuters Trust Principles.",
    "Follow us on Twitter and Facebook for the latest updates.",
    "Fox News Flash top headlines are here. Check out what's clicking on Foxnews.com.",
]
_EDITOR_NOTES = [
    "Editor's note: This story has been updated to include additional information.",
    "Editor's note: An earlier version of this article misstated a title. It has been corrected.",
    "EDITOR'S NOTE: This story is part of an ongoing series.",
    "This story has been corrected to fix a spelling error.",
]
_HEADLINE_PREFIX = ["UPDATE 1-", "UPDATE 2-", "BREAKING: ", "WRAPUP 1-", "EXCLUSIVE-"]
_HEADLINE_SUFFIX = [" | Reuters", " - BBC News", " - The Associated Press", " | AP News", " (update)"]

SYNONYMS: dict[str, str] = {}
for _a, _b in [
    ("said", "stated"), ("says", "states"), ("big", "large"), ("buy", "purchase"), ("help", "assist"),
    ("start", "begin"), ("started", "began"), ("end", "finish"), ("show", "reveal"), ("showed", "revealed"),
    ("rise", "increase"), ("rose", "increased"), ("fall", "drop"), ("fell", "dropped"), ("cut", "reduce"),
    ("firm", "company"), ("also", "additionally"), ("however", "but"), ("about", "around"),
    ("children", "kids"), ("people", "individuals"), ("main", "principal"), ("get", "obtain"),
    ("need", "require"), ("try", "attempt"), ("tried", "attempted"), ("chance", "opportunity"),
    ("quickly", "rapidly"), ("enough", "sufficient"), ("many", "numerous"), ("often", "frequently"),
    ("near", "close to"), ("told", "informed"), ("talks", "negotiations"), ("plan", "proposal"),
    ("job", "position"), ("jobs", "positions"), ("car", "vehicle"), ("cars", "vehicles"),
    ("allow", "permit"), ("allowed", "permitted"), ("ask", "request"), ("asked", "requested"),
    ("believe", "think"), ("want", "wish"), ("wanted", "wished"), ("hard", "difficult"),
    ("whole", "entire"), ("area", "region"), ("country", "nation"), ("shop", "store"),
    ("mostly", "largely"), ("expected", "anticipated"), ("important", "significant"),
    ("problem", "issue"), ("problems", "issues"), ("big", "major"), ("small", "minor"),
    ("used", "utilised"), ("use", "utilise"), ("method", "technique"), ("way", "manner"),
    ("called", "known as"), ("because", "since"), ("while", "whereas"), ("begin", "commence"),
]:
    SYNONYMS.setdefault(_a, _b)
    SYNONYMS.setdefault(_b, _a)

_OCR = [("rn", "m"), ("m", "rn"), ("l", "1"), ("1", "l"), ("O", "0"), ("0", "O"), ("e", "c"), ("i", "l"), ("h", "b"), ("cl", "d")]
_WORD = re.compile(r"\S+")
_SENT_END = re.compile(r"[.!?][\"'\u201d\u2019)]*$")


def _words(text: str) -> list[re.Match]:
    return list(_WORD.finditer(text))


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def dateline(doc: Doc, rng: random.Random) -> Doc:
    """Prefix an agency dateline: ``KYIV, Ukraine (AP) — ``, ``LONDON (Reuters) - ``, ``WASHINGTON --``."""
    city, region = rng.choice(_CITIES)
    place = f"{city}, {region}" if region else city
    style = rng.randrange(4)
    if style == 0:
        head = f"{place} ({rng.choice(_AGENCIES)}) \u2014 "
    elif style == 1:
        head = f"{city} ({rng.choice(_AGENCIES)}) - "
    elif style == 2:
        head = f"{city} -- "
    else:
        head = f"{city}, {rng.choice(['March', 'June', 'Oct'])} {rng.randint(1, 28)} (Reuters) - "
    return replace(doc, text=head + doc.text.lstrip())


def byline(doc: Doc, rng: random.Random) -> Doc:
    """Add a byline line on top: ``By Jane Smith, Associated Press``."""
    line = f"By {rng.choice(_FIRST)} {rng.choice(_LAST)}, {rng.choice(_OUTLETS)}"
    if rng.random() < 0.3:
        line = line.upper()
    return replace(doc, text=f"{line}\n\n{doc.text}")


def wire_credit(doc: Doc, rng: random.Random) -> Doc:
    """Add a wire credit or reporting line at the bottom (or a short one on top)."""
    n1, n2 = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    credits = [
        f"(Reporting by {n1}; Editing by {n2})",
        "The Associated Press contributed to this report.",
        f"Additional reporting by {n1} in {rng.choice(_CITIES)[0].title()}.",
        "(c) Copyright Thomson Reuters 2005. Click For Restrictions.",
    ]
    if rng.random() < 0.25:
        return replace(doc, text=f"({rng.choice(_AGENCIES)})\n{doc.text}")
    return replace(doc, text=f"{doc.text.rstrip()}\n\n{rng.choice(credits)}")


def boilerplate(doc: Doc, rng: random.Random) -> Doc:
    """Add site boilerplate (newsletter, copyright, "Read more") at the top, bottom or both."""
    where = rng.choice(["top", "bottom", "both"])
    text = doc.text
    if where in ("top", "both"):
        text = f"{rng.choice(_TOP_BOILERPLATE)}\n\n{text}"
    if where in ("bottom", "both"):
        text = f"{text.rstrip()}\n\n{rng.choice(_BOTTOM_BOILERPLATE)}"
    return replace(doc, text=text)


def typography(doc: Doc, rng: random.Random) -> Doc:
    """Curly quotes and dashes, ``…`` for ``...`` (or the reverse when the text already has them)."""
    t = doc.text
    if re.search("[\u2018\u2019\u201c\u201d\u2014\u2026]", t) and rng.random() < 0.5:
        for a, b in (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2014", "--"), ("\u2026", "...")):
            t = t.replace(a, b)
        return replace(doc, text=t)
    t = re.sub(r'(^|[\s(\[])"', "\\1\u201c", t)
    t = t.replace('"', "\u201d")
    t = re.sub(r"(^|[\s(\[])'", "\\1\u2018", t)
    t = t.replace("'", "\u2019")
    t = t.replace(" -- ", " \u2014 ").replace(" - ", rng.choice([" \u2013 ", " \u2014 "]))
    t = t.replace("...", "\u2026")
    return replace(doc, text=t)


def html_fragments(doc: Doc, rng: random.Random) -> Doc:
    """Wrap paragraphs in ``<p>``, escape ``&``, write apostrophes as ``&#8217;``, add a stray tag."""
    paras = _paragraphs(doc.text)
    out = []
    for k, p in enumerate(paras):
        p = _html.escape(p, quote=False)
        p = p.replace("'", rng.choice(["&#8217;", "&rsquo;", "&#39;"]))
        p = p.replace('"', "&quot;")
        if k == 0 and rng.random() < 0.5:
            p = f"<strong>{p}</strong>"
        out.append(f"<p>{p}</p>")
    if rng.random() < 0.5:
        out.insert(rng.randint(1, max(1, len(out))), '<div class="ad-slot"></div>')
    sep = rng.choice(["\n", "", "\n\n"])
    text = sep.join(out).replace("  ", " &nbsp;")
    return replace(doc, text=text)


def whitespace(doc: Doc, rng: random.Random) -> Doc:
    """Re-wrap lines, change paragraph breaks, line endings and spacing; the words stay the same."""
    paras = _paragraphs(doc.text)
    width = rng.randint(50, 90)
    style = rng.randrange(3)
    out = []
    for p in paras:
        words = p.split()
        if style == 0:  # hard-wrapped like a wire terminal, paragraphs indented
            lines, cur = [], ""
            for w in words:
                if cur and len(cur) + 1 + len(w) > width:
                    lines.append(cur)
                    cur = w
                else:
                    cur = f"{cur} {w}" if cur else w
            lines.append(cur)
            out.append("    " + "\n".join(lines))
        elif style == 1:  # doubled spaces and trailing blanks
            out.append("  ".join(words) + " " * rng.randint(0, 3))
        else:
            out.append(" ".join(words))
    sep = rng.choice(["\n", "\r\n\r\n", "\n \n"] if style == 2 else ["\n", "\n\n", "\r\n\r\n", "\n \n"])
    return replace(doc, text=sep.join(out) + rng.choice(["", "\n", "\n\n"]))


def truncate(doc: Doc, rng: random.Random) -> Doc:
    """Keep the first 40-80% of the words, at a sentence end when one falls in that range."""
    words = _words(doc.text)
    n = len(words)
    if n < 5:
        return doc
    lo, hi = -(-4 * n // 10), (8 * n) // 10  # ceil(0.4 n), floor(0.8 n): words kept
    target = rng.randint(lo, hi)
    ends = [k + 1 for k in range(lo - 1, hi) if _SENT_END.search(words[k].group())]
    keep = min(ends, key=lambda k: abs(k - target)) if ends else target
    return replace(doc, text=doc.text[: words[keep - 1].end()])


def drop_paragraph(doc: Doc, rng: random.Random) -> Doc:
    """Drop one paragraph other than the lead; one sentence when there are fewer than three."""
    paras = _paragraphs(doc.text)
    if len(paras) >= 3:
        k = rng.randrange(1, len(paras))
        return replace(doc, text="\n\n".join(paras[:k] + paras[k + 1 :]))
    sents = re.split(r"(?<=[.!?])\s+", doc.text.strip())
    if len(sents) < 3:
        return doc
    k = rng.randrange(1, len(sents))
    return replace(doc, text=" ".join(sents[:k] + sents[k + 1 :]))


def editor_note(doc: Doc, rng: random.Random) -> Doc:
    """Add an editor's note or correction line at the top or bottom."""
    note = rng.choice(_EDITOR_NOTES)
    if rng.random() < 0.5:
        return replace(doc, text=f"{note}\n\n{doc.text}")
    return replace(doc, text=f"{doc.text.rstrip()}\n\n{note}")


def headline(doc: Doc, rng: random.Random) -> Doc:
    """Change the headline: wire prefix, outlet suffix, or case; the body is unchanged."""
    title = doc.title or ""
    style = rng.randrange(3)
    if style == 0:
        title = rng.choice(_HEADLINE_PREFIX) + title
    elif style == 1:
        title = title + rng.choice(_HEADLINE_SUFFIX)
    else:
        title = title.upper() if title != title.upper() else title.title()
    return replace(doc, title=title)


def _case_like(new: str, old: str) -> str:
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def reword(doc: Doc, rng: random.Random) -> Doc:
    """Light rewording of 5-10% of the words: synonym swaps, else swap with the next word."""
    words = _words(doc.text)
    n = len(words)
    if n < 10:
        return doc
    count = max(1, round(n * rng.uniform(0.05, 0.10)))
    new = [w.group() for w in words]
    touched: set[int] = set()
    for k in sorted(rng.sample(range(n - 1), min(count, n - 1))):
        if k in touched:
            continue
        touched.add(k)
        m = re.match(r"^([\"'(\u2018\u201c]*)([A-Za-z]+)([^A-Za-z]*)$", new[k])
        if m and m.group(2).lower() in SYNONYMS:
            syn = _case_like(SYNONYMS[m.group(2).lower()], m.group(2))
            new[k] = m.group(1) + syn + m.group(3)
        elif re.fullmatch(r"[a-z]+", new[k]) and re.fullmatch(r"[a-z]+", new[k + 1]):
            new[k], new[k + 1] = new[k + 1], new[k]
            touched.add(k + 1)
    return replace(doc, text=_rebuild(doc.text, words, new))


def _rebuild(text: str, words: Sequence[re.Match], new: Sequence[str]) -> str:
    out, pos = [], 0
    for w, s in zip(words, new):
        out.append(text[pos : w.start()])
        out.append(s)
        pos = w.end()
    out.append(text[pos:])
    return "".join(out)


def ocr_noise(doc: Doc, rng: random.Random) -> Doc:
    """OCR-like character confusions (rn/m, l/1, O/0, e/c, ...) on 1-2% of the words."""
    words = _words(doc.text)
    new = [w.group() for w in words]
    eligible = [k for k, w in enumerate(new) if any(a in w for a, _ in _OCR)]
    if not eligible:
        return doc
    count = max(1, round(len(words) * rng.uniform(0.01, 0.02)))
    for k in rng.sample(eligible, min(count, len(eligible))):
        options = [(a, b) for a, b in _OCR if a in new[k]]
        a, b = rng.choice(options)
        spots = [i for i in range(len(new[k])) if new[k].startswith(a, i)]
        i = rng.choice(spots)
        new[k] = new[k][:i] + b + new[k][i + len(a) :]
    return replace(doc, text=_rebuild(doc.text, words, new))


TRANSFORMS: dict[str, Transform] = {
    "dateline": dateline,
    "byline": byline,
    "wire_credit": wire_credit,
    "boilerplate": boilerplate,
    "typography": typography,
    "html": html_fragments,
    "whitespace": whitespace,
    "headline": headline,
    "editor_note": editor_note,
    "truncate": truncate,
    "drop_paragraph": drop_paragraph,
    "reword": reword,
    "ocr_noise": ocr_noise,
}
"""Every transformation by category name."""

COSMETIC = ("dateline", "byline", "wire_credit", "boilerplate", "typography", "html", "whitespace", "headline", "editor_note")
"""Categories that leave the story's words intact (safe to stack on any copy)."""

CONTENT = ("truncate", "drop_paragraph", "reword", "ocr_noise")
"""Categories that change which words the story has; applied before the cosmetic ones."""


def apply_transforms(doc: Doc, names: Sequence[str], rng: random.Random) -> Doc:
    """Apply transformations in a sound order: content changes first, then cosmetic ones.

    ``html`` always goes last (it escapes what the others added).

    Args:
        doc: the original.
        names: category names from :data:`TRANSFORMS`.
        rng: the only source of randomness.

    Returns:
        The transformed copy.

    Raises:
        ValueError: an unknown category name.
    """
    for name in names:
        if name not in TRANSFORMS:
            raise ValueError(f"unknown transformation {name!r}; expected one of {sorted(TRANSFORMS)}")
    order = {name: k for k, name in enumerate(CONTENT + tuple(c for c in COSMETIC if c != "html") + ("html",))}
    for name in sorted(names, key=order.__getitem__):
        doc = TRANSFORMS[name](doc, rng)
    return doc
