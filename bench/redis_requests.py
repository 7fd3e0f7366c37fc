"""Redis round trips counted the way every bench here counts them: request
writes on any redis-py connection (a command, a pipeline, a SCRIPT LOAD: one
each). The tests' ``redis_requests`` fixture counts the same way."""

from __future__ import annotations

from redis.connection import AbstractConnection

__all__ = ["SendCounter"]


class SendCounter:
    """Counts from construction until :meth:`close` (``n``, which a caller
    may reset); counters nest, each restoring what it replaced."""

    def __init__(self) -> None:
        self.n, self._orig = 0, AbstractConnection.send_packed_command
        counter = self

        def send(conn, *a, **k):
            counter.n += 1
            return counter._orig(conn, *a, **k)

        AbstractConnection.send_packed_command = send

    def close(self) -> None:
        AbstractConnection.send_packed_command = self._orig
