"""serve's OnAir in a test, over a fake sound card (the one boundary a test cannot reach):

    from support.onair import cardless_onair  # noqa: F401  (a fixture: the card is unplugged)

    def test_x(station, cardless_onair):
        cardless_onair.urgent.request(text=...)   # PlayoutError: no sound card

    with onair_over(station, settings, MemoryCard(speed=8.0)) as runner:   # any card
        runner.ensure_device()
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest


@contextmanager
def onair_over(station, settings, card):
    """The station's OnAir (urgent desk included) playing through `card`; shut down on leaving."""
    from broadcaster.playout.player import Player

    runner = station.on_air(
        player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate, fade_ms=settings.fade_ms),
        stop=threading.Event(), say=lambda message: None,
    )
    try:
        yield runner
    finally:
        runner.urgent.shutdown()
        runner.player.close()


@pytest.fixture
def cardless_onair(station, settings):
    """serve's OnAir with a sound card that cannot be opened (unplugged)."""
    from broadcaster.playout.memory import MemoryCard

    with onair_over(station, settings, MemoryCard(missing=True)) as runner:
        yield runner
