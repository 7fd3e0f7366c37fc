"""Helpers for tests that run a batch in a child process and kill it."""

import os
import signal
import time


def opened_under(pid, folder):
    """Whether process ``pid`` holds a file under ``folder`` open (named or not)."""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return any(link.startswith(str(folder)) for link in links)


def wait_until(ready, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ready():
        time.sleep(0.05)


def kill_group(proc):
    """SIGKILL the child and everything in its session (its workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
