"""Edits for texts in non-Latin scripts (Arabic, CJK, Cyrillic) from the HFL SemEval sample.

The texts are title + body truncated to ~1,000 characters, mostly without
paragraph breaks, so the unit of structure is the sentence (split on the
script's own sentence punctuation). Inserted sentences and datelines are
written in the text's language with its punctuation.
"""

from __future__ import annotations

import random
import re

from bench.independent.textutil import units

__all__ = ["ML_EDITS", "split_title", "ml_sentences"]

_SENT = {"zh": re.compile(r"(?<=[。！？])"), "ar": re.compile(r"(?<=[.!؟])\s+"), "ru": re.compile(r"(?<=[.!?])\s+(?=[А-ЯЁA-Z0-9«\"])")}
_JOIN = {"zh": "", "ar": " ", "ru": " "}

PLACES = {"zh": ["北京", "上海", "广州", "成都", "武汉", "杭州", "南京", "西安"],
          "ar": ["القاهرة", "عمان", "بيروت", "الرياض", "تونس", "الدار البيضاء", "الكويت", "دبي"],
          "ru": ["Москве", "Казани", "Новосибирске", "Екатеринбурге", "Самаре", "Томске", "Перми", "Сочи"]}
NAMES = {"zh": ["王伟", "李娜", "张强", "刘洋", "陈静", "赵磊"],
         "ar": ["أحمد حسن", "محمد علي", "فاطمة الزهراء", "خالد يوسف", "سارة محمود", "عمر سعيد"],
         "ru": ["Иван Петров", "Анна Смирнова", "Сергей Козлов", "Ольга Иванова", "Дмитрий Соколов", "Елена Попова"]}
LOCAL = {
    "zh": ["{place}市政府表示，当地学校将照常开放。", "{name}在接受当地媒体采访时说：“我们希望尽快了解更多情况。”",
           "{place}的居民可以拨打市民热线咨询相关信息。", "当地官员{name}表示，更多细节将于下周公布。",
           "{place}本地报纸已就此事联系有关部门置评。"],
    "ar": ["وقالت بلدية {place} إن المدارس المحلية ستبقى مفتوحة.", "وقال {name} لصحيفة محلية: «نريد أن نعرف ما سيحدث بعد ذلك».",
           "ويمكن لسكان {place} الاتصال بالخط الساخن للحصول على مزيد من المعلومات.", "وأوضح المسؤول المحلي {name} أن مزيدا من التفاصيل سيعلن الأسبوع المقبل.",
           "وتواصلت صحيفة محلية في {place} مع الجهات المعنية للتعليق."],
    "ru": ["Администрация города сообщила, что школы в {place} продолжат работу в обычном режиме.",
           "«Мы хотим понять, что будет дальше», — сказал местной газете {name}.",
           "Жители могут узнать подробности по телефону горячей линии мэрии.",
           "Местный чиновник {name} заявил, что подробности будут объявлены на следующей неделе.",
           "Редакция обратилась за комментарием в администрацию."]}
DATELINE = {"zh": ["新华社{place}电 ", "（路透社{place}电）", "【{place}讯】"],
            "ar": ["{place} (رويترز) - ", "{place} - (أ ف ب) - ", "{place} - "],
            "ru": ["МОСКВА, /ТАСС/. ", "МОСКВА (Рейтер) - ", "РИА Новости. "]}
BOILER = {"zh": ["关注我们的公众号，获取更多新闻。", "本文来源于网络，版权归原作者所有。", "责任编辑：{name}"],
          "ar": ["تابعونا على تويتر لمزيد من الأخبار.", "جميع الحقوق محفوظة.", "اشترك في نشرتنا الإخبارية."],
          "ru": ["Подписывайтесь на наш канал, чтобы не пропустить новости.", "Все права защищены.", "Читайте также: главные новости дня."]}


def split_title(text: str) -> tuple[str | None, str]:
    """``(title, body)``: the first line when it is a short headline, else no title."""
    first, sep, rest = text.partition("\n")
    if sep and 5 <= len(first.strip()) <= 200 and rest.strip():
        return first.strip(), rest.strip()
    return None, text.strip()


def ml_sentences(text: str, lang: str) -> list[str]:
    parts = [s.strip() for s in _SENT[lang].split(text.replace("\n", " " if lang != "zh" else ""))]
    return [s for s in parts if s]


