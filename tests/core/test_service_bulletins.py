import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest

from broadcaster.exceptions import InputError, NotFoundError
from broadcaster.models import AsRun, AsRunStatus, BulletinClass
from broadcaster.service import CRASH_REASON


def test_add_and_list(station):
    b = station.add_bulletin(title="Cắt điện", text="UBND xã thông báo cắt điện.")
    assert b.id == 1 and b.status == "draft"
    assert [x.title for x in station.list_bulletins()] == ["Cắt điện"]


@pytest.mark.parametrize("title, text", [("", "x"), ("  ", "x"), ("t", ""), ("t", " \n ")])
def test_empty_input_is_refused_and_nothing_written(station, title, text):
    with pytest.raises(InputError):
        station.add_bulletin(title=title, text=text)
    assert station.list_bulletins() == []


def test_unknown_id(station):
    with pytest.raises(NotFoundError, match="99"):
        station.get_bulletin(99)
    with pytest.raises(NotFoundError):
        station.approve(bulletin_id=99)


def test_dates_must_be_in_order(station):
    with pytest.raises(InputError):
        station.add_bulletin(title="t", text="x", valid_from=date(2026, 5, 2), valid_until=date(2026, 5, 1))


def test_due_bulletins_window_and_order(station, monkeypatch):
    # approval renders ahead; that is tested elsewhere: here only the selection logic
    monkeypatch.setattr(station, "prepare_bulletin", lambda bid: station.get_bulletin(bid))
    a = station.add_bulletin(title="A", text="a", approve=True)
    b = station.add_bulletin(title="B", text="b", approve=True, bulletin_class=BulletinClass.priority)
    station.add_bulletin(title="draft", text="c")
    station.add_bulletin(
        title="old", text="d", approve=True, valid_from=date(2026, 1, 1), valid_until=date(2026, 1, 31)
    )
    e = station.add_bulletin(title="E", text="e", approve=True, valid_from=date(2026, 3, 1))
    due = station.due_bulletins(date(2026, 3, 5))
    assert [x.title for x in due] == ["B", "A", "E"]  # ưu tiên first, then by approval time
    assert [x.title for x in station.due_bulletins(date(2026, 1, 15))] == ["B", "A", "old"]
    assert a.id and b.id and e.id


def test_recover_on_air_rows(station, settings):
    from sqlmodel import Session

    with Session(station.db) as s:
        s.add(AsRun(title="dở dang", status=AsRunStatus.on_air))
        s.add(AsRun(title="xong", status=AsRunStatus.aired, ended_at=datetime.now(timezone.utc)))
        s.commit()
    assert station.recover_interrupted() == 1
    assert station.recover_interrupted() == 0
    rows = {r.title: r for r in station.as_run_log()}
    assert rows["dở dang"].status == "interrupted" and rows["dở dang"].reason == CRASH_REASON
    assert rows["xong"].status == "aired"
    con = sqlite3.connect(settings.db_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_log_failure_row_is_closed(station):
    row = station.log_failure(title="Tin A", reason="Không có thiết bị âm thanh", slot="Buổi sáng")
    assert row.status == "failed" and row.ended_at is not None and row.duration_s is not None
    assert station.as_run_log()[0].reason == "Không có thiết bị âm thanh"


def test_log_since_uses_station_date(station):
    now = datetime(2026, 3, 5, 23, 30, tzinfo=timezone.utc)  # 06:30 on 6 March in Vietnam
    station.clock = lambda: now
    station.log_failure(title="x", reason="r")
    assert len(station.as_run_log(since=date(2026, 3, 6))) == 1
    assert station.as_run_log(since=date(2026, 3, 7)) == []
    assert station.as_run_log()[0].started_at == now
    assert now - timedelta(0) == station.as_run_log()[0].ended_at
