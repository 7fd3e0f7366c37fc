"""Edits that turn an English original into a copy (one function per category).

Each edit takes ``(rng, doc)`` where ``doc`` is ``{"title", "text", ...}``
and returns a new ``{"title", "text"}`` or ``None`` when the edit does not
apply to that story (too short, no figures ...). Strengths stay inside the
bounds stated in ``README.md``; the tests check them.
"""

from __future__ import annotations

import random
import re

from bench.independent.synonyms import SYNONYMS
from bench.independent.textutil import FIGURE_RE, join_paragraphs, paragraphs, split_sentences

__all__ = ["EDITS", "reorder", "insert", "delete", "figures_respelled", "update", "truncate", "synonyms",
           "plain", "combo", "CORRECTION_PREFIX", "local_sentence"]

FIRST = ["Sarah", "James", "Priya", "Tom", "Aisha", "Mark", "Helen", "David", "Fiona", "Raj", "Claire", "Owen",
         "Megan", "Liam", "Grace", "Ken", "Nadia", "Paul", "Ruth", "Sam"]
LAST = ["Thompson", "Patel", "O'Brien", "Walsh", "Hughes", "Okafor", "Lindqvist", "Brennan", "Carter", "Singh",
        "Morales", "Fraser", "Kowalski", "Ahmed", "Doyle", "Reid", "Nakamura", "Bishop"]
PLACES = ["Dunfermline", "Wrexham", "Kettering", "Harrogate", "Truro", "Bangor", "Stockport", "Lisburn",
          "Dorchester", "Peterborough", "Keswick", "Falkirk", "Hastings", "Barnstaple", "Rotherham", "Ely",
          "Oban", "Carlisle", "Worthing", "Shrewsbury"]
BODIES = ["county council", "borough council", "city council", "local health board", "parish council",
          "fire and rescue service", "police"]
