"""broadcaster.reports.report: the monthly/quarterly report and its exports."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from broadcaster.exceptions import InputError
from broadcaster.models import TONE_TITLE, AsRunKind, AsRunStatus, BulletinClass
from broadcaster.reports.report import Period, build_report, report_csv, report_xlsx
from broadcaster.reports.topics import NO_TOPIC, ensure_topics
from reports_helpers import add_bulletin, add_row, vn


# ----------------------------------------------------------------------------- report
def test_period_parse_and_bounds():
    today = date(2026, 12, 15)
    month = Period.parse("", today=today)
    assert (month.start, month.end, month.label) == (date(2026, 12, 1), date(2027, 1, 1), "Tháng 12/2026")
    quarter = Period.parse("2026-q4", today=today)
    assert (quarter.start, quarter.end, quarter.label) == (date(2026, 10, 1), date(2027, 1, 1), "Quý IV/2026")
    assert Period.parse("2026-Q1", today=today).previous().key == "2025-Q4"
    assert Period.parse("2026-12", today=today).next().key == "2027-01"
    for bad in ("2026-13", "2026-Q5", "tháng 12"):
        with pytest.raises(InputError):
            Period.parse(bad, today=today)


@pytest.fixture
def report_station(station):
    with Session(station.db) as session:
        ensure_topics(session=session)
        power = add_bulletin(session, "Cắt điện", topic="Kinh tế - xã hội")
        army = add_bulletin(session, "Nhập ngũ", topic="Quốc phòng - an ninh", klass=BulletinClass.priority)
        loose = add_bulletin(session, "Tin không chủ đề")
        for day in (1, 2, 3):
            add_row(session, at=vn(2026, 12, day, 6, 0), title="Cắt điện", bulletin_id=power.id,
                    bulletin_class=BulletinClass.normal, seconds=90)
        add_row(session, at=vn(2026, 12, 1, 6, 2), title="Nhập ngũ", bulletin_id=army.id,
                bulletin_class=BulletinClass.priority, seconds=120)
        # cut short: its minutes count, it is not an airing
        add_row(session, at=vn(2026, 12, 2, 6, 2), title="Nhập ngũ", bulletin_id=army.id,
                bulletin_class=BulletinClass.priority, seconds=30, status=AsRunStatus.interrupted)
        add_row(session, at=vn(2026, 12, 4, 6, 0), title="Tin không chủ đề", bulletin_id=loose.id,
                bulletin_class=BulletinClass.normal, seconds=60)
        add_row(session, at=vn(2026, 12, 5, 9, 0), title=TONE_TITLE, kind=AsRunKind.urgent,
                bulletin_class=BulletinClass.emergency, seconds=6)
        add_row(session, at=vn(2026, 12, 5, 9, 0, 6), title="Thông báo khẩn cấp: bão", kind=AsRunKind.urgent,
                bulletin_class=BulletinClass.emergency, seconds=54)
        add_row(session, at=vn(2026, 12, 6, 19, 0), title="Tiếp sóng VOV1", kind=AsRunKind.relay, seconds=1800)
        add_row(session, at=vn(2026, 12, 7, 6, 0), title="Cắt điện", bulletin_id=power.id, status=AsRunStatus.failed,
                bulletin_class=BulletinClass.normal, seconds=0)
        add_row(session, at=vn(2026, 12, 8, 6, 0), title="Cắt điện", bulletin_id=power.id, status=AsRunStatus.missed,
                bulletin_class=BulletinClass.normal, seconds=0)
        add_row(session, at=vn(2026, 12, 8, 9, 0), title="Nhạc đệm", kind=AsRunKind.filler, seconds=30)
        # outside December in the station's zone (23:59 on 30/11 and 00:00 on 1/1)
        add_row(session, at=vn(2026, 11, 30, 23, 59), title="Cắt điện", bulletin_id=power.id, seconds=90)
        add_row(session, at=vn(2027, 1, 1, 0, 0), title="Cắt điện", bulletin_id=power.id, seconds=90)
        session.commit()
    return station


def line(lines, key):
    return next(item for item in lines if item.key == key)


def test_report_by_class_topic_and_kind(report_station):
    station = report_station
    with Session(station.db) as session:
        report = build_report(session=session, tz=station.tz, period=Period("month", 2026, 12))
    assert report.total.airings == 3 + 1 + 1 + 1 + 1  # tone and interrupted rows are not airings
    assert report.total.seconds == pytest.approx(270 + 120 + 30 + 60 + 6 + 54 + 1800)
    normal = line(report.by_class, "thong_thuong")
    assert (normal.airings, normal.bulletins, normal.seconds) == (4, 2, 330)
    priority = line(report.by_class, "uu_tien")
    assert (priority.airings, priority.bulletins, priority.seconds) == (1, 1, 150)
    urgent = line(report.by_class, "khan_cap")
    assert (urgent.airings, urgent.seconds, urgent.label) == (1, 60, "Khẩn cấp")
    economy = line(report.by_topic, "Kinh tế - xã hội")
    assert (economy.airings, economy.bulletins, economy.minutes_label) == (3, 1, "4,5")
    assert line(report.by_topic, "Quốc phòng - an ninh").seconds == 150
    assert line(report.by_topic, "Chủ trương của Đảng").airings == 0  # every plan topic is listed
    untagged = line(report.by_topic, NO_TOPIC)
    assert (untagged.airings, untagged.seconds) == (2, 120)  # the loose bulletin and the urgent message
    assert line(report.by_kind, "relay").seconds == 1800 and line(report.by_kind, "relay").airings == 1
    assert "filler" not in [k.key for k in report.by_kind]
    assert (report.failed, report.missed) == (1, 1)
    assert [(d.title, d.airings) for d in report.bulletins] == [("Cắt điện", 3), ("Nhập ngũ", 1), ("Tin không chủ đề", 1)]


def test_quarter_report_takes_three_months(report_station):
    station = report_station
    with Session(station.db) as session:
        quarter = build_report(session=session, tz=station.tz, period=Period("quarter", 2026, 4))
        november = build_report(session=session, tz=station.tz, period=Period("month", 2026, 11))
    assert line(quarter.by_topic, "Kinh tế - xã hội").airings == 4
    assert november.total.airings == 1 and november.total.seconds == 90


def test_report_exports(report_station):
    station = report_station
    with Session(station.db) as session:
        report = build_report(session=session, tz=station.tz, period=Period("month", 2026, 12))
    book = load_workbook(io.BytesIO(report_xlsx(report, station_name="Đài truyền thanh xã Dân Tiến")))
    assert book.sheetnames == ["Tổng hợp", "Chi tiết"]
    summary = [r for r in book["Tổng hợp"].iter_rows(values_only=True)]
    assert summary[0][0] == "Đài truyền thanh xã Dân Tiến — Báo cáo phát sóng Tháng 12/2026"
    as_dict = {r[0]: r[1:4] for r in summary if r and r[0]}
    assert as_dict["Kinh tế - xã hội"] == (3, 1, 4.5)
    assert as_dict["Ưu tiên"] == (1, 1, 2.5)
    assert as_dict["Số lượt bỏ lỡ"][0] == 1
    detail = list(book["Chi tiết"].iter_rows(values_only=True))
    assert detail[0] == ("Mã", "Tiêu đề", "Mức độ", "Chủ đề", "Số lượt phát", "Số phút phát")
    assert detail[1][1:5] == ("Cắt điện", "thông thường", "Kinh tế - xã hội", 3)
    text_csv = report_csv(report).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text_csv)))
    assert ["Kinh tế - xã hội", "3", "1", "4.5"] in rows
    assert ["Theo chủ đề"] in rows and ["Theo mức độ"] in rows
