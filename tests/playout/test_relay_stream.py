"""A relay slot whose source is a stream URL, through Station.air_slot and a real Player.

The stream is an MP3 served by http.server on 127.0.0.1 (no network). The slot is
placed so that only a few seconds of its set time are left, to keep the test short.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
from test_playout_live import dominant_hz, http_dir, make_mp3  # noqa: F401

from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player
from broadcaster.scheduling.timetable import Slot

RATE = 48000


def _relay(station, url: str) -> tuple[Slot, datetime]:
    now = datetime.now(timezone.utc)
    planned = now - timedelta(seconds=57)  # a 1-minute relay with ~3 s left
    slot = Slot(name="VOV1", at=planned.astimezone(station.tz).time(), kind="relay", source=url, duration_min=1)
    return slot, planned


def test_stream_relay_slot_airs_until_its_set_time(station, http_dir):  # noqa: F811
    root, base = http_dir
    make_mp3(root / "vov.mp3", hz=1000, seconds=30)
    slot, planned = _relay(station, f"{base}/vov.mp3")
    card = MemoryCard(speed=1.0)
    with Player(sample_rate=RATE, stream_factory=card) as player:
        (row,) = station.air_slot(slot=slot, planned_at=planned, player=player)
    assert row.status.value == "aired", row.reason
    assert row.kind.value == "relay" and row.title == "Tiếp sóng: VOV1"
    ended = row.ended_at.replace(tzinfo=timezone.utc)
    assert abs((ended - (planned + timedelta(seconds=60))).total_seconds()) < 1.0  # ends on its set time
    heard = card.last.captured()[:, 0]
    loud = np.flatnonzero(np.abs(heard) > 3000)
    assert len(loud) > 2 * RATE
    assert abs(dominant_hz(heard[loud[0] + 4800 : loud[0] + 28800]) - 1000) < 5


def test_stream_relay_that_dies_gets_a_failed_row_with_the_reason(station, http_dir):  # noqa: F811
    _, base = http_dir
    slot, planned = _relay(station, f"{base}/gone.mp3")
    with Player(sample_rate=RATE, stream_factory=MemoryCard(speed=1.0)) as player:
        (row,) = station.air_slot(slot=slot, planned_at=planned, player=player)
    assert row.status.value == "failed"
    assert "Không phát được luồng" in row.reason and "gone.mp3" in row.reason
