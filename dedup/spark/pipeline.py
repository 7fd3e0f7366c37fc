"""``dedup batch`` on Spark: the same steps, each a Spark stage.

1. **Read**: JSON Lines (plain, gzip or bzip2; a folder or glob of such
   files) with ``textFile``, numbered in input order (``zipWithIndex``).
   Bad lines are reported like ``dedup batch`` reports them; repeated ids
   are found with a shuffle on the id.
2. **Fingerprint** in ``mapPartitions``: chunks of 500 texts through
   :class:`dedup.corpus.FingerprintChunk`, the batch's own worker task
   (normalisation, MinHash, the words refinement aligns).
3. **Candidates**: every ``(band, band hash)`` of :func:`dedup.lsh.band_hashes`
   is a bucket; each bucket's members, in input order, become pairs by the
   batch's own kernel (:data:`dedup.lsh.CROWD`'s rule: a member with fewer
   before it pairs with each, a later one with the first and the one
   before it), made distinct. With ``params.short_in_long``, the
   short-inside-long candidates of :func:`dedup.pairs.containment_candidates`
   too: every ``(position, MinHash value)`` is a key, each key's articles
   give their pairs by :func:`dedup.pairs.run_pairs` (runs over
   :data:`~dedup.index.ROW_KEEP` skipped, the length filter), collisions
   are summed per pair, those :func:`dedup.index.short_in_long` keeps are
   added, minus the LSH pairs. Both are *block shuffles*: a partition sends
   each other partition one block of numpy columns (keys, indices, words)
   instead of one Python record per key (128 per article), and the
   receiver sorts its keys and finds the runs with numpy, as batch does.
4. **Refine**: each pair is joined with both articles' signatures and words
   (the articles are hash-partitioned by index once, after fingerprinting,
   so the two joins shuffle the pairs only) and confirmed by :class:`dedup.pairs.ConfirmPairs` (the estimate
   prefilter, then :func:`dedup.refine.confirm`), over a small
   :class:`~dedup.corpus.Corpus` built per chunk of pairs.
5. **Components** of the confirmed links: large-star / small-star
   (:mod:`dedup.spark.components`).
6. **Cluster**: the links and members of each component are grouped in one
   task and clustered by :func:`dedup.against.story_clusters` (the batch's
   :func:`dedup.cluster.cluster_links` and canonical rule). A component is
   held whole by one task: its links (a bucket of ``n`` identical copies
   gives ``2n`` candidate pairs beyond ``max_bucket``) and members, a few
   hundred bytes each, so a component of a million copies needs a few
   hundred MB in one Python worker. The report gives the largest.
7. **Name** an ``update`` link's changed figures by their words, as
   ``dedup batch`` does (:func:`dedup.report.name_figures`, over the texts
   of the articles on such links only, brought to their cluster by a join).
8. **Write** ``OUTPUT/clusters/`` and ``OUTPUT/deduped/`` (JSON Lines part
   files, in order: concatenated they are what ``dedup batch --clusters``
   and ``--deduped`` write), ``OUTPUT/state/`` (:mod:`dedup.against`) and
   ``OUTPUT/report.json``.

``previous``: a state folder of an earlier run (``dedup batch --state`` or
``dedup spark``): its articles come first, are not fingerprinted again, and
candidates between two of them take the saved links instead of being
refined (see :mod:`dedup.against`).
"""

from __future__ import annotations

import inspect
import io
import json
import math
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from itertools import islice
from types import SimpleNamespace

import numpy as np

from dedup.against import (
    State,
    check_supported,
    links_array,
    load_state,
    read_shard,
    story_clusters,
    write_manifest,
    write_shard,
)
from dedup.corpus import Corpus, FingerprintChunk
from dedup.errors import DedupError, record_place
from dedup.index import short_in_long
from dedup.lsh import _pairs_from_runs, band_hashes, candidate_pairs
from dedup.normalisation import Normaliser
from dedup.pairs import PAIRS_PER_CHUNK, ConfirmPairs, run_pairs
from dedup.params import Params
from dedup.report import _unnamed, name_figures, write_deduped
from dedup.spark.components import MAX_ROUNDS, connected_components
from dedup.types import Article, Cluster

__all__ = ["SparkRun", "run"]

