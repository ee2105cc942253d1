"""broadcaster.reports.log: the as-run log's filters, pages, playback guard and exports.

Real SQLite through the `station` fixture; rows are written directly (the log is data here,
not the subject), WAV items are real files.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from broadcaster.exceptions import InputError
from broadcaster.models import TONE_TITLE, AsRun, AsRunKind, AsRunStatus, BulletinClass
from broadcaster.reports.log import (
    LOG_HEADER_ROW,
    LOG_HEADERS,
    LogFilter,
    iter_log,
    log_csv,
    log_xlsx,
    playable_path,
    query_log,
)
from reports_helpers import add_bulletin, add_row, vn, write_wav


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
        page = query_log(session=session, tz=station.tz)
        assert page.total == 5
        assert titles(page)[0].startswith("=HYPERLINK") and titles(page)[-1] == "Cắt điện thôn 3"
        one_day = query_log(session=session, tz=station.tz, filters=LogFilter(
            date_from=date(2026, 12, 1), date_until=date(2026, 12, 1)))
        # 23:59 local on the 1st is 16:59 UTC, 00:01 on the 2nd is 17:01 UTC on the 1st
        assert titles(one_day) == ["Tin cuối ngày", "Cắt điện thôn 3"]
        second = query_log(session=session, tz=station.tz, filters=LogFilter(date_from=date(2026, 12, 2)))
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
        page = query_log(session=session, tz=log_rows.tz, filters=LogFilter.parse(**filters))
    assert page.total == expected == len(page.entries)


@pytest.mark.parametrize(
    "bad",
    [{"date_from": "32/13/2026"}, {"status": "phát rồi"}, {"bulletin_class": "vip"}, {"kind": "music"}],
)
def test_bad_filters_are_refused_in_vietnamese(bad):
    with pytest.raises(InputError) as info:
        LogFilter.parse(**bad)
    assert "không hợp lệ" in str(info.value)


def test_until_before_from_is_refused(log_rows):
    with Session(log_rows.db) as session, pytest.raises(InputError):
        query_log(session=session, tz=log_rows.tz, filters=LogFilter(
            date_from=date(2026, 12, 2), date_until=date(2026, 12, 1)))


def test_log_pagination(station):
    with Session(station.db) as session:
        for n in range(23):
            add_row(session, at=vn(2026, 12, 1, 6, 0) + timedelta(minutes=n), title=f"Tin {n:02d}")
        session.commit()
        first = query_log(session=session, tz=station.tz, per_page=10)
        last = query_log(session=session, tz=station.tz, per_page=10, page=3)
        beyond = query_log(session=session, tz=station.tz, per_page=10, page=9)  # a stale link: the last page
    assert (first.total, first.pages, first.has_prev, first.has_next) == (23, 3, False, True)
    assert titles(first)[0] == "Tin 22"
    assert titles(last) == ["Tin 02", "Tin 01", "Tin 00"] and not last.has_next
    assert (beyond.page, titles(beyond)) == (3, titles(last))


def test_playable_only_under_the_data_dir(station, tmp_path):
    inside = write_wav(station.settings.data_dir / "cache" / "items" / "a.wav", 0.1)
    outside = write_wav(tmp_path / "elsewhere.wav", 0.1)
    data_dir = station.settings.data_dir
    assert playable_path(str(inside), data_dir) == inside.resolve()
    assert playable_path(str(outside), data_dir) is None
    assert playable_path(str(data_dir / ".." / "elsewhere.wav"), data_dir) is None
    assert playable_path(str(data_dir / "cache" / "nothing.wav"), data_dir) is None
    assert playable_path(None, data_dir) is None


def test_a_log_page_resolves_the_station_folders_once(station, monkeypatch):
    """The playback check of a page's rows resolves <data>/archive and <data>/cache once per
    page, not once per row (the log pages' time: two realpath walks a row were a third of it)."""
    import os.path

    item = write_wav(station.settings.data_dir / "cache" / "items" / "a.wav", 0.1)
    with Session(station.db) as session:
        for n in range(20):
            add_row(session, at=vn(2026, 12, 1, 6, 0) + timedelta(minutes=n), title=f"Tin {n:02d}", path=str(item))
        session.commit()
        resolved = []  # every realpath walk (Path.resolve makes one too)
        real_realpath = os.path.realpath
        monkeypatch.setattr(os.path, "realpath", lambda p, *a, **k: resolved.append(p) or real_realpath(p, *a, **k))
        page = query_log(session=session, tz=station.tz, data_dir=station.settings.data_dir)
    assert len(page.entries) == 20 and all(e.playable for e in page.entries)
    assert len(resolved) <= 20 + 2, f"{len(resolved)} resolves for a page of 20 rows"


def test_log_csv_export(log_rows):
    with Session(log_rows.db) as session:
        data = b"".join(log_csv(session=session, tz=log_rows.tz, filters=LogFilter(kind=AsRunKind.urgent)))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == LOG_HEADERS
    assert len(rows) == 3
    tone = rows[1]
    assert tone[1] == "02/12/2026 09:00:00" and tone[4] == TONE_TITLE
    assert tone[5] == "khẩn cấp" and tone[6] == "khẩn cấp" and tone[7] == "đã phát" and tone[10] == "trucdai"
    # a title that looks like a formula stays text in a spreadsheet
    assert rows[2][4].startswith("'=HYPERLINK")


def test_log_xlsx_export(log_rows):
    with Session(log_rows.db) as session:
        data = log_xlsx(session=session, tz=log_rows.tz)
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(values_only=True))
    header = values[LOG_HEADER_ROW - 1]
    assert tuple(header) == LOG_HEADERS
    body = values[LOG_HEADER_ROW:]
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
        ids = [row.id for row, _klass in iter_log(session=session, tz=station.tz, batch=1000)]
    assert len(ids) == 4500 == len(set(ids))
    assert ids == sorted(ids)


def test_rows_without_a_class_take_their_bulletins(station):
    """The slot loop writes programme rows without a class: filters and exports use the bulletin's."""
    with Session(station.db) as session:
        army = add_bulletin(session, "Nhập ngũ", klass=BulletinClass.priority)
        add_row(session, at=vn(2026, 12, 1, 6, 0), title="Nhập ngũ", bulletin_id=army.id)
        add_row(session, at=vn(2026, 12, 1, 6, 5), title="Không bản tin")
        session.commit()
        page = query_log(session=session, tz=station.tz, filters=LogFilter.parse(bulletin_class="uu_tien"))
        assert [(e.title, e.class_label) for e in page.entries] == [("Nhập ngũ", "ưu tiên")]
        # written before: filled in once; written after: the trigger fills it at insert
        add_row(session, at=vn(2026, 12, 1, 17, 0), title="Nhập ngũ", bulletin_id=army.id)
        session.commit()
        stored = session.exec(select(AsRun.bulletin_class).where(AsRun.bulletin_id == army.id)).all()
        assert stored == [BulletinClass.priority, BulletinClass.priority]
        page = query_log(session=session, tz=station.tz, filters=LogFilter.parse(bulletin_class="uu_tien"))
        assert page.total == 2
        assert query_log(session=session, tz=station.tz,
                                 filters=LogFilter.parse(bulletin_class="thong_thuong")).total == 0
        data = b"".join(log_csv(session=session, tz=station.tz))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][4] == "Nhập ngũ" and rows[1][6] == "ưu tiên" and rows[2][6] == "" and rows[3][6] == "ưu tiên"