PAPERS = ["Gazette", "Echo", "Evening Post", "Herald", "Courier", "Advertiser", "Chronicle"]
VENUES = ["the town hall", "the community centre", "St Mary's church hall", "the public library", "the leisure centre"]
ROADS = ["A38", "A1", "M6", "A470", "B4100", "A30", "M62"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
QUOTES = ["It has been a worrying time for everyone here.", "We just want some clarity about what happens next.",
          "People round here have seen this kind of thing before.", "We will be keeping a close eye on it.",
          "It is good news for the town, but there is still a lot to do.",
          "Nobody has explained to us what it means for local families."]
LOCAL_TEMPLATES = [
    "The {body} said local schools in {place} would stay open.",
    "{name}, a spokesperson for the {body}, told the {place} {paper} that more details would follow on {weekday}.",
    "Residents in {place} can call the {body} helpline for more information.",
    "{name}, who runs a shop in {place}, said: \"{quote}\"",
    "The {place} {paper} has contacted the {body} for comment.",
    "A public meeting will be held at {venue} in {place} on {weekday} evening.",
    "Local councillor {name} said the news would be followed closely by families in {place}.",
    "Traffic on the {road} near {place} was expected to be heavier than usual on {weekday}.",
    "The {body} in {place} said it had received a number of calls from worried residents.",
    "{name}, who lives in {place}, said: \"{quote}\"",
    "Volunteers in {place} said they would set up a stall at {venue} on {weekday}.",
]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def local_sentence(rng: random.Random) -> str:
    """One local-news sentence from the templates, with a random name, place, body ..."""
    return rng.choice(LOCAL_TEMPLATES).format(
        name=_name(rng), place=rng.choice(PLACES), body=rng.choice(BODIES), paper=rng.choice(PAPERS),
        venue=rng.choice(VENUES), road=rng.choice(ROADS), weekday=rng.choice(WEEKDAYS), quote=rng.choice(QUOTES))


# ---------------------------------------------------------------- structure edits

def reorder(rng: random.Random, doc: dict) -> dict | None:
    """Move two or more paragraphs (the lead stays with probability 0.7)."""
    paras = paragraphs(doc["text"])
    if len(paras) < 4 or len(set(paras)) < len(paras):
        return None
    lo = 1 if rng.random() < 0.7 else 0
    idx = list(range(lo, len(paras)))
    order = list(range(len(paras)))
    kind = rng.choice(["swap", "move", "cycle"]) if len(idx) >= 3 else "swap"
    if kind == "swap":
        i, j = rng.sample(idx, 2)
        order[i], order[j] = order[j], order[i]
    elif kind == "move":
        i, j = rng.sample(idx, 2)
        while abs(i - j) < 2:
            i, j = rng.sample(idx, 2)
        order.insert(j, order.pop(i))
    else:
        a, b, c = rng.sample(idx, 3)
        order[a], order[b], order[c] = order[b], order[c], order[a]
    if order == list(range(len(paras))):
        return None
    return {"title": doc["title"], "text": join_paragraphs([paras[k] for k in order])}


def insert(rng: random.Random, doc: dict) -> dict | None:
    """Insert 1-3 local sentences (into paragraphs) or one local paragraph of 2-3 sentences."""
    paras = paragraphs(doc["text"])
    if len(paras) < 2:
        return None
    paras = list(paras)
    if rng.random() < 0.5:
        new = " ".join(local_sentence(rng) for _ in range(rng.randint(2, 3)))
        paras.insert(rng.randint(1, len(paras)), new)
    else:
        for _ in range(rng.randint(1, 3)):
            k = rng.randint(1, len(paras) - 1)
            sents = split_sentences(paras[k])
            sents.insert(rng.randint(0, len(sents)), local_sentence(rng))
            paras[k] = " ".join(sents)
    return {"title": doc["title"], "text": join_paragraphs(paras)}


def delete(rng: random.Random, doc: dict) -> dict | None:
    """Remove 1-3 sentences (never the first sentence of the lead); needs 6+ sentences."""
    paras = [split_sentences(p) for p in paragraphs(doc["text"])]
    slots = [(i, j) for i, ss in enumerate(paras) for j in range(len(ss)) if (i, j) != (0, 0)]
    if len(slots) < 5:
        return None
    drop = set(rng.sample(slots, rng.randint(1, 3)))
    out = []
    for i, ss in enumerate(paras):
        kept = [s for j, s in enumerate(ss) if (i, j) not in drop]
        if kept:
            out.append(" ".join(kept))
    return {"title": doc["title"], "text": join_paragraphs(out)}


def truncate(rng: random.Random, doc: dict) -> dict | None:
    """Keep the first 40-80% of the words, cut at a sentence end when one is near the target."""
    text = doc["text"]
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    n = len(spans)
    if n < 60:
        return None
    target = rng.uniform(0.45, 0.78)
    lo, hi = int(0.42 * n) + 1, int(0.78 * n)
    ends = [i for i in range(lo, hi) if re.search(r"[.!?][\"'\u201d\u2019)]?$", text[spans[i][0]:spans[i][1]])]
    k = min(ends, key=lambda i: abs(i - target * n)) if ends else int(target * n)
    return {"title": doc["title"], "text": text[:spans[k][1]]}


# ---------------------------------------------------------------- figures

_NUM = r"\d[\d,]*(?:\.\d+)?(?:-\d/\d+)?"
_FIG_RULES = [
    # (pattern, list of replacement styles)
    (re.compile(rf"(?<![\w$£€.])({_NUM}) (mln|million|bln|billion) (?:dlrs|dollars)\b"), "money"),
    (re.compile(rf"(?<![\w.])({_NUM}) pct\b"), "pct"),
    (re.compile(rf"(?<![\w.])({_NUM})(?: per cent| percent|%)(?!\w)"), "percent"),
    (re.compile(rf"(?<![\w.])([$£€]?{_NUM}) (mln|million)\b"), "mln"),
    (re.compile(rf"(?<![\w.])([$£€]?{_NUM}) (bln|billion)\b"), "bln"),
    (re.compile(rf"(?<![\w.])([$£€]{_NUM})(bn|m)\b"), "glued"),
    (re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+)(?![\d,]*\.?\d)"), "commas"),
    (re.compile(rf"(?<![\w.])({_NUM}) (dlrs|cts)\b"), "unit"),
]


def _respell(kind: str, m: re.Match, style: int) -> str:
    num = m.group(1)
    if kind == "money":
        big = m.group(2) in ("mln", "million")
        return [f"${num} million" if big else f"${num} billion", f"${num}m" if big else f"${num}bn"][style % 2]
    if kind == "pct":
        return [f"{num}%", f"{num} percent", f"{num} per cent"][style % 3]
    if kind == "percent":
        cur = m.group(0)[len(num):]
        opts = [o for o in ("%", " percent", " per cent", " pct") if o != cur]
        return num + opts[style % len(opts)]
    if kind in ("mln", "bln"):
        unit = m.group(2)
        short, long_, glued = ("mln", "million", "m") if kind == "mln" else ("bln", "billion", "bn")
        money = num[0] in "$£€"
        if unit == short:
            return f"{num}{glued}" if money and style % 2 else f"{num} {long_}"
        return f"{num}{glued}" if money else f"{num} {short}"
    if kind == "glued":
        return f"{num} billion" if m.group(2) == "bn" else f"{num} million"
    if kind == "commas":
        return num.replace(",", "")
    if kind == "unit":
        return f"${num}" if m.group(2) == "dlrs" else f"{num} cents"
    raise ValueError(kind)


def count_respellable(text: str) -> int:
    return sum(len(p.findall(text)) for p, _ in _FIG_RULES)


def figures_respelled(rng: random.Random, doc: dict) -> dict | None:
    """Write every figure another way (``5 pct`` -> ``5%``, ``1,000`` -> ``1000`` ...); needs 3+ figures.

    One house style per copy, applied to all matching figures; digits never change.
    """
    text = doc["text"]
    if count_respellable(text) < 3:
        return None
    style = rng.randrange(6)
    done: list[str] = []

    def protect(m: re.Match, kind: str) -> str:
        # a rewritten span becomes one private-use character so later rules cannot touch it
        done.append(_respell(kind, m, style))
        return chr(0xE000 + len(done) - 1)

    for pat, kind in _FIG_RULES:
        text = pat.sub(lambda m, k=kind: protect(m, k), text)
    text = re.sub("[\ue000-\uf8ff]", lambda m: done[ord(m.group(0)) - 0xE000], text)
    if text == doc["text"]:
        return None
    return {"title": doc["title"], "text": text}


CORRECTION_PREFIX = "This story has been corrected"


def _change_number(rng: random.Random, tok: str) -> str | None:
    m = re.fullmatch(r"([$£€]?)(\d[\d,]*)(\.\d+)?(bn|m|%)?", tok)
    if not m:
        return None
    pre, ints, dec, suf = m.group(1), m.group(2), m.group(3) or "", m.group(4) or ""
    digits = ints.replace(",", "")
    if not ints[-1].isdigit() or (not dec and not suf and not pre and len(digits) == 4 and 1900 <= int(digits) <= 2099):
        return None  # a year
    if dec:
        scale = 10 ** (len(dec) - 1)
        v = int(digits) * scale + int(dec[1:])
        nv = max(1, v + rng.choice([-3, -2, -1, 1, 2, 3]))
        new_int, new_dec = divmod(nv, scale)
        out_int, out_dec = str(new_int), "." + str(new_dec).zfill(len(dec) - 1)
    else:
        v = int(digits)
        step = max(1, round(v * rng.uniform(0.03, 0.15))) if v >= 10 else rng.randint(1, 2)
        nv = v + step if (rng.random() < 0.6 or v - step < 1) else v - step
        out_int, out_dec = str(nv), ""
    if "," in ints:
        out_int = f"{int(out_int):,}"
    new = f"{pre}{out_int}{out_dec}{suf}"
    return new if new != tok else None


def update(rng: random.Random, doc: dict) -> dict | None:
    """A later version: 1-3 figures (numbers, weekdays) changed in a story of 150+ words.

    Sometimes the headline gets ``UPDATE 1-``/``UPDATE 2-`` and/or a
    correction line is appended as a last paragraph.
    """
    text = doc["text"]
    if len(text.split()) < 150:
        return None
    cands = []
    for m in FIGURE_RE.finditer(text):
        tok = m.group(0)
        if tok in WEEKDAYS:
            cands.append((m.span(), WEEKDAYS[(WEEKDAYS.index(tok) + rng.choice([1, 1, 2])) % 7]))
        else:
            new = _change_number(rng, tok)
            if new:
                cands.append((m.span(), new))
    if not cands:
        return None
    chosen = sorted(rng.sample(cands, min(len(cands), rng.randint(1, 3))))
    out, last = [], 0
    for (a, b), new in chosen:
        out.append(text[last:a])
        out.append(new)
        last = b
    out.append(text[last:])
    new_text = "".join(out)
    title = doc["title"]
    r = rng.random()
    if r < 0.4:
        title = f"UPDATE {rng.choice([1, 1, 2])}-{title}"
    if r > 0.25 and rng.random() < 0.6:
        (a, b), new = chosen[0]
        what = rng.choice(["the figure", "the number", "the day"]) if new in WEEKDAYS else rng.choice(["the figure", "the number", "the total"])
        new_text += f"\n\n{CORRECTION_PREFIX} to show {what} was {new}, not {text[a:b]}."
    return {"title": title, "text": new_text}


# ---------------------------------------------------------------- rewording

_WORD = re.compile(r"^(\W*)([A-Za-z][A-Za-z'-]*?)(\W*)$")


def _match_case(src: str, new: str) -> str:
    if src.isupper() and len(src) > 1:
        return new.upper()
    if src[0].isupper():
        return new[0].upper() + new[1:]
    return new


def synonyms(rng: random.Random, doc: dict) -> dict | None:
    """Replace 6-13% of the words (whitespace tokens) with a one-word synonym; needs enough candidates."""
    toks = re.split(r"(\s+)", doc["text"])
    word_pos = [i for i in range(0, len(toks), 2) if toks[i]]
    n = len(word_pos)
    cands = []
    for i in word_pos:
        m = _WORD.match(toks[i])
        if m and m.group(2).lower() in SYNONYMS:
            cands.append(i)
    want = max(int(0.05 * n) + 1, round(rng.uniform(0.06, 0.13) * n))
    if n < 60 or len(cands) < want or want > 0.15 * n:
        return None
    for i in rng.sample(cands, want):
        pre, core, post = _WORD.match(toks[i]).groups()
        opts = [s for s in SYNONYMS[core.lower()] if s != core.lower()]
        toks[i] = pre + _match_case(core, rng.choice(opts)) + post
    return {"title": doc["title"], "text": "".join(toks)}


# ---------------------------------------------------------------- light syndication edits

CITIES = ["LONDON", "NEW YORK", "WASHINGTON", "PARIS", "TOKYO", "FRANKFURT", "SYDNEY", "BRUSSELS", "TORONTO",
          "SINGAPORE", "EDINBURGH", "MANCHESTER"]
AGENCIES = ["Reuters", "AP", "AFP", "PA"]
TOP_BOILER = ["Sign up for our newsletter to get the day's top stories.", "Advertisement",
              "Listen to this article", "Follow us on Twitter for the latest updates.",
              "This article is reproduced with permission."]
BOTTOM_BOILER = ["Sign up for our newsletter and never miss a story.",
                 "Copyright 2005. All rights reserved. This material may not be published, broadcast, rewritten or redistributed.",
                 "Share this article: Facebook | Twitter | Email", "Read more business news on our website.",
                 "(Reporting by {name}; Editing by {name2})", "Have your say: email us your views."]


def _curly(text: str) -> str:
    text = re.sub(r"(^|[\s(\[])\"", "\\1\u201c", text)
    text = text.replace("\"", "\u201d")
    text = re.sub(r"(\w)'(\w)", "\\1\u2019\\2", text)
    text = re.sub(r"(^|\s)'", "\\1\u2018", text)
    return text.replace("'", "\u2019")


def plain(rng: random.Random, doc: dict) -> dict | None:
    """2-3 light syndication edits: dateline, byline, boilerplate, headline case, HTML, curly quotes."""
    title, paras = doc["title"], paragraphs(doc["text"])
    ops = rng.sample(["dateline", "byline", "top", "bottom", "case", "html", "quotes"], rng.randint(2, 3))
    for op in ops:
        if op == "dateline":
            city = (doc.get("dateline") or rng.choice(CITIES)).upper()
            paras[0] = f"{city} ({rng.choice(AGENCIES)}) - {paras[0]}"
        elif op == "byline":
            paras.insert(0, rng.choice(["By ", "By ", "Written by "]) + _name(rng) + rng.choice(["", ", Staff Reporter", ", Business Correspondent"]))
        elif op == "top":
            paras.insert(0, rng.choice(TOP_BOILER))
        elif op == "bottom":
            paras.append(rng.choice(BOTTOM_BOILER).format(name=_name(rng), name2=_name(rng)))
        elif op == "case":
            title = rng.choice([title.upper(), title.lower(), title.title()]) if title else title
        elif op == "html":
            paras = [p.replace("&", "&amp;") for p in paras]
            paras = [f"<p>{p}</p>" for p in paras] if rng.random() < 0.6 else [p.replace("'", "&#39;").replace('"', "&quot;") for p in paras]
        elif op == "quotes":
            paras = [_curly(p) for p in paras]
            title = _curly(title) if title else title
    return {"title": title, "text": join_paragraphs(paras)}


# ---------------------------------------------------------------- combo

_COMBO_ORDER = ["update", "figures_respelled", "synonyms", "reorder", "delete", "insert", "truncate", "plain"]


def combo(rng: random.Random, doc: dict, *, must: str | None = None) -> tuple[dict, list[str]] | None:
    """Two or three of the other edits at once (``must``: one that has to be among them).

    Returns ``(copy, names of the edits applied)``.
    """
    pool = [e for e in _COMBO_ORDER if e != "synonyms" and e != must]
    want = rng.randint(2, 3)
    picks = [must] if must else []
    rng.shuffle(pool)
    cur = dict(doc)
    for name in pool:
        if len(picks) >= want:
            break
        picks.append(name)
    applied = []
    for name in sorted(picks, key=_COMBO_ORDER.index):
        res = EDITS[name](rng, cur)
        if res is not None:
            cur = {**cur, **res}
            applied.append(name)
    if len(applied) < 2:
        return None
    return {"title": cur["title"], "text": cur["text"]}, applied


EDITS = {"reorder": reorder, "insert": insert, "delete": delete, "figures_respelled": figures_respelled,
         "update": update, "truncate": truncate, "synonyms": synonyms, "plain": plain}
