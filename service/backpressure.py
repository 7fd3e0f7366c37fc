"""Load shedding: a bounded number of requests at work per process, a bounded
number waiting, a bounded wait; the rest get 503 ``overloaded`` at once.

Without it a Redis that slows down makes every gunicorn thread wait on it
and the requests behind them queue without bound (in gunicorn's thread pool
and the kernel's accept queue), each later answered after the client gave
up. With it, at most ``concurrent`` requests of a process talk to Redis at
once, at most ``waiting`` more wait for a turn, each for at most
``timeout`` seconds; any other is answered 503 with ``Retry-After`` within
microseconds. A request only waits here if gunicorn gave it a thread, so
run gunicorn with ``--threads`` >= ``concurrent + waiting``.

Example:
    >>> gate = Gate(concurrent=1, waiting=0, timeout=0.1)
    >>> with gate.slot():
    ...     gate.slot().__enter__()
    Traceback (most recent call last):
    ...
    dedup_service.errors.Overloaded: 1 request at work and 0 waiting in this process (limits 1 and 0): retry later
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dedup.errors import InvalidParams
from dedup_service.errors import Overloaded

__all__ = ["Gate"]


class Gate:
    """At most ``concurrent`` holders of a slot at once, ``waiting`` more
    waiting at most ``timeout`` seconds each (thread-safe, per process).

    Raises:
        InvalidParams: ``concurrent < 1``, ``waiting < 0`` or ``timeout < 0``.
    """

    def __init__(self, concurrent: int, waiting: int, timeout: float) -> None:
        if not (isinstance(concurrent, int) and concurrent >= 1):
            raise InvalidParams(f"MAX_CONCURRENT={concurrent!r}: must be an integer >= 1")
        if not (isinstance(waiting, int) and waiting >= 0):
            raise InvalidParams(f"MAX_WAITING={waiting!r}: must be an integer >= 0")
        if isinstance(timeout, bool) or not (isinstance(timeout, (int, float)) and timeout >= 0):
            raise InvalidParams(f"QUEUE_TIMEOUT={timeout!r}: must be a number of seconds >= 0")
        self.concurrent, self.waiting, self.timeout = concurrent, waiting, float(timeout)
        self._slots = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._working = self._queued = 0

    def _shed(self, why: str) -> Overloaded:
        return Overloaded(f"{self._working} request{'s' * (self._working != 1)} at work and {self._queued} waiting "
                          f"in this process (limits {self.concurrent} and {self.waiting}){why}: retry later")

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the ``with`` block.

        Raises:
            Overloaded: too many waiting already, or no slot within ``timeout``.
        """
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._queued >= self.waiting:
                    raise self._shed("")
                self._queued += 1
            try:
                got = self._slots.acquire(timeout=self.timeout)
            finally:
                with self._lock:
                    self._queued -= 1
            if not got:
                raise self._shed(f"; waited {self.timeout:g}s for a turn")
        with self._lock:
            self._working += 1
        try:
            yield
        finally:
            with self._lock:
                self._working -= 1
            self._slots.release()
