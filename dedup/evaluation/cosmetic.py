"""The base of the evaluation's text transformations: :class:`Doc`, the
cosmetic edits (the story's words intact), the older content edits
(truncate, drop a paragraph, reword, OCR noise) and the script-aware
sentence and paragraph helpers. See :mod:`dedup.evaluation.transforms`.

Over 400 lines: mostly data (datelines, boilerplate, insertions per
script) beside the small functions that use it.
"""

from __future__ import annotations

import html as _html
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace


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

_ML_DATELINES = {
    "arabic": ["\u0627\u0644\u0642\u0627\u0647\u0631\u0629 (\u0631\u0648\u064a\u062a\u0631\u0632) - ",
               "\u062f\u0628\u064a (\u0623 \u0641 \u0628) - ", "\u0628\u064a\u0631\u0648\u062a\u060c {day} \u0645\u0627\u0631\u0633 (\u0631\u0648\u064a\u062a\u0631\u0632) - ",
               "\u0627\u0644\u0631\u064a\u0627\u0636 - "],
    "cjk": ["\u65b0\u534e\u793e\u5317\u4eac3\u6708{day}\u65e5\u7535 ", "\uff08\u8def\u900f\u793e\u4e0a\u6d77\u7535\uff09", "\u4e2d\u65b0\u7f51\u5e7f\u5dde{day}\u65e5\u7535\uff1a",
            "\u3010\u6cd5\u65b0\u793e\u9999\u6e2f\u7535\u3011"],
    "cyrillic": ["\u041c\u041e\u0421\u041a\u0412\u0410, {day} \u043c\u0430\u0440\u0442\u0430 (\u0420\u0435\u0439\u0442\u0435\u0440) - ", "\u041a\u0418\u0415\u0412 (\u0410\u0424\u041f) \u2014 ",
                 "\u0421\u0410\u041d\u041a\u0422-\u041f\u0415\u0422\u0415\u0420\u0411\u0423\u0420\u0413, {day} \u043c\u0430\u0440\u0442\u0430. /\u0422\u0410\u0421\u0421/. "],
    "devanagari": ["\u0928\u0908 \u0926\u093f\u0932\u094d\u0932\u0940 (\u092d\u093e\u0937\u093e) - ", "\u092e\u0941\u0902\u092c\u0908, {day} \u092e\u093e\u0930\u094d\u091a (\u0930\u0949\u092f\u091f\u0930\u094d\u0938) - "],
}
_ML_BOILERPLATE = {
    "arabic": (["\u0627\u0634\u062a\u0631\u0643 \u0641\u064a \u0627\u0644\u0646\u0634\u0631\u0629 \u0627\u0644\u0628\u0631\u064a\u062f\u064a\u0629 \u0644\u062a\u0635\u0644\u0643 \u0623\u0647\u0645 \u0627\u0644\u0623\u062e\u0628\u0627\u0631.", "\u0625\u0639\u0644\u0627\u0646"],
               ["\u062c\u0645\u064a\u0639 \u0627\u0644\u062d\u0642\u0648\u0642 \u0645\u062d\u0641\u0648\u0638\u0629\u060c \u0648\u0644\u0627 \u064a\u062c\u0648\u0632 \u0625\u0639\u0627\u062f\u0629 \u0627\u0644\u0646\u0634\u0631.", "\u062a\u0627\u0628\u0639\u0648\u0646\u0627 \u0639\u0644\u0649 \u062a\u0648\u064a\u062a\u0631 \u0648\u0641\u064a\u0633\u0628\u0648\u0643."]),
    "cjk": (["\u70b9\u51fb\u5173\u6ce8\uff0c\u83b7\u53d6\u66f4\u591a\u65b0\u95fb\u3002", "\u5e7f\u544a"],
            ["\u7248\u6743\u6240\u6709\uff0c\u672a\u7ecf\u6388\u6743\u4e0d\u5f97\u8f6c\u8f7d\u3002", "\uff08\u8d23\u4efb\u7f16\u8f91\uff1a\u738b\u4e3d\uff09", "\u66f4\u591a\u65b0\u95fb\u8bf7\u4e0b\u8f7d\u5ba2\u6237\u7aef\u3002"]),
    "cyrillic": (["\u041f\u043e\u0434\u043f\u0438\u0448\u0438\u0442\u0435\u0441\u044c \u043d\u0430 \u043d\u0430\u0448\u0443 \u0440\u0430\u0441\u0441\u044b\u043b\u043a\u0443.", "\u0420\u0435\u043a\u043b\u0430\u043c\u0430"],
                 ["\u0412\u0441\u0435 \u043f\u0440\u0430\u0432\u0430 \u0437\u0430\u0449\u0438\u0449\u0435\u043d\u044b.", "\u0427\u0438\u0442\u0430\u0439\u0442\u0435 \u043d\u0430\u0441 \u0432 Telegram."]),
    "devanagari": (["\u0939\u092e\u093e\u0930\u0947 \u0928\u094d\u092f\u0942\u091c\u093c\u0932\u0947\u091f\u0930 \u0915\u0940 \u0938\u0926\u0938\u094d\u092f\u0924\u093e \u0932\u0947\u0902\u0964", "\u0935\u093f\u091c\u094d\u091e\u093e\u092a\u0928"],
                   ["\u0938\u0930\u094d\u0935\u093e\u0927\u093f\u0915\u093e\u0930 \u0938\u0941\u0930\u0915\u094d\u0937\u093f\u0924\u0964"]),
}
_FULLWIDTH = {"\uff0c": ",", "\u3002": ".", "\uff1a": ":", "\uff1b": ";", "\uff01": "!", "\uff1f": "?", "\uff08": "(", "\uff09": ")",
              "\u201c": '"', "\u201d": '"'}