#: The bucket bound of the single-machine batch (``candidate_pairs``'s default), read, not copied.
MAX_BUCKET = inspect.signature(candidate_pairs).parameters["max_bucket"].default
_CHUNK = 500  # texts per FingerprintChunk call, as dedup batch
_BAD_KEPT = 1000


@dataclass(frozen=True)
class SparkRun:
    """What one run needs besides the Spark context."""

    input: str
    output: str
    params: Params
    normaliser: Normaliser
    previous: str | None = None
    id_field: str = "id"
    text_field: str = "text"
    partitions: int | None = None
    max_record_bytes: int = 10_000_000
    max_rounds: int = MAX_ROUNDS


# -- 1. read ----------------------------------------------------------------------------------------------------

def _parse(lines, run: SparkRun, offset: int):
    """``("ok", index, Article, row)`` or ``("bad", locator, reason)`` per line."""
    for raw, n in lines:
        loc = f"line {n + 1}"
        if len(raw) > run.max_record_bytes:
            yield ("bad", loc, f"record is {len(raw)} bytes, over the {run.max_record_bytes}-byte limit")
            continue
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
            row = json.loads(text.removeprefix("\ufeff") if n == 0 else text)
        except UnicodeDecodeError as exc:
            yield ("bad", loc, f"not valid UTF-8 (byte {exc.start + 1})")
            continue
        except (ValueError, RecursionError) as exc:
            yield ("bad", loc, f"broken JSON: {exc}")
            continue
        try:
            article = Article.from_dict(row, id_field=run.id_field, text_field=run.text_field)
        except DedupError as exc:
            yield ("bad", loc, exc.message)
            continue
        explicit = isinstance(row, dict) and row.get(run.id_field) not in (None, "")
        yield ("ok", n + offset, article, row, explicit)


def _renamed(groups) -> list[tuple[int, str | None, str]]:
    """For each id seen more than once: ``(index, new id or None to drop, reason)``
    for every occurrence after the first (an explicit id repeated is a bad
    record; a content-hash id gets ``.2``, ``.3``... as ``dedup batch`` gives)."""
    out = []
    for art_id, seen in groups:
        seen = sorted(seen)
        for k, (idx, explicit, _) in enumerate(seen[1:], start=2):
            if explicit or seen[0][2] is None:  # an explicit id, or one of the earlier run's
                out.append((idx, None, f"duplicate id {art_id!r} (first seen at {seen[0][2] or 'the earlier run'})"))
            else:
                out.append((idx, f"{art_id}.{k}", ""))
    return out


# -- 2. fingerprint ---------------------------------------------------------------------------------------------

def _fingerprint(items, params: Params, normaliser: Normaliser):
    """``("fp", index, (id, published, signature, words))`` or ``("bad", id, reason)``."""
    task = FingerprintChunk(params, normaliser)
    items = iter(items)
    while chunk := list(islice(items, _CHUNK)):
        got = task([a.text for _, a in chunk])
        for i, reason in got.rejected:
            yield ("bad", chunk[i][1].id, reason)
        ends = np.cumsum(got.lengths)
        for k, i in enumerate(got.kept):
            idx, a = chunk[i]
            words = got.code_points[ends[k] - got.lengths[k]: ends[k]]
            yield ("fp", idx, (a.id, _published(a), got.signatures[k].copy(), words.copy()))


def _published(a: Article) -> float | None:
    try:
        return a.published_ts
    except DedupError:
        return None


def _previous_rows(shard_folder: str):
    s = read_shard(shard_folder)
    for k, idx in enumerate(s.index.tolist()):
        p = float(s.published[k])
        yield idx, (s.ids[k], None if math.isnan(p) else p, np.array(s.signatures[k]),
                    np.array(s.words[s.offsets[k]: s.offsets[k + 1]]))


# -- 3. candidates ----------------------------------------------------------------------------------------------

#: A multiplier of Knuth's golden-ratio hashing: spreads keys and pair codes over partitions.
_SPREAD = np.uint64(0x9E3779B97F4A7C15)


