"""Issue 14 item 3: the log and its CSV/XLSX exports say where each urgent went ("Vùng")."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlmodel import Session

from broadcaster.models import TONE_TITLE, AsRunKind, BulletinClass
from broadcaster.reports.log import LOG_HEADER_ROW, LOG_HEADERS, log_csv, log_xlsx, query_log
from reports_helpers import add_row, vn


def _rows(station):
    with Session(station.db) as session:
        urgent = {"kind": AsRunKind.urgent, "bulletin_class": BulletinClass.emergency}
        add_row(session, at=vn(2026, 12, 2, 6, 0), title="Tin sáng")
        add_row(session, at=vn(2026, 12, 2, 9, 0), title=TONE_TITLE, zones=["Thôn Đông", "Xóm Bãi"], **urgent)
        add_row(session, at=vn(2026, 12, 2, 9, 1), title="Thông báo khẩn cấp: lũ", zones=["Thôn Đông", "Xóm Bãi"],
                **urgent)
        add_row(session, at=vn(2026, 12, 2, 10, 0), title="Thông báo khẩn cấp: bão", **urgent)
        session.commit()


def test_log_page_entries_name_the_zones(station):
    _rows(station)
    with Session(station.db) as session:
        entries = query_log(session=session, tz=station.tz).entries
    assert [(e.title, e.zones) for e in entries] == [
        ("Thông báo khẩn cấp: bão", "Tất cả"), ("Thông báo khẩn cấp: lũ", "Thôn Đông, Xóm Bãi"),
        (TONE_TITLE, "Thôn Đông, Xóm Bãi"), ("Tin sáng", "")]


def test_csv_and_xlsx_have_a_zones_column(station):
    _rows(station)
    assert LOG_HEADERS[-1] == "Vùng"
    with Session(station.db) as session:
        data = b"".join(log_csv(session=session, tz=station.tz)).decode("utf-8-sig")
        book = log_xlsx(session=session, tz=station.tz)
    rows = list(csv.reader(io.StringIO(data)))
    assert [(r[4], r[-1]) for r in rows[1:]] == [
        ("Tin sáng", ""), (TONE_TITLE, "Thôn Đông, Xóm Bãi"), ("Thông báo khẩn cấp: lũ", "Thôn Đông, Xóm Bãi"),
        ("Thông báo khẩn cấp: bão", "Tất cả")]
    sheet = load_workbook(io.BytesIO(book)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[LOG_HEADER_ROW - 1][-1] == "Vùng"
    assert [(r[4], r[-1] or "") for r in values[LOG_HEADER_ROW:]] == [
        ("Tin sáng", ""), (TONE_TITLE, "Thôn Đông, Xóm Bãi"), ("Thông báo khẩn cấp: lũ", "Thôn Đông, Xóm Bãi"),
        ("Thông báo khẩn cấp: bão", "Tất cả")]
