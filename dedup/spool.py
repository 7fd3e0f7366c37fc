"""Rows appended to a temporary file and read back through a memory map.

The pages are file-backed, so the kernel can drop them under memory
pressure (they are not private memory). The file has no name from the
start (``tempfile.TemporaryFile``: ``O_TMPFILE``, or unlinked right after it
is created), so nothing is left behind on any exit, ``kill -9`` included:
the kernel frees it when the last descriptor (and map) goes.

Example:
    >>> with Spool() as s:
    ...     s.write(np.arange(6))
    ...     s.finish((2, 3)).tolist()
    [[0, 1, 2], [3, 4, 5]]
"""

from __future__ import annotations

import mmap
import tempfile

import numpy as np

__all__ = ["Spool", "drop_pages"]


class Spool:
    """``uint32`` rows written in order, read back as one array.

    Args:
        dir: the folder of the file (default: ``TMPDIR``, see :mod:`tempfile`).
    """

    def __init__(self, dir: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(prefix="dedup-", suffix=".u32", dir=dir)

    def write(self, array: np.ndarray) -> None:
        """Append ``array``'s values (cast to ``uint32``)."""
        self._file.write(np.ascontiguousarray(array, dtype=np.uint32).tobytes())

    def finish(self, shape: tuple[int, ...]) -> np.ndarray:
        """Everything written, as a read-only ``uint32`` array of ``shape``."""
        self._file.flush()
        if 0 in shape:
            return np.empty(shape, np.uint32)
        return np.memmap(self._file, dtype=np.uint32, mode="r", shape=shape)

    def close(self) -> None:
        """Close the file; maps already returned stay valid until dropped."""
        self._file.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def drop_pages(array: np.ndarray) -> None:
    """Unmap from this process the pages of the memory map under ``array``
    (``MADV_DONTNEED``): the data stays in the file and the kernel's page
    cache, and a later read maps it again (a minor fault). A pass that reads
    the whole map once, or one row here and there, holds no more of it in
    its resident set than it read since the last call. A no-op on an array
    that is not a map."""
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    if base is not None and hasattr(mmap, "MADV_DONTNEED"):
        base.madvise(mmap.MADV_DONTNEED)
