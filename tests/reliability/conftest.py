"""tests/reliability: faults caused on purpose against real processes (see harness.py).

The session's private Redis of tests/conftest.py serves the in-process tests;
the tests that kill or slow Redis start their own (:class:`harness.ManagedRedis`).
"""

from __future__ import annotations

import pytest
from harness import Gunicorn, ManagedRedis


@pytest.fixture
def managed_redis():
    """A factory of private redis-servers (``ManagedRedis(*args)``), all stopped after the test."""
    made: list[ManagedRedis] = []

    def make(*args: str, **kw) -> ManagedRedis:
        made.append(ManagedRedis(*args, **kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def gunicorn():
    """A factory of real gunicorn servers of the app (``Gunicorn(workers=, threads=, **DEDUP_settings)``)."""
    made: list[Gunicorn] = []

    def make(**kw) -> Gunicorn:
        made.append(Gunicorn(**kw))
        return made[-1]

    yield make
    for g in made:
        g.stop()


def pytest_collection_modifyitems(config, items):
    """``soak`` tests run only when asked for (``-m soak``): they take minutes."""
    if "soak" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="a soak of minutes: python -m pytest -m soak -s tests/reliability")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)
