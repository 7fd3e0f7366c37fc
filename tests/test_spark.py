"""``dedup spark`` on ``local[2]`` gives what ``dedup batch`` gives, and its state works both ways.

Slow (a JVM and a dozen Spark jobs per run); skipped when pyspark or Java
is missing. CI installs the ``spark`` extra with ``test`` and runs these.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.against import cluster_against
from dedup.cli import cli

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("no Java for Spark", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).parent))
from edit_kinds import lead_of_longest
from test_against import generated_set

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def sc():
    old = {k: os.environ.get(k) for k in ("SPARK_LOCAL_IP", "PYSPARK_PYTHON")}
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable  # PySpark 4's workers: this Python, not the first python3 on PATH
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("dedup-test")
               .config("spark.pyspark.python", sys.executable).config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session.sparkContext
    session.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _run(sc, input_path, output, previous=None):
    from dedup.normalisation import Normaliser
    from dedup.params import Params
    from dedup.spark.pipeline import SparkRun, run

    return run(sc, SparkRun(str(input_path), str(output), Params(), Normaliser(), previous and str(previous),
                            partitions=3))


def _parts(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("part-*")))


def _batch(tmp_path: Path, input_path: Path, name: str, *extra: str) -> tuple[str, str]:
    clusters, deduped = tmp_path / f"{name}-clusters.jsonl", tmp_path / f"{name}-deduped.jsonl"
    r = CliRunner().invoke(cli, ["batch", str(input_path), "--clusters", str(clusters), "--deduped", str(deduped),
                                 "-q", "-j", "1", *extra])
    assert r.exit_code == 0, r.output
    return clusters.read_text(encoding="utf-8"), deduped.read_text(encoding="utf-8")


STORM = ("The storm killed 12 people on Monday and left 4,000 homes without power across the region, "
         "officials said, as rescue teams searched flooded villages for the missing. ") * 4


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    """The seed file, a long story, a generated set with a broken line, a
    repeated id and a text with no words among it, then a brief cut from
    the long story (a pair only the short-inside-long candidates propose),
    and a story with its update (a figure changed); split in two halves A
    and B (the long story in A, the brief and the update pair in B)."""
    folder = tmp_path_factory.mktemp("spark-input")
    rows = [json.loads(x) for x in (ROOT / "seeds" / "sample.jsonl").read_text().splitlines()]
    long_, brief = lead_of_longest()
    rows += [{"id": "long", "text": long_}, *generated_set(n_stories=90, seed=5), {"id": "brief", "text": brief},
             {"id": "storm", "text": STORM, "published": "2024-01-01T00:00:00Z"},
             {"id": "storm-update", "text": STORM.replace("12 people", "15 people", 1),
              "published": "2024-01-02T00:00:00Z"}]
    lines = [json.dumps(r) for r in rows]
    rng = random.Random(1)
    for bad in ("{broken", json.dumps({"id": rows[7]["id"], "text": "a repeated id"}), json.dumps({"id": "x", "text": "***"})):
        lines.insert(rng.randrange(len(lines)), bad)
    half = len(lines) // 2
    paths = {}
    for name, chunk in (("all", lines), ("a", lines[:half]), ("b", lines[half:])):
        paths[name] = folder / f"{name}.jsonl"
        paths[name].write_text("\n".join(chunk) + "\n", encoding="utf-8")
    return paths


def test_spark_gives_the_clusters_and_deduped_dump_of_batch(sc, dumps, tmp_path):
    clusters, deduped = _batch(tmp_path, dumps["all"], "batch", "--report", str(tmp_path / "batch.json"))
    report = _run(sc, dumps["all"], tmp_path / "out")
    batch = json.loads((tmp_path / "batch.json").read_text())
    assert report["candidate_pairs"] == batch["candidate_pairs"]
    assert report["short_in_long_candidates"] == batch["short_in_long_candidates"] >= 1
    assert _parts(tmp_path / "out" / "clusters") == clusters
    assert _parts(tmp_path / "out" / "deduped") == deduped
    assert report["clusters"] == clusters.count("\n") > 30
    assert any({"long", "brief"} <= set(json.loads(c)["members"]) for c in clusters.splitlines())
    # an update's changed figure named by its words, as batch names it (not "#12")
    storm = next(json.loads(c) for c in clusters.splitlines() if "storm" in json.loads(c)["members"])
    assert [p["changed"] for p in storm["pairs"]] == [[["12", "15"]]]
    assert report["largest_component"] >= 70  # one bucket past the batch's bound of 64
    assert report["bad_records"] == 3
    assert any(b[0] == "id 'x'" for b in report["bad_examples"])  # a text with no words
    assert any("duplicate id" in b[1] for b in report["bad_examples"])
    # the state it saved serves a later single-machine run
    seed_2 = json.loads((ROOT / "seeds" / "sample.jsonl").read_text().splitlines()[1])["text"]
    later = cluster_against([{"id": "late-copy", "text": seed_2}], previous=str(tmp_path / "out" / "state"))
    assert any("late-copy" in c.members for c in later.clusters)


def test_spark_against_a_batch_state_equals_one_batch_over_both(sc, dumps, tmp_path):
    whole, _ = _batch(tmp_path, dumps["all"], "whole")
    _batch(tmp_path, dumps["a"], "a", "--state", str(tmp_path / "state-a"))
    report = _run(sc, dumps["b"], tmp_path / "out", previous=tmp_path / "state-a")
    assert _parts(tmp_path / "out" / "clusters") == whole
    assert '"changed": [["12", "15"]]' in whole
    assert report["new_articles"] < report["articles"]


def test_spark_confirms_a_saved_update_again_as_batch_does(sc, dumps, tmp_path):
    """A state keeps no changed figures, so both commands confirm its update links again
    (the editions rule may refuse one): an update pair in the earlier run, then another dump."""
    earlier, later = tmp_path / "earlier.jsonl", tmp_path / "later.jsonl"
    lines = dumps["b"].read_text(encoding="utf-8").splitlines()
    storm = [x for x in lines if '"storm' in x]
    earlier.write_text("\n".join(storm) + "\n", encoding="utf-8")
    later.write_text("\n".join(x for x in lines if x not in storm) + "\n", encoding="utf-8")
    _batch(tmp_path, earlier, "earlier", "--state", str(tmp_path / "state"))
    whole, _ = _batch(tmp_path, later, "later", "--against", str(tmp_path / "state"))
    report = _run(sc, later, tmp_path / "out", previous=tmp_path / "state")
    assert _parts(tmp_path / "out" / "clusters") == whole
    assert '"storm-update"' in whole and '"kind": "update"' in whole
    assert report["new_articles"] < report["articles"]


def test_large_star_small_star_finds_the_components_of_union_find(sc):
    from dedup.cluster import UnionFind
    from dedup.spark.components import ComponentsDidNotConverge, connected_components

    rng = random.Random(4)
    labels = rng.sample(range(10_000), 600)
    edges = [(labels[i], labels[i + 1]) for i in range(299)]  # a long path, labels shuffled
    edges += [(labels[rng.randrange(300, 600)], labels[rng.randrange(300, 600)]) for _ in range(200)]
    edges = [(a, b) for a, b in edges if a != b]
    got, rounds = connected_components(sc.parallelize(edges, 3), 3)
    got = dict(got.collect())
    uf = UnionFind(10_000)
    for a, b in edges:
        uf.union(a, b)
    nodes = {x for e in edges for x in e}
    assert set(got) == nodes
    for x in nodes:
        members = [y for y in nodes if uf.find(y) == uf.find(x)]
        assert got[x] == min(members)
    assert 1 < rounds < 40
    with pytest.raises(ComponentsDidNotConverge):
        connected_components(sc.parallelize(edges, 3), 3, max_rounds=1)


def test_the_command_line_writes_what_batch_writes(tmp_path):
    """``dedup spark`` in its own process (its own local session), a bad line reported on stderr."""
    import subprocess

    dump = tmp_path / "in.jsonl"
    dump.write_text((ROOT / "seeds" / "sample.jsonl").read_text() + "{broken\n")
    exe = Path(sys.executable).parent / "dedup"
    r = subprocess.run([str(exe), "spark", str(dump), str(tmp_path / "out"), "--master", "local[1]"],
                       check=False, capture_output=True, text=True, timeout=600, env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    assert r.returncode == 0, r.stderr
    assert f"dedup: {dump}: line 6: broken JSON" in r.stderr
    assert "5 articles, 1 cluster, 1 duplicate, 1 skipped" in r.stderr
    clusters, _ = _batch(tmp_path, dump, "batch")
    assert _parts(tmp_path / "out" / "clusters") == clusters


def _corpus_of(path: Path, extra: list[dict] = ()):
    """The batch's corpus of a dump's readable lines (and ``extra`` records after them)."""
    from dedup.corpus import Skips, as_articles, fingerprint_corpus
    from dedup.normalisation import Normaliser
    from dedup.params import Params

    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass
    return fingerprint_corpus(as_articles([*rows, *extra], Skips()), Params(), Normaliser(), jobs=1, chunk_size=500,
                              skip=Skips())


def test_batch_candidates_come_in_pair_order_as_spark_clusters_them(dumps):
    """The clustering policy reads links in ``(a, b)`` order in Spark and
    ``--against`` (:func:`dedup.against.story_clusters`); batch's candidates,
    short-inside-long ones included, come in that order too (they were
    appended after LSH's: 14 of 5,170 clusters of the 30k benchmark listed
    their pairs in another order than Spark's)."""
    import numpy as np

    from dedup.pairs import all_candidates
    from dedup.params import Params

    corpus = _corpus_of(dumps["all"])
    pairs, short = all_candidates(corpus, Params())
    assert short >= 1
    assert np.array_equal(pairs, pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))])


