"""Incremental runs: a new dump deduplicated against an earlier run's saved state.

A run that saves its **state** (``dedup batch --state DIR``, and every
``dedup spark`` run, in ``OUTPUT/state``) writes what a later run needs so
that it never fingerprints or refines the earlier articles again: their
signatures, their normalised words (refinement aligns them against the new
articles'), their dates and the links the earlier run confirmed.

State format (a folder; numpy ``.npy`` files, readable with ``numpy.load``,
memory-mapped when read back):

* ``manifest.json``: ``{"format": "dedup-state/2", "params": Params.to_dict(),
  "boilerplate": [...], "articles": n, "links": m, "shards": [...], "links_files": [...]}``,
  written last: a folder without it is an incomplete state and is refused.
* ``shard-NNNNN/`` (one for ``dedup batch``, one per partition for Spark),
  articles in input order: ``index.npy`` (int64: the article's position in
  input order over all shards, ascending, maybe with gaps), ``ids.json``
  (the ids, a JSON list), ``published.npy`` (float64 seconds since the
  epoch, NaN for none), ``signatures.npy`` (uint32 ``[n, num_perm]``),
  ``offsets.npy`` (int64 ``[n + 1]``) and ``words.npy`` (uint32: the
  normalised words as :func:`dedup.refine.code_points` gives them, article
  ``i``'s are ``words[offsets[i]:offsets[i+1]]``).
* ``links-NNNNN.npy``: the confirmed links, a structured array of
  :data:`LINK_DTYPE` (``a < b`` are ``index`` values; ``span`` is
  ``(-1, -1)`` when there is none).

How a run against a state gives the same clusters as one run over the
earlier input followed by the new one: the LSH candidates are recomputed
over all signatures (:func:`dedup.lsh.candidate_pairs`, cheap beside
refinement: a sort per band), the candidates between two earlier articles
are looked up among the saved links (a bucket that grows past the
single-machine bound keeps a subset of its pairs, never new ones, because
earlier articles come first), the others are refined
(:class:`dedup.pairs.ConfirmPairs`), and the clustering policy
(:func:`dedup.cluster.cluster_links`) is applied to all links again: its
guards (a shorter text joins one story, compilations merge nothing) may
undo an earlier merge when a new article arrives, exactly as the one-run
batch would decide. What differs from one run over A then B: a new record
whose id is an earlier one's is a bad record (``duplicate id``) even when
its id was a content hash (one run would suffix it ``.2``).
Short-inside-long candidates (``Params.short_in_long``) come, as in one
run, from all signatures and lengths (:func:`dedup.pairs.containment_candidates`).
``Params.reuse`` is refused: its candidates come from the whole corpus's
shingles, which the state does not keep.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dedup.batch import BatchResult
from dedup.cluster import canonical_index, cluster_links, latest_version
from dedup.corpus import Corpus, Skips, as_articles, fingerprint_corpus
from dedup.errors import DedupError, InvalidParams
from dedup.normalisation import Normaliser
from dedup.pairs import ConfirmPairs, PairLink, all_candidates, confirm_all
from dedup.params import Params
from dedup.spool import Spool
from dedup.types import Article, Cluster

__all__ = ["FORMAT", "LINK_DTYPE", "State", "StateError", "check_supported", "cluster_against", "links_array",
           "links_of", "load_state", "number_clusters", "story_clusters", "write_manifest", "write_shard"]

#: 2: candidates by the crowded-bucket rule (dedup.lsh.CROWD); a state of 1
#: holds links found by another rule, so it is refused.
FORMAT = "dedup-state/2"
LINK_DTYPE = np.dtype([("a", "<i8"), ("b", "<i8"), ("kind", "<U9"), ("jaccard", "<f8"), ("containment_ab", "<f8"),
                       ("containment_ba", "<f8"), ("score", "<f8"), ("span", "<i8", (2,))])


class StateError(DedupError):
    """A saved state that cannot be used: missing, incomplete, or made with other parameters."""

    code = "bad_state"


def check_supported(params: Params, *, short_in_long: bool = False) -> None:
    """Refuse the options whose candidates a state (or Spark) cannot give
    (``short_in_long``: the caller proposes those candidates itself).

    Raises:
        InvalidParams: ``reuse`` is set, or ``short_in_long`` is and the caller cannot propose them.
    """
    for name in ("reuse",) if short_in_long else ("short_in_long", "reuse"):
        if getattr(params, name) not in (False, None):
            raise InvalidParams(f"{name}: not supported by dedup spark, nor by dedup batch with --state or "
                                "--against (its candidates come from every text's shingles at once); "
                                "use dedup batch without them")


# -- the state on disk ------------------------------------------------------------------------------------------

def links_array(links: Iterable[PairLink]) -> np.ndarray:
    """Links as a :data:`LINK_DTYPE` array (what a ``links-NNNNN.npy`` holds)."""
    rows = [(p.a, p.b, p.kind, p.jaccard, p.containment_ab, p.containment_ba, p.score,
             p.span if p.span is not None else (-1, -1)) for p in links]
    return np.array(rows, dtype=LINK_DTYPE)


def links_of(array: np.ndarray) -> list[PairLink]:
    """The :class:`PairLink` s of a :data:`LINK_DTYPE` array."""
    return [PairLink(int(r["a"]), int(r["b"]), str(r["kind"]), float(r["jaccard"]), float(r["containment_ab"]),
                     float(r["containment_ba"]), float(r["score"]),
                     None if r["span"][0] < 0 else (int(r["span"][0]), int(r["span"][1]))) for r in array]


def write_shard(folder: str, index: np.ndarray, ids: Sequence[str], published: Sequence[float | None],
                signatures: np.ndarray, offsets: np.ndarray, words: np.ndarray) -> None:
    """Write one ``shard-NNNNN`` folder (see the module docstring)."""
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "index.npy"), np.asarray(index, dtype=np.int64))
    with open(os.path.join(folder, "ids.json"), "w", encoding="utf-8") as out:
        json.dump(list(ids), out, ensure_ascii=False)
    np.save(os.path.join(folder, "published.npy"),
            np.array([np.nan if p is None else p for p in published], dtype=np.float64))
    np.save(os.path.join(folder, "signatures.npy"), np.asarray(signatures, dtype=np.uint32))
    np.save(os.path.join(folder, "offsets.npy"), np.asarray(offsets, dtype=np.int64))
    np.save(os.path.join(folder, "words.npy"), np.asarray(words, dtype=np.uint32))


def write_manifest(folder: str, params: Params, normaliser: Normaliser, articles: int, links: int) -> None:
    """Write ``manifest.json`` last, naming every shard and links file found in ``folder``."""
    names = sorted(os.listdir(folder))
    manifest = {"format": FORMAT, "params": params.to_dict(), "boilerplate": list(normaliser.boilerplate),
                "articles": articles, "links": links, "shards": [n for n in names if n.startswith("shard-")],
                "links_files": [n for n in names if n.startswith("links-") and n.endswith(".npy")]}
    with open(os.path.join(folder, "manifest.json"), "w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=2)


@dataclass
class Shard:
    """One shard read back (arrays memory-mapped)."""

    index: np.ndarray
    ids: list[str]
    published: np.ndarray
    signatures: np.ndarray
    offsets: np.ndarray
    words: np.ndarray


def read_shard(folder: str) -> Shard:
    """Read a ``shard-NNNNN`` folder."""
    def arr(name: str) -> np.ndarray:
        return np.load(os.path.join(folder, name), mmap_mode="r")

    with open(os.path.join(folder, "ids.json"), encoding="utf-8") as fh:
        ids = json.load(fh)
    return Shard(arr("index.npy"), ids, arr("published.npy"), arr("signatures.npy"), arr("offsets.npy"),
                 arr("words.npy"))


@dataclass
class State:
    """An earlier run's saved state: its folder and manifest."""

    folder: str
    manifest: dict

    @property
    def shards(self) -> list[str]:
        return [os.path.join(self.folder, s) for s in self.manifest["shards"]]

    @property
    def links_files(self) -> list[str]:
        return [os.path.join(self.folder, s) for s in self.manifest["links_files"]]

    def links(self) -> list[PairLink]:
        """Every saved link."""
        return [p for f in self.links_files for p in links_of(np.load(f))]


