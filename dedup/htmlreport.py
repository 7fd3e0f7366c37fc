"""``dedup batch --html``: the run as one self-contained HTML file.

No network, no script: the style sheet is inlined, the histogram is inline
SVG, and a Content-Security-Policy forbids fetching anything. The file holds
the run's summary, the cluster-size histogram, the largest clusters, the
rejections by reason, the side-by-side view (the canonical copy and its
closest member, passages highlighted in the original texts, see
:mod:`dedup.offsets`) for the ``shown`` largest clusters, and every other
cluster as one line of plain text in a closed ``<details>`` (parsed, never
laid out until opened), so that a million-article run stays a file a
browser shows at once (``bench/bench_report.py`` measures it).

Texts are read again by the caller, only for the ids :func:`report_ids` names
(two per cluster shown), so memory stays bounded whatever the run's size.

Example:
    >>> import io
    >>> from dedup.batch import cluster_articles
    >>> body = "Shares rose sharply on Monday after the quarterly results were published. " * 4
    >>> arts = [Article("a", body), Article("b", "LONDON (Reuters) - " + body)]
    >>> res = cluster_articles(arts)
    >>> sorted(report_ids(res, shown=10))
    ['a', 'b']
    >>> out = io.StringIO(); write_html_report(res, {a.id: a for a in arts}, out, facts={"input": "feed.jsonl"})
    >>> "<mark class=\\"match" in out.getvalue(), "http" in out.getvalue().replace("http-equiv", "")
    (True, False)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from dedup.fingerprint import fingerprint_texts
from dedup.minhash import jaccard
from dedup.normalisation import Normaliser, tokens
from dedup.offsets import segments, text_map
from dedup.params import Params
from dedup.refine import confirm
from dedup.types import Article, Cluster, Link

if TYPE_CHECKING:
    from jinja2 import Environment

    from dedup.batch import BatchResult

__all__ = ["MAX_SHOWN", "SHOWN", "explain_pair", "report_ids", "write_html_report"]

#: Clusters shown side by side by default, and at most.
SHOWN, MAX_SHOWN = 1000, 10_000
#: Largest clusters in the summary table; members listed per cluster shown; characters shown per text.
_TOP, _MEMBERS, _TEXT_CHARS = 50, 100, 20_000
#: Cluster-size bins of the histogram: (label, smallest size, largest size).
_BINS = ((str(n), n, n) for n in range(2, 6))
_BINS = (*_BINS, ("6-10", 6, 10), ("11-20", 11, 20), ("21-50", 21, 50), ("51-100", 51, 100),
         ("101-1k", 101, 1000), (">1k", 1001, math.inf))


def _largest(result: BatchResult, n: int) -> list[Cluster]:
    return sorted(result.clusters, key=lambda c: (-len(c.members), c.id))[:n]


def _shown_pair(cluster: Cluster) -> tuple[str, str, Link | None]:
    """The canonical copy and the member shown beside it: its best-scored
    direct link, else the cluster's first link, else the next member."""
    direct = [p for p in cluster.pairs if cluster.canonical in (p.a, p.b)]
    best = max(direct or cluster.pairs, key=lambda p: p.score, default=None)
    if best is None:
        other = next(m for m in cluster.members if m != cluster.canonical)
        return cluster.canonical, other, None
    if cluster.canonical in (best.a, best.b):
        return cluster.canonical, best.b if best.a == cluster.canonical else best.a, best
    return best.a, best.b, best


def report_ids(result: BatchResult, shown: int = SHOWN) -> set[str]:
    """The ids whose texts the side-by-side views need (two per cluster shown)."""
    return {i for c in _largest(result, shown) for i in _shown_pair(c)[:2]}


def explain_pair(a: Article, b: Article, params: Params, normaliser: Normaliser) -> Link | str:
    """Confirm ``a`` against ``b`` again, explained: the link with its
    passages and changed figures (a :class:`~dedup.refine.Verdict` string
    when they no longer pass, e.g. a pair joined through others)."""
    got = fingerprint_texts([a.text, b.text], params, normaliser)
    if len(got.kept) < 2:
        return "rejected"
    words = [tokens(t) for t in got.texts]
    return confirm(a.id, got.words[0], b.id, got.words[1], params, jaccard=jaccard(*got.signatures), explain=True,
                   similarity=0.0, words_a=words[0], words_b=words[1])


