"""Worker processes for batch work that fail loudly and share no state.

A :class:`Workers` pool applies one task object (a callable holding what
the work needs: parameters, memory maps; optionally a ``warm()`` method
that loads what it needs on a tiny input) to chunks of work, in forked
processes or, with ``jobs=1``, in the calling thread. The task reaches
each process through the pool's initializer at fork time (not pickled),
so two pools, in two threads or one after the other, never see each
other's state. A worker that dies (``kill -9``, out of memory) raises
:class:`~dedup.errors.WorkerDied` at once instead of hanging.

Example:
    >>> with Workers(abs, jobs=1) as w:
    ...     list(w.ordered((x, -x) for x in range(3)))
    [(0, 0), (1, 1), (2, 2)]
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from dedup.errors import WorkerDied

__all__ = ["Workers"]

C = TypeVar("C")

#: Chunks queued per worker: enough to keep every worker busy while the
#: parent handles a result, few enough to bound the memory in flight.
IN_FLIGHT_PER_JOB = 2

# The task of *this* worker process, set once by the pool's initializer in
# the child. Never set in the parent: each pool forks its own processes.
_task: Callable[[Any], Any] | None = None


def _start(task: Callable[[Any], Any]) -> None:
    global _task
    _task = task


def _run(arg: Any) -> Any:
    return _task(arg)


class Workers:
    """Apply ``task`` to chunks of work, in ``jobs`` processes (fork) or here.

    Args:
        task: a callable taking one chunk; with ``jobs > 1`` its result
            and the chunk are pickled (the task itself is not).
        jobs: worker processes; ``1`` runs everything in the calling thread.

    Raises:
        WorkerDied: from :meth:`ordered`, when a worker process died.
    """

    def __init__(self, task: Callable[[Any], Any], jobs: int) -> None:
        self.task = task
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def _start_pool(self) -> None:
        self._pool = ProcessPoolExecutor(self.jobs, mp.get_context("fork"), initializer=_start, initargs=(self.task,))

    def ordered(self, work: Iterable[tuple[C, Any]]) -> Iterator[tuple[C, Any]]:
        """``(context, task(chunk))`` for each ``(context, chunk)``, in input order.

        Whatever the task loads on first use (numba kernels from their cache,
        ~0.1-0.5 s each) is loaded here, before any process is forked, and
        inherited by every worker: by the task's ``warm()`` when it has one
        (a tiny piece of work; every chunk then goes to the workers, so none
        waits for this process), else by running the first chunk here. Work of
        one chunk never starts a pool at all. At most ``IN_FLIGHT_PER_JOB * jobs``
        chunks are queued at a time, so a long stream is never read ahead
        into memory.
        """
        it = iter(work)
        first = next(it, None)
        if first is None:
            return
        if self.jobs <= 1:
            yield first[0], self.task(first[1])
            for context, chunk in it:
                yield context, self.task(chunk)
            return
        second = next(it, None)
        warm = getattr(self.task, "warm", None)
        if second is None or warm is None:
            yield first[0], self.task(first[1])
            if second is None:
                return
            queued: Iterable[tuple[C, Any]] = itertools.chain([second], it)
        else:
            warm()
            queued = itertools.chain([first, second], it)
        pending: deque[tuple[C, Future]] = deque()
        for context, chunk in queued:
            if self._pool is None:
                self._start_pool()
            pending.append((context, self._submit(chunk)))
            while len(pending) > IN_FLIGHT_PER_JOB * self.jobs:
                yield self._result(*pending.popleft())
        while pending:
            yield self._result(*pending.popleft())

    def _submit(self, chunk: Any) -> Future:
        try:
            return self._pool.submit(_run, chunk)
        except BrokenProcessPool as exc:
            raise _died(exc) from exc

    @staticmethod
    def _result(context: C, future: Future) -> tuple[C, Any]:
        try:
            return context, future.result()
        except BrokenProcessPool as exc:
            raise _died(exc) from exc

    def close(self, *, failed: bool = False) -> None:
        """Stop the processes: at once when ``failed``, else once they are idle."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if not failed:
            pool.shutdown(wait=True)
            return
        pool.shutdown(wait=False, cancel_futures=True)
        # ProcessPoolExecutor has no public way to stop busy workers before
        # Python 3.14 (terminate_workers); without it they would finish
        # their chunk first.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(failed=exc_type is not None)


def _died(exc: BrokenProcessPool) -> WorkerDied:
    return WorkerDied(
        "a batch worker process died (killed, or out of memory?); the batch stopped "
        f"instead of waiting for it ({exc})"
    )