def load_state(folder: str, params: Params, normaliser: Normaliser) -> State:
    """Open a saved state, checking it was made with the same parameters and boilerplate.

    Raises:
        StateError: no manifest, another format, other parameters.
    """
    path = os.path.join(folder, "manifest.json")
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as exc:
        raise StateError(f"{folder}: not a complete saved state (cannot read manifest.json: {exc})") from None
    if manifest.get("format") != FORMAT:
        raise StateError(f"{folder}: format {manifest.get('format')!r}, expected {FORMAT!r} (saved by another "
                         "version: run the batch with --state again to save a state this version can read)")
    if manifest["params"] != params.to_dict():
        differ = sorted(k for k, v in params.to_dict().items() if manifest["params"].get(k) != v)
        raise StateError(f"{folder} was made with other parameters ({', '.join(differ)}): "
                         "signatures and links would not be comparable")
    if manifest["boilerplate"] != list(normaliser.boilerplate):
        raise StateError(f"{folder} was made with other --boilerplate patterns")
    return State(folder, manifest)


# -- the clustering policy over confirmed links -----------------------------------------------------------------

def story_clusters(links: Sequence[PairLink], lengths: Mapping[int, int], published: Mapping[int, float | None],
                   ids: Mapping[int, str]) -> tuple[list[tuple[int, Cluster]], int]:
    """The clusters ``dedup batch`` makes of ``links`` (articles numbered in
    input order, any increasing numbering): :func:`dedup.cluster.cluster_links`
    over the links in ``(a, b)`` order, the canonical copy by
    :func:`dedup.cluster.canonical_index`. Used on a whole corpus (incremental
    runs) and on one connected component (Spark): the policy never looks
    beyond the links' component.

    Returns:
        ``([(canonical position, Cluster numbered 0)], links dropped by the guards)``.
    """
    links = sorted(links)
    nodes = sorted({x for p in links for x in (p.a, p.b)})
    local = {g: i for i, g in enumerate(nodes)}
    groups, dropped = cluster_links(len(nodes), ((local[p.a], local[p.b], p.kind, p.span, p.score) for p in links),
                                    [lengths[g] for g in nodes])
    group_of = {nodes[i]: n for n, g in enumerate(groups) for i in g}
    pairs: list[list[PairLink]] = [[] for _ in groups]
    for p in links:
        n = group_of.get(p.a)
        if n is not None and n == group_of.get(p.b):
            pairs[n].append(p)
    out = []
    for n, g in enumerate(groups):
        members = [nodes[i] for i in g]
        canon = canonical_index(members, published, lengths)
        latest = latest_version(canon, pairs[n], {m: (published[m], m) for m in members})
        out.append((canon, Cluster(0, ids[canon], tuple(ids[m] for m in members), tuple(p.link(ids) for p in pairs[n]),
                                   ids[latest])))
    return out, len(dropped)


