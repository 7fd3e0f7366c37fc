"""Checkpoints of ``dedup batch``: each fingerprinted chunk saved to a folder as
it is made, so a run killed half-way (``kill -9``, a reboot) resumes where
it stopped instead of fingerprinting everything again.

The folder holds ``manifest.json`` (what the run is: input file, its size
and modification time, chunk size, parameters, boilerplate) and one
``chunk-NNNNNNNN.npz`` per finished chunk, each written to a temporary
name, fsynced and renamed, so a chunk file is either whole or absent.
Chunks come back in input order (:meth:`dedup.workers.Workers.ordered`),
so the saved ones are always a prefix of the run. A resumed run reads
the input again from the start (reading is cheap; fingerprinting is not),
takes the saved chunks' results instead of recomputing them (checking that
each saved chunk holds the same article ids), and fingerprints the rest;
candidates, refinement and clustering then run on the whole corpus, so
the clusters are those of an uninterrupted run.

Example:
    >>> import tempfile
    >>> ck = Checkpoint(tempfile.mkdtemp() + "/ck", {"input": "x"}, resume=False)
    >>> ck.done
    0
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import xxhash

from dedup.errors import DedupError

__all__ = ["Checkpoint", "CheckpointError", "run_identity"]

_FIELDS = ("signatures", "lengths", "code_points", "sentences", "sentences_per_text")


class CheckpointError(DedupError):
    """A checkpoint folder that does not belong to this run (or is unreadable)."""

    code = "checkpoint"
    status = 400


def _ids_digest(articles) -> str:
    h = xxhash.xxh64()
    for a in articles:
        h.update(a.id.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


#: The mark of a folder the checkpoint made (removed with it once the run succeeds).
_MADE = ".made-by-dedup"


class Checkpoint:
    """A run's checkpoint folder.

    Args:
        folder: where the chunks go (made if missing).
        identity: what makes two runs the same run (JSON-able).
        resume: take the chunks already saved; without it a folder that
            holds a checkpoint is refused (it would be overwritten).

    Only its own files are ever written or deleted (``manifest.json``,
    ``chunk-NNNNNNNN.npz``, their ``.NAME.tmp``, and ``.made-by-dedup`` in a
    folder it made), and the folder only when it made it: a folder that holds other files and no checkpoint is
    refused.

    Raises:
        CheckpointError: a checkpoint of another run, or one present without
            ``resume``, or a folder of other files.
    """

    def __init__(self, folder: str | os.PathLike, identity: dict, resume: bool) -> None:
        self.folder = Path(folder)
        self.identity = json.loads(json.dumps(identity))
        manifest = self.folder / "manifest.json"
        self.done, self.made = 0, False  # made: the folder is this run's (only then is it removed)
        if manifest.exists():
            if not resume:
                raise CheckpointError(f"{self.folder} holds a checkpoint: pass --resume to go on from it, "
                                      "or remove the folder")
            try:
                saved = json.loads(manifest.read_text())
            except (OSError, ValueError) as e:
                raise CheckpointError(f"{manifest}: unreadable ({e})") from None
            differ = sorted(k for k in set(saved) | set(self.identity) if saved.get(k) != self.identity.get(k))
            if differ:
                raise CheckpointError(f"{self.folder} is the checkpoint of another run ({', '.join(differ)} differ): "
                                      "remove it, or rerun with the same input and options")
            while self._path(self.done).exists():
                self.done += 1
            self.made = (self.folder / _MADE).exists()
        else:
            if self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
                raise CheckpointError(f"{self.folder} is not an empty folder and holds no checkpoint: "
                                      "give --checkpoint a new or empty folder")
            self.made = not self.folder.exists()
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.made:  # so that a resumed run, too, knows the folder is the checkpoint's own
                (self.folder / _MADE).touch()
            self._atomic(manifest, json.dumps(self.identity, indent=1).encode())

    def _path(self, k: int) -> Path:
        return self.folder / f"chunk-{k:08d}.npz"

    def _atomic(self, path: Path, data: bytes) -> None:
        tmp = path.with_name("." + path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def _save(self, k: int, chunk, got) -> None:
        import io

        buf = io.BytesIO()
        meta = {"ids": _ids_digest(chunk), "rejected": got.rejected, "n": len(chunk)}
        np.savez(buf, kept=np.asarray(got.kept, np.int64), meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
                 **{f: getattr(got, f) for f in _FIELDS})
        self._atomic(self._path(k), buf.getvalue())

    def _load(self, k: int, chunk):
        from dedup.corpus import ChunkFingerprints

        try:
            with np.load(self._path(k), allow_pickle=False) as z:
                meta = json.loads(z["meta"].tobytes())
                arrays = {f: z[f] for f in _FIELDS}
                kept = z["kept"].tolist()
        except (OSError, ValueError, KeyError) as e:
            raise CheckpointError(f"{self._path(k)}: unreadable ({e}): remove the folder and start again") from None
        if meta["n"] != len(chunk) or meta["ids"] != _ids_digest(chunk):
            raise CheckpointError(f"{self._path(k)} holds other articles than the input's chunk {k + 1}: "
                                  "the input changed; remove the folder and start again")
        return ChunkFingerprints(kept, [tuple(r) for r in meta["rejected"]], **arrays)

    def ordered(self, chunks: Iterator, compute: Callable[[Iterator], Iterator]) -> Iterator:
        """``(chunk, fingerprints)`` in order: the saved ones loaded, the rest
        from ``compute(rest of chunks)`` and saved as they come."""
        chunks = iter(chunks)
        for k in range(self.done):
            item = next(chunks, None)
            if item is None:
                raise CheckpointError(f"{self.folder} holds more chunks than the input: remove it and start again")
            yield item[0], self._load(k, item[0])
        k = self.done
        for chunk, got in compute(chunks):
            self._save(k, chunk, got)
            k += 1
            yield chunk, got

    def remove(self) -> None:
        """Delete the checkpoint's own files (the run finished: nothing to
        resume), then the folder if this run made it and nothing else is in it."""
        own = re.compile(r"\.?(?:chunk-\d{8}\.npz|manifest\.json)(?:\.tmp)?")  # a temporary name starts with "."
        try:
            names = [p.name for p in self.folder.iterdir()]
        except OSError:  # gone, or no longer a folder: nothing of ours to delete
            return
        for name in names:
            if name == _MADE or own.fullmatch(name) and name.startswith(".") == name.endswith(".tmp"):
                (self.folder / name).unlink(missing_ok=True)
        if self.made:
            try:
                self.folder.rmdir()
            except OSError:  # someone put a file there meanwhile: it stays, with the folder
                pass


def run_identity(input_path: str, **options) -> dict:
    """What makes a ``dedup batch`` run the same run: the input file (absolute
    path, size, modification time) and ``options`` (parameters, fields ...).

    Raises:
        CheckpointError: stdin (``-``) cannot be resumed.
    """
    if input_path == "-":
        raise CheckpointError("--checkpoint needs an input file or folder: stdin cannot be read again to resume")
    st = os.stat(input_path)
    return {"input": os.path.abspath(input_path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, **options}
