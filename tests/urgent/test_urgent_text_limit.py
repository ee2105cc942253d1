"""An urgent text longer than a bulletin may be is refused before anything airs (issue 9, item 4)."""

from __future__ import annotations

import threading

import pytest

from broadcaster.editorial import MAX_TEXT_CHARS
from broadcaster.exceptions import InputError
from broadcaster.onair import OnAir


@pytest.fixture
def onair(station, card, settings):
    from broadcaster.playout.player import Player

    runner = OnAir(
        station,
        player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate, fade_ms=settings.fade_ms),
        stop=threading.Event(),
        say=lambda message: None,
    )
    runner.ensure_device()
    yield runner
    runner.urgent.shutdown()
    runner.player.close()


def test_too_long_urgent_text_is_refused_before_the_tone(onair, station):
    with pytest.raises(InputError, match=str(MAX_TEXT_CHARS)):
        onair.urgent.request(text="Lũ quét. " * (MAX_TEXT_CHARS // 9 + 10), operator="test")
    assert station.as_run_log() == []  # nothing aired, nothing logged