def number_clusters(made: Iterable[tuple[int, Cluster]]) -> list[Cluster]:
    """Clusters numbered from 1 in input order of their canonical copy, as ``dedup batch`` numbers them."""
    return [dataclasses.replace(c, id=k) for k, (_, c) in enumerate(sorted(made, key=lambda x: x[0]), 1)]


# -- a single-machine run against a state ----------------------------------------------------------------------

def cluster_against(
    articles: Iterable[Article | Mapping],
    params: Params | None = None,
    *,
    previous: str | None = None,
    save: str | None = None,
    jobs: int = 1,
    normaliser: Normaliser | None = None,
    on_skip: Callable[[str, str], None] | None = None,
    chunk_size: int = 500,
) -> BatchResult:
    """Cluster ``articles`` after the articles of the earlier run saved in
    ``previous`` (none: a first run), and save the state of both in ``save``.

    The clusters are those :func:`dedup.batch.cluster_articles` gives for the
    earlier input followed by ``articles`` (see the module docstring for
    the one exception); the earlier articles are neither fingerprinted nor
    refined again.

    Raises:
        StateError: ``previous`` is not a usable state.
        InvalidParams: ``Params.reuse`` is set.
    """
    params = params or Params()
    normaliser = normaliser or Normaliser()
    check_supported(params, short_in_long=True)
    jobs = jobs or os.cpu_count() or 1
    state = load_state(previous, params, normaliser) if previous else None
    if state and save and os.path.abspath(save) == os.path.abspath(previous):
        raise StateError(f"{save}: the new state cannot overwrite the earlier one it is read from")
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    skips = Skips(on_skip)
    repeated = Skips(on_skip)  # ids of the earlier run: bad records, as a repeated id within one input is
    old = _Earlier(state)
    new = fingerprint_corpus(old.filter(as_articles(articles, skips), repeated), params, normaliser,
                             jobs=jobs, chunk_size=chunk_size, skip=skips)
    seconds["fingerprint"] = time.perf_counter() - started
    with _joined(old, new, params) as corpus:
        pairs, _ = all_candidates(corpus, params)  # over all signatures and lengths, as one run
        earlier = pairs.max(axis=1) < old.n
        kept_old = old.links_among(pairs[earlier])
        # saved updates are confirmed again: a state keeps no changed figures, and the editions
        # rule (dedup.editions) may refuse a link an earlier run saved
        again = np.array([(p.a, p.b) for p in kept_old if p.kind == "update"], dtype=np.int64).reshape(-1, 2)
        kept_old = [p for p in kept_old if p.kind != "update"]
        seconds["candidates"] = time.perf_counter() - started - sum(seconds.values())
        fresh, rejected = confirm_all(np.concatenate([pairs[~earlier], again]), ConfirmPairs(corpus, params), jobs)
        seconds["refine"] = time.perf_counter() - started - sum(seconds.values())
        confirmed = sorted(kept_old + fresh)
        n = len(corpus)
        made, dropped = story_clusters(confirmed, _Lookup(corpus.lengths), corpus.published, corpus.ids)
        clusters = number_clusters(made)
        if save:
            old.save(save, new, confirmed, params, normaliser)
        seconds["cluster"] = time.perf_counter() - started - sum(seconds.values())
    seconds = {k: round(v, 3) for k, v in seconds.items()} | {"total": round(time.perf_counter() - started, 3)}
    stats = {"articles": n, "new_articles": len(new), "earlier_articles": old.n, "skipped": skips.count,
             "ids_of_the_earlier_run": repeated.count,
             "candidate_pairs": len(pairs), "earlier_candidate_pairs": int(earlier.sum()),
             "earlier_links_kept": len(kept_old), "earlier_updates_confirmed_again": len(again),
             "confirmed_pairs": len(confirmed), "rejected_pairs": dict(rejected),
             "links_dropped_by_compilation_guard": dropped, "clusters": len(clusters),
             "duplicates": sum(len(c.members) - 1 for c in clusters),
             "cluster_sizes": dict(sorted(Counter(len(c.members) for c in clusters).items())),
             "seconds": seconds, "params": params.to_dict(), "jobs": jobs, "against": previous}
    return BatchResult(clusters, n, skips.first, skips.count, stats)


