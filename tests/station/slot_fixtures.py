"""The scheduling tests' fixtures for the slot-airing tests that live here (tests/station mirrors
broadcaster/station): a station on a hand-driven clock, fake playout and rendering. A test module
imports them by name; they override this folder's conftest (a real player on a memory card)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load(name: str):
    # tests/scheduling/<name>.py under its own name, loaded by path (see conftest.py for why); the
    # fixtures are one copy shared with tests/scheduling (its conftest imports them too)
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "scheduling" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


sched_helpers = _load("sched_helpers")  # first: the fixtures import it by name
_fixtures = _load("sched_fixtures")
clock, settings, durations = _fixtures.clock, _fixtures.settings, _fixtures.durations
station, render, player = _fixtures.station, _fixtures.render, _fixtures.player