def _ml_typography(t: str, script: str, rng: random.Random) -> str:
    """Punctuation of non-Latin texts written the other way: full-width/ASCII for CJK, \u060c/, for Arabic, \u00ab\u00bb/\"\" for Cyrillic."""
    if script == "cjk":
        if re.search("[\uff0c\u3002\uff1a\uff1b\uff01\uff1f\uff08\uff09]", t):
            return t.translate(str.maketrans(_FULLWIDTH))
        t = re.sub(r"(?<=[\u4e00-\u9fff]),", "\uff0c", t)
        return re.sub(r"(?<=[\u4e00-\u9fff])\.(?=\s|$)", "\u3002", t).replace('"', "\u201d")
    if script == "arabic":
        return t.replace("\u060c", ",").replace("\u061b", ";") if "\u060c" in t else t.replace(", ", "\u060c ")
    if "\u00ab" in t:
        return t.replace("\u00ab", '"').replace("\u00bb", '"').replace("\u2014", "-")
    return re.sub(r'"([^"]*)"', "\u00ab\\1\u00bb", t).replace(" - ", " \u2014 ")


_OCR = [("rn", "m"), ("m", "rn"), ("l", "1"), ("1", "l"), ("O", "0"), ("0", "O"), ("e", "c"), ("i", "l"), ("h", "b"), ("cl", "d")]
_WORD = re.compile(r"\S+")
_SENT_END = re.compile(r"[.!?][\"'\u201d\u2019)]*$")


def _words(text: str) -> list[re.Match]:
    return list(_WORD.finditer(text))


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def dateline(doc: Doc, rng: random.Random) -> Doc:
    """Prefix an agency dateline: ``KYIV, Ukraine (AP) — ``, ``LONDON (Reuters) - ``, ``WASHINGTON --``."""
    script = script_of(doc.text)
    if script in _ML_DATELINES:
        return replace(doc, text=rng.choice(_ML_DATELINES[script]).format(day=rng.randint(1, 28)) + doc.text.lstrip())
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
    top, bottom = _ML_BOILERPLATE.get(script_of(text), (_TOP_BOILERPLATE, _BOTTOM_BOILERPLATE))
    if where in ("top", "both"):
        text = f"{rng.choice(top)}\n\n{text}"
    if where in ("bottom", "both"):
        text = f"{text.rstrip()}\n\n{rng.choice(bottom)}"
    return replace(doc, text=text)