class _Lookup:
    """``lengths[i]`` as Python ints, for the clustering policy."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __getitem__(self, i: int) -> int:
        return int(self.array[i])


class _Earlier:
    """The earlier run's articles, renumbered ``0..n-1`` in their saved order."""

    def __init__(self, state: State | None) -> None:
        self.state = state
        self.shards = [read_shard(s) for s in state.shards] if state else []
        self.ids = [i for s in self.shards for i in s.ids]
        self.n = len(self.ids)
        self.index = np.concatenate([s.index for s in self.shards]) if self.shards else np.empty(0, np.int64)

    def filter(self, articles: Iterable[Article], skip: Callable[[str, str], None]) -> Iterator[Article]:
        """``articles`` minus those whose id an earlier article has (reported as bad records)."""
        seen = set(self.ids)
        for a in articles:
            if a.id in seen:
                skip(a.id, f"duplicate id {a.id!r} (an article of the earlier run {self.state.folder})")
            else:
                yield a

    def links_among(self, pairs: np.ndarray) -> list[PairLink]:
        """The saved links (renumbered) that are among the candidate ``pairs`` of earlier articles."""
        if self.state is None or len(pairs) == 0:
            return []
        links = [p._replace(a=int(a), b=int(b)) for p in self.state.links()
                 for a, b in [np.searchsorted(self.index, (p.a, p.b))]]
        n = np.int64(max(self.n, 1))
        wanted = set((pairs[:, 0] * n + pairs[:, 1]).tolist())
        return [p for p in links if p.a * int(n) + p.b in wanted]

    def save(self, folder: str, new: Corpus, links: list[PairLink], params: Params, normaliser: Normaliser) -> None:
        """Write the state of the earlier articles, the new ones and all ``links`` (by position) to ``folder``."""
        os.makedirs(folder, exist_ok=True)
        if os.path.exists(os.path.join(folder, "manifest.json")):
            os.unlink(os.path.join(folder, "manifest.json"))  # incomplete until rewritten
        k = 0
        for k, s in enumerate(self.shards):
            write_shard(os.path.join(folder, f"shard-{k:05d}"), np.arange(len(s.ids)) + _start(self.shards, k),
                        s.ids, s.published, s.signatures, s.offsets, s.words)
        k = len(self.shards)
        write_shard(os.path.join(folder, f"shard-{k:05d}"), np.arange(len(new)) + self.n, new.ids, new.published,
                    new.signatures, new.offsets, new.words)
        np.save(os.path.join(folder, "links-00000.npy"), links_array(links))
        write_manifest(folder, params, normaliser, self.n + len(new), len(links))


