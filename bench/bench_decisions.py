"""What editors' decisions cost an add, and that it does not grow with the story.

In process (the app's ``/v1/articles`` route through Flask's test client, on
a private redis-server on a free loopback port): for stories of ``--sizes``
copies, each in three namespaces (no decision at all; decisions naming two
articles of the story and one pair elsewhere; the same plus ``--noise``
decisions about articles that are not stored), ``--adds`` more copies are
added, the three namespaces alternating copy by copy. Per add: CPU seconds
of this process (``time.process_time``), of redis-server (``INFO cpu``),
and Redis round trips (socket writes counted). Results go to
``bench/results/decisions.md`` and ``decisions.json`` with the command, the
commit and the load average.

Usage::

    .venv/bin/python bench/bench_decisions.py                 # sizes 10 and 1000, 60 adds each
    .venv/bin/python bench/bench_decisions.py --sizes 10 100 --adds 20
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

STORY = ("The central bank raised its main interest rate by a quarter point on Thursday, the third increase this "
         "year, and said inflation was likely to stay high into next year as wages keep rising. ") * 3


def _redis_cpu(client) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 1000])
    ap.add_argument("--adds", type=int, default=60)
    ap.add_argument("--noise", type=int, default=200, help="decisions about ids that are not stored")
    args = ap.parse_args()

    from conftest import RedisServer, redis_server_binary
    from dedup_service.app import create_app
    from redis_requests import SendCounter

    trips = SendCounter()
    server = RedisServer(redis_server_binary())
    rows = []
    try:
        app = create_app({"TESTING": True, "REDIS_URL": server.url, "DEFAULT_NAMESPACE": "bench", "CAPACITY": 20_000,
                          "STORE_TEXT": False})
        client, raw = app.test_client(), server.client()
        for size in args.sizes:
            spaces = {"none": f"n{size}", "named": f"d{size}", "named+noise": f"x{size}"}
            for kind, ns in spaces.items():
                h = {"X-Dedup-Namespace": ns}
                for i in range(size):
                    assert client.post("/v1/articles", json={"id": f"c{i}", "text": f"DESK {i} - " + STORY},
                                       headers=h).status_code == 201
                if kind != "none":
                    for rec in ({"decision": "not_duplicate", "ids": ["c0", f"c{size - 1}"]},
                                {"decision": "not_duplicate", "ids": ["elsewhere-1", "elsewhere-2"]}):
                        assert client.post("/v1/decisions", json=rec, headers=h).status_code == 201
                if kind == "named+noise":
                    for j in range(args.noise):
                        assert client.post("/v1/decisions", json={"decision": "not_duplicate", "ids": [f"u{j}", f"v{j}"]},
                                           headers=h).status_code == 201
            totals = {kind: {"cpu": 0.0, "redis_cpu": 0.0, "trips": 0} for kind in spaces}
            for k in range(args.adds):
                for kind, ns in spaces.items():
                    t0, r0, n0 = time.process_time(), _redis_cpu(raw), trips.n
                    r = client.post("/v1/articles", json={"id": f"new{k}", "text": f"WIRE {k} - " + STORY},
                                    headers={"X-Dedup-Namespace": ns})
                    assert r.status_code == 201 and r.json["duplicates"], r.json
                    totals[kind]["cpu"] += time.process_time() - t0
                    totals[kind]["redis_cpu"] += _redis_cpu(raw) - r0
                    totals[kind]["trips"] += trips.n - n0 - 1  # INFO itself
            for kind in spaces:
                t = totals[kind]
                rows.append({"story_size": size, "decisions": kind, "adds": args.adds,
                             "ms_cpu_per_add": round(1000 * t["cpu"] / args.adds, 2),
                             "ms_redis_cpu_per_add": round(1000 * t["redis_cpu"] / args.adds, 2),
                             "round_trips_per_add": round(t["trips"] / args.adds, 2)})
                print(rows[-1], flush=True)
        app.extensions["dedup"].close()
    finally:
        server.stop()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    facts = {"command": " ".join(["bench/bench_decisions.py", *sys.argv[1:]]), "commit": commit,
             "load_average": os.getloadavg(), "rows": rows}
    out = ROOT / "bench" / "results"
    (out / "decisions.json").write_text(json.dumps(facts, indent=2) + "\n")
    lines = ["# Editors' decisions: cost per add", "",
             f"`{facts['command']}` at {commit}, load average {', '.join(f'{x:.1f}' for x in facts['load_average'])} "
             "(2 cores shared with other sessions: compare rows, not absolute times).", "",
             "| story size | decisions in the namespace | ms CPU per add (this process) | ms CPU per add (redis) | round trips per add |",
             "|---:|---|---:|---:|---:|"]
    lines += [f"| {r['story_size']} | {r['decisions']} | {r['ms_cpu_per_add']} | {r['ms_redis_cpu_per_add']} | "
              f"{r['round_trips_per_add']} |" for r in rows]
    (out / "decisions.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