def _view(cluster: Cluster, texts: Mapping[str, Article], params: Params, normaliser: Normaliser) -> dict:
    left, right, stored = _shown_pair(cluster)
    a, b = texts.get(left), texts.get(right)
    view = {"left": left, "right": right, "link": stored, "mine": None, "theirs": None, "changed": ()}
    if a is None or b is None:
        return view
    got = explain_pair(a, b, params, normaliser)
    map_a, map_b = text_map(a.text, normaliser), text_map(b.text, normaliser)
    passages = got.passages if isinstance(got, Link) else ()
    view.update(
        mine=_cut(segments(a.text, [map_a.span(p.a_start, p.a_end) for p in passages], map_a.removed)),
        theirs=_cut(segments(b.text, [map_b.span(p.b_start, p.b_end) for p in passages], map_b.removed)),
        changed=got.changed if isinstance(got, Link) else (), title_a=a.title, title_b=b.title,
        source_a=a.source, source_b=b.source, url_a=a.url, url_b=b.url, published_a=a.published, published_b=b.published)
    return view


def _cut(segs: list[tuple[str, str, int]], limit: int = _TEXT_CHARS) -> list[tuple[str, str, int]]:
    """At most ``limit`` characters of a text's segments (a 1 MB text would weigh on the page)."""
    out, n = [], 0
    for kind, run, p in segs:
        if n + len(run) > limit:
            out.append((kind, run[: limit - n], p))
            out.append(("plain", f" [... {sum(len(s[1]) for s in segs) - limit} more characters]", 0))
            break
        out.append((kind, run, p))
        n += len(run)
    return out


def _histogram(sizes: Mapping) -> list[tuple[str, int, float]]:
    """``cluster_sizes`` in bins, each bar's height on a log scale (one cluster of a million stays visible)."""
    counts = [(label, sum(int(v) for k, v in sizes.items() if lo <= int(k) <= hi)) for label, lo, hi in _BINS]
    top = max((c for _, c in counts), default=0)
    return [(label, c, math.log1p(c) / math.log1p(top) if top else 0.0) for label, c in counts]


def _rest_lines(clusters: list[Cluster], skip: set) -> Iterator[str]:
    for c in clusters:
        if c.id not in skip:
            yield f"{c.id} ({len(c.members)}) {c.canonical}: {' '.join(m for m in c.members if m != c.canonical)}\n"


def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, select_autoescape  # only a run that writes a report pays for it

    env = Environment(loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["kinds"] = lambda c: sorted({p.kind for p in c.pairs})
    return env


def write_html_report(result: BatchResult, texts: Mapping[str, Article], out: IO[str], *, facts: Mapping | None = None,
                      shown: int = SHOWN, params: Params | None = None, normaliser: Normaliser | None = None) -> None:
    """Write the report of a batch run to the text file ``out``.

    Args:
        result: what :func:`~dedup.batch.cluster_articles` returned.
        texts: the articles of :func:`report_ids` (others are not read;
            a missing one shows as "text not read").
        facts: what only the caller knows (``input``, ``records_read``,
            ``bad_records``), shown first in the summary.
        shown: clusters shown side by side, largest first (at most :data:`MAX_SHOWN`).
        params, normaliser: those of the run (to explain the pairs shown).

    Raises:
        ValueError: ``shown`` out of ``[0, MAX_SHOWN]``.
    """
    if not 0 <= shown <= MAX_SHOWN:
        raise ValueError(f"shown={shown}: must be in [0, {MAX_SHOWN}]")
    params, normaliser = params or Params(), normaliser or Normaliser()
    report = result.report(**(facts or {}))
    largest = _largest(result, max(shown, _TOP))
    views = ((c, _view(c, texts, params, normaliser)) for c in largest[:shown])
    template = _environment().get_template("report.html")
    css = (Path(__file__).resolve().parent / "templates" / "dedup.css").read_text(encoding="utf-8")
    for chunk in template.generate(
        report=report, facts=facts or {}, css=css, size_bins=_histogram(report.get("cluster_sizes", {})),
        top=largest[:_TOP], views=views, shown=min(shown, len(result.clusters)), members_max=_MEMBERS,
        rest=_rest_lines(result.clusters, {c.id for c in largest[:shown]}),
        n_rest=max(0, len(result.clusters) - shown), rejected=sorted(((k, n) for k, n in (report.get("rejected_pairs") or {}).items() if n),
                                                                      key=lambda kv: -kv[1]),
    ):
        out.write(chunk)
