"""The slot-airing fixtures: a station on a hand-driven clock, fake playout and rendering.

Used by tests/scheduling (through its conftest) and by the slot tests in tests/station
(tests/station/slot_fixtures.py loads this file by path), so both folders share one copy.
"""

from __future__ import annotations

import pytest
from sched_helpers import FakePlayer, FakeRender, local

from broadcaster.scheduling.clock import FakeClock


@pytest.fixture
def clock():
    """A hand-driven clock at midnight, Saturday 28 November 2026, station time."""
    return FakeClock(local(2026, 11, 28, 0, 0))


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
    monkeypatch.setattr(st.items, "render_text", FakeRender(st, durations))
    yield st
    st.close()


@pytest.fixture
def render(station):
    return station.items.render_text  # the fake installed above


@pytest.fixture
def player(clock, durations):
    return FakePlayer(clock, durations)