def _dates(published: np.ndarray) -> list[float | None]:
    """Saved dates (NaN: none) as the corpus holds them."""
    return [None if math.isnan(p) else p for p in published.tolist()]


def _start(shards: Sequence[Shard], k: int) -> int:
    return sum(len(s.ids) for s in shards[:k])


class _joined:
    """The earlier articles then the new ones as one :class:`Corpus` (arrays
    spooled to temporary files: bounded private memory)."""

    def __init__(self, old: _Earlier, new: Corpus, params: Params) -> None:
        self.old, self.new, self.params = old, new, params
        self.spools: list[Spool] = []

    def __enter__(self) -> Corpus:
        old, new = self.old, self.new
        if not old.shards:
            return new
        sigs, words = Spool(), Spool()
        self.spools = [sigs, words]
        offsets = [np.zeros(1, np.int64)]
        published: list[float | None] = []
        for s in old.shards + [new]:
            sigs.write(s.signatures)
            words.write(s.words)
            offsets.append(offsets[-1][-1] + np.asarray(s.offsets[1:], dtype=np.int64))
            published += _dates(s.published) if isinstance(s, Shard) else list(s.published)
        flat = np.concatenate(offsets)
        n = old.n + len(new)
        return Corpus(old.ids + new.ids, published, sigs.finish((n, self.params.num_perm)),
                      words.finish((int(flat[-1]),)), flat, np.empty(0, np.uint32), np.zeros(n + 1, np.int64))

    def __exit__(self, *exc) -> None:
        for s in self.spools:
            s.close()
