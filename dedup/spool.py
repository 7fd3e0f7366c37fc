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

__all__ = ["Spool", "drop_pages", "read_columns"]


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


def _map_of(array: np.ndarray) -> mmap.mmap | None:
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return base


def drop_pages(array: np.ndarray) -> None:
    """Unmap from this process the pages of the memory map under ``array``
    (``MADV_DONTNEED``): the data stays in the file and the kernel's page
    cache, and a later read maps it again (a minor fault). A pass that reads
    the whole map once, or one row here and there, holds no more of it in
    its resident set than it read since the last call. A no-op on an array
    that is not a map."""
    base = _map_of(array)
    if base is not None and hasattr(mmap, "MADV_DONTNEED"):
        base.madvise(mmap.MADV_DONTNEED)


#: Rows :func:`read_columns` copies between two drops (32 MB of 128-value signatures).
ROWS_AT_A_TIME = 1 << 16


def read_columns(array: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``array[:, start:stop]`` as a contiguous copy. From a memory map it
    is read :data:`ROWS_AT_A_TIME` rows at a time, dropping the pages after
    each block (:func:`drop_pages`): a column of a row-major map touches every
    page of it, so a pass over the columns would otherwise hold the whole map."""
    if _map_of(array) is None:
        return np.ascontiguousarray(array[:, start:stop])
    out = np.empty((array.shape[0], stop - start), array.dtype)
    for r in range(0, array.shape[0], ROWS_AT_A_TIME):
        out[r : r + ROWS_AT_A_TIME] = array[r : r + ROWS_AT_A_TIME, start:stop]
        drop_pages(array)
    return out
