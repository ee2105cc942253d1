"""Fixtures for the urgent tests: a station with ready-made programme items, a fake or paced card."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def _load_playout_helpers() -> None:
    # tones, locate, mono… shared with tests/playout. Loaded by path, not by putting tests/playout
    # on sys.path: that would shadow other directories' `conftest` imports (tests/scheduling).
    if "playout_helpers" in sys.modules:
        return
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "playout" / "playout_helpers.py"
    spec = importlib.util.spec_from_file_location("playout_helpers", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["playout_helpers"] = module
    spec.loader.exec_module(module)


_load_playout_helpers()

from support.onair import onair_over  # noqa: E402
from support.pulse import pulse_default_device, pulse_server  # noqa: E402,F401

from broadcaster.playout.memory import MemoryCard  # noqa: E402
from broadcaster.playout.player import Player  # noqa: E402

MEMORY_SPEED = 4.0


@pytest.fixture
def card():
    """A fake sound card running 4× real time (content checks, not timing)."""
    return MemoryCard(speed=MEMORY_SPEED, latency=0.02)


@pytest.fixture
def player(card, settings):
    p = Player(stream_factory=card, sample_rate=settings.sample_rate, fade_ms=settings.fade_ms)
    p.open()
    yield p
    p.close()


@pytest.fixture
def onair(station, card, settings):
    """A station's OnAir (urgent desk included) on the fast fake card, shut down after the test."""
    with onair_over(station, settings, card) as runner:
        runner.ensure_device()
        yield runner
