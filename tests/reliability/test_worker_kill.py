"""A gunicorn worker killed with ``kill -9`` under load."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from harness import gunicorn, story, wait_for  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def _until_answered(server, doc: dict, errors: list) -> tuple[dict, int]:
    """POST until an answer comes (what a client does after a reset connection)."""
    for _ in range(50):
        try:
            r = server.post("/v1/articles", doc, timeout=10)
        except OSError as e:
            errors.append(type(e).__name__)
            time.sleep(0.05)
            continue
        if r.status in (200, 201):
            return r.json, r.status
        errors.append(r.status)
        time.sleep(0.05)
    raise AssertionError(f"no answer for {doc['id']}")


def test_killed_worker_others_answer_and_a_retry_gets_the_same_answer(redis_server, gunicorn, namespace):
    server = gunicorn(workers=2, threads=4, REDIS_URL=redis_server.url, DEFAULT_NAMESPACE=namespace)
    stop, answers, errors, retried = threading.Event(), {}, [], set()

    def client(k: int) -> None:
        n = 0
        while not stop.is_set():
            seed = 1000 * k + n
            for doc in ({"id": f"o{seed}", "text": story(seed)},
                        {"id": f"c{seed}", "text": "LONDON (AP) - " + story(seed)}):
                mine: list = []
                answers[doc["id"]] = _until_answered(server, doc, mine)
                errors.extend(mine)
                if mine:
                    retried.add(doc["id"])
            n += 1

    clients = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in clients:
        t.start()
    killed = []
    try:
        for _ in range(3):
            wait_for(lambda: len(server.worker_pids()) == 2, 60, "two live workers")
            time.sleep(0.7)
            victim = server.worker_pids()[0]
            done = len(answers)
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            wait_for(lambda done=done: len(answers) >= done + 5, 30, "answers while a worker is dead")
    finally:
        stop.set()
        for t in clients:
            t.join()
    assert not set(killed) & set(server.worker_pids())  # the master replaced them
    assert all(isinstance(e, str) for e in errors), errors  # only reset connections, never an error status
    wrong = []
    for doc_id, (body, _) in answers.items():
        seed = doc_id[1:]
        want = ([], f"o{seed}") if doc_id[0] == "o" else ([f"o{seed}"], f"o{seed}")
        if ([d["id"] for d in body["duplicates"]], body["cluster"]) != want:
            wrong.append((doc_id, body))
    assert wrong == [], wrong[:3]
    print(f"\nworker kill -9: {len(killed)} workers killed, {len(answers)} articles answered, "
          f"{len(errors)} connections lost ({len(retried)} articles retried: {sorted(retried)[:6]}), 0 wrong answers")