def test_spark_candidate_stages_propose_what_batch_proposes(sc, dumps):
    """The block shuffles of stage 3 give exactly batch's LSH pairs and
    short-inside-long pairs, a bucket over ``max_bucket`` (70 copies of one
    story: a star plus a chain) and a run over ``ROW_KEEP`` included."""
    import numpy as np

    from dedup.lsh import candidate_pairs
    from dedup.pairs import containment_candidates
    from dedup.params import Params
    from dedup.spark.pipeline import MAX_BUCKET, _containment_candidates, _lsh_candidates

    corpus = _corpus_of(dumps["all"], [{"id": f"copy{i}", "text": STORM} for i in range(MAX_BUCKET + 6)])
    params = Params()
    fp = sc.parallelize([(i, (corpus.ids[i], None, np.array(corpus.signatures[i]), np.zeros(corpus.lengths[i])))
                         for i in range(len(corpus))], 3)
    lsh = candidate_pairs(corpus.signatures, params)
    short = containment_candidates(corpus, params, lsh)
    assert len(lsh) > MAX_BUCKET * 2 and len(short) >= 1
    spark_lsh = _lsh_candidates(fp, params, 3)
    assert sorted(spark_lsh.collect()) == [tuple(p) for p in lsh.tolist()]
    assert sorted(_containment_candidates(fp, spark_lsh, params, 3).collect()) == [tuple(p) for p in short.tolist()]


def test_pair_codes_hold_indices_up_to_2_to_the_32():
    import numpy as np

    from dedup.errors import DedupError
    from dedup.spark.pipeline import MAX_INDEX, _code_pairs, _pair_codes, _signature_rows

    pairs = np.array([[2**31, 2**31 + 5], [7, MAX_INDEX]], dtype=np.int64)
    assert list(_code_pairs(_pair_codes(pairs))) == [(2**31, 2**31 + 5), (7, MAX_INDEX)]
    row = (None, None, np.zeros(4, np.uint32), np.zeros(3))
    with pytest.raises(DedupError, match="start a new state"):
        _signature_rows([(MAX_INDEX + 1, row)])
