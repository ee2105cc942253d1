"""Issue 14 item 3 on the Trực đài page: «Tất cả các cụm loa» (the default) or some known zones; the
confirmation says who will hear it; the urgent reaches only those zones' mounts (a fake fan-out)."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import pytest
from w2_helpers import login, make_app, text_of

from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player


def _zone_helpers():
    if "zone_helpers" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "station" / "zone_helpers.py"
        spec = importlib.util.spec_from_file_location("zone_helpers", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["zone_helpers"] = module
        spec.loader.exec_module(module)
    return sys.modules["zone_helpers"]


zh = _zone_helpers()
MESSAGE = "Lũ về, bà con thôn Đông và xóm Bãi sơ tán ngay."


def _onair(station, settings, fanout):
    card = MemoryCard(speed=8.0, latency=0.02)
    runner = station.on_air(player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate,
                                                          fade_ms=settings.fade_ms),
                            stop=threading.Event(), say=lambda message: None, fanout=fanout)
    runner.ensure_device()
    return runner


@pytest.fixture
def zoned(station, settings):
    zh.add_receivers(station.db, zh.ZONES)
    fanout = zh.FakeFanout()
    runner = _onair(station, settings, fanout)
    yield runner, fanout
    runner.urgent.shutdown()
    runner.player.close()


def test_the_page_offers_all_clusters_or_the_known_zones(station, zoned):
    onair, fanout = zoned
    client = login(make_app(station, onair=onair), station, "trucdai", "operator")
    page = client.get("/onair").text
    assert 'id="chon-vung"' in page and "Tất cả các cụm loa" in page
    assert 'value="all" id="vung-tat-ca" checked' in page  # the default
    for zone in ("Thôn Đông", "Thôn Tây", "Xóm Bãi"):
        assert f'name="zones" value="{zone}"' in page

    asked = client.post("/onair/urgent", {"source": "text", "text": MESSAGE, "zone_scope": "zones",
                                          "zones": ["Thôn Đông", "Xóm Bãi"]})
    assert asked.status_code == 200 and "Phát tới: chỉ các vùng Thôn Đông, Xóm Bãi" in text_of(asked.text)
    assert onair.urgent.jobs() == [] and fanout.calls == []  # asked once, nothing aired yet
    done = client.post("/onair/urgent", {"source": "text", "text": MESSAGE, "zone_scope": "zones",
                                         "zones": ["Thôn Đông", "Xóm Bãi"], "confirmed": "1"})
    assert done.status_code == 303, done.text
    (job,) = onair.urgent.jobs()
    assert job.done.wait(60) and job.state == "done", job.public()
    assert [c["zones"] for c in fanout.calls] == [["Thôn Đông", "Xóm Bãi"]] * 2
    log = text_of(client.get("/log").text)
    assert "Vùng: Thôn Đông, Xóm Bãi" in log
    recent = text_of(client.get("/onair").text)
    assert "Vùng: Thôn Đông, Xóm Bãi" in recent and "(vùng Thôn Đông, Xóm Bãi)" in recent


def test_all_clusters_is_the_default_and_says_so(station, zoned):
    onair, _fanout = zoned
    client = login(make_app(station, onair=onair), station, "trucdai", "operator")
    asked = client.post("/onair/urgent", {"source": "text", "text": MESSAGE})
    assert asked.status_code == 200 and "Phát tới: tất cả các cụm loa" in text_of(asked.text)
    assert 'name="zones"' not in asked.text


@pytest.mark.parametrize(
    "form, message",
    [
        ({"zone_scope": "zones"}, "Hãy đánh dấu ít nhất một vùng, hoặc chọn «Tất cả các cụm loa»"),
        ({"zone_scope": "zones", "zones": ["Bến Đò"]}, "Không có vùng «Bến Đò»; các vùng đã biết: Thôn Đông, Thôn Tây, Xóm Bãi"),
    ],
)
def test_bad_zone_choices_are_one_line_and_nothing_airs(station, zoned, form, message):
    onair, fanout = zoned
    client = login(make_app(station, onair=onair), station, "trucdai", "operator")
    for confirmed in ("", "1"):
        r = client.post("/onair/urgent", {"source": "text", "text": MESSAGE, "confirmed": confirmed, **form})
        assert r.status_code == 400 and message in r.text
        assert "Traceback" not in r.text
    assert onair.urgent.jobs() == [] and fanout.calls == [] and station.as_run_log() == []


def test_without_a_stream_no_zone_choice_and_zones_are_refused(station, settings):
    zh.add_receivers(station.db, zh.ZONES)
    onair = _onair(station, settings, None)
    try:
        client = login(make_app(station, onair=onair), station, "trucdai", "operator")
        assert 'id="chon-vung"' not in client.get("/onair").text
        r = client.post("/onair/urgent", {"source": "text", "text": MESSAGE, "zone_scope": "zones",
                                          "zones": ["Thôn Đông"], "confirmed": "1"})
        assert r.status_code == 400 and "Đài chưa cấu hình luồng Icecast nên không phát theo vùng được" in r.text
        assert onair.urgent.jobs() == [] and station.as_run_log() == []
    finally:
        onair.urgent.shutdown()
        onair.player.close()
