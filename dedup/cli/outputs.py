"""Where the commands write: files replaced only once complete, devices and
FIFOs written in place, stdout; the checks made before any work; the
``--boilerplate`` file read once for every command."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator

import click

from dedup.normalisation import Normaliser, boilerplate_file

__all__ = ["check_outputs", "normaliser_option", "replaced", "stdout"]


def check_outputs(input_path: str, *paths: str | None) -> None:
    """Fail before the work, not after it: an output that is the input (it is
    read twice), two outputs on one file, or one that cannot be written."""
    if sum(p == "-" for p in paths) > 1:
        raise click.BadParameter("only one output can be - (stdout)", param_hint="output")
    named = [p for p in paths if p not in (None, "-")]
    for i, p in enumerate(named):
        if input_path != "-" and os.path.exists(p) and os.path.samefile(p, input_path):
            raise click.BadParameter(f"{p} is the input: it would be overwritten while it is read", param_hint="output")
        if any(os.path.abspath(p) == os.path.abspath(q) for q in named[:i]):
            raise click.BadParameter(f"{p} is named for two outputs", param_hint="output")
        if _special(p):
            if not os.access(p, os.W_OK):
                raise click.BadParameter(f"cannot write {p}: it is not writable", param_hint="output")
            continue
        folder = os.path.dirname(os.path.realpath(p))
        why = ("its folder does not exist" if not os.path.isdir(folder)
               else "its folder is not writable" if not os.access(folder, os.W_OK)
               else "it is not writable" if os.path.exists(p) and not os.access(p, os.W_OK) else None)
        if why:
            raise click.BadParameter(f"cannot write {p}: {why}", param_hint="output")
        try:  # the folder must take the temporary file _replaced writes (/proc, a read-only mount... do not)
            fd, probe = tempfile.mkstemp(prefix=".dedup-probe.", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise click.BadParameter(f"cannot write {p}: {exc.strerror or exc}", param_hint="output") from None


def _special(path: str) -> bool:
    """Whether ``path`` exists and is not a regular file (a device such as
    ``/dev/null``, a FIFO, a socket): written in place, never replaced."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def replaced(path: str, newline: str | None = None) -> Iterator:
    """A text file written beside ``path`` and moved over it only once complete:
    a run that fails leaves the old file (or none), never half of a new one.
    A symlink is followed (its target is replaced, the link stays); a device
    or FIFO is written in place."""
    if _special(path):
        with open(path, "w", encoding="utf-8", newline=newline) as out:
            yield out
        return
    path = os.path.realpath(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as out:
            yield out
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def normaliser_option(boilerplate: str | None) -> Normaliser:
    """The normaliser with the extra patterns of ``--boilerplate`` (one a line)."""
    if not boilerplate:
        return Normaliser()
    try:
        return boilerplate_file(boilerplate)
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {boilerplate}: {exc}", param_hint="--boilerplate") from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--boilerplate") from None


class stdout:
    """stdout as a context manager that flushes (and never closes) it."""

    def __enter__(self):
        return sys.stdout

    def __exit__(self, *exc):
        sys.stdout.flush()
