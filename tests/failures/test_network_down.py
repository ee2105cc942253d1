"""Issue 4 item 9: the network is down. A gTTS render that fails falls back to espeak-ng
before air, and air time never waits on the network.

Google's endpoint is intercepted with `responses` (the HTTP boundary): it fails like a
dead network, either at once (connection refused) or after hanging (a slow timeout).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import responses

from broadcaster.config import load_settings
from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player
from broadcaster.scheduling.timetable import Slot
from broadcaster.station.facade import Station

GOOGLE = re.compile(r"https://translate\.google\.[a-z.]+/.*")
HANG_S = 4.0


class DeadNetwork:
    """A responses callback: every gTTS request fails, after `hang_s` seconds."""

    def __init__(self, hang_s: float = 0.0) -> None:
        self.hang_s = hang_s
        self.calls: list[float] = []

    def __call__(self, request):
        self.calls.append(time.monotonic())
        time.sleep(self.hang_s)
        raise requests.ConnectionError("Failed to establish a new connection: [Errno 101] Network is unreachable")


@pytest.fixture
def online_station(data_dir):
    """A station whose engine order puts gTTS first, as a real station's does."""
    settings = load_settings(data_dir, engine_order=["gtts", "espeak"], gtts_timeout=HANG_S + 1)
    station = Station.open(settings)
    yield station
    station.close()


def test_a_failed_gtts_render_falls_back_to_espeak_at_approval(online_station):
    dead = DeadNetwork()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(mock.POST, GOOGLE, callback=dead)
        bulletin = online_station.add_bulletin(
            title="Lịch tiêm phòng", text="Ủy ban nhân dân xã thông báo lịch tiêm phòng.", approve=True
        )
    assert dead.calls, "gTTS was not tried first"
    assert bulletin.render_error is None
    assert bulletin.item_engine == "espeak"
    assert Path(bulletin.item_path).is_file()  # ready to air long before the slot


def test_air_time_never_waits_on_a_hanging_network(online_station):
    # a bulletin approved while the network was up but whose item is gone by air time:
    # the last render attempt at air time must not try gTTS (which would hang HANG_S)
    station = online_station
    dead = DeadNetwork(hang_s=HANG_S)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(mock.POST, GOOGLE, callback=dead)
        first = station.add_bulletin(title="Tin một", text="Thông báo thứ nhất về lịch họp thôn.", approve=True)
        second = station.add_bulletin(title="Tin hai", text="Thông báo thứ hai về nước sạch.", approve=True)
        assert {first.item_engine, second.item_engine} == {"espeak"}
        Path(second.item_path).unlink()  # lost before air (and its cached figures stay)
        for extra in Path(second.item_path).parent.glob(Path(second.item_path).stem + ".*"):
            extra.unlink()
        dead.calls.clear()
        card = MemoryCard(speed=8.0)
        slot = Slot(name="Sáng", at=datetime.now(station.tz).time(), max_minutes=30)
        with Player(sample_rate=station.settings.sample_rate, stream_factory=card) as player:
            planned = datetime.now(timezone.utc)
            began = time.monotonic()
            rows = station.air_slot(slot=slot, planned_at=planned, player=player)
            took = time.monotonic() - began
    assert not dead.calls, "air time tried the network"
    assert [r.status.value for r in rows] == ["aired", "aired"], [(r.title, r.status, r.reason) for r in rows]
    # the first item starts before a hanging request could have returned (that nothing was asked
    # of the network at all is checked above; a tighter bound here would only measure the machine's load)
    assert (rows[0].started_at.replace(tzinfo=timezone.utc) - planned) < timedelta(seconds=HANG_S)
    assert station.get_bulletin(second.id).item_engine == "espeak"
    assert Path(station.get_bulletin(second.id).item_path).is_file()
    assert took < HANG_S + sum(r.duration_s for r in rows)  # no hang hidden anywhere
