"""The data layer of the console's timetable, log and report pages (broadcaster.reports).

Real SQLite through the `station` fixture; rows are written directly (the log is data here,
not the subject), WAV items are real files.
"""

from __future__ import annotations

import csv
import io
import wave
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session, select

from broadcaster import reports
from broadcaster.exceptions import InputError, NotFoundError, ScheduleError
from broadcaster.models import (
    AsRun,
    AsRunKind,
    AsRunStatus,
    Bulletin,
    BulletinClass,
    BulletinStatus,
    Frequency,
    SlotRecord,
    Topic,
)
from broadcaster.scheduling import store
from broadcaster.urgent import TONE_TITLE

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def add_row(session, *, at: datetime, title="Tin", seconds=60.0, status=AsRunStatus.aired, **fields) -> AsRun:
    start = at.astimezone(timezone.utc)
    row = AsRun(
        title=title,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds),
        duration_s=seconds,
        status=status,
        **fields,
    )
    session.add(row)
    return row


def add_bulletin(session, title, *, topic=None, klass=BulletinClass.normal, status=BulletinStatus.approved, **fields):
    bulletin = Bulletin(title=title, text=title + ".", bulletin_class=klass, topic=topic, status=status, **fields)
    session.add(bulletin)
    session.commit()
    session.refresh(bulletin)
    return bulletin


