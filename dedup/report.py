r"""What a batch run writes: the JSON report, the clusters, the deduped dump.

File objects in, nothing opened here (the command line opens the files):

Example:
    >>> import io
    >>> from dedup.batch import cluster_articles
    >>> body = "Shares rose sharply on Monday after the quarterly results were published. " * 4
    >>> res = cluster_articles([{"id": "a", "text": body}, {"id": "b", "text": "LONDON (Reuters) - " + body}])
    >>> out = io.StringIO(); res.write_clusters(out, "csv"); print(*out.getvalue().splitlines(), sep="\n")
    cluster,canonical,member,kind,jaccard,containment,score,latest,changed
    1,a,a,,,,,a,
    1,a,b,exact,1.0000,1.0000,1.0000,a,
    >>> out = io.StringIO(); write_deduped(res, [{"id": "a", "text": body}, {"id": "b", "text": "..."}], out)
    1
    >>> res.report(input="feed.jsonl")["clusters"]
    1
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, replace
from typing import IO, TYPE_CHECKING

from dedup.normalisation import Normaliser, tokens
from dedup.types import Article, content_id

if TYPE_CHECKING:
    from dedup.batch import BatchResult

__all__ = ["CLUSTER_FORMATS", "batch_report", "figure_ids", "name_figures", "write_clusters", "write_deduped"]

CLUSTER_FORMATS = ("jsonl", "csv")
_CSV_HEADER = ["cluster", "canonical", "member", "kind", "jaccard", "containment", "score", "latest", "changed"]
_STATS_REPORTED_AS_FACTS = ("articles", "skipped")  # the report names these itself


def batch_report(result: BatchResult, **run_facts) -> dict:
    """The JSON-ready summary of a batch run.

    Args:
        result: what :func:`~dedup.batch.cluster_articles` returned.
        run_facts: what only the caller knows (``input``, ``records_read``,
            ``bad_records``, ``deduped_written``...), put first.

    Returns:
        ``run_facts``, ``skipped_articles``, ``articles``, every stat of
        ``result.stats`` (counts, timings, params) and ``version``.
    """
    from dedup import __version__

    return {
        **run_facts,
        "skipped_articles": result.n_skipped,
        "articles": result.n_articles,
        **{k: v for k, v in result.stats.items() if k not in _STATS_REPORTED_AS_FACTS},
        "version": __version__,
    }


def write_clusters(result: BatchResult, out: IO[str], fmt: str = "jsonl") -> None:
    """Write ``result.clusters`` to ``out``: ``jsonl`` (``Cluster.to_dict``
    a line) or ``csv`` (a row per member with its strongest link, the
    cluster's latest version and, for an ``update`` link, the figures that
    changed: ``the other's -> this member's``, ``; `` between them).

    Raises:
        ValueError: an unknown ``fmt``.
    """
    if fmt not in CLUSTER_FORMATS:
        raise ValueError(f"format: expected one of {', '.join(CLUSTER_FORMATS)}, got {fmt!r}")
    if fmt == "jsonl":
        for c in result.clusters:
            out.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
        return
    w = csv.writer(out)
    w.writerow(_CSV_HEADER)
    for c in result.clusters:
        best: dict[str, tuple] = {}
        for p in c.pairs:  # each member's strongest link, preferring one to the canonical
            for me, other, cont, mine in ((p.a, p.b, p.containment_ab, 0), (p.b, p.a, p.containment_ba, 1)):
                key = (other == c.canonical, p.score)
                if me not in best or key > best[me][0]:
                    changed = "; ".join(f"{x[1 - mine]} -> {x[mine]}" for x in p.changed)  # theirs -> mine
                    best[me] = (key, p.kind, p.jaccard, cont, p.score, changed)
        for m in c.members:
            _, kind, jac, cont, score, changed = best.get(m, ((), "", "", "", "", ""))
            own = m == c.canonical
            w.writerow([c.id, c.canonical, m, "" if own else kind,
                        *(f"{x:.4f}" if x != "" and not own else "" for x in (jac, cont, score)),
                        c.latest or "", "" if own else changed])


def write_deduped(
    result: BatchResult,
    records: Iterable[Article | Mapping | tuple[str, Mapping]],
    out: IO[str],
    *,
    id_field: str = "id",
    text_field: str = "text",
) -> int:
    """Write the input minus non-canonical copies as JSON Lines; each
    canonical copy gets a ``duplicates`` list of the ids it stands for.

    Args:
        result: what :func:`~dedup.batch.cluster_articles` returned.
        records: the input again, in any of three forms: ``Article``
            (written as its fields), a mapping (its id from ``id_field``,
            or the content hash of ``text_field`` as
            :meth:`Article.from_dict` gives), or an ``(id, mapping)`` pair
            (the id the batch used, the row as read).
        out: a text file.

    Returns:
        How many records were written.
    """
    dups: dict[str, list[str]] = {}
    drop: set[str] = set()
    for c in result.clusters:
        dups[c.canonical] = [m for m in c.members if m != c.canonical]
        drop.update(dups[c.canonical])
    written = 0
    for record in records:
        art_id, row = _id_and_row(record, id_field, text_field)
        if art_id in drop:
            continue
        row.setdefault("id", art_id)
        if art_id in dups:
            row["duplicates"] = dups[art_id]
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
    return written


_OFFSET = re.compile(r"#(\d+)")


def name_figures(
    result: BatchResult,
    records: Iterable[Article | Mapping | tuple[str, Mapping]],
    normaliser: Normaliser | None = None,
    *,
    id_field: str = "id",
    text_field: str = "text",
) -> int:
    """Give the changed figures of ``update`` links their words.

    Batch keeps word ids, not words, so an ``update`` link's ``changed``
    names each figure by its word offset (``#12``). Given the input again
    (the forms :func:`write_deduped` takes) and the run's normaliser, the
    articles on an ``update`` link (only those) are normalised again and
    each offset becomes its word: ``("#12", "#40")`` -> ``("41", "45")``.

    Returns:
        How many links were named (``result.clusters`` is updated in place).
    """
    need = figure_ids(result)
    if not need:
        return 0
    normaliser = normaliser or Normaliser()
    words: dict[str, list[str]] = {}
    for record in records:
        if isinstance(record, Article):  # its text without asdict(): ~50 us a record
            art_id, text = record.id, record.text
        else:
            art_id, row = _id_and_row(record, id_field, text_field)
            text = row.get(text_field)
        if art_id in need and isinstance(text, str):
            words[art_id] = tokens(normaliser(text).lower())
            if len(words) == len(need):  # ids are unique: the rest of the input is not needed
                break
    named = 0
    for n, c in enumerate(result.clusters):
        if not any(_unnamed(p.changed) for p in c.pairs):
            continue
        pairs = []
        for p in c.pairs:
            if _unnamed(p.changed) and (p.a in words or p.b in words):  # a side not read keeps its offsets
                wa, wb = words.get(p.a), words.get(p.b)
                p = replace(p, changed=tuple((_say(x, wa) if wa else x, _say(y, wb) if wb else y) for x, y in p.changed))
                named += 1
            pairs.append(p)
        result.clusters[n] = replace(c, pairs=tuple(pairs))
    return named


def figure_ids(result: BatchResult) -> set[str]:
    """The ids of the articles :func:`name_figures` reads: those on an
    ``update`` link whose figures are still word offsets."""
    return {x for c in result.clusters for p in c.pairs if _unnamed(p.changed) for x in (p.a, p.b)}


def _unnamed(changed: tuple[tuple[str, str], ...]) -> bool:
    return any("#" in side for pair in changed for side in pair)


def _say(side: str, words: list[str]) -> str:
    return _OFFSET.sub(lambda m: words[int(m[1])] if int(m[1]) < len(words) else m[0], side)


def _id_and_row(record, id_field: str, text_field: str) -> tuple[str, dict]:
    if isinstance(record, Article):
        return record.id, {k: v for k, v in asdict(record).items() if v is not None}
    if isinstance(record, tuple):
        art_id, row = record
        return art_id, dict(row)
    raw_id = record.get(id_field)
    if raw_id is None or raw_id == "":
        return content_id(str(record.get(text_field, ""))), dict(record)
    return str(raw_id), dict(record)
