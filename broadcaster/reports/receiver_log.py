"""The loudspeaker clusters' own logs as the station keeps them (issue 14): the log page's "Cụm loa"
view and its exports, and the minutes each cluster heard in a report period."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..localtime import as_utc, as_zone, fmt_local, fmt_minutes, local_midnight_utc
from ..models import RECEIVER_LOG_LABELS, Receiver, ReceiverLogKind, ReceiverLogRow
from .cells import csv_cell, excel_text
from .paging import Paged, clamp_page

PER_PAGE = 50
ALL = "all"  # the filter value for every cluster


@dataclass(frozen=True)
class ReceiverLogFilter:
    """Which cluster's rows (None: all) between two station-local days (inclusive, None = any)."""

    receiver_id: int | None = None
    date_from: date | None = None
    date_until: date | None = None

    def query_params(self) -> dict[str, str]:
        out = {"receiver": str(self.receiver_id) if self.receiver_id else ALL}
        if self.date_from:
            out["date_from"] = self.date_from.isoformat()
        if self.date_until:
            out["date_until"] = self.date_until.isoformat()
        return out


@dataclass(frozen=True)
class ReceiverLogEntry:
    id: int
    receiver: str
    zone: str | None
    started: str
    ended: str
    duration_s: float | None
    kind: str
    kind_label: str
    mount: str | None
    cause: str | None


@dataclass(frozen=True)
class ReceiverLogPage(Paged):
    entries: list[ReceiverLogEntry]
    total: int
    page: int
    per_page: int


def parse_receiver(value: str | None) -> int | None:
    """'all' → None, '12' → 12; anything else is 'all' (the filter never fails on a stale link)."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdecimal() else None


def _where(query, filters: ReceiverLogFilter, tz: ZoneInfo):
    from ..exceptions import InputError

    if filters.date_from and filters.date_until and filters.date_until < filters.date_from:
        raise InputError("'Đến ngày' phải sau hoặc bằng 'Từ ngày'")
    if filters.receiver_id:
        query = query.where(ReceiverLogRow.receiver_id == filters.receiver_id)
    if filters.date_from:
        query = query.where(col(ReceiverLogRow.started_at) >= local_midnight_utc(filters.date_from, tz))
    if filters.date_until:
        query = query.where(col(ReceiverLogRow.started_at) < local_midnight_utc(filters.date_until + timedelta(days=1), tz))
    return query


def _seconds(row: ReceiverLogRow) -> float | None:
    if row.ended_at is None:
        return None
    return max(0.0, (as_utc(row.ended_at) - as_utc(row.started_at)).total_seconds())


def _entry(row: ReceiverLogRow, receiver: Receiver, tz: ZoneInfo) -> ReceiverLogEntry:
    kind = ReceiverLogKind(row.kind)
    return ReceiverLogEntry(
        id=row.id, receiver=receiver.name, zone=receiver.zone, started=fmt_local(row.started_at, tz),
        ended=fmt_local(row.ended_at, tz), duration_s=_seconds(row), kind=kind.value,
        kind_label=RECEIVER_LOG_LABELS[kind], mount=row.mount, cause=row.cause,
    )


def query_receiver_log(*, session: Session, tz: ZoneInfo | str, filters: ReceiverLogFilter = ReceiverLogFilter(),
                       page: int = 1, per_page: int = PER_PAGE) -> ReceiverLogPage:
    """One page of the clusters' rows, newest first."""
    tz = as_zone(tz)
    total = int(session.exec(_where(select(func.count()).select_from(ReceiverLogRow), filters, tz)).one())
    page = clamp_page(page, total, per_page)
    query = _where(select(ReceiverLogRow, Receiver).join(Receiver, Receiver.id == ReceiverLogRow.receiver_id), filters, tz)
    query = query.order_by(col(ReceiverLogRow.started_at).desc(), col(ReceiverLogRow.id).desc())
    rows = session.exec(query.offset((page - 1) * per_page).limit(per_page)).all()
    return ReceiverLogPage([_entry(r, rec, tz) for r, rec in rows], total, page, per_page)