def write_wav(path, seconds: float, rate: int = 8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return path


# ----------------------------------------------------------------------------- topics
def test_topics_are_seeded_once_from_the_plan(station):
    with Session(station.db) as session:
        names = [t.name for t in reports.ensure_topics(session=session)]
        assert names[:2] == ["Chủ trương của Đảng", "Chính sách pháp luật"]
        assert "Kinh tế - xã hội" in names and "Quốc phòng - an ninh" in names
        for topic in reports.list_topics(session=session):
            reports.remove_topic(session=session, topic_id=topic.id)
        # an officer who removed every topic meant it: no re-seeding
        assert reports.ensure_topics(session=session) == []


def test_topic_add_rename_remove(station):
    with Session(station.db) as session:
        reports.ensure_topics(session=session)
        added = reports.add_topic(session=session, name="  Chuyển   đổi số ", by="admin")
        assert added.name == "Chuyển đổi số"
        assert [t.name for t in reports.list_topics(session=session)][-1] == "Chuyển đổi số"
        with pytest.raises(InputError):
            reports.add_topic(session=session, name="Chuyển đổi số")
        with pytest.raises(InputError):
            reports.add_topic(session=session, name="   ")
        bulletin = add_bulletin(session, "Dịch vụ công trực tuyến", topic="Chuyển đổi số")
        renamed = reports.rename_topic(session=session, topic_id=added.id, name="Chuyển đổi số quốc gia", by="lanhdao")
        assert renamed.name == "Chuyển đổi số quốc gia"
        session.expire_all()
        again = session.get(Bulletin, bulletin.id)
        assert again.topic == "Chuyển đổi số quốc gia" and again.updated_by == "lanhdao"
        with pytest.raises(InputError):
            reports.rename_topic(session=session, topic_id=added.id, name="Kinh tế - xã hội")
        reports.remove_topic(session=session, topic_id=added.id)
        assert session.get(Topic, added.id) is None
        assert session.get(Bulletin, bulletin.id).topic == "Chuyển đổi số quốc gia"  # bulletins keep their text
        with pytest.raises(NotFoundError):
            reports.remove_topic(session=session, topic_id=added.id)


def test_the_baseline_migration_gives_an_old_database_its_indexes(station):
    from broadcaster.db import create_schema

    with station.db.begin() as conn:  # as a database of an earlier release (before Alembic) had it
        conn.execute(text("DROP INDEX ix_as_run_operator_started"))
        conn.execute(text("DROP INDEX ix_as_run_class_started"))
        conn.execute(text("DROP TABLE alembic_version"))
    create_schema(station.db)
    with station.db.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    assert {"ix_as_run_operator_started", "ix_as_run_class_started"} <= names


@pytest.mark.parametrize(
    ("where", "index"),
    [
        ("operator = 'trucdai'", "ix_as_run_operator_started"),
        ("bulletin_class = 'emergency'", "ix_as_run_class_started"),
        ("status = 'failed'", "ix_as_run_status"),
        ("kind = 'relay'", "ix_as_run_kind"),
    ],
)
def test_log_filters_use_an_index(station, where, index):
    with station.db.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN SELECT count(*) FROM as_run WHERE {where}")))
    assert index in plan, plan


# -------------------------------------------------------------------------------- log
@pytest.fixture
def log_rows(station):
    """A small log across a local-midnight boundary (UTC 17:00 is local midnight)."""
    with Session(station.db) as session:
        add_row(session, at=vn(2026, 12, 1, 6, 0), title="Cắt điện thôn 3", bulletin_class=BulletinClass.normal,
                slot="Buổi sáng", planned_at=vn(2026, 12, 1, 6, 0))
        add_row(session, at=vn(2026, 12, 1, 23, 59), title="Tin cuối ngày", bulletin_class=BulletinClass.priority)
        add_row(session, at=vn(2026, 12, 2, 0, 1), title="Tin đầu ngày", status=AsRunStatus.failed, reason="Không có thiết bị âm thanh")
        add_row(session, at=vn(2026, 12, 2, 9, 0), title=TONE_TITLE, kind=AsRunKind.urgent,
                bulletin_class=BulletinClass.emergency, operator="trucdai", seconds=3.0)
        add_row(session, at=vn(2026, 12, 2, 9, 0, 3), title="=HYPERLINK(\"x\") bão số 3", kind=AsRunKind.urgent,
                bulletin_class=BulletinClass.emergency, operator="trucdai", seconds=30.0)
        session.commit()
    return station


def titles(page):
    return [e.title for e in page.entries]


def test_log_newest_first_with_local_day_filters(log_rows):
    station = log_rows
    with Session(station.db) as session:
        page = reports.query_log(session=session, tz=station.tz)
        assert page.total == 5
        assert titles(page)[0].startswith("=HYPERLINK") and titles(page)[-1] == "Cắt điện thôn 3"
        one_day = reports.query_log(session=session, tz=station.tz, filters=reports.LogFilter(
            date_from=date(2026, 12, 1), date_until=date(2026, 12, 1)))
        # 23:59 local on the 1st is 16:59 UTC, 00:01 on the 2nd is 17:01 UTC on the 1st
        assert titles(one_day) == ["Tin cuối ngày", "Cắt điện thôn 3"]
        second = reports.query_log(session=session, tz=station.tz, filters=reports.LogFilter(date_from=date(2026, 12, 2)))
        assert second.total == 3
        first_entry = one_day.entries[-1]
        assert first_entry.started == "01/12/2026 06:00:00" and first_entry.planned == "01/12/2026 06:00"
        assert first_entry.status_label == "đã phát" and first_entry.class_label == "thông thường"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"bulletin_class": "khan_cap"}, 2),
        ({"bulletin_class": "uu_tien"}, 1),
        ({"status": "failed"}, 1),
        ({"operator": "trucdai"}, 2),
        ({"operator": "ai-đó"}, 0),
        ({"kind": "urgent"}, 2),
        ({"kind": "urgent", "status": "aired", "date_from": "02/12/2026", "date_until": "2026-12-02"}, 2),
    ],
)
def test_log_filters(log_rows, filters, expected):
    with Session(log_rows.db) as session:
        page = reports.query_log(session=session, tz=log_rows.tz, filters=reports.LogFilter.parse(**filters))
    assert page.total == expected == len(page.entries)


@pytest.mark.parametrize(
    "bad",
    [{"date_from": "32/13/2026"}, {"status": "phát rồi"}, {"bulletin_class": "vip"}, {"kind": "music"}],
)
def test_bad_filters_are_refused_in_vietnamese(bad):
    with pytest.raises(InputError) as info:
        reports.LogFilter.parse(**bad)
    assert "không hợp lệ" in str(info.value)


def test_until_before_from_is_refused(log_rows):
    with Session(log_rows.db) as session, pytest.raises(InputError):
        reports.query_log(session=session, tz=log_rows.tz, filters=reports.LogFilter(
            date_from=date(2026, 12, 2), date_until=date(2026, 12, 1)))


