import sqlite3
from datetime import date, datetime, timedelta, timezone

from broadcaster.models import AsRun, AsRunStatus
from broadcaster.station.facade import CRASH_REASON


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
