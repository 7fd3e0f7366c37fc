"""Batch workers: re-entrant, loud when a worker dies, no temporary file left behind."""

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from _processes import kill_group, opened_under

from dedup import Params, cluster_articles
from dedup.corpus import FingerprintChunk
from dedup.normalisation import Normaliser

ROOT = Path(__file__).parent.parent
EVAL = [json.loads(line) for line in ROOT.joinpath("seeds/eval_tiny.jsonl").open()]
RECORDS = [{k: r.get(k) for k in ("id", "text", "published")} for r in EVAL]


def _clusters(res):
    return [c.to_dict() for c in res.clusters]


@pytest.mark.parametrize("jobs", [1, 2])
def test_threads_calling_cluster_articles_at_once_get_the_serial_answer(jobs):
    serial = _clusters(cluster_articles(RECORDS, chunk_size=16))
    got, errors = {}, []

    def run(n):
        try:
            got[n] = _clusters(cluster_articles(RECORDS, chunk_size=16, jobs=jobs))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert serial and all(got[n] == serial for n in range(4))


def test_the_fingerprint_task_carries_its_own_state():
    task = FingerprintChunk(Params(), Normaliser())
    got = task(["Shares rose sharply on Monday after the results.", "!!!"])
    assert got.kept == [0] and got.rejected == [(1, "text has no words after normalisation")]


# A script run in its own process group, so a test can kill it (and its
# workers) with SIGKILL; TMPDIR is the test's folder.
_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    from dedup import cluster_articles
    from dedup.normalisation import Normaliser

    class KillingNormaliser(Normaliser):
        def __call__(self, text):
            if text.startswith("KILL"):
                os.kill(os.getpid(), 9)  # as the OOM killer would
            return super().__call__(text)

    records = [json.loads(line) for line in open(sys.argv[1])]
    mode = sys.argv[2]

    def articles():
        for n in range(100):
            for r in records:
                yield dict(r, id=f"{n}-{r['id']}")
            if n == 10:
                if mode == "kill-worker":
                    yield {"id": "k", "text": "KILL this worker"}
                else:
                    print("READY", flush=True)
                    time.sleep(600)

    try:
        cluster_articles(articles(), jobs=2, chunk_size=50, normaliser=KillingNormaliser())
    except Exception as exc:
        print(type(exc).__name__, exc.code, flush=True)
        raise SystemExit(3)
""")


def _start(tmp_path, mode):
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(ROOT / "seeds" / "eval_tiny.jsonl"), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)





def test_a_killed_worker_raises_worker_died_instead_of_hanging(tmp_path):
    proc = _start(tmp_path, "kill-worker")
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        pytest.fail("the batch hung after a worker died")
    finally:
        kill_group(proc)
    assert proc.returncode == 3, err
    assert out.split() == ["WorkerDied", "worker_died"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_kill_9_of_the_batch_mid_run_leaves_no_temporary_file(tmp_path):
    proc = _start(tmp_path, "ready")
    try:
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read()
        assert opened_under(proc.pid, tmp_path / "tmp")  # the spools are open
    finally:
        kill_group(proc)
        proc.wait(timeout=30)
    assert list((tmp_path / "tmp").iterdir()) == []



def _file_pages_kb() -> int:
    """This process's resident file-backed pages (kB), from smaps_rollup."""
    with open("/proc/self/smaps_rollup") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Pss_File:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="Linux smaps_rollup")
def test_drop_pages_takes_a_spool_map_read_in_full_out_of_the_resident_set():
    """A pass over the whole words or signatures map (candidates, refinement)
    no longer keeps every page of it mapped: the 1M batch's peak PSS was 2.3 GB
    of such pages. The data reads back the same after the drop."""
    import numpy as np

    from dedup.spool import Spool, drop_pages

    rows = np.arange(16 * 2**20 // 4, dtype=np.uint32).reshape(-1, 1024)  # 16 MB
    with Spool(dir=None) as s:
        s.write(rows)
        m = s.finish(rows.shape)
    total = int(m.sum(dtype=np.uint64))  # reads every page
    before = _file_pages_kb()
    drop_pages(m[100:])  # any view of the map finds it
    after = _file_pages_kb()
    assert before - after > 12 * 1024, (before, after)
    assert int(m.sum(dtype=np.uint64)) == total and np.array_equal(m[5], rows[5])
    drop_pages(rows)  # not a map: nothing happens


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="Linux smaps_rollup")
def test_read_columns_copies_a_column_block_without_holding_the_map(monkeypatch):
    """LSH bands and short-inside-long columns are read from the signature map
    in row blocks, each block's pages dropped: a column of a row-major map
    touches every page, so the old column read held all the signatures."""
    import numpy as np

    from dedup import spool

    monkeypatch.setattr(spool, "ROWS_AT_A_TIME", 1024)
    rows = np.random.default_rng(1).integers(0, 2**32, (16384, 128), dtype=np.uint32)  # 8 MB
    with spool.Spool() as s:
        s.write(rows)
        m = s.finish(rows.shape)
    spool.drop_pages(m)
    before = _file_pages_kb()
    got = spool.read_columns(m, 12, 16)
    assert _file_pages_kb() - before < 2 * 1024  # at most a block (512 kB) or two held, not 8 MB
    assert np.array_equal(got, rows[:, 12:16]) and got.flags.c_contiguous
    assert np.array_equal(spool.read_columns(rows, 3, 5), rows[:, 3:5])  # not a map: a plain copy