def test_log_pagination(station):
    with Session(station.db) as session:
        for n in range(23):
            add_row(session, at=vn(2026, 12, 1, 6, 0) + timedelta(minutes=n), title=f"Tin {n:02d}")
        session.commit()
        first = reports.query_log(session=session, tz=station.tz, per_page=10)
        last = reports.query_log(session=session, tz=station.tz, per_page=10, page=3)
    assert (first.total, first.pages, first.has_prev, first.has_next) == (23, 3, False, True)
    assert titles(first)[0] == "Tin 22"
    assert titles(last) == ["Tin 02", "Tin 01", "Tin 00"] and not last.has_next


def test_playable_only_under_the_data_dir(station, tmp_path):
    inside = write_wav(station.settings.data_dir / "cache" / "items" / "a.wav", 0.1)
    outside = write_wav(tmp_path / "elsewhere.wav", 0.1)
    data_dir = station.settings.data_dir
    assert reports.playable_path(str(inside), data_dir) == inside.resolve()
    assert reports.playable_path(str(outside), data_dir) is None
    assert reports.playable_path(str(data_dir / ".." / "elsewhere.wav"), data_dir) is None
    assert reports.playable_path(str(data_dir / "cache" / "nothing.wav"), data_dir) is None
    assert reports.playable_path(None, data_dir) is None


def test_log_csv_export(log_rows):
    with Session(log_rows.db) as session:
        data = b"".join(reports.log_csv(session=session, tz=log_rows.tz, filters=reports.LogFilter(kind=AsRunKind.urgent)))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == reports.LOG_HEADERS
    assert len(rows) == 3
    tone = rows[1]
    assert tone[1] == "02/12/2026 09:00:00" and tone[4] == TONE_TITLE
    assert tone[5] == "khẩn cấp" and tone[6] == "khẩn cấp" and tone[7] == "đã phát" and tone[10] == "trucdai"
    # a title that looks like a formula stays text in a spreadsheet
    assert rows[2][4].startswith("'=HYPERLINK")


def test_log_xlsx_export(log_rows):
    with Session(log_rows.db) as session:
        data = reports.log_xlsx(session=session, tz=log_rows.tz)
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(values_only=True))
    header = values[reports.LOG_HEADER_ROW - 1]
    assert tuple(header) == reports.LOG_HEADERS
    body = values[reports.LOG_HEADER_ROW:]
    assert len(body) == 5
    assert body[0][1] == datetime(2026, 12, 1, 6, 0)  # station-local wall time
    assert body[0][4] == "Cắt điện thôn 3" and body[0][8] == "Buổi sáng"
    assert body[2][7] == "lỗi" and body[2][11] == "Không có thiết bị âm thanh"


