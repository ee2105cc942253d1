"""Issue 14 item 1: the station's Icecast fan-out against a real icecast2 and real ffmpeg.

The card is the package's MemoryCard at real time behind a real Player: its callback hands every
block to the fan-out's tap, as PortAudio's does on the station. A listener is ffmpeg decoding the
mount's listen URL, as a receiver does; what it heard is analysed (the tone's frequency).
Every wait is on a condition (the mount present, the file grown, a state changed), never a sleep.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from stream_helpers import RATE, Listener, hears, tone, write_wav
from support.waiting import wait_for

from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.outcome import Outcome
from broadcaster.playout.player import Player
from broadcaster.streaming.fanout import GAP_TITLE, IcecastFanout, Ring
from broadcaster.streaming.protocol import ZoneAirResult
from broadcaster.streaming.urls import parse_stream_url


def _contains(heard: np.ndarray, part: np.ndarray) -> bool:
    """`part` occurs in `heard` exactly, sample for sample."""
    for index in np.flatnonzero(heard == part[0]):
        if np.array_equal(heard[index:index + len(part)], part):
            return True
    return False


class Recorder:
    """What the fan-out said (serve's stdout) and the alarm rows it asked for."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.alarms: list[dict] = []

    def say(self, line: str) -> None:
        self.said.append(line)

    def alarm(self, **row) -> None:
        self.alarms.append(row)


@pytest.fixture
def card():
    card = MemoryCard(speed=1.0, latency=0.02)
    player = Player(stream_factory=card, sample_rate=RATE, block_frames=1024)
    player.open()
    yield player, card
    player.close()


def _fanout(url: str, rec: Recorder, fmt: str = "mp3") -> IcecastFanout:
    return IcecastFanout(parse_stream_url(url), fmt=fmt, bitrate_kbps=48 if fmt == "mp3" else 32, sample_rate=RATE,
                         alarm=rec.alarm, say=rec.say)


def _play_in_thread(player, path):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", player.play(path)), daemon=True)
    thread.start()
    return thread, box


@pytest.mark.parametrize("fmt,mount", [("mp3", "/dai.mp3"), ("opus", "/dai.opus")])
def test_what_the_card_airs_reaches_a_listener(icecast_server, card, tmp_path, fmt, mount):
    player, _ = card
    rec = Recorder()
    fan = _fanout(icecast_server.source_url(mount), rec, fmt)
    player.set_tap(fan.tap)
    fan.start()
    listener = None
    try:
        icecast_server.wait_mount(mount)
        listener = Listener(icecast_server.listen_url(mount), tmp_path / "heard.raw")
        listener.wait_seconds(0.5)  # it hears the idle card's silence: the mount is kept
        thread, box = _play_in_thread(player, write_wav(tmp_path / "tone.wav", tone(880, 4.0)))
        wait_for(lambda: hears(listener.samples(), 880), timeout=30, step=0.1)
        thread.join(30)
        assert box["result"].outcome is Outcome.AIRED
        assert wait_for(lambda: fan.states()[0].connected, timeout=10)
    finally:
        if listener:
            listener.stop()
        fan.stop()
    assert rec.alarms == [] and rec.said == []


def test_icecast_killed_and_restarted_mid_item_the_card_keeps_playing_and_the_gap_is_logged_once(
        icecast_server, card, tmp_path):
    player, memory = card
    rec = Recorder()
    fan = _fanout(icecast_server.source_url("/dai.mp3"), rec)
    player.set_tap(fan.tap)
    fan.start()
    item = tone(660, 8.0)
    try:
        icecast_server.wait_mount("/dai.mp3")
        wait_for(lambda: fan.states()[0].connected, timeout=20)
        thread, box = _play_in_thread(player, write_wav(tmp_path / "item.wav", item))
        wait_for(lambda: player.now_playing is not None, timeout=10)
        icecast_server.kill()  # mid-item
        wait_for(lambda: not fan.states()[0].connected, timeout=20)
        lost = fan.states()[0]
        assert lost.last_error and icecast_server.source_password not in lost.last_error
        icecast_server.start()
        icecast_server.wait_mount("/dai.mp3", timeout=40)  # the fan-out reconnects by itself
        wait_for(lambda: rec.alarms, timeout=40)
        thread.join(30)
        assert box["result"].outcome is Outcome.AIRED  # the card never noticed
        listener = Listener(icecast_server.listen_url("/dai.mp3"), tmp_path / "after.raw")
        try:
            listener.wait_seconds(0.5)  # the mount carries sound again
        finally:
            listener.stop()
    finally:
        fan.stop()
    # the card's own output holds the whole item, sample for sample, without a gap
    heard = memory.streams[-1].captured()[:, 0]
    assert _contains(heard, item[RATE // 10:-RATE // 10]), "the card's output has a gap"
    assert len(rec.alarms) == 1, rec.alarms  # one gap, one row
    alarm = rec.alarms[0]
    assert alarm["title"] == GAP_TITLE and "Mất luồng Icecast" in alarm["reason"] and "đã nối lại" in alarm["reason"]
    assert alarm["started_at"] < alarm["ended_at"]
    assert "(" in alarm["reason"] and "Icecast" in alarm["reason"].split("(", 1)[1]  # the cause
    said = "\n".join(rec.said)
    assert said.count("Mất luồng Icecast") == 1 and said.count("Đã nối lại luồng Icecast") == 1, said
    assert icecast_server.source_password not in said + repr(rec.alarms)


def test_a_wrong_password_is_one_clear_line_without_it_and_the_card_plays_on(icecast_server, card, tmp_path):
    player, _ = card
    rec = Recorder()
    wrong = "sai-mat-khau-123"
    fan = _fanout(icecast_server.source_url("/dai.mp3", password=wrong), rec)
    player.set_tap(fan.tap)
    fan.start()
    try:
        wait_for(lambda: fan._mounts["/dai.mp3"].failures >= 2, timeout=30)  # refused, then refused again
        state = fan.states()[0]
        assert not state.connected
        assert state.last_error.startswith("Icecast từ chối mật khẩu nguồn"), state.last_error
        result = player.play(write_wav(tmp_path / "short.wav", tone(440, 1.0)))
        assert result.outcome is Outcome.AIRED
        assert "/dai.mp3" not in icecast_server.mounts()
    finally:
        fan.stop()
    assert len(rec.said) == 1 and "Icecast từ chối mật khẩu nguồn" in rec.said[0], rec.said  # said once
    assert len(rec.alarms) == 1 and "Icecast từ chối mật khẩu nguồn" in rec.alarms[0]["reason"]
    everything = repr(rec.said) + repr(rec.alarms) + repr(fan.states()) + repr(fan.target)
    assert wrong not in everything and "ffmpeg" not in everything.lower()


def test_a_zone_urgent_replaces_the_programme_on_that_zones_mount_only(icecast_server, card, tmp_path):
    player, _ = card
    rec = Recorder()
    fan = _fanout(icecast_server.source_url("/dai.mp3"), rec)
    player.set_tap(fan.tap)
    fan.ensure_zones(["Thôn Đông", "Thôn Tây"])
    fan.start()
    mounts = {"main": "/dai.mp3", "dong": "/dai-zone-thon-dong.mp3", "tay": "/dai-zone-thon-tay.mp3"}
    listeners = {}
    programme = None
    try:
        for mount in mounts.values():
            icecast_server.wait_mount(mount)
        listeners = {k: Listener(icecast_server.listen_url(m), tmp_path / f"{k}.raw") for k, m in mounts.items()}
        for listener in listeners.values():
            listener.wait_seconds(0.3)
        programme = _play_in_thread(player, write_wav(tmp_path / "programme.wav", tone(440, 20.0)))
        wait_for(lambda: all(hears(l.samples(), 440) for l in listeners.values()), timeout=30, step=0.1)
        urgent = write_wav(tmp_path / "urgent.wav", tone(880, 3.0))
        result = fan.air_to_zones(["Thôn Đông"], urgent, stop=threading.Event())
        assert result is ZoneAirResult.AIRED
        wait_for(lambda: hears(listeners["dong"].samples(), 880, windows=6), timeout=30, step=0.1)
        # the programme is back on the zone's mount after the urgent
        before = len(listeners["dong"].samples())
        wait_for(lambda: hears(listeners["dong"].samples()[before:], 440), timeout=30, step=0.1)
    finally:
        for listener in listeners.values():
            listener.stop()
        if programme:
            player.interrupt(Outcome.SKIPPED)
            programme[0].join(30)
        fan.stop()
    assert not hears(listeners["tay"].samples(), 880, windows=1), "the other zone heard the urgent"
    assert not hears(listeners["main"].samples(), 880, windows=1), "the main mount heard the zone urgent"


def test_no_card_means_silence_on_air_and_air_to_zones_without_a_stream_or_stopped(icecast_server, tmp_path):
    rec = Recorder()
    fan = _fanout(icecast_server.source_url("/dai.mp3"), rec)
    urgent = write_wav(tmp_path / "urgent.wav", tone(880, 30.0))
    assert fan.air_to_zones(["Thôn Đông"], urgent, stop=threading.Event()) is ZoneAirResult.NO_STREAM
    fan.ensure_zones(["Thôn Đông"])
    fan.start()
    try:
        icecast_server.wait_mount("/dai-zone-thon-dong.mp3")
        # no card at all (closed, lost): the fan-out feeds silence at real time, so the mounts carry sound
        listener = Listener(icecast_server.listen_url("/dai.mp3"), tmp_path / "idle.raw")
        try:
            listener.wait_seconds(1.0)
        finally:
            listener.stop()
        stop = threading.Event()
        box = {}
        thread = threading.Thread(target=lambda: box.setdefault(
            "r", fan.air_to_zones(["Thôn Đông"], urgent, stop=stop)), daemon=True)
        thread.start()
        wait_for(lambda: fan._mounts["/dai-zone-thon-dong.mp3"].override is not None, timeout=20)
        stop.set()
        thread.join(10)
        assert box["r"] is ZoneAirResult.STOPPED
        assert fan._mounts["/dai-zone-thon-dong.mp3"].override is None  # the programme is back at once
    finally:
        fan.stop()


def test_the_ring_never_grows_and_drops_the_oldest():
    ring = Ring(1000)
    for i in range(5):
        ring.push(np.full((400, 2), i, dtype=np.int16))
    out = ring.take()
    assert len(out) == 1000 and ring.dropped == 1000
    assert list(out[:200]) == [2] * 200 and list(out[-400:]) == [4] * 400
    assert len(ring.take()) == 0
