"""Assemble the labelled set: pick originals, make copies, add hard negatives, write JSONL.

Labels are decided by construction: an original and its copies share the
label ``story:<key>``; every hard-negative record gets its own label.
Before anything is picked, English originals/negative bodies that are
already near copies of each other (5-word-shingle Jaccard >= 0.3 or
containment >= 0.5) are dropped, and so are multilingual texts within a
language (8-character shingles for Chinese).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bench.independent import edits as E
from bench.independent.multilingual import ML_EDITS, split_title
from bench.independent.negatives import RECURRING_HEADLINES, RECURRING_KICKERS, TEMPLATES, brief
from bench.independent.sources import find_data_dir, load_bbc, load_multilingual, load_reuters, load_semeval_en
from bench.independent.textutil import near_copy_filter, shingles

__all__ = ["SIZES", "SYNDICATED", "REWORDED", "MULTILINGUAL", "NEGATIVE", "build_records", "write_jsonl"]

SIZES = {
    "small": {"syndicated": 95, "reworded": 30, "multilingual": 30, "semeval_pairs": 20, "template_brief": 40,
              "recurring_headline": 40, "same_topic": 50},
    "full": {"syndicated": 820, "reworded": 260, "multilingual": 230, "semeval_pairs": 60, "template_brief": 300,
             "recurring_headline": 300, "same_topic": 400},
}
SYNDICATED = ["plain", "reorder", "insert", "delete", "figures_respelled", "update", "truncate", "combo"]
REWORDED = ["synonyms", "combo"]
MULTILINGUAL = list(ML_EDITS)
NEGATIVE = ["semeval_same_story", "template_brief", "recurring_headline", "same_topic"]
SEMEVAL_MAX_OVERALL = 2.0

OUTLETS = ["Yahoo News", "MSN News", "NewsNow", "The Daily Courier", "Gulf Times", "Business Standard",
           "AsiaOne", "The Hindu BusinessLine", "Irish Examiner", "Evening Express", "NZ Herald", "Toronto Star"]
ML_OUTLETS = {"zh": ["新浪新闻", "网易新闻", "凤凰网"], "ar": ["الجزيرة نت", "اليوم السابع", "الشرق الأوسط"],
              "ru": ["Лента.ру", "РИА Новости", "Газета.ru"]}
FIELDS = ("id", "text", "title", "published", "label", "category", "track", "source")


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def _rec(rid, text, title, published, label, category, track, source) -> dict:
    return dict(zip(FIELDS, (rid, text, title, published, label, category, track, source)))


def _safe(key: str) -> str:
    return key.replace("/", "-")


def _pick_category(rng: random.Random, cats: list[str], used: Counter, tried: set) -> str | None:
    left = [c for c in cats if c not in tried]
    if not left:
        return None
    low = min(used[c] for c in left)
    return rng.choice([c for c in left if used[c] == low])


def _make_copy(rng: random.Random, cat: str, doc: dict, *, reworded: bool) -> dict | None:
    if cat in ML_EDITS:
        return ML_EDITS[cat](rng, doc)
    if cat == "combo":
        res = E.combo(rng, doc, must="synonyms" if reworded else None)
        return res[0] if res else None
    return E.EDITS[cat](rng, doc)


def _copies(rng, doc, cats, used, track, source_pick, *, reworded=False, distinct=True):
    """1-3 copies of ``doc`` (a dict with key/title/text/published), balanced over ``cats``."""
    out = []
    n = rng.randint(1, 3)
    tried: set = set()
    seen_texts = {(doc["title"], doc["text"])}
    while len(out) < n:
        cat = _pick_category(rng, cats, used, tried)
        if cat is None:
            break
        res = None
        for _ in range(3):
            res = _make_copy(rng, cat, doc, reworded=reworded)
            if res is not None and (res["title"], res["text"]) not in seen_texts:
                break
            res = None
        if res is None or distinct:
            tried.add(cat)
        if res is None:
            continue
        seen_texts.add((res["title"], res["text"]))
        used[cat] += 1
        delay = timedelta(minutes=rng.randint(5, 36 * 60)) if cat != "update" else timedelta(minutes=rng.randint(60, 20 * 60))
        pub = _iso(_parse(doc["published"]) + delay)
        out.append(_rec(f"{_safe(doc['key'])}#c{len(out) + 1}", res["text"], res["title"], pub, doc["label"], cat,
                        track, source_pick(rng)))
    return out


def build_records(size: str = "small", seed: int = 1, data_dir: Path | None = None) -> list[dict]:
    """All records of one set, in a seeded shuffled order."""
    cfg = SIZES[size]
    data = Path(data_dir) if data_dir else find_data_dir()
    if data is None:
        raise FileNotFoundError("shared/data not found (looked at <repo>/../shared/data and /work/shared/data)")
    R = lambda purpose: random.Random(f"indep:{seed}:{purpose}")  # noqa: E731 - one stream per purpose

    bbc, reuters, sem = load_bbc(data), load_reuters(data), load_semeval_en(data)
    R("bbc").shuffle(bbc)
    R("reuters").shuffle(reuters)
    n_orig = cfg["syndicated"] + cfg["reworded"]
    need_bbc = cfg["same_topic"] + cfg["recurring_headline"] // 2 + n_orig // 2
    need_reu = cfg["recurring_headline"] - cfg["recurring_headline"] // 2 + n_orig - n_orig // 2
    bbc = bbc[:min(len(bbc), math.ceil(1.5 * need_bbc) + 40)]
    reuters = reuters[:min(len(reuters), math.ceil(1.5 * need_reu) + 40)]

    # SemEval same-story pairs (distinct texts of 60+ words)
    pairs = [p for p in sem if p["overall"] <= SEMEVAL_MAX_OVERALL
             and min(len(p["a"]["text"].split()), len(p["b"]["text"].split())) >= 60]
    R("semeval").shuffle(pairs)
    pairs = pairs[:cfg["semeval_pairs"]]
    sem_docs = []
    for p in pairs:
        for side in ("a", "b"):
            sem_docs.append({"key": f"semeval/{p['row']}{side}", "title": p[side]["title"], "text": p[side]["text"]})

    # one near-copy filter over every English text used anywhere
    eng = sem_docs + bbc + reuters
    kept, _dropped = near_copy_filter([(d["key"], shingles(d["text"])) for d in eng])
    kept = set(kept)
    sem_docs = [d for d in sem_docs if d["key"] in kept]
    bbc = [d for d in bbc if d["key"] in kept]
    reuters = [d for d in reuters if d["key"] in kept]

    records: list[dict] = []
    date_rng = R("dates")
    for d in bbc + reuters:
        if not d["published"]:
            d["published"] = _iso(datetime(2004, 1, 1, 6) + timedelta(minutes=date_rng.randint(0, 700 * 24 * 60)))

    # --- negatives: same_topic (BBC, same folder), recurring_headline bodies
    by_topic: dict[str, list[dict]] = {}
    for d in bbc:
        by_topic.setdefault(d["topic"], []).append(d)
    topics = sorted(by_topic)
    per = cfg["same_topic"] // len(topics)
    used_keys = set()
    for t in topics:
        for i, d in enumerate(by_topic[t][:per]):
            used_keys.add(d["key"])
            records.append(_rec(f"{_safe(d['key'])}#n", d["text"], d["title"], d["published"],
                                f"neg:same_topic:{d['key']}", "same_topic", "negative", "BBC News"))
    bbc = [d for d in bbc if d["key"] not in used_keys]
    n_rb = cfg["recurring_headline"] // 2
    rec_bodies = bbc[:n_rb] + reuters[:cfg["recurring_headline"] - n_rb]
    bbc, reuters = bbc[n_rb:], reuters[cfg["recurring_headline"] - n_rb:]
    rh = R("recurring")
    for i, d in enumerate(rec_bodies):
        head = RECURRING_HEADLINES[i % len(RECURRING_HEADLINES)]
        text = d["text"]
        if rh.random() < 0.5:
            text = RECURRING_KICKERS[head] + "\n\n" + text
        records.append(_rec(f"recurring-{i:04d}-{_safe(d['key'])}", text, head, d["published"],
                            f"neg:recurring_headline:{d['key']}", "recurring_headline", "negative", "Newsdesk"))

    # --- semeval same story
    for d in sem_docs:
        records.append(_rec(f"{_safe(d['key'])}#n", d["text"], d["title"] or None, None,
                            f"neg:semeval_same_story:{d['key']}", "semeval_same_story", "negative", "semeval-en"))

    # --- template briefs
    br = R("briefs")
    kinds = sorted(TEMPLATES)
    seen = set()
    i = 0
    while i < cfg["template_brief"]:
        kind = kinds[i % len(kinds)]
        title, text = brief(br, kind)
        if text in seen:
            continue
        seen.add(text)
        pub = _iso(datetime(2005, 3, 1, 8) + timedelta(minutes=br.randint(0, 60 * 24 * 30)))
        records.append(_rec(f"brief-{kind}-{i:04d}", text, title, pub, f"neg:template_brief:{i}", "template_brief",
                            "negative", "Wire briefs"))
        i += 1

    # --- English originals and copies
    originals = []
    half = n_orig // 2
    pool = bbc[:half] + reuters[:n_orig - half]
    R("originals").shuffle(pool)
    probe = R("probe")
    rew, syn = [], []
    for d in pool:
        d = {**d, "label": f"story:{d['key']}"}
        if len(rew) < cfg["reworded"] and E.synonyms(probe, d) is not None:
            rew.append(d)
        else:
            syn.append(d)
    originals = [(d, "syndicated") for d in syn[:cfg["syndicated"]]] + [(d, "reworded") for d in rew]
    used = Counter()
    cr = R("copies")
    for d, track in originals:
        src = "BBC News" if d["corpus"] == "bbc" else "Reuters"
        records.append(_rec(f"{_safe(d['key'])}#o", d["text"], d["title"], d["published"], d["label"], "original",
                            track, src))
        cats = SYNDICATED if track == "syndicated" else REWORDED
        records += _copies(cr, d, cats, used, track, lambda r: r.choice(OUTLETS), reworded=track == "reworded",
                           distinct=track == "syndicated")

    # --- multilingual
    ml = load_multilingual(data)
    R("ml").shuffle(ml)
    kept_ml = []
    for lang in ("ar", "ru", "zh"):
        docs = [d for d in ml if d["lang"] == lang]
        keep, _ = near_copy_filter([(d["key"], shingles(d["text"], lang=lang)) for d in docs])
        keep = set(keep)
        kept_ml.append([d for d in docs if d["key"] in keep])
    per_lang = cfg["multilingual"] // 3
    chosen = []
    for j, docs in enumerate(kept_ml):
        chosen += docs[:per_lang + (1 if j < cfg["multilingual"] % 3 else 0)]
    mr = R("ml-copies")
    mused = Counter()
    for d in chosen:
        title, body = split_title(d["text"])
        pub = _iso(datetime(2020, 1, 1, 6) + timedelta(minutes=mr.randint(0, 200 * 24 * 60)))
        doc = {"key": d["key"], "title": title, "text": body, "lang": d["lang"], "published": pub,
               "label": f"story:{d['key']}"}
        records.append(_rec(f"{_safe(d['key'])}#o", body, title, pub, doc["label"], "original", "multilingual",
                            f"semeval-hfl:{d['lang']}"))
        records += _copies(mr, doc, MULTILINGUAL, mused, "multilingual", lambda r, L=d["lang"]: r.choice(ML_OUTLETS[L]))

    R("order").shuffle(records)
    return records


def write_jsonl(records: list[dict], path: str | Path) -> None:
    """One JSON object per line, UTF-8, fixed key order (same records => same bytes)."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for r in records:
            fh.write(json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) + "\n")