def _fill(rng: random.Random, tpl: str, lang: str) -> str:
    return tpl.format(place=rng.choice(PLACES[lang]), name=rng.choice(NAMES[lang]))


def _join(sents: list[str], lang: str) -> str:
    return _JOIN[lang].join(sents)


def ml_plain(rng: random.Random, doc: dict) -> dict | None:
    """Dateline (in the language), boilerplate line at top or bottom, or headline removed/kept."""
    lang, text = doc["lang"], doc["text"]
    ops = rng.sample(["dateline", "top", "bottom", "nbsp"], rng.randint(2, 3))
    for op in ops:
        if op == "dateline":
            text = _fill(rng, rng.choice(DATELINE[lang]), lang) + text
        elif op == "top":
            text = _fill(rng, rng.choice(BOILER[lang]), lang) + "\n\n" + text
        elif op == "bottom":
            text = text + "\n\n" + _fill(rng, rng.choice(BOILER[lang]), lang)
        elif op == "nbsp":
            text = text.replace("\n", "\n\n") if rng.random() < 0.5 else "<p>" + text.replace("\n", "</p>\n<p>") + "</p>"
    return {"title": doc["title"], "text": text}


def ml_reorder(rng: random.Random, doc: dict) -> dict | None:
    """Group sentences into 4-6 blocks and move two of them (the lead block stays)."""
    lang = doc["lang"]
    sents = ml_sentences(doc["text"], lang)
    if len(sents) < 5:
        return None
    k = min(6, len(sents))
    bounds = [round(i * len(sents) / k) for i in range(k + 1)]
    blocks = [sents[bounds[i]:bounds[i + 1]] for i in range(k)]
    i, j = rng.sample(range(1, k), 2)
    blocks[i], blocks[j] = blocks[j], blocks[i]
    return {"title": doc["title"], "text": "\n\n".join(_join(b, lang) for b in blocks)}


def ml_insert(rng: random.Random, doc: dict) -> dict | None:
    """Insert 1-3 local sentences in the text's language."""
    lang = doc["lang"]
    sents = ml_sentences(doc["text"], lang)
    if len(sents) < 3:
        return None
    for _ in range(rng.randint(1, 3)):
        sents.insert(rng.randint(1, len(sents) - 1), _fill(rng, rng.choice(LOCAL[lang]), lang))
    return {"title": doc["title"], "text": _join(sents, lang)}


def ml_delete(rng: random.Random, doc: dict) -> dict | None:
    """Remove 1-3 sentences (not the first); needs 6+ sentences."""
    lang = doc["lang"]
    sents = ml_sentences(doc["text"], lang)
    if len(sents) < 6:
        return None
    drop = set(rng.sample(range(1, len(sents)), rng.randint(1, 3)))
    return {"title": doc["title"], "text": _join([s for i, s in enumerate(sents) if i not in drop], lang)}


def ml_truncate(rng: random.Random, doc: dict) -> dict | None:
    """Keep the first 40-80% of the units (characters for CJK, words otherwise), at a sentence end if near."""
    lang, text = doc["lang"], doc["text"]
    if lang == "zh":
        pos = [i + 1 for i, c in enumerate(text) if not c.isspace()]
        ends = {i + 1 for i, c in enumerate(text) if c in "。！？"}
    else:
        pos = [m.end() for m in re.finditer(r"\S+", text)]
        ends = {p for p in pos if text[p - 1] in ".!?؟"}
    n = len(pos)
    if n < 60:
        return None
    target = rng.uniform(0.45, 0.78)
    lo, hi = int(0.42 * n) + 1, int(0.78 * n)
    cand = [i for i in range(lo, hi) if pos[i] in ends]
    k = min(cand, key=lambda i: abs(i - target * n)) if cand else int(target * n)
    out = text[:pos[k]]
    assert 0.4 <= len(units(out, lang)) / len(units(text, lang)) <= 0.8
    return {"title": doc["title"], "text": out}


ML_EDITS = {"multilingual_plain": ml_plain, "multilingual_reorder": ml_reorder, "multilingual_insert": ml_insert,
            "multilingual_delete": ml_delete, "multilingual_truncate": ml_truncate}