def test_log_export_streams_many_rows_in_order(station):
    base = vn(2026, 11, 1, 6, 0).astimezone(timezone.utc)
    with station.db.begin() as conn:
        conn.execute(
            AsRun.__table__.insert(),
            [{"title": f"T{n}", "status": "aired", "kind": "programme", "started_at": base + timedelta(seconds=n // 2),
              "duration_s": 1.0} for n in range(4500)],
        )
    with Session(station.db) as session:
        ids = [row.id for row, _klass in reports.iter_log(session=session, tz=station.tz, batch=1000)]
    assert len(ids) == 4500 == len(set(ids))
    assert ids == sorted(ids)


# ----------------------------------------------------------------------------- report
def test_period_parse_and_bounds():
    today = date(2026, 12, 15)
    month = reports.Period.parse("", today=today)
    assert (month.start, month.end, month.label) == (date(2026, 12, 1), date(2027, 1, 1), "Tháng 12/2026")
    quarter = reports.Period.parse("2026-q4", today=today)
    assert (quarter.start, quarter.end, quarter.label) == (date(2026, 10, 1), date(2027, 1, 1), "Quý IV/2026")
    assert reports.Period.parse("2026-Q1", today=today).previous().key == "2025-Q4"
    assert reports.Period.parse("2026-12", today=today).next().key == "2027-01"
    for bad in ("2026-13", "2026-Q5", "tháng 12"):
        with pytest.raises(InputError):
            reports.Period.parse(bad, today=today)


@pytest.fixture
def report_station(station):
    with Session(station.db) as session:
        reports.ensure_topics(session=session)
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
        report = reports.build_report(session=session, tz=station.tz, period=reports.Period("month", 2026, 12))
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
    untagged = line(report.by_topic, reports.NO_TOPIC)
    assert (untagged.airings, untagged.seconds) == (2, 120)  # the loose bulletin and the urgent message
    assert line(report.by_kind, "relay").seconds == 1800 and line(report.by_kind, "relay").airings == 1
    assert "filler" not in [k.key for k in report.by_kind]
    assert (report.failed, report.missed) == (1, 1)
    assert [(d.title, d.airings) for d in report.bulletins] == [("Cắt điện", 3), ("Nhập ngũ", 1), ("Tin không chủ đề", 1)]


def test_quarter_report_takes_three_months(report_station):
    station = report_station
    with Session(station.db) as session:
        quarter = reports.build_report(session=session, tz=station.tz, period=reports.Period("quarter", 2026, 4))
        november = reports.build_report(session=session, tz=station.tz, period=reports.Period("month", 2026, 11))
    assert line(quarter.by_topic, "Kinh tế - xã hội").airings == 4
    assert november.total.airings == 1 and november.total.seconds == 90


def test_report_exports(report_station):
    station = report_station
    with Session(station.db) as session:
        report = reports.build_report(session=session, tz=station.tz, period=reports.Period("month", 2026, 12))
    book = load_workbook(io.BytesIO(reports.report_xlsx(report, station_name="Đài truyền thanh xã Dân Tiến")))
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
    text_csv = reports.report_csv(report).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text_csv)))
    assert ["Kinh tế - xã hội", "3", "1", "4.5"] in rows
    assert ["Theo chủ đề"] in rows and ["Theo mức độ"] in rows


def test_chart_svg_escapes_and_scales():
    lines = [reports.ReportLine("a", "<script>alert(1)</script>", airings=2, seconds=600),
             reports.ReportLine("b", "Kinh tế - xã hội", airings=1, seconds=300)]
    svg = reports.bar_chart_svg(lines, title="Số phút & lượt")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Số phút &amp; lượt" in svg
    assert "10,0 phút" in svg and "5,0 phút" in svg
    widths = [float(part.split('"')[0]) for part in svg.split('<rect x="230" y="')[1:] for part in [part.split('width="')[1]]]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    empty = reports.bar_chart_svg([reports.ReportLine("x", "X")], title="t")
    assert 'width="0"' in empty