def _scatter(dest: np.ndarray, parts: int, *cols: np.ndarray):
    """``(partition, (col[rows bound there], ...))`` per partition some rows go to: a
    shuffle of a few numpy blocks per partition pair instead of one Python record per key."""
    order = np.argsort(dest, kind="stable")
    cuts = np.searchsorted(dest[order], np.arange(parts + 1)).tolist()
    for p in range(parts):
        if cuts[p + 1] > cuts[p]:
            rows = order[cuts[p]: cuts[p + 1]]
            yield p, tuple(c[rows] for c in cols)


def _spread(keys: np.ndarray, parts: int) -> np.ndarray:
    """The partition of each ``uint64`` key (its top bits after a multiplicative hash)."""
    return ((keys.astype(np.uint64) * _SPREAD) >> np.uint64(33)).astype(np.int64) % parts


def _gather(blocks) -> tuple[np.ndarray, ...] | None:
    """The blocks :func:`_scatter` sent to one partition, each column concatenated."""
    blocks = [b for _, b in blocks]
    return tuple(map(np.concatenate, zip(*blocks))) if blocks else None


def _block_shuffle(rdd, parts: int):
    return rdd.partitionBy(parts, lambda p: p)


#: Article indices (input line + an earlier run's count) a pair code holds: two 32-bit halves.
MAX_INDEX = (1 << 32) - 1


def _pair_codes(pairs: np.ndarray) -> np.ndarray:
    """``a << 32 | b`` as ``uint64`` (indices checked by :func:`_signature_rows`)."""
    return (pairs[:, 0].astype(np.uint64) << np.uint64(32)) | pairs[:, 1].astype(np.uint64)


def _code_pairs(codes: np.ndarray):
    return zip((codes >> np.uint64(32)).tolist(), (codes & np.uint64(MAX_INDEX)).tolist())


def _signature_rows(rows):
    """``(index, signatures, lengths)`` of a partition's fingerprints, or ``None``."""
    rows = list(rows)
    if not rows:
        return None
    if max(i for i, _ in rows) > MAX_INDEX:
        raise DedupError(f"dedup spark: more than {MAX_INDEX + 1:,} articles with the earlier runs'; "
                         "start a new state")
    return (np.array([i for i, _ in rows], dtype=np.int64), np.stack([v[2] for _, v in rows]),
            np.array([len(v[3]) for _, v in rows], dtype=np.int64))


def _band_blocks(rows, params: Params, parts: int):
    """Every ``(band, band hash, index)`` of a partition, as blocks bound for the hash's partition."""
    got = _signature_rows(rows)
    if got is None:
        return
    index, sigs, _ = got
    bands, r = params.banding
    hashes = np.concatenate([band_hashes(sigs, band, r) for band in range(bands)])
    band = np.repeat(np.arange(bands, dtype=np.int64), len(index))
    yield from _scatter(_spread(hashes, parts), parts, band, hashes, np.tile(index, bands))


def _bucket_pair_blocks(blocks, parts: int):
    """Each bucket's pairs by the batch's kernel (members in input order), as pair codes bound for
    the partition that makes them distinct."""
    got = _gather(blocks)
    if got is None:
        return
    band, hashes, index = got
    order = np.lexsort((index, hashes, band))
    b, h = band[order], hashes[order]
    runs = np.cumsum(np.r_[True, (b[1:] != b[:-1]) | (h[1:] != h[:-1])]).astype(np.uint64)
    codes = np.unique(_pair_codes(_pairs_from_runs(index[order], runs, MAX_BUCKET)))
    yield from _scatter(_spread(codes, parts), parts, codes)


def _distinct_pairs(blocks):
    got = _gather(blocks)
    if got is not None:
        yield from _code_pairs(np.unique(got[0]))


def _value_blocks(rows, parts: int):
    """Every ``(position << 32 | MinHash value, index, words)`` of a partition, as blocks bound for
    the key's partition."""
    got = _signature_rows(rows)
    if got is None:
        return
    index, sigs, lengths = got
    positions = np.arange(sigs.shape[1], dtype=np.uint64) << np.uint64(32)
    keys = (positions[None, :] | sigs.astype(np.uint64)).ravel()
    n = sigs.shape[1]
    yield from _scatter(_spread(keys, parts), parts, keys, np.repeat(index, n), np.repeat(lengths, n))