def iter_receiver_log(*, session: Session, tz: ZoneInfo | str,
                      filters: ReceiverLogFilter = ReceiverLogFilter()) -> Iterator[ReceiverLogEntry]:
    """Every matching row, oldest first (exports, `broadcaster log --receivers`)."""
    tz = as_zone(tz)
    query = _where(select(ReceiverLogRow, Receiver).join(Receiver, Receiver.id == ReceiverLogRow.receiver_id), filters, tz)
    for row, receiver in session.exec(query.order_by(col(ReceiverLogRow.started_at), col(ReceiverLogRow.id))):
        yield _entry(row, receiver, tz)


HEADERS = ("Cụm loa", "Vùng", "Bắt đầu", "Kết thúc", "Thời lượng (giây)", "Loại", "Điểm phát", "Nguyên nhân")


def _values(entry: ReceiverLogEntry) -> list:
    return [entry.receiver, entry.zone or "", entry.started, entry.ended,
            round(entry.duration_s, 1) if entry.duration_s is not None else None, entry.kind_label,
            entry.mount or "", entry.cause or ""]


def receiver_log_csv(*, session: Session, tz: ZoneInfo | str, filters: ReceiverLogFilter = ReceiverLogFilter()) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for entry in iter_receiver_log(session=session, tz=tz, filters=filters):
        writer.writerow([csv_cell(v) for v in _values(entry)])
    return buffer.getvalue().encode("utf-8")


def receiver_log_xlsx(*, session: Session, tz: ZoneInfo | str, filters: ReceiverLogFilter = ReceiverLogFilter(),
                      title: str = "Nhật ký cụm loa") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Cụm loa"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for entry in iter_receiver_log(session=session, tz=tz, filters=filters):
        sheet.append([excel_text(v) for v in _values(entry)])
    for letter, width in zip("ABCDEFGH", (24, 16, 20, 20, 12, 12, 28, 40)):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ the report
@dataclass
class HeardLine:
    """Minutes a cluster heard in a period (kind=heard rows, clipped to the period) and its gaps."""

    name: str
    zone: str | None
    heard_s: float = 0.0
    gaps: int = 0

    @property
    def minutes(self) -> float:
        return self.heard_s / 60.0

    @property
    def minutes_label(self) -> str:
        return fmt_minutes(self.heard_s)


def heard_by_receiver(*, session: Session, start: datetime, end: datetime) -> list[HeardLine]:
    """Each cluster's minutes heard in [start, end) (UTC): every heard row overlapping the period,
    clipped to it; a row still open counts until the cluster's last report."""
    receivers = {r.id: r for r in session.exec(select(Receiver)).all()}
    lines = {rid: HeardLine(r.name, r.zone) for rid, r in receivers.items()}
    rows = session.exec(select(ReceiverLogRow).where(
        col(ReceiverLogRow.started_at) < end,
        (col(ReceiverLogRow.ended_at).is_(None)) | (col(ReceiverLogRow.ended_at) > start))).all()
    for row in rows:
        line = lines.get(row.receiver_id)
        if line is None:
            continue
        if row.kind == ReceiverLogKind.gap:
            if as_utc(row.started_at) >= start:
                line.gaps += 1
            continue
        began = max(as_utc(row.started_at), start)
        finished = as_utc(row.ended_at) or as_utc(receivers[row.receiver_id].last_seen) or began
        finished = min(finished, end)
        if finished > began:
            line.heard_s += (finished - began).total_seconds()
    shown = [line for rid, line in lines.items() if receivers[rid].revoked_at is None or line.heard_s or line.gaps]
    return sorted(shown, key=lambda line: line.name.casefold())


__all__ = ["ALL", "HEADERS", "HeardLine", "ReceiverLogEntry", "ReceiverLogFilter", "ReceiverLogPage",
           "heard_by_receiver", "iter_receiver_log", "parse_receiver", "query_receiver_log", "receiver_log_csv",
           "receiver_log_xlsx"]
