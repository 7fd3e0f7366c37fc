"""Redis bytes per article with and without what a person reads (issue 14):
the same real news articles (the BBC News set in the shared data folder,
headline as title) stored three times in one run, in three namespaces of one
private redis-server:

* ``bare``: fingerprints only (a plain ``Deduplicator``: no ``P a`` key);
* ``meta``: with title, url and source (``store_text=False``, i.e.
  ``DEDUP_STORE_TEXT=false``);
* ``text``: with title, url, source and the zlib-compressed original text
  (the service's default).

Bytes are ``MEMORY USAGE`` of every key of the namespace (the same measure as
``bench_hot.py``), divided by the articles stored; the raw and compressed
text sizes are given beside them.

    python bench/bench_stored_text.py [--articles 2000] [--out bench/results/stored_text.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import RedisServer, redis_server_binary  # noqa: E402

from dedup import Article, Deduplicator, Params  # noqa: E402
from dedup_service import layout  # noqa: E402
from dedup_service.store import RedisIndex, StoringDeduplicator  # noqa: E402

DATA = Path("/work/shared/data/bbc-news")


def articles(n: int) -> list[Article]:
    """Up to ``n`` BBC News articles: first line the title, the rest the text."""
    out = []
    for f in sorted(DATA.glob("*/*.txt"))[:n]:
        title, _, body = f.read_text(encoding="latin-1").strip().partition("\n")
        out.append(Article(f"bbc/{f.parent.name}/{f.stem}", body.strip(), title=title.strip(),
                           url=f"https://news.bbc.co.uk/2/hi/{f.parent.name}/{f.stem}.stm", source="BBC News"))
    return out


def emit(res: dict, out: Path | None) -> dict:
    """Print the results as JSON and write them to ``out`` (when given)."""
    print(json.dumps(res, indent=2))
    if out:
        out.write_text(json.dumps(res, indent=2) + "\n")
    return res


def bytes_of(idx: RedisIndex) -> int:
    return sum(idx.client.memory_usage(k, samples=0) or 0 for k in idx.keys())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    arts = articles(args.articles)
    if not arts:
        raise SystemExit(f"no articles under {DATA}")
    server = RedisServer(redis_server_binary())
    params = Params()
    raw = sum(len(a.text.encode()) for a in arts)
    packed = sum(len(layout.pack_about(a.title, a.url, a.source, a.text)) for a in arts)
    res: dict = {"layout_version": layout.VERSION, "articles": len(arts), "corpus": "BBC News (shared data)",
                 "text_bytes_per_article": round(raw / len(arts)),
                 "about_value_bytes_per_article": round(packed / len(arts))}
    try:
        client = server.client()
        for name, make in (("bare", lambda idx: Deduplicator(params, idx)),
                           ("meta", lambda idx: StoringDeduplicator(params, idx)),
                           ("text", lambda idx: StoringDeduplicator(params, idx))):
            idx = RedisIndex(client, params, namespace=name, capacity=max(1000, len(arts)),
                             store_text=name == "text")
            d = make(idx)
            for a in arts:
                d.add(a)
            res[f"bytes_per_article_{name}"] = round(bytes_of(idx) / len(arts))
            print(name, res[f"bytes_per_article_{name}"], file=sys.stderr)
        res["text_over_bare"] = round(res["bytes_per_article_text"] / res["bytes_per_article_bare"], 2)
        res["meta_over_bare"] = round(res["bytes_per_article_meta"] / res["bytes_per_article_bare"], 2)
    finally:
        server.stop()
    return emit(res, args.out)


if __name__ == "__main__":
    main()