def _value_pair_blocks(blocks, params: Params, parts: int):
    """The pairs of :func:`dedup.pairs.run_pairs` inside each run of one key (articles in input
    order), counted here, as ``(pair code, collisions, words_i, words_j)`` blocks bound for the
    partition that sums the pair's collisions."""
    got = _gather(blocks)
    if got is None:
        return
    keys, members, words = got
    order = np.lexsort((members, keys))
    k = keys[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    index, local = np.unique(members, return_inverse=True)  # sorted: local ids keep the input order
    lengths = np.zeros(len(index), np.int64)
    lengths[local] = words
    pairs = run_pairs(local[order].astype(np.int64), starts, np.diff(np.r_[starts, len(k)]), lengths, params)
    codes, first, counts = np.unique(_pair_codes(index[pairs]), return_index=True, return_counts=True)
    yield from _scatter(_spread(codes, parts), parts, codes, counts, lengths[pairs[first, 0]],
                        lengths[pairs[first, 1]])


def _short_in_long_pairs(blocks, params: Params):
    """The pairs whose summed collisions :func:`dedup.index.short_in_long` keeps."""
    got = _gather(blocks)
    if got is None:
        return
    codes, counts, words_a, words_b = got
    unique, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    collisions = np.bincount(inverse, weights=counts).astype(np.int64)
    yield from _code_pairs(unique[short_in_long(collisions, words_a[first], words_b[first], params)])


def _lsh_candidates(fp, params: Params, parts: int):
    """:func:`dedup.lsh.candidate_pairs` as two block shuffles: by band hash, then by pair."""
    buckets = _block_shuffle(fp.mapPartitions(partial(_band_blocks, params=params, parts=parts)), parts)
    return _block_shuffle(buckets.mapPartitions(partial(_bucket_pair_blocks, parts=parts)), parts).mapPartitions(
        _distinct_pairs)


def _containment_candidates(fp, lsh_pairs, params: Params, parts: int):
    """:func:`dedup.pairs.containment_candidates` as two block shuffles (by ``(position, MinHash
    value)``, then by pair): pairs ``(a, b)`` not in ``lsh_pairs``."""
    runs = _block_shuffle(fp.mapPartitions(partial(_value_blocks, parts=parts)), parts)
    counted = _block_shuffle(runs.mapPartitions(partial(_value_pair_blocks, params=params, parts=parts)), parts)
    return counted.mapPartitions(partial(_short_in_long_pairs, params=params)).subtract(lsh_pairs, parts)


# -- 4. refine --------------------------------------------------------------------------------------------------

def _confirm(rows, params: Params):
    """``("link", PairLink)`` per confirmed pair, ``("rejected", counts)`` per chunk."""
    rows = iter(rows)
    while chunk := list(islice(rows, PAIRS_PER_CHUNK)):
        data = {}
        for b, ((a, fa), fb) in chunk:
            data[a], data[b] = fa, fb
        nodes = sorted(data)
        local = {g: i for i, g in enumerate(nodes)}
        lengths = np.array([len(data[g][1]) for g in nodes], dtype=np.int64)
        corpus = Corpus([str(g) for g in nodes], [data[g][2] for g in nodes], np.stack([data[g][0] for g in nodes]),
                        np.concatenate([data[g][1] for g in nodes]), np.concatenate([[0], np.cumsum(lengths)]),
                        np.empty(0, np.uint32), np.zeros(len(nodes) + 1, np.int64))
        pairs = np.array(sorted((local[a], local[b]) for b, ((a, _), _) in chunk), dtype=np.int64)
        links, rejected = ConfirmPairs(corpus, params)(pairs)
        for p in links:
            yield ("link", p._replace(a=nodes[p.a], b=nodes[p.b]))
        yield ("rejected", dict(rejected))


# -- 6. cluster -------------------------------------------------------------------------------------------------

def _cluster_component(item):
    _, (links, members) = item
    members = list(members)
    lengths = {i: n for i, _, n, _ in members}
    published = {i: p for i, _, _, p in members}
    ids = {i: art_id for i, art_id, _, _ in members}
    made, dropped = story_clusters(list(links), lengths, published, ids)
    yield ("component", len(members), dropped)
    for canon, cluster in made:
        yield ("cluster", canon, cluster)


def _unnamed_ids(c: Cluster):
    """``(article id, cluster id)`` of each article on an ``update`` link whose figures are word offsets."""
    for x in sorted({x for p in c.pairs if _unnamed(p.changed) for x in (p.a, p.b)}):
        yield x, c.id


def _name(item, normaliser: Normaliser) -> tuple[int, Cluster]:
    """One cluster with its update links' figures named from ``texts`` (``(id, text)``), as batch names them."""
    cid, (clusters, texts) = item
    result = SimpleNamespace(clusters=list(clusters))
    texts = list(texts)
    if texts:
        name_figures(result, [(art_id, {"text": text}) for art_id, text in texts], normaliser)
    return cid, result.clusters[0]


def _named(clusters, articles, normaliser: Normaliser, parts: int):
    """``clusters`` (numbered, in order) whose ``update`` links name their changed figures by words."""
    need = clusters.flatMap(_unnamed_ids)
    if need.isEmpty():
        return clusters
    texts = articles.map(lambda kv: (kv[1].id, kv[1].text)).join(need, parts).map(
        lambda kv: (kv[1][1], (kv[0], kv[1][0])))
    return (clusters.map(lambda c: (c.id, c)).cogroup(texts, parts).map(partial(_name, normaliser=normaliser))
            .sortByKey(numPartitions=parts).values().cache())


def _deduped_lines(rows):
    """A record's line as ``write_deduped`` writes it, or nothing for a non-canonical copy."""
    for _, ((art_id, row), note) in rows:
        if note == "drop":
            continue
        clusters = [Cluster(0, art_id, (art_id, *note))] if note else []
        out = io.StringIO()
        write_deduped(SimpleNamespace(clusters=clusters), [(art_id, row)], out)
        yield out.getvalue().rstrip("\n")


def _notes(c: Cluster) -> list:
    """``(id, note)`` per member: the canonical copy's duplicates, or ``drop``."""
    dups = [m for m in c.members if m != c.canonical]
    return [(c.canonical, dups)] + [(m, "drop") for m in dups]


# -- the run ----------------------------------------------------------------------------------------------------

def run(sc, job: SparkRun) -> dict:
    """Run the pipeline on the Spark context ``sc``; returns the report (also in ``OUTPUT/report.json``).

    Raises:
        DedupError: no article could be read, a bad earlier state, or
            components that did not converge.
    """
    from pyspark import StorageLevel

    disk = StorageLevel.MEMORY_AND_DISK
    params, started, seconds = job.params, time.perf_counter(), {}

    def lap(name: str) -> None:
        seconds[name] = round(time.perf_counter() - started - sum(seconds.values()), 3)

    check_supported(params, short_in_long=True)  # its candidates: stage 3
    state = load_state(job.previous, params, job.normaliser) if job.previous else None
    offset = _next_index(state)
    os.makedirs(job.output, exist_ok=True)
    lines = sc.textFile(job.input, minPartitions=job.partitions, use_unicode=False).zipWithIndex()
    parts = max(lines.getNumPartitions(), sc.defaultParallelism)  # every shuffle's partitions: unions must not add up
    parsed = lines.mapPartitions(partial(_parse, run=job, offset=offset)).persist(disk)
    bad = parsed.filter(lambda r: r[0] == "bad").map(lambda r: (r[1], r[2]))
    ok = parsed.filter(lambda r: r[0] == "ok")
    seen = ok.map(lambda r: (r[2].id, (r[1], r[4], f"line {r[1] - offset + 1}")))
    if state is not None:
        seen = seen.union(sc.parallelize(state.shards, max(len(state.shards), 1))
                          .flatMap(lambda s: [(i, (-1, True, None)) for i in read_shard(s).ids]))
    repeated = _renamed(seen.groupByKey(parts).filter(lambda kv: len(kv[1]) > 1).mapValues(list).collect())
    renames = sc.broadcast({idx: new for idx, new, _ in repeated})
    articles = ok.map(lambda r: (r[1], r[2])).filter(lambda kv: renames.value.get(kv[0], "") is not None).map(
        lambda kv: (kv[0], _with_id(kv[1], renames.value.get(kv[0]))))
    tagged = articles.mapPartitions(partial(_fingerprint, params=params, normaliser=job.normaliser)).persist(disk)
    new_fp = tagged.filter(lambda r: r[0] == "fp").map(lambda r: (r[1], r[2]))
    fp = new_fp if state is None else new_fp.union(
        sc.parallelize(state.shards, max(len(state.shards), 1)).flatMap(_previous_rows))
    # hash-partitioned by index: the refinement's two joins with its signatures and words then shuffle only
    # the pairs (a join is a union and a groupByKey, which moves nothing already partitioned alike)
    fp = fp.partitionBy(parts).persist(disk)
    n_articles, n_new = fp.count(), new_fp.count()
    lap("read_and_fingerprint")
    if n_new == 0:
        raise DedupError(f"no article could be read from {job.input}")

    pairs = _lsh_candidates(fp, params, parts).cache()
    n_short_in_long = 0
    if params.short_in_long:
        extra = _containment_candidates(fp, pairs, params, parts).cache()
        n_short_in_long = extra.count()
        pairs = pairs.union(extra).coalesce(parts).cache()
    n_pairs = pairs.count()
    lap("candidates")

    earlier = pairs.filter(lambda p: p[1] < offset)
    kept_old, again = sc.parallelize([]), sc.parallelize([])
    if state is not None:
        saved = sc.parallelize(state.links_files, max(len(state.links_files), 1)).flatMap(_saved_links)
        kept = earlier.map(lambda p: (p, None)).join(saved.map(lambda p: ((p.a, p.b), p)), parts).map(lambda kv: kv[1][1])
        kept_old = kept.filter(lambda p: p.kind != "update")  # saved updates are confirmed again, as batch does
        again = kept.filter(lambda p: p.kind == "update").map(lambda p: (p.a, p.b))
    slim = fp.mapValues(lambda v: (v[2], v[3], v[1]))  # signature, words, published (editions)
    confirmed_tagged = (pairs.filter(lambda p: p[1] >= offset).union(again).partitionBy(parts).join(slim, parts)
                        .map(lambda kv: (kv[1][0], (kv[0], kv[1][1]))).partitionBy(parts)
                        .join(slim, parts).mapPartitions(partial(_confirm, params=params)).cache())
    links = confirmed_tagged.filter(lambda r: r[0] == "link").map(lambda r: r[1]).union(kept_old).coalesce(parts).cache()
    rejected = Counter()
    for counts in confirmed_tagged.filter(lambda r: r[0] == "rejected").map(lambda r: r[1]).collect():
        rejected.update(counts)
    n_links = links.count()
    lap("refine")

    comp, rounds = connected_components(links.map(lambda p: (p.a, p.b)), parts, job.max_rounds)
    comp = comp.cache()
    lap("components")
    members = comp.join(fp.mapValues(lambda v: (v[0], len(v[3]), v[1])), parts).map(
        lambda kv: (kv[1][0], (kv[0], kv[1][1])))
    by_comp = links.map(lambda p: (p.a, p)).join(comp, parts).map(lambda kv: (kv[1][1], kv[1][0]))
    made = by_comp.cogroup(members.mapValues(lambda m: (m[0], *m[1])), parts).flatMap(_cluster_component).cache()
    n_components, largest, n_dropped = (made.filter(lambda r: r[0] == "component").map(lambda r: (1, r[1], r[2]))
                                        .fold((0, 0, 0), lambda x, y: (x[0] + y[0], max(x[1], y[1]), x[2] + y[2])))
    clusters = (made.filter(lambda r: r[0] == "cluster").map(lambda r: (r[1], r[2])).sortByKey(numPartitions=parts)
                .zipWithIndex().map(lambda kv: Cluster(kv[1] + 1, *_rest(kv[0][1]))).cache())
    stats = _cluster_stats(clusters)
    clusters = _named(clusters, articles, job.normaliser, parts)
    lap("cluster")

    _save_text(clusters.map(lambda c: json.dumps(c.to_dict(), ensure_ascii=False)), job.output, "clusters")
    index_of = comp.join(fp.mapValues(lambda v: v[0]), parts).map(lambda kv: (kv[1][1], kv[0]))
    notes = clusters.flatMap(_notes).join(index_of, parts).map(lambda kv: (kv[1][1], kv[1][0]))
    skipped = set(tagged.filter(lambda r: r[0] == "bad").map(lambda r: r[1]).collect())
    rows = ok.map(lambda r: (r[1], (_with_id(r[2], renames.value.get(r[1])).id, r[3]))).filter(
        lambda kv: renames.value.get(kv[0], "") is not None and kv[1][0] not in skipped)
    deduped = rows.leftOuterJoin(notes, parts).sortByKey(numPartitions=parts).mapPartitions(_deduped_lines)
    _save_text(deduped, job.output, "deduped")
    lap("write")
    _save_state(sc, job, state, new_fp, links, n_articles, n_links, parts)
    lap("state")

    dropped_ids = [(f"line {i - offset + 1}", why) for i, new, why in repeated if new is None]
    examples = (bad.take(_BAD_KEPT) + dropped_ids  # places as every bad-record message names them
                + tagged.filter(lambda r: r[0] == "bad").map(lambda r: (record_place(None, r[1]), r[2])).take(_BAD_KEPT))
    report = {
        "input": job.input, "output": job.output, "against": job.previous, "articles": n_articles,
        "new_articles": n_new, "bad_records": bad.count() + len(dropped_ids) + len(skipped),
        "bad_examples": [list(b) for b in examples[:_BAD_KEPT]],
        "candidate_pairs": n_pairs, "short_in_long_candidates": n_short_in_long, "confirmed_pairs": n_links, "rejected_pairs": dict(rejected),
        "links_dropped_by_compilation_guard": n_dropped, **stats,
        "components": n_components, "largest_component": largest,
        "component_rounds": rounds, "seconds": {**seconds, "total": round(time.perf_counter() - started, 3)},
        "params": params.to_dict(), "max_bucket": MAX_BUCKET, "partitions": lines.getNumPartitions(),
    }
    with open(os.path.join(job.output, "report.json"), "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
    return report


def _rest(c: Cluster) -> tuple:
    return c.canonical, c.members, c.pairs, c.latest


def _with_id(a: Article, new_id: str | None) -> Article:
    return a if new_id is None else Article(new_id, a.text, a.title, a.url, a.source, a.published)


def _saved_links(path: str):
    from dedup.against import links_of

    return links_of(np.load(path))


def _next_index(state: State | None) -> int:
    """The first index after the earlier run's articles (0 without one)."""
    if state is None:
        return 0
    last = [read_shard(s).index for s in state.shards]
    return max((int(x[-1]) for x in last if len(x)), default=-1) + 1


def _cluster_stats(clusters) -> dict:
    sizes = Counter(clusters.map(lambda c: len(c.members)).countByValue())
    return {"clusters": sum(sizes.values()), "duplicates": sum((k - 1) * v for k, v in sizes.items()),
            "cluster_sizes": {int(k): v for k, v in sorted(sizes.items())}}


def _save_text(rdd, output: str, name: str) -> None:
    path = os.path.join(output, name)
    if os.path.exists(path):
        shutil.rmtree(path)
    rdd.saveAsTextFile(path)


def _write_shards(part: int, rows, folder: str, first: int):
    rows = list(rows)
    if rows:
        words = [v[3] for _, v in rows]
        write_shard(os.path.join(folder, f"shard-{first + part:05d}"), np.array([i for i, _ in rows]),
                    [v[0] for _, v in rows], [v[1] for _, v in rows], np.stack([v[2] for _, v in rows]),
                    np.concatenate([[0], np.cumsum([len(w) for w in words])]), np.concatenate(words))
    yield len(rows)


def _write_links(part: int, links, folder: str):
    links = list(links)
    np.save(os.path.join(folder, f"links-{part:05d}.npy"), links_array(links))
    yield len(links)


def _save_state(sc, job: SparkRun, state: State | None, new_fp, links, n_articles: int, n_links: int,
                parts: int) -> None:
    """``OUTPUT/state``: the earlier shards copied, a shard per partition of the new articles, the links."""
    folder = os.path.join(job.output, "state")
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    first = 0
    for first, shard in enumerate(state.shards if state else [], start=1):
        shutil.copytree(shard, os.path.join(folder, f"shard-{first - 1:05d}"))
    new_fp.sortByKey(numPartitions=parts).mapPartitionsWithIndex(partial(_write_shards, folder=folder, first=first)).count()
    links.mapPartitionsWithIndex(partial(_write_links, folder=folder)).count()
    write_manifest(folder, job.params, job.normaliser, n_articles, n_links)
