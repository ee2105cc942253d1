"""Issue 11 item 9: the times an export shows are the station's, never UTC; the failed urgent
messages are counted in the exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from openpyxl import load_workbook
from sqlmodel import Session

from broadcaster.models import AsRunKind, AsRunStatus, BulletinClass
from broadcaster.reports.report import Period, build_report, report_csv, report_xlsx
from reports_helpers import add_row, vn


def test_xlsx_header_time_is_station_local_and_failed_urgent_counted(station):
    with Session(station.db) as session:
        add_row(session, at=vn(2026, 12, 5, 9, 0), title="Thông báo khẩn cấp: bão", kind=AsRunKind.urgent,
                bulletin_class=BulletinClass.emergency, seconds=0, status=AsRunStatus.failed)
        session.commit()
        report = build_report(session=session, tz=station.tz, period=Period("month", 2026, 12))
    report.generated_at = datetime(2026, 12, 31, 18, 30, tzinfo=timezone.utc)  # 01:30 on 1/1 in Việt Nam
    book = load_workbook(io.BytesIO(report_xlsx(report, station_name="Đài truyền thanh xã Dân Tiến", tz=station.tz)))
    cells = [str(v) for row in book["Tổng hợp"].iter_rows(values_only=True) for v in row if v is not None]
    assert "Lập lúc 01/01/2027 01:30" in cells, cells
    assert not any("UTC" in cell for cell in cells)
    as_dict = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
    assert as_dict["Số lượt không phát được (lỗi)"] == 1
    assert as_dict["Trong đó thông báo khẩn cấp không phát được"] == 1
    rows = list(csv.reader(io.StringIO(report_csv(report, tz=station.tz).decode("utf-8-sig"))))
    assert ["Trong đó thông báo khẩn cấp không phát được", "1"] in rows
