"""Fixtures for the scheduling tests: a station on a hand-driven clock, fake playout and rendering."""

from __future__ import annotations


from sched_fixtures import clock, durations, player, render, settings, station  # noqa: F401 (fixtures)
from sched_helpers import VN, FakePlayer, FakeRender, local  # noqa: F401 (re-exported)
