"""Issue 14 item 3: an urgent for some zones goes to those zones' mounts through the fan-out only; the
card and the main mount keep the programme; it stops like any urgent; its as-run rows name the zones.
The fan-out is the fake of zone_helpers (the real one: streaming/fanout.py); the card the 4x fake."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from playout_helpers import locate, mono
from urgent_helpers import air_in_thread, attention_samples, on_air_title, ready_bulletin, wait_for
from zone_helpers import ZONES, FakeFanout, add_receivers

from broadcaster.exceptions import InputError
from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player
from broadcaster.station.urgent import STOP_PROGRAMME_REASON, TONE_TITLE, URGENT_STOP_REASON
from broadcaster.station.urgent_zones import (
    MIC_ZONES_MESSAGE,
    NO_STREAM_MESSAGE,
    NOT_CONNECTED_REASON,
    known_zones,
)
from broadcaster.streaming.protocol import ZoneAirResult

MESSAGE = "Nước sông lên nhanh, bà con vùng trũng di chuyển lên chỗ cao."


def _onair(station, card, settings, fanout):
    runner = station.on_air(
        player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate, fade_ms=settings.fade_ms),
        stop=threading.Event(), say=lambda message: None, fanout=fanout,
    )
    runner.ensure_device()
    return runner


@pytest.fixture
def zoned(station, settings):
    """(OnAir with a fake fan-out whose probe reads what the card airs, the fan-out, the card); receivers
    in 3 zones. The card runs at real time: a programme item outlasts the zones' urgent however slow
    this machine is (the test stops the programme itself)."""
    add_receivers(station.db, ZONES)
    fanout = FakeFanout(probe=lambda: (_programme_on_air(station), runner.gate.urgent_active))
    card = MemoryCard(speed=1.0, latency=0.02)
    runner = _onair(station, card, settings, fanout)
    yield runner, fanout, card
    runner.urgent.shutdown()
    runner.player.close()


def _programme_on_air(station) -> list[str]:
    """The programme rows still open (on air on the card)."""
    return [r.title for r in station.as_run_log() if r.status.value == "on_air" and r.kind.value == "programme"]


def _heard(card) -> np.ndarray:
    return mono(np.concatenate([s.captured() for s in card.streams]))


def test_known_zones_are_the_receivers_zones(station):
    assert known_zones(station.db) == []  # no receivers table yet (h4's migration): no zone, no failure
    add_receivers(station.db, ZONES + [("Cụm loa 6", "Bến Đò")], revoked=("Cụm loa 6",))
    assert known_zones(station.db) == ["Thôn Đông", "Thôn Tây", "Xóm Bãi"]  # one name per zone, revoked out


def test_urgent_for_zones_airs_on_their_mounts_only_and_the_card_keeps_the_programme(station, zoned, tmp_path):
    onair, fanout, card = zoned
    ready_bulletin(station, tmp_path, "Tin A", 440, 120.0)  # 2 minutes on the real-time card: the zones' urgent airs while it plays
    thread, box = air_in_thread(station, onair.player)
    wait_for(lambda: on_air_title(station) == "Tin A")
    job = onair.urgent.request(text=MESSAGE, zones=["xom bai", "Thôn Đông", "Xóm Bãi"], operator="Lan", repeat=2)
    assert job.done.wait(120), job.public()
    assert job.state == "done" and job.airings == 2, job.public()
    assert job.public()["zones"] == ["Xóm Bãi", "Thôn Đông"]  # as the station names them, each once
    # the tone, then the message twice, each on those zones' mounts; the card kept "Tin A" meanwhile
    assert [c["zones"] for c in fanout.calls] == [["Xóm Bãi", "Thôn Đông"]] * 3
    assert np.array_equal(fanout.calls[0]["samples"], attention_samples(station))
    assert fanout.calls[1]["path"] == fanout.calls[2]["path"] and len(fanout.calls[1]["samples"]) > 48000
    assert [c["probe"] for c in fanout.calls] == [(["Tin A"], False)] * 3  # on the card meanwhile; gate never seized
    assert {"Xóm Bãi", "Thôn Đông"} <= fanout.zones
    assert on_air_title(station) == "Tin A"
    assert onair.stop_programme()
    thread.join(30)
    rows = station.as_run_log()
    programme = [r for r in rows if r.kind.value == "programme"]
    assert [(r.title, r.status.value, r.reason) for r in programme] == [("Tin A", "interrupted", STOP_PROGRAMME_REASON)]
    urgent = [r for r in rows if r.kind.value == "urgent"]
    assert [(r.title, r.status.value) for r in urgent] == [
        (TONE_TITLE, "aired"), (f"Thông báo khẩn cấp: {job.label} (lần 1/2)", "aired"),
        (f"Thông báo khẩn cấp: {job.label} (lần 2/2)", "aired")]
    for row in urgent:
        assert row.zones == ["Xóm Bãi", "Thôn Đông"] and row.bulletin_class == "khan_cap" and row.operator == "Lan"
    assert row.path == str(fanout.calls[2]["path"])
    assert programme[0].zones is None
    # the card never heard the attention tone
    assert locate(_heard(card), attention_samples(station)) is None


def test_a_zones_urgent_stops_like_any_urgent(station, card, settings, tmp_path):
    add_receivers(station.db, ZONES)
    fanout = FakeFanout(hold=True)  # airs until it is stopped
    onair = _onair(station, card, settings, fanout)
    try:
        job = onair.urgent.request(text=MESSAGE, zones=["Thôn Tây"], repeat=3)
        assert fanout.airing.wait(30)
        assert onair.urgent.status()["active"][0]["zones"] == ["Thôn Tây"]
        assert onair.urgent.stop() is True
        assert job.done.wait(30) and job.state == "stopped", job.public()
    finally:
        onair.urgent.shutdown()
        onair.player.close()
    assert [c["outcome"] for c in fanout.calls] == [ZoneAirResult.STOPPED]
    assert [(r.title, r.status.value, r.reason, r.zones) for r in station.as_run_log()] == [
        (TONE_TITLE, "interrupted", URGENT_STOP_REASON, ["Thôn Tây"])]


def test_no_connection_to_icecast_fails_the_request_with_a_row(station, card, settings):
    add_receivers(station.db, ZONES)
    fanout = FakeFanout(result=ZoneAirResult.NO_STREAM)
    onair = _onair(station, card, settings, fanout)
    try:
        job = onair.urgent.request(text=MESSAGE, zones=["Thôn Tây"])
        assert job.done.wait(30) and job.state == "failed" and job.error == NOT_CONNECTED_REASON
    finally:
        onair.urgent.shutdown()
        onair.player.close()
    assert [(r.title, r.status.value, r.reason) for r in station.as_run_log()] == [
        (TONE_TITLE, "failed", NOT_CONNECTED_REASON)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text": MESSAGE, "zones": ["Bến Đò"]},
         "Không có vùng «Bến Đò»; các vùng đã biết: Thôn Đông, Thôn Tây, Xóm Bãi"),
        ({"text": MESSAGE, "zones": ["Thôn Đông", "  "]}, "Tên vùng không được để trống."),
        ({"text": MESSAGE, "zones": ["Thôn Đông", 3]}, "Danh sách vùng phải là các tên vùng (chuỗi)"),
        ({"mic": True, "zones": ["Thôn Đông"]}, MIC_ZONES_MESSAGE),
    ],
)
def test_bad_zones_are_refused_before_anything_airs_or_is_written(station, zoned, kwargs, message):
    onair, fanout, _card = zoned
    onair.urgent._mic_factory = lambda **kw: None  # the station has a microphone: the zones refuse it
    with pytest.raises(InputError) as caught:
        onair.urgent.request(**kwargs)
    assert str(caught.value) == message
    assert fanout.calls == [] and onair.urgent.jobs() == [] and station.as_run_log() == []


def test_no_stream_no_zones(station, onair):
    add_receivers(station.db, ZONES)
    with pytest.raises(InputError) as caught:
        onair.urgent.request(text=MESSAGE, zones=["Thôn Đông"])
    assert str(caught.value) == NO_STREAM_MESSAGE
    assert onair.urgent.jobs() == [] and station.as_run_log() == []


def test_no_zones_is_every_cluster_as_before(station, zoned):
    onair, fanout, _card = zoned
    job = onair.urgent.request(text="Thử loa.", zones=[])
    assert job.done.wait(60) and job.state == "done", job.public()
    assert fanout.calls == [] and job.public()["zones"] is None
    assert [(r.kind.value, r.status.value, r.zones) for r in station.as_run_log()] == [
        ("urgent", "aired", None), ("urgent", "aired", None)]


def test_a_zones_urgent_needs_no_sound_card(station, settings):
    # the zones' clusters have their own amplifiers: a station whose card is gone still warns them
    add_receivers(station.db, ZONES)
    fanout = FakeFanout()
    onair = _onair(station, MemoryCard(missing=True), settings, fanout)
    try:
        assert not onair.player.is_open
        job = onair.urgent.request(text="Đê sắp vỡ.", zones=["Xóm Bãi"])
        assert job.done.wait(60) and job.state == "done", job.public()
    finally:
        onair.urgent.shutdown()
        onair.player.close()
    assert [c["zones"] for c in fanout.calls] == [["Xóm Bãi"], ["Xóm Bãi"]]
    assert [(r.status.value, r.zones) for r in station.as_run_log() if r.kind.value == "urgent"] == [
        ("aired", ["Xóm Bãi"]), ("aired", ["Xóm Bãi"])]
