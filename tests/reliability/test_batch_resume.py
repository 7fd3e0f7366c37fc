"""``dedup batch`` killed with ``kill -9`` half-way through a large dump, then ``--resume``."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest
from _processes import kill_group
from harness import ROOT, WORDS, wait_for

pytestmark = pytest.mark.slow

N, CHUNK = 12_000, 500  # articles; dedup batch's chunk size (cluster_articles' default)


def _dump(path) -> None:
    """Unrelated stories, every fourth one a copy of an earlier one (a dateline, a word changed)."""
    rng = random.Random(7)
    texts: list[str] = []
    with open(path, "w") as f:
        for i in range(N):
            if i % 4 == 3:
                words = rng.choice(texts).split()
                words[rng.randrange(len(words))] = rng.choice(WORDS)
                text = "LONDON (Reuters) - " + " ".join(words)
            else:
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120)))
                texts.append(text)
            f.write(json.dumps({"id": f"n{i}", "text": text}) + "\n")


def _batch(*args: str) -> subprocess.Popen:
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from dedup.cli import cli; cli(sys.argv[1:])"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEDUP_")}
    return subprocess.Popen([sys.executable, "-c", code, "batch", "--quiet", "--jobs", "2", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_kill9_half_way_then_resume_gives_the_clusters_of_an_uninterrupted_run(tmp_path):
    dump, ck = tmp_path / "dump.jsonl", tmp_path / "ck"
    _dump(dump)
    whole = _batch(str(dump), "--clusters", str(tmp_path / "whole.jsonl"))
    assert whole.wait(600) == 0, whole.stderr.read()
    chunks = N // CHUNK
    run = _batch(str(dump), "--clusters", str(tmp_path / "resumed.jsonl"), "--checkpoint", str(ck))
    try:
        wait_for(lambda: len(list(ck.glob("chunk-*.npz"))) >= chunks // 2 or run.poll() is not None, 600,
                 "half of the chunks checkpointed", interval=0.02)
    finally:
        kill_group(run)
    run.wait()
    assert run.returncode == -9, "the run finished before it could be killed: make the dump larger"
    saved = len(list(ck.glob("chunk-*.npz")))
    assert chunks // 2 <= saved < chunks and not (tmp_path / "resumed.jsonl").exists()
    again = _batch(str(dump), "--clusters", str(tmp_path / "resumed.jsonl"), "--checkpoint", str(ck))
    _, err = again.communicate(timeout=600)
    assert again.returncode == 2 and "holds a checkpoint: pass --resume" in err  # never overwritten by mistake
    resumed = _batch(str(dump), "--clusters", str(tmp_path / "resumed.jsonl"), "--checkpoint", str(ck), "--resume")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert f"resuming from {ck}: {saved} chunks already fingerprinted" in err
    whole_clusters = (tmp_path / "whole.jsonl").read_text()
    assert whole_clusters.count("\n") > N // 8  # the copies were found
    assert (tmp_path / "resumed.jsonl").read_text() == whole_clusters
    assert not ck.exists()  # removed once the run succeeded
    print(f"\nbatch kill -9 at {saved}/{chunks} chunks, resumed: clusters identical "
          f"({whole_clusters.count(chr(10))} clusters)")


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    from click.testing import CliRunner

    from dedup.cli import cli

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"id": "1", "text": "Storms closed schools across the region on Friday."}) + "\n")
    b.write_text(a.read_text() * 1)
    ck = tmp_path / "ck"
    (ck).mkdir()
    from dedup.checkpoint import Checkpoint, run_identity

    Checkpoint(ck, run_identity(str(a), x=1), resume=False)
    r = CliRunner().invoke(cli, ["batch", str(b), "--quiet", "--checkpoint", str(ck), "--resume"])
    assert r.exit_code == 2 and "checkpoint of another run" in r.output
    r = CliRunner().invoke(cli, ["batch", "-", "--quiet", "--checkpoint", str(tmp_path / "new")], input=a.read_text())
    assert r.exit_code == 2 and "stdin cannot be read again" in r.output


def test_a_folder_of_other_files_is_refused_and_only_the_checkpoints_own_files_are_ever_removed(tmp_path):
    from click.testing import CliRunner

    from dedup.cli import cli

    dump = tmp_path / "a.jsonl"
    dump.write_text(json.dumps({"id": "1", "text": "Storms closed schools across the region on Friday."}) + "\n")
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("important")
    r = CliRunner().invoke(cli, ["batch", str(dump), "--quiet", "--checkpoint", str(mine)])
    assert r.exit_code == 2 and "not an empty folder and holds no checkpoint" in r.output
    assert (mine / "notes.txt").read_text() == "important" and (mine / "sub").is_dir()
    a_file = tmp_path / "a_file"
    a_file.write_text("keep")
    r = CliRunner().invoke(cli, ["batch", str(dump), "--quiet", "--checkpoint", str(a_file)])
    assert r.exit_code == 2 and a_file.read_text() == "keep"
    empty = tmp_path / "empty"
    empty.mkdir()
    r = CliRunner().invoke(cli, ["batch", str(dump), "--quiet", "--checkpoint", str(empty)])
    assert r.exit_code == 0 and empty.is_dir() and not any(empty.iterdir())  # the user's folder: emptied, kept
    new = tmp_path / "new"
    r = CliRunner().invoke(cli, ["batch", str(dump), "--quiet", "--checkpoint", str(new)])
    assert r.exit_code == 0 and not new.exists()  # the run's own folder goes with its files

    from dedup.checkpoint import Checkpoint, run_identity

    ck = Checkpoint(tmp_path / "ck", run_identity(str(dump), x=1), resume=False)
    for name in ("later.txt", "chunk-my-backup.npz", ".draft.tmp", "manifest.json.tmp", ".chunk-00000001.npz"):
        (tmp_path / "ck" / name).write_text("a file put there during the run")
    (tmp_path / "ck" / ".chunk-00000003.npz.tmp").write_text("a temporary chunk of the run")
    ck.remove()
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == sorted(
        [".chunk-00000001.npz", ".draft.tmp", "chunk-my-backup.npz", "later.txt", "manifest.json.tmp"])