def typography(doc: Doc, rng: random.Random) -> Doc:
    """Curly quotes and dashes, ``…`` for ``...`` (or the reverse when the text already has them)."""
    t = doc.text
    script = script_of(t)
    if script != "latin":
        return replace(doc, text=_ml_typography(t, script, rng))
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
    if script_of(doc.text) == "cjk":
        return _truncate_chars(doc, rng)
    words = _words(doc.text)
    n = len(words)
    if n < 5:
        return doc
    lo, hi = -(-4 * n // 10), (8 * n) // 10  # ceil(0.4 n), floor(0.8 n): words kept
    target = rng.randint(lo, hi)
    ends = [k + 1 for k in range(lo - 1, hi) if _SENT_END.search(words[k].group())]
    keep = min(ends, key=lambda k: abs(k - target)) if ends else target
    return replace(doc, text=doc.text[: words[keep - 1].end()])


def _truncate_chars(doc: Doc, rng: random.Random) -> Doc:
    """CJK text has no spaces between words: keep 40-80% of its characters, at a sentence end if possible."""
    t = doc.text.rstrip()
    n = len(t)
    lo, hi = -(-4 * n // 10), (8 * n) // 10
    target = rng.randint(lo, hi)
    ends = [k + 1 for k in range(lo - 1, hi) if t[k] in "\u3002\uff01\uff1f.!?"]
    keep = min(ends, key=lambda k: abs(k - target)) if ends else target
    return replace(doc, text=t[:keep])


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


# ---------------------------------------------------------------------------
# Content edits of real syndication (track "edited" and "multilingual" of the
# evaluation set). They are script-aware: Arabic, CJK, Cyrillic and Devanagari
# texts are split at their own sentence ends and get insertions in their own
# language and punctuation.
# ---------------------------------------------------------------------------

_SCRIPTS = (
    ("cjk", re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")),
    ("arabic", re.compile("[\u0600-\u06ff\u0750-\u077f]")),
    ("cyrillic", re.compile("[\u0400-\u04ff]")),
    ("devanagari", re.compile("[\u0900-\u097f]")),
)


def script_of(text: str) -> str:
    """The dominant non-Latin script of a text (``cjk``, ``arabic``, ``cyrillic``, ``devanagari``), else ``latin``."""
    sample = text[:3000]
    letters = sum(c.isalpha() for c in sample) or 1
    best, count = "latin", 0
    for name, rx in _SCRIPTS:
        k = len(rx.findall(sample))
        if k > count:
            best, count = name, k
    return best if count >= 0.3 * letters else "latin"


_LATIN_SENT = re.compile(r"(?<=[.!?])([\"'\u201d\u2019)]*)\s+(?=[\"'\u201c\u2018(]*[A-Z0-9])")
# a full-width or script stop ends a sentence anywhere; an ASCII one only before a blank (not in 3.5, a.com)
_ML_END = re.compile(r"[\u3002\uff01\uff1f\u06d4\u061f\u0964][\"'\u201d\u2019\u300d\u300f\u00bb)\uff09]*|[.!?][\"'\u201d\u2019\u300d\u300f\u00bb)]*(?=\s)")


def _sentences(text: str, script: str) -> list[str]:
    """Sentences of one paragraph (punctuation kept, surrounding blanks dropped)."""
    text = " ".join(text.split()) if script != "cjk" else text.strip()
    if script == "latin":
        parts = _LATIN_SENT.split(text)
        out = []
        for k in range(0, len(parts), 2):  # split keeps the closing-quote group
            out.append(parts[k] + (parts[k + 1] if k + 1 < len(parts) else ""))
    else:
        out, pos = [], 0
        for m in _ML_END.finditer(text):
            out.append(text[pos : m.end()])
            pos = m.end()
        out.append(text[pos:])
    return [s.strip() for s in out if s.strip()]


def _join(sents: Sequence[str], script: str) -> str:
    return ("" if script == "cjk" else " ").join(sents)


_TAIL = re.compile(r"\n\s*\n(Published \d{1,2} [A-Z][a-z]+ \d{4})\s*$")


def _split_tail(text: str) -> tuple[str, str]:
    """Separate a trailing ``Published 12 March 2024`` line (kept in place by the paragraph edits)."""
    m = _TAIL.search(text)
    return (text[: m.start()], "\n\n" + m.group(1)) if m else (text, "")


def _blocks(text: str, script: str, rng: random.Random, least: int = 3) -> list[list[str]]:
    """Paragraphs as sentence lists; a text with fewer than ``least`` paragraphs is cut into 3-5 at sentence ends."""
    paras = [_sentences(p, script) for p in _paragraphs(text)]
    paras = [p for p in paras if p]
    if len(paras) >= least:
        return paras
    sents = [s for p in paras for s in p]
    if len(sents) < least:
        return [[s] for s in sents]
    n = min(len(sents), rng.randint(3, 5))
    cuts = sorted(rng.sample(range(1, len(sents)), n - 1))
    return [sents[a:b] for a, b in zip([0] + cuts, cuts + [len(sents)])]


def _unblock(blocks: Sequence[Sequence[str]], script: str) -> str:
    return "\n\n".join(_join(b, script) for b in blocks if b)
