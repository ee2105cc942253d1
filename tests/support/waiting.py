"""Waiting on a condition, never on luck: poll with a deadline (one helper for every test dir)."""

from __future__ import annotations

import time


def wait_for(predicate, timeout: float = 20.0, what: str | None = None, step: float = 0.01):
    """Poll until predicate() is truthy (returns it) or fail after `timeout` real seconds (naming `what`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s" if what else "condition not met in time")
        time.sleep(step)
