"""What the benches share: the repository's root, tests/ on sys.path (the benches run the tests' real
servers and cards: tests/support/pulse.py, icecast.py, clusters.py, cards.py…), a free loopback port,
and a wait on a condition that ends the bench with one line when the condition does not come.

    from _common import REPO, free_port, wait   # `python bench/<name>.py` puts bench/ on sys.path

    wait(lambda: listener.frames > RATE, 60, "the bare listener decoding")
    # → the value, or SystemExit("bench: the bare listener decoding: not within 60 s")

Both are the tests' own (tests/support/ports.py, tests/support/waiting.py): one copy of each.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from support.ports import free_port  # noqa: E402
from support.waiting import wait_for  # noqa: E402


def wait(predicate, timeout: float, what: str, step: float = 0.25):
    """Poll predicate() until truthy (returns it), as support.waiting.wait_for does; a bench that waited
    in vain stops with one `bench: <what>: not within <timeout> s` line instead of a traceback."""
    try:
        return wait_for(predicate, timeout, what, step=step)
    except AssertionError as failed:
        raise SystemExit(f"bench: {failed}") from None


__all__ = ["REPO", "free_port", "wait"]
