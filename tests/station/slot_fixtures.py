"""The scheduling tests' fixtures for the slot-airing tests that live here (tests/station mirrors
broadcaster/station): a station on a hand-driven clock, fake playout and rendering. A test module
imports them by name; they override this folder's conftest (a real player on a memory card)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load_sched_helpers():
    # tests/scheduling/sched_helpers.py under its own name, loaded by path (see conftest.py for why)
    if "sched_helpers" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "scheduling" / "sched_helpers.py"
        spec = importlib.util.spec_from_file_location("sched_helpers", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["sched_helpers"] = module
        spec.loader.exec_module(module)
    return sys.modules["sched_helpers"]


sched_helpers = _load_sched_helpers()


def _load_sched_fixtures():
    # the fixtures themselves, one copy shared with tests/scheduling (its conftest imports them too)
    if "sched_fixtures" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "scheduling" / "sched_fixtures.py"
        spec = importlib.util.spec_from_file_location("sched_fixtures", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["sched_fixtures"] = module
        spec.loader.exec_module(module)
    return sys.modules["sched_fixtures"]


_fixtures = _load_sched_fixtures()
clock, settings, durations = _fixtures.clock, _fixtures.settings, _fixtures.durations
station, render, player = _fixtures.station, _fixtures.render, _fixtures.player
