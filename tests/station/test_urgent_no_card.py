"""Issue 11 item 9: an urgent request with no sound card never claims it aired.

The desk refuses it at once (PlayoutError, the console and the CLI say it could not air), and
the failed as-run row carries the message's own text, not only the attention tone's title, so
the log and the reports show which message did not go out."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from broadcaster.exceptions import PlayoutError
from broadcaster.models import AsRun, AsRunKind, AsRunStatus
from support.onair import cardless_onair  # noqa: F401  (a fixture)

MESSAGE = "Nước sông Hồng lên nhanh, bà con thôn Đông di chuyển gia súc lên đê."


def urgent_rows(station):
    with Session(station.db) as session:
        return session.exec(select(AsRun).where(AsRun.kind == AsRunKind.urgent).order_by(AsRun.id)).all()


def test_no_card_refuses_the_request_and_logs_the_message_text(station, cardless_onair):
    with pytest.raises(PlayoutError) as raised:
        cardless_onair.urgent.request(text=MESSAGE, operator="trucdai")
    assert "không phát được" in str(raised.value).lower() and "thiết bị âm thanh" in str(raised.value)
    rows = urgent_rows(station)
    assert len(rows) == 1, [(r.title, r.status) for r in rows]
    row = rows[0]
    assert row.status == AsRunStatus.failed and MESSAGE[:40] in row.title, row.title
    assert row.operator == "trucdai" and "thiết bị âm thanh" in (row.reason or "")
    assert cardless_onair.urgent.jobs() == []  # nothing left pretending to air


def test_bad_input_is_still_refused_before_the_card_is_tried(station, cardless_onair):
    from broadcaster.exceptions import InputError

    with pytest.raises(InputError):
        cardless_onair.urgent.request(text="   ")
    assert urgent_rows(station) == []


def test_reports_count_the_urgent_message_that_did_not_air(station, cardless_onair):
    from datetime import date

    from broadcaster.reports.report import Period, build_report

    with pytest.raises(PlayoutError):
        cardless_onair.urgent.request(text=MESSAGE)
    today = date.today()
    with Session(station.db) as session:
        report = build_report(session=session, tz=station.tz, period=Period("month", today.year, today.month))
    assert report.failed == 1 and report.failed_urgent == 1