# ------------------------------------------------------------------------------- week
def test_week_view_programme_overflow_problems_and_past(station, tmp_path):
    # the default timetable: Buổi sáng 06:00 and Buổi chiều 17:00, 30 minutes, every day
    items = station.settings.data_dir / "cache" / "items"
    long_item = write_wav(items / "long.wav", 0.1)
    short_item = write_wav(items / "short.wav", 0.1)
    now = vn(2026, 12, 2, 12, 0)  # Wednesday noon
    with Session(station.db) as session:
        add_bulletin(session, "Bài dài", item_path=str(long_item), item_duration_s=25 * 60,
                     approved_at=now - timedelta(days=3), valid_from=date(2026, 12, 1))
        add_bulletin(session, "Bài ngắn", item_path=str(short_item), item_duration_s=10 * 60,
                     approved_at=now - timedelta(days=2), valid_from=date(2026, 12, 1))
        add_bulletin(session, "Bài lỗi", render_error="Không đọc được văn bản", valid_from=date(2026, 12, 1),
                     approved_at=now - timedelta(days=1), klass=BulletinClass.priority)
        add_bulletin(session, "Bản nháp", status=BulletinStatus.draft)
        add_row(session, at=vn(2026, 12, 1, 6, 0, 5), title="Bài dài", slot="Buổi sáng",
                planned_at=vn(2026, 12, 1, 6, 0), seconds=1500)
        add_row(session, at=vn(2026, 12, 1, 6, 25, 5), title="Bài ngắn", slot="Buổi sáng",
                planned_at=vn(2026, 12, 1, 6, 0), seconds=0, status=AsRunStatus.missed, reason="Máy tắt")
        session.commit()
    days = reports.week_view(station=station, week_start=date(2026, 12, 3), now=now)
    assert [d.day for d in days] == [date(2026, 11, 30) + timedelta(days=n) for n in range(7)]
    assert days[0].label == "Thứ Hai" and days[2].is_today and not days[1].is_today
    assert all(len(d.occurrences) == 2 for d in days)
    tuesday_morning = days[1].occurrences[0]
    assert tuesday_morning.past and tuesday_morning.programme is None
    assert [e.title for e in tuesday_morning.aired] == ["Bài dài", "Bài ngắn"]
    assert any("bỏ lỡ" in w and "Máy tắt" in w for w in tuesday_morning.warnings)
    evening = days[2].occurrences[1]  # Wednesday 17:00, still to come
    assert not evening.past and evening.at == vn(2026, 12, 2, 17, 0)
    programme = evening.programme
    assert [i.title for i in programme.items] == ["Bài lỗi", "Bài dài"]
    assert [d.title for d in programme.overflow] == ["Bài ngắn"]
    assert evening.total_s == 25 * 60 and evening.fill == pytest.approx(25 / 30)
    assert any(w.startswith("Quá thời lượng: 1 bản tin") and "Bài ngắn" in w for w in evening.warnings)
    assert any("Bài lỗi" in w and "Không đọc được văn bản" in w for w in evening.warnings)
    # a day before the bulletins' window has an empty programme and no warnings
    monday = days[0].occurrences[1]
    assert monday.past and not monday.warnings and monday.total_s == 0


def test_week_view_skips_disabled_and_follows_weekdays(station):
    with Session(station.db) as session:
        store.set_slot_enabled(session=session, ref="Buổi chiều", enabled=False)
        slot = reports.slot_from_form({"name": "Cuối tuần", "time": "19:30", "days": ["T7", "CN"], "max_minutes": "15"})
        store.add_slot(session=session, slot=slot)
    days = reports.week_view(station=station, week_start=date(2026, 12, 7), now=vn(2026, 12, 1, 0, 0))
    names = [[o.slot.name for o in d.occurrences] for d in days]
    assert names[:5] == [["Buổi sáng"]] * 5
    assert names[5] == names[6] == ["Buổi sáng", "Cuối tuần"]


# ------------------------------------------------------------------------ slot editing
def test_slot_from_form_builds_and_validates():
    slot = reports.slot_from_form({"name": " Tiếp sóng VOV ", "time": "19:00", "kind": "relay", "days": [],
                                   "source": "http://127.0.0.1/vov1", "duration_min": "60", "enabled": "on"})
    assert (slot.name, slot.kind, slot.duration_min, slot.weekdays, slot.enabled) == (
        "Tiếp sóng VOV", "relay", 60, None, True)
    once = reports.slot_from_form({"name": "Họp dân", "time": "08:00", "kind": "oneoff", "date": "2026-12-24",
                                   "source": "ignored", "enabled": ""})
    assert once.on_date == date(2026, 12, 24) and once.source is None and once.enabled is False
    for bad in (
        {"name": "", "time": "06:00"},
        {"name": "X", "time": "25:00"},
        {"name": "X", "time": "06:00", "max_minutes": "-5"},
        {"name": "X", "time": "06:00", "kind": "oneoff"},
        {"name": "X", "time": "06:00", "kind": "relay"},
    ):
        with pytest.raises(ScheduleError):
            reports.slot_from_form(bad)


