"""The content edits of real syndication: reorder, insert, delete,
synonyms, figures respelled, update, short from long (tracks ``edited`` and
``multilingual`` of the evaluation set). See :mod:`dedup.evaluation.transforms`.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace


from dedup.evaluation.cosmetic import (  # the shared base
    _blocks, _case_like, Doc, _FIRST, _LAST, _paragraphs, _rebuild, script_of, _sentences, _split_tail,
    SYNONYMS, _unblock, _words,
)

def reorder(doc: Doc, rng: random.Random) -> Doc:
    """Move two or more paragraphs (the text is first cut into paragraphs at sentence ends if it has fewer than 3)."""
    script = script_of(doc.text)
    body, tail = _split_tail(doc.text)
    blocks = _blocks(body, script, rng)
    n = len(blocks)
    if n < 2:
        return doc
    pool = list(range(1, n)) if n >= 3 else list(range(n))
    m = rng.randint(2, min(4, len(pool)))
    moved = sorted(rng.sample(pool, m))
    shift = rng.randint(1, m - 1)
    target = moved[shift:] + moved[:shift]  # a rotation: every chosen paragraph changes place
    out = list(blocks)
    for src, dst in zip(moved, target):
        out[dst] = blocks[src]
    return replace(doc, text=_unblock(out, script) + tail)


def delete(doc: Doc, rng: random.Random) -> Doc:
    """Remove 1-3 sentences (not the first), wherever they are; emptied paragraphs go too."""
    script = script_of(doc.text)
    body, tail = _split_tail(doc.text)
    blocks = [_sentences(p, script) for p in _paragraphs(body)]
    spots = [(i, j) for i, b in enumerate(blocks) for j in range(len(b))][1:]
    if len(spots) < 3:
        return doc
    k = min(rng.randint(1, 3), len(spots) - 2)
    gone = set(rng.sample(spots, k))
    out = [[s for j, s in enumerate(b) if (i, j) not in gone] for i, b in enumerate(blocks)]
    return replace(doc, text=_unblock(out, script) + tail)


_PLACES = ["Springfield", "Riverton", "Ashford", "Millbrook", "Kingsbury", "Lakeview", "Hollis", "Fairmont",
           "Bramley", "Easton", "Oakdale", "Westfield", "Carlow", "Dunmore", "Redhill", "Stanton"]
_ROLES = ["mayor", "council leader", "county commissioner", "local MP", "police chief", "school superintendent",
          "chamber of commerce president", "state senator", "union representative", "hospital director"]
_INSERT_EN = [
    "In {place}, {role} {name} said the news would be watched closely by local residents.",
    "\"We are following this very carefully,\" said {name}, the {role} of {place}.",
    "{name}, {role} in {place}, told the {paper} that people there had been asking about it for weeks.",
    "Local businesses in {place} said they expected little immediate change.",
    "The {paper} contacted several residents of {place}, most of whom declined to comment.",
    "\"It matters a great deal to families here,\" {name} said at a meeting in {place} on {day}.",
    "{place} {role} {name} is expected to address the issue at a public meeting next week.",
    "Residents of {place} who have questions can contact the {role}'s office, {name} said.",
    "A spokesperson for {name}, the {role} of {place}, said a statement would follow.",
    "Meanwhile, {number} people signed a petition in {place} calling for more information.",
]
_PAPERS = ["Gazette", "Herald", "Courier", "Chronicle", "Examiner", "Tribune", "Echo", "Observer"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_INSERT_ML = {
    "arabic": {
        "names": ["أحمد الخطيب", "سارة منصور", "محمد العلي", "ليلى حداد", "خالد يوسف", "نور الهدى سالم"],
        "places": ["الإسكندرية", "طنجة", "إربد", "صفاقس", "حمص", "الزرقاء", "البصرة", "وهران"],
        "templates": [
            "وقال {name}، رئيس بلدية {place}، إن السكان يتابعون الأمر عن كثب.",
            "وفي {place}، أعرب عدد من السكان عن قلقهم من تداعيات القرار.",
            "وأضاف {name} في تصريح لصحيفة محلية أن الوضع في {place} لا يزال هادئا.",
            "ومن المقرر أن يعقد مجلس {place} اجتماعا يوم الخميس لمناقشة المسألة.",
            "وقال {name}: «نحن نتابع هذا الملف باهتمام كبير».",
        ],
    },
    "cjk": {
        "names": ["王建国", "李晓梅", "张伟", "陈静", "刘洋", "赵敏"],
        "places": ["苏州", "宁波", "佛山", "青岛", "厦门", "无锡", "泉州", "烟台"],
        "templates": [
            "{place}市民{name}表示，当地居民一直在密切关注此事。",
            "据{place}当地媒体报道，相关部门已开始了解情况。",
            "{place}一位官员{name}说：“我们会继续跟进。”",
            "不少{place}居民在社交媒体上表达了自己的看法。",
            "{name}告诉记者，{place}的情况目前总体平稳。",
        ],
    },
    "cyrillic": {
        "names": ["Иван Петров", "Ольга Смирнова", "Сергей Кузнецов", "Анна Волкова", "Дмитрий Соколов"],
        "places": ["Твери", "Калуге", "Рязани", "Самаре", "Перми", "Омске", "Томске", "Курске"],
        "templates": [
            "Глава администрации в {place} {name} заявил, что жители внимательно следят за ситуацией.",
            "В {place} местные предприниматели пока не ожидают серьёзных изменений.",
            "«Мы держим этот вопрос на контроле», — сказал {name}.",
            "По словам {name}, в {place} обстановка остаётся спокойной.",
            "Местные жители в {place} обсуждают новость в социальных сетях.",
        ],
    },
    "devanagari": {
        "names": ["राजेश शर्मा", "सुनीता वर्मा", "अमित कुमार", "प्रिया सिंह"],
        "places": ["इंदौर", "भोपाल", "पटना", "जयपुर", "नागपुर", "कानपुर"],
        "templates": [
            "{place} के महापौर {name} ने कहा कि स्थानीय लोग इस पर नज़र रखे हुए हैं।",
            "{place} में व्यापारियों ने कहा कि उन्हें तुरंत कोई बदलाव की उम्मीद नहीं है।",
            "{name} ने कहा, “हम इस मामले को गंभीरता से देख रहे हैं।”",
            "{place} के निवासियों ने सोशल मीडिया पर अपनी राय दी।",
        ],
    },
}


def _local_sentences(script: str, rng: random.Random, k: int) -> list[str]:
    if script in _INSERT_ML:
        spec = _INSERT_ML[script]
        return [t.format(name=rng.choice(spec["names"]), place=rng.choice(spec["places"]))
                for t in rng.sample(spec["templates"], min(k, len(spec["templates"])))]
    place, name = rng.choice(_PLACES), f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    out = []
    for t in rng.sample(_INSERT_EN, k):
        out.append(t.format(place=place, name=name, role=rng.choice(_ROLES), paper=f"{place} {rng.choice(_PAPERS)}",
                            day=rng.choice(_DAYS), number=rng.randint(120, 4800)))
    return out


def insert(doc: Doc, rng: random.Random) -> Doc:
    """Insert 1-3 local sentences, or one local paragraph of 3-4, at a paragraph boundary after the lead."""
    script = script_of(doc.text)
    body, tail = _split_tail(doc.text)
    blocks = _blocks(body, script, rng, least=2)
    if not blocks:
        return doc
    if rng.random() < 0.5:
        new = [_local_sentences(script, rng, rng.randint(1, 3))]
    else:
        new = [_local_sentences(script, rng, rng.randint(3, 4))]
    at = rng.randint(1, len(blocks))
    return replace(doc, text=_unblock(blocks[:at] + new + blocks[at:], script) + tail)


_MORE_SYNONYMS = [
    ("government", "administration"), ("official", "officer"), ("officials", "officers"), ("week", "seven days"),
    ("year", "twelve months"), ("announced", "declared"), ("announce", "declare"), ("added", "continued"),
    ("increase", "rise"), ("decrease", "decline"), ("major", "key"), ("new", "fresh"), ("recent", "latest"),
    ("before", "prior to"), ("after", "following"), ("during", "throughout"), ("against", "versus"),
    ("company", "business"), ("companies", "businesses"), ("group", "organisation"), ("market", "marketplace"),
    ("share", "stake"), ("sales", "turnover"), ("profit", "earnings"), ("profits", "earnings"), ("costs", "expenses"),
    ("price", "cost"), ("prices", "costs"), ("money", "funds"), ("make", "create"), ("made", "created"),
    ("give", "provide"), ("gave", "provided"), ("take", "seize"), ("took", "seized"), ("keep", "retain"),
    ("see", "notice"), ("saw", "noticed"), ("think", "reckon"), ("thought", "reckoned"), ("find", "discover"),
    ("found", "discovered"), ("come", "arrive"), ("came", "arrived"), ("leave", "depart"), ("left", "departed"),
    ("go", "proceed"), ("went", "proceeded"), ("put", "placed"), ("set", "fixed"), ("move", "shift"),
    ("moved", "shifted"), ("meet", "convene"), ("met", "convened"), ("win", "secure"), ("won", "secured"),
    ("lose", "forfeit"), ("lost", "forfeited"), ("pay", "remunerate"), ("paid", "remunerated"), ("hit", "struck"),
    ("warned", "cautioned"), ("claimed", "asserted"), ("reported", "stated"), ("added", "remarked"),
    ("good", "fine"), ("bad", "poor"), ("high", "elevated"), ("low", "reduced"), ("large", "sizeable"),
    ("strong", "robust"), ("weak", "feeble"), ("likely", "probable"), ("possible", "feasible"), ("clear", "evident"),
    ("far", "distant"), ("early", "premature"), ("late", "belated"), ("top", "leading"), ("key", "crucial"),
    ("very", "extremely"), ("just", "merely"), ("only", "solely"), ("almost", "nearly"), ("still", "yet"),
    ("now", "currently"), ("soon", "shortly"), ("again", "once more"), ("later", "subsequently"),
    ("around", "roughly"), ("some", "several"), ("more", "further"), ("most", "the majority of"),
    ("group", "body"), ("move", "step"), ("deal", "agreement"), ("deals", "agreements"), ("firms", "companies"),
    ("plans", "proposals"), ("figures", "numbers"), ("rate", "level"), ("rates", "levels"), ("level", "degree"),
    ("number", "figure"), ("part", "portion"), ("point", "stage"), ("case", "instance"), ("issue", "matter"),
    ("report", "study"), ("decision", "ruling"), ("bid", "offer"), ("support", "backing"), ("record", "best-ever"),
    ("total", "overall"), ("city", "town"), ("house", "home"), ("world", "globe"), ("top", "highest"),
    ("chief", "head"), ("boss", "head"), ("minister", "secretary"), ("leader", "head"), ("spokesman", "representative"),
    ("agreed", "consented"), ("expects", "anticipates"), ("expect", "anticipate"), ("includes", "contains"),
    ("include", "contain"), ("including", "among them"), ("received", "got"), ("reached", "attained"),
    ("rejected", "turned down"), ("raised", "lifted"), ("hopes", "aims"), ("hope", "aim"), ("likely", "set"),
    ("week", "wk"), ("against", "opposing"), ("since", "as"), ("then", "next"), ("but", "yet"),
    ("stop", "halt"), ("stopped", "halted"), ("seek", "pursue"), ("sought", "pursued"), ("vote", "ballot"),
    ("fight", "battle"), ("attack", "assault"), ("killed", "slain"), ("injured", "hurt"), ("police", "officers"),
]
_SYNONYMS_WIDE: dict[str, str] = dict(SYNONYMS)
for _a, _b in _MORE_SYNONYMS:
    _SYNONYMS_WIDE.setdefault(_a, _b)
    _SYNONYMS_WIDE.setdefault(_b, _a)
_SYN_WORD = re.compile(r"^([\"'(\u2018\u201c]*)([A-Za-z]+)([^A-Za-z]*)$")


def synonym_slots(text: str) -> int:
    """How many words of ``text`` :func:`synonyms` can replace."""
    return sum(1 for w in _words(text) if (m := _SYN_WORD.match(w.group())) and m.group(2).lower() in _SYNONYMS_WIDE)


def synonyms(doc: Doc, rng: random.Random) -> Doc:
    """Replace 5-15% of the words by synonyms (fewer when the text has fewer replaceable words); no swaps."""
    words = _words(doc.text)
    n = len(words)
    if n < 10:
        return doc
    new = [w.group() for w in words]
    slots = [k for k, w in enumerate(new) if (m := _SYN_WORD.match(w)) and m.group(2).lower() in _SYNONYMS_WIDE]
    count = min(len(slots), max(1, round(n * rng.uniform(0.05, 0.15))))
    for k in rng.sample(slots, count):
        m = _SYN_WORD.match(new[k])
        new[k] = m.group(1) + _case_like(_SYNONYMS_WIDE[m.group(2).lower()], m.group(2)) + m.group(3)
    return replace(doc, text=_rebuild(doc.text, words, new))


# figures: "5 pct" / "5%" / "5 percent", "10 mln" / "10 million", "1,000" / "1000", "$3.5 billion" / "$3.5bn"
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_FIG_PCT = re.compile(rf"(?<![\w.,])({_NUM})(?: ?%| pct\b| percent\b| per cent\b)")
_FIG_SCALE = re.compile(rf"(?<![\w.,])(\$|US\$|\u00a3|stg )?({_NUM})(?: ?(mln|million|bln|billion|bn|m)\b)( dlrs\b| dollars\b| stg\b)?")
_FIG_GROUPED = re.compile(r"(?<![\w.,$])(\d{1,3}(?:,\d{3})+)(?![\w,]|\.\d)")
_FIG_PLAIN = re.compile(r"(?<![\w.,$])(\d{5,})(?![\w,]|\.\d)")
_SCALE_FORMS = {"mln": ("mln", "million", "m"), "million": ("mln", "million", "m"), "m": ("mln", "million"),
                "bln": ("bln", "billion", "bn"), "billion": ("bln", "billion", "bn"), "bn": ("bln", "billion")}


def figure_spots(text: str) -> int:
    """How many figures of ``text`` :func:`figures_respelled` can re-spell."""
    return sum(len(rx.findall(text)) for rx in (_FIG_PCT, _FIG_SCALE, _FIG_GROUPED, _FIG_PLAIN))


def _respell_pct(m: re.Match, rng: random.Random) -> str:
    old = m.group(0)[len(m.group(1)):]
    forms = [f for f in ("%", " pct", " percent", " per cent") if f != old]
    return m.group(1) + rng.choice(forms)


def _respell_scale(m: re.Match, rng: random.Random) -> str:
    cur, num, unit, tail = m.group(1) or "", m.group(2), m.group(3), m.group(4) or ""
    dollars = cur in ("$", "US$") or tail.strip() in ("dlrs", "dollars")
    unit2 = rng.choice([u for u in _SCALE_FORMS[unit] if u != unit])
    short = unit2 in ("m", "bn")
    if dollars:
        style = rng.choice(["$", "dlrs", "dollars"] if not short else ["$"])
        if style == "$" or short:
            return f"${num}{unit2}" if short else f"${num} {unit2}"
        return f"{num} {unit2} {style}"
    if cur in ("\u00a3", "stg ") or tail.strip() == "stg":
        return f"\u00a3{num}{unit2}" if short else f"{num} {unit2} stg"
    return f"{num}{unit2}" if short else f"{num} {unit2}"


def figures_respelled(doc: Doc, rng: random.Random) -> Doc:
    """Write figures another way, their values unchanged: ``5 pct``/``5%``/``5 percent``, ``10 mln``/``10 million``,
    ``$3.5 billion``/``$3.5bn``/``3.5 billion dlrs``, ``1,000``/``1000``. Each figure is re-spelled with
    probability 0.7 (at least one); a text without such figures is returned unchanged."""
    text = doc.text
    spots: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for rx, fn in ((_FIG_SCALE, _respell_scale), (_FIG_PCT, _respell_pct),
                   (_FIG_GROUPED, lambda m, r: m.group(1).replace(",", "")),
                   (_FIG_PLAIN, lambda m, r: f"{int(m.group(1)):,}")):
        for m in rx.finditer(text):
            if free(m.start(), m.end()):
                taken.append((m.start(), m.end()))
                spots.append((m.start(), m.end(), fn(m, rng)))
    if not spots:
        return doc
    spots.sort()
    keep = [s for s in spots if rng.random() < 0.7] or [rng.choice(spots)]
    out, pos = [], 0
    for a, b, new in keep:
        out += [text[pos:a], new]
        pos = b
    out.append(text[pos:])
    return replace(doc, text="".join(out))


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_UPD_WEEKDAY = re.compile(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_UPD_DATE = re.compile(r"\b(" + "|".join(_MONTHS) + r") (\d{1,2})\b(?!,? \d{3})")
_UPD_NUMBER = re.compile(r"(?<![\w.,$])(\d+(?:\.\d+)?)(?![\w,]|\.\d)")
_CORRECTIONS = [
    "This story has been corrected to show {new}, not {old}.",
    "(Corrects figure in paragraph {para} to {new} from {old})",
    "This story has been corrected to show the figure is {new}, not {old}, in paragraph {para}.",
    "Correction: an earlier version of this story said {old}; it is {new}.",
]


def _bump(value: str, rng: random.Random) -> str:
    if "." in value:
        places = len(value.split(".")[1])
        step = 10 ** -places * rng.randint(1, 9)
        v = float(value) + step * rng.choice([-1, 1])
        return f"{max(v, step):.{places}f}"
    v = int(value)
    if 1900 <= v <= 2100:  # a year: leave it alone
        return value
    delta = max(1, round(v * rng.uniform(0.02, 0.25)))
    new = v + delta if rng.random() < 0.7 or v - delta < 1 else v - delta
    return str(new)


def update(doc: Doc, rng: random.Random) -> Doc:
    """A later version of the story: 1-3 numbers, dates or weekdays changed (a toll, a price, a day).

    A trailing ``Published 12 March 2024`` line moves one day on and counts as
    one change. Half the copies get an ``UPDATE 1-``/``UPDATE 2-`` headline
    prefix and 40% a trailing correction line naming the first change.
    """
    text = doc.text
    body, tail = _split_tail(text)
    changes: list[tuple[int, int, str, str]] = []
    if tail:
        d, mon, y = re.search(r"Published (\d{1,2}) ([A-Z][a-z]+) (\d{4})", tail).groups()
        from datetime import date, timedelta

        try:
            nd = date(int(y), _MONTHS.index(mon) + 1, int(d)) + timedelta(days=1)
            tail = f"\n\nPublished {nd.day} {_MONTHS[nd.month - 1]} {nd.year}"
        except ValueError:
            pass
    cands: list[tuple[int, int, str]] = []
    for m in _UPD_NUMBER.finditer(body):
        new = _bump(m.group(1), rng)
        if new != m.group(1):
            cands.append((m.start(1), m.end(1), new))
    for m in _UPD_DATE.finditer(body):
        day = int(m.group(2))
        if 1 <= day <= 27:
            cands.append((m.start(2), m.end(2), str(day + 1)))
    for m in _UPD_WEEKDAY.finditer(body):
        cands.append((m.start(), m.end(), _DAYS[(_DAYS.index(m.group(1)) + 1) % 7]))
    cands.sort()
    k = rng.randint(1, 3) - (1 if tail else 0)
    pick: list[tuple[int, int, str]] = []
    for c in rng.sample(cands, len(cands)):
        if len(pick) >= k:
            break
        if all(c[1] <= p[0] or c[0] >= p[1] for p in pick):
            pick.append(c)
    if not pick and not tail:
        return doc
    pick.sort()
    out, pos = [], 0
    for a, b, new in pick:
        out += [body[pos:a], new]
        changes.append((a, b, body[a:b], new))
        pos = b
    out.append(body[pos:])
    text = "".join(out) + tail
    title = doc.title
    if title is not None and rng.random() < 0.5:
        title = rng.choice(["UPDATE 1-", "UPDATE 2-"]) + re.sub(r"^UPDATE \d-", "", title)
    if changes and rng.random() < 0.4:
        a, _, old, new = changes[0]
        para = body[:a].count("\n\n") + 1
        notes = _CORRECTIONS if old[:1].isdigit() else [_CORRECTIONS[0], _CORRECTIONS[3]]
        text = text.rstrip() + "\n\n" + rng.choice(notes).format(old=old, new=new, para=para)
    return replace(doc, text=text, title=title)


def short_from_long(doc: Doc, rng: random.Random) -> Doc:
    """A 60-120-word brief of whole sentences taken, in order, from a long story (the lead always)."""
    sents = [s for p in _paragraphs(doc.text) for s in _sentences(p, "latin")]
    if len(sents) < 4:
        return doc
    target = rng.randint(60, 120)
    chosen = [0]
    words = len(sents[0].split())
    rest = list(range(1, len(sents)))
    rng.shuffle(rest)
    for k in rest:
        w = len(sents[k].split())
        if words + w <= 120:
            chosen.append(k)
            words += w
        if words >= target:
            break
    if words < 60:
        return doc
    return replace(doc, text=" ".join(sents[k] for k in sorted(chosen)))
