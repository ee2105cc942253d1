"""A fan-out tap that raises in the card's callback: the card plays on, the tap is dropped, one alarm.

The station's OnAir on a fake card (MemoryCard: the one boundary a test cannot reach) with a fan-out
whose tap breaks when the programme reaches the card. The fan-out is the real IcecastFanout, never
started (no Icecast is needed: the fault is in the card's callback), its tap replaced by a broken one,
since today's Ring.push cannot raise. The item's row says it aired; one alarm row says the stream to
the clusters failed, however often serve's loop checks the card afterwards.
"""

from __future__ import annotations

import threading

import numpy as np
from stream_helpers import RATE, tone, write_wav

from broadcaster.faults import FAULT_TITLE
from broadcaster.models import AsRunStatus
from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player
from broadcaster.streaming.fanout import IcecastFanout
from broadcaster.streaming.urls import parse_stream_url


class BrokenTapFanout(IcecastFanout):
    """The real fan-out with a tap that raises once the programme's sound reaches it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.blocks = 0

    def tap(self, block) -> None:
        self.blocks += 1
        if np.any(block):
            raise RuntimeError("a bug in the fan-out")


def test_a_tap_that_raises_costs_the_clusters_not_the_card_and_is_one_alarm(station, settings, tmp_path):
    card = MemoryCard(speed=4.0, latency=0.02)
    fan = BrokenTapFanout(parse_stream_url("icecast://source:hackme@127.0.0.1:8000/dai.mp3"), sample_rate=RATE)
    said: list[str] = []
    runner = station.on_air(
        player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate, fade_ms=settings.fade_ms),
        stop=threading.Event(), say=said.append, fanout=fan,
    )
    item = tone(523, 1.5)
    try:
        assert runner.ensure_device()
        row = station.play_file(write_wav(tmp_path / "item.wav", item), player=runner.player, title="Bản tin")
        blocks = fan.blocks
        for _ in range(3):  # serve's loop checks the card every device_retry_s
            assert runner.ensure_device()
    finally:
        runner.urgent.shutdown()
        runner.player.close()
    assert (row.status, row.reason) == (AsRunStatus.aired, None)
    assert fan.blocks == blocks, "the broken tap was called again"
    heard = card.last.captured()[:, 0]
    assert any(np.array_equal(heard[i:i + len(item)], item) for i in np.flatnonzero(heard == item[0])), (
        "the item did not reach the card whole")
    alarms = [r for r in station.as_run_log() if r.status is AsRunStatus.alarm]
    assert [(r.title, r.reason) for r in alarms] == [(
        FAULT_TITLE,
        "Lỗi khi gửi âm thanh sang luồng Icecast cho các cụm loa (RuntimeError); đài vẫn chạy tiếp. "
        "Chi tiết trong nhật ký hệ thống.",
    )]
    assert sum("luồng Icecast" in line for line in said) == 1, said
