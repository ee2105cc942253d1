"""Numbers typed in the console with digits that str.isdigit() accepts and int() refuses ("²", "①")
or that int() reads but no form means ("٣", Arabic-Indic): each is a bad value like any other, answered
with the page's own Vietnamese message or its default page, never a 500."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session, select
from w2_helpers import login, make_app, text_of

from broadcaster.models import AsRun, AsRunKind, Bulletin, SlotRecord
from broadcaster.playout.memory import MemoryCard
from support.onair import onair_over

ODD = ["²", "①", "٣"]
BULLETIN = {"title": "Lịch tiêm phòng", "text": "Ngày 21/3/2026 tiêm phòng cho trẻ.", "bulletin_class": "thong_thuong",
            "frequency": "n_times"}


@pytest.fixture
def app(station):
    return make_app(station)


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("url", ["/bulletins?page={}", "/log?page={}", "/log?receiver={}", "/log?receiver=all&page={}"])
def test_a_page_number_or_receiver_in_odd_digits_shows_the_default_page(app, station, url, value):
    page = login(app, station, "bientap", "editor").get(url.format(value))
    assert page.status_code == 200, page.text[-500:]


@pytest.mark.parametrize("value", ODD)
def test_a_bulletin_airing_count_in_odd_digits_is_refused_and_nothing_is_written(app, station, value):
    answer = login(app, station, "bientap", "editor").post("/bulletins", {**BULLETIN, "times": value})
    assert answer.status_code == 400 and "Số lần phát phải là số nguyên dương" in text_of(answer.text)
    with Session(station.db) as session:
        assert session.exec(select(Bulletin)).all() == []


@pytest.mark.parametrize("value", ODD)
def test_a_slot_length_in_odd_digits_is_refused_and_nothing_is_written(app, station, value):
    client = login(app, station, "trucdai", "operator")
    with Session(station.db) as session:
        before = [(s.id, s.name) for s in session.exec(select(SlotRecord)).all()]
    answer = client.post("/timetable/slots", {"name": "Buổi trưa", "time": "11:30", "kind": "recurring",
                                              "max_minutes": value, "enabled": "on"})
    assert answer.status_code == 400 and "phải là số phút nguyên dương" in text_of(answer.text)
    with Session(station.db) as session:
        assert [(s.id, s.name) for s in session.exec(select(SlotRecord)).all()] == before


@pytest.mark.parametrize("value", ODD)
def test_a_weekday_in_odd_digits_is_not_a_weekday(app, station, value):
    answer = login(app, station, "trucdai", "operator").post(
        "/timetable/slots", {"name": "Buổi trưa", "time": "11:30", "kind": "recurring", "days": ["1", value],
                             "enabled": "on"})
    assert answer.status_code == 303, answer.text[-500:]
    with Session(station.db) as session:
        noon = session.exec(select(SlotRecord).where(SlotRecord.name == "Buổi trưa")).one()
    assert noon.weekdays == [1]  # only the day ticked with a plain digit


@pytest.mark.parametrize("value", ODD)
def test_a_reading_view_bulletin_id_in_odd_digits_reads_the_typed_text(app, station, value):
    answer = login(app, station, "bientap", "editor").post(
        "/lexicon/entries", {"written": "XYZ", "spoken": "ích xì", "text": "Mã XYZ.", "bulletin_id": value},
        headers={"HX-Request": "true"})
    assert answer.status_code == 200, answer.text[-500:]
    assert "Đã thêm vào từ điển của đài: XYZ → ích xì" in text_of(answer.text)


@pytest.fixture
def onair(station, settings):
    with onair_over(station, settings, MemoryCard(speed=8.0, latency=0.02)) as runner:
        runner.ensure_device()
        yield runner


@pytest.mark.parametrize("value", ODD)
def test_an_urgent_repeat_count_in_odd_digits_is_refused_and_airs_nothing(station, onair, value):
    client = login(make_app(station, onair=onair), station, "trucdai", "operator")
    answer = client.post("/onair/urgent", {"source": "text", "text": "Lũ quét ở thôn Bản Mế.", "repeat": value,
                                           "confirmed": "1"})
    assert answer.status_code == 400 and f"Số lần phát '{value}' không hợp lệ" in html.unescape(text_of(answer.text))
    assert onair.urgent.jobs() == []
    with Session(station.db) as session:
        assert session.exec(select(AsRun).where(AsRun.kind == AsRunKind.urgent)).all() == []
