"""The scheduling tests' fixtures for the slot-airing tests that live here (tests/station mirrors
broadcaster/station): a station on a hand-driven clock, fake playout and rendering. A test module
imports them by name; they override this folder's conftest (a real player on a memory card)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


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


@pytest.fixture
def clock():
    """A hand-driven clock at midnight, Saturday 28 November 2026, station time."""
    from broadcaster.scheduling.clock import FakeClock

    return FakeClock(sched_helpers.local(2026, 11, 28, 0, 0))


@pytest.fixture
def settings(data_dir):
    from broadcaster.config import load_settings

    # poll fast so reconcile tests do not wait; no speech engine is reached (rendering is faked)
    return load_settings(data_dir, engine_order=["espeak"], scheduler_poll_s=0.05)


@pytest.fixture
def durations():
    """path → length in seconds, shared by the fake renderer and the fake player."""
    return {}


@pytest.fixture
def station(settings, clock, durations, monkeypatch):
    from broadcaster.station.facade import Station

    st = Station.open(settings, clock=clock.now)
    monkeypatch.setattr(st.items, "render_text", sched_helpers.FakeRender(st, durations))
    yield st
    st.close()


@pytest.fixture
def render(station):
    return station.items.render_text  # the fake installed above


@pytest.fixture
def player(clock, durations):
    return sched_helpers.FakePlayer(clock, durations)