def test_update_slot_renames_and_bulletins_follow(station):
    with Session(station.db) as session:
        before = store.timetable_version(session=session)
        chosen = add_bulletin(session, "Chỉ buổi sáng", frequency=Frequency.chosen_slots, slot_names=["Buổi sáng"])
        morning = session.exec(select(SlotRecord).where(SlotRecord.name == "Buổi sáng")).one()
        form = reports.slot_form_values(store.list_slots(session=session)[0])
        assert form["name"] == "Buổi sáng" and form["time"] == "06:00"
        form.update({"name": "Sáng sớm", "time": "05:45", "max_minutes": "20", "days": ["T2", "T4"]})
        updated = reports.update_slot(session=session, ref=morning.id, slot=reports.slot_from_form(form))
        assert updated.id == morning.id and updated.at == time(5, 45) and updated.weekdays == [0, 2]
        assert store.timetable_version(session=session) == before + 1
        session.expire_all()
        assert session.get(Bulletin, chosen.id).slot_names == ["Sáng sớm"]
        clash = reports.slot_from_form({**form, "name": "Buổi chiều"})
        with pytest.raises(ScheduleError):
            reports.update_slot(session=session, ref=morning.id, slot=clash)
        session.rollback()
        assert session.get(SlotRecord, morning.id).name == "Sáng sớm"
        with pytest.raises(ScheduleError):
            reports.update_slot(session=session, ref=9999, slot=clash)


def test_week_programmes_match_station_programme(station):
    items = station.settings.data_dir / "cache" / "items"
    now = vn(2026, 12, 2, 6, 30)
    with Session(station.db) as session:
        for n in range(6):
            add_bulletin(session, f"Tin {n}", item_path=str(write_wav(items / f"{n}.wav", 0.05)),
                         item_duration_s=300 + 60 * n, approved_at=now - timedelta(hours=n),
                         klass=(BulletinClass.priority if n % 2 else BulletinClass.normal),
                         frequency=Frequency.n_times if n == 3 else Frequency.every_slot, times=2 if n == 3 else None)
        # Tin 3 aired once already, and in this week's Wednesday-evening occurrence (a restart must not repeat it)
        add_row(session, at=vn(2026, 12, 1, 6, 0), title="Tin 3", bulletin_id=4, slot="Buổi sáng",
                planned_at=vn(2026, 12, 1, 6, 0))
        add_row(session, at=vn(2026, 12, 2, 17, 0), title="Tin 3", bulletin_id=4, slot="Buổi chiều",
                planned_at=vn(2026, 12, 2, 17, 0))
        session.commit()
    days = reports.week_view(station=station, week_start=date(2026, 12, 2), now=now)
    upcoming = [o for d in days for o in d.occurrences if not o.past]
    assert len(upcoming) == 9
    for occurrence in upcoming:
        assert occurrence.programme == station.programme(slot=occurrence.slot, planned_at=occurrence.at)
    evening = next(o for o in upcoming if o.at == vn(2026, 12, 2, 17, 0))
    assert 4 not in [i.bulletin_id for i in evening.programme.items]


def test_rows_without_a_class_take_their_bulletins(station):
    """The slot loop writes programme rows without a class: filters and exports use the bulletin's."""
    with Session(station.db) as session:
        army = add_bulletin(session, "Nhập ngũ", klass=BulletinClass.priority)
        add_row(session, at=vn(2026, 12, 1, 6, 0), title="Nhập ngũ", bulletin_id=army.id)
        add_row(session, at=vn(2026, 12, 1, 6, 5), title="Không bản tin")
        session.commit()
        page = reports.query_log(session=session, tz=station.tz, filters=reports.LogFilter.parse(bulletin_class="uu_tien"))
        assert [(e.title, e.class_label) for e in page.entries] == [("Nhập ngũ", "ưu tiên")]
        # written before: filled in once; written after: the trigger fills it at insert
        add_row(session, at=vn(2026, 12, 1, 17, 0), title="Nhập ngũ", bulletin_id=army.id)
        session.commit()
        stored = session.exec(select(AsRun.bulletin_class).where(AsRun.bulletin_id == army.id)).all()
        assert stored == [BulletinClass.priority, BulletinClass.priority]
        page = reports.query_log(session=session, tz=station.tz, filters=reports.LogFilter.parse(bulletin_class="uu_tien"))
        assert page.total == 2
        assert reports.query_log(session=session, tz=station.tz,
                                 filters=reports.LogFilter.parse(bulletin_class="thong_thuong")).total == 0
        data = b"".join(reports.log_csv(session=session, tz=station.tz))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][4] == "Nhập ngũ" and rows[1][6] == "ưu tiên" and rows[2][6] == "" and rows[3][6] == "ưu tiên"
