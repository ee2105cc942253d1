"""The as-run log as the console reviews it: filters, pagination, playback guard, CSV and XLSX exports."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..exceptions import InputError, NotFoundError
from ..localtime import as_zone, fmt_local, local_midnight_utc, parse_day, to_local
from ..models import (
    CLASS_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    AsRun,
    AsRunKind,
    AsRunStatus,
    Bulletin,
    BulletinClass,
)
from .cells import csv_cell, enum_value, excel_text
from .paging import Paged, clamp_page

PER_PAGE = 50
MAX_PER_PAGE = 500
ALL_ZONES = "Tất cả"  # an urgent to every cluster (issue 14 item 3)


def zones_cell(row: AsRun) -> str:
    """The zones an urgent row went to ('Thôn Đông, Xóm Bãi' or 'Tất cả'); '' for any other row."""
    if (enum_value(row.kind) or "") != AsRunKind.urgent.value:
        return ""
    return ", ".join(row.zones) if row.zones else ALL_ZONES


@dataclass(frozen=True)
class LogFilter:
    """What the officer asked to see. Dates are station-local and inclusive; None = any."""

    date_from: date | None = None
    date_until: date | None = None
    bulletin_class: BulletinClass | None = None
    status: AsRunStatus | None = None
    operator: str | None = None
    kind: AsRunKind | None = None

    @classmethod
    def parse(
        cls,
        *,
        date_from: str | None = None,
        date_until: str | None = None,
        bulletin_class: str | None = None,
        status: str | None = None,
        operator: str | None = None,
        kind: str | None = None,
    ) -> LogFilter:
        """Build from form/query strings (empty = any); InputError naming a bad field."""
        return cls(
            date_from=parse_day(date_from, "Từ ngày"),
            date_until=parse_day(date_until, "Đến ngày"),
            bulletin_class=_parse_enum(BulletinClass, bulletin_class, "Mức độ"),
            status=_parse_enum(AsRunStatus, status, "Trạng thái"),
            operator=(unicodedata.normalize("NFC", operator).strip() or None) if operator else None,
            kind=_parse_enum(AsRunKind, kind, "Loại"),
        )

    def query_params(self) -> dict[str, str]:
        """The filter as query-string values (for links to pages and exports)."""
        out = {}
        if self.date_from:
            out["date_from"] = self.date_from.isoformat()
        if self.date_until:
            out["date_until"] = self.date_until.isoformat()
        if self.bulletin_class:
            out["bulletin_class"] = self.bulletin_class.value
        if self.status:
            out["status"] = self.status.value
        if self.operator:
            out["operator"] = self.operator
        if self.kind:
            out["kind"] = self.kind.value
        return out


def _parse_enum(enum, value: str | None, what: str):
    value = (value or "").strip()
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        raise InputError(f"{what}: giá trị '{value}' không hợp lệ") from None


def _log_where(query, filters: LogFilter, tz: ZoneInfo):
    if filters.date_from and filters.date_until and filters.date_until < filters.date_from:
        raise InputError("'Đến ngày' phải sau hoặc bằng 'Từ ngày'")
    if filters.date_from:
        query = query.where(col(AsRun.started_at) >= local_midnight_utc(filters.date_from, tz))
    if filters.date_until:
        query = query.where(col(AsRun.started_at) < local_midnight_utc(filters.date_until + timedelta(days=1), tz))
    if filters.bulletin_class:
        # rows about a bulletin carry its class (the baseline migration's trigger): one index lookup
        query = query.where(AsRun.bulletin_class == filters.bulletin_class)
    if filters.status:
        query = query.where(AsRun.status == filters.status)
    if filters.operator:
        query = query.where(AsRun.operator == filters.operator)
    if filters.kind:
        query = query.where(AsRun.kind == filters.kind)
    return query


@dataclass(frozen=True)
class LogEntry:
    """One as-run row as the log page shows it (times already in the station's zone)."""

    id: int
    title: str
    started: str
    ended: str
    planned: str
    duration_s: float | None
    status: str
    status_label: str
    kind: str
    kind_label: str
    bulletin_class: str | None
    class_label: str
    slot: str | None
    operator: str | None
    reason: str | None
    engine: str | None
    bulletin_id: int | None
    path: str | None
    playable: bool
    zones: str = ""  # urgent rows: 'Thôn Đông, Xóm Bãi' or 'Tất cả' (issue 14)


@dataclass(frozen=True)
class LogPage(Paged):
    """One page of the filtered log, newest first."""

    entries: list[LogEntry]
    total: int
    page: int
    per_page: int


STATION_WRITTEN_DIRS = ("archive", "cache")  # what the station itself writes and may play back


def station_written_roots(data_dir: Path) -> tuple[Path, ...] | None:
    """<data_dir>/archive and <data_dir>/cache with symlinks resolved (None if they cannot be):
    resolved once for a whole page of rows (playable_path's `roots`)."""
    try:
        return tuple((Path(data_dir) / name).resolve() for name in STATION_WRITTEN_DIRS)
    except (OSError, RuntimeError, ValueError):
        return None


def playable_path(path: str | None, data_dir: Path, *, roots: tuple[Path, ...] | None = None) -> Path | None:
    """The file of an as-run row if it is an existing file the station itself wrote (under
    <data_dir>/archive or <data_dir>/cache, after symlinks and `..` are resolved), else None.
    `roots`: station_written_roots(data_dir) when the caller checks many rows.

    A row's path is data, and data must not turn the console into a reader of other files:
    not the database or run/api-token (an older version let a relay slot point at them), and
    not even an open()+close() of the database file in serve, which drops SQLite's locks.
    """
    if not path:
        return None
    roots = roots if roots is not None else station_written_roots(data_dir)
    if roots is None:
        return None
    import os.path

    try:
        resolved = os.path.realpath(path)  # what Path.resolve() does, without its objects (per row)
    except (OSError, RuntimeError, ValueError):
        return None
    if not any(resolved.startswith(os.path.join(root, "")) for root in roots) or not os.path.isfile(resolved):
        return None
    return Path(resolved)


def bulletin_classes(session: Session, rows: Sequence[AsRun]) -> dict[int, BulletinClass]:
    """The class of the bulletin behind each row that has none of its own."""
    wanted = {r.bulletin_id for r in rows if r.bulletin_class is None and r.bulletin_id is not None}
    if not wanted:
        return {}
    found = session.exec(select(Bulletin.id, Bulletin.bulletin_class).where(col(Bulletin.id).in_(wanted))).all()
    return {b_id: klass for b_id, klass in found}


def _row_class(row: AsRun, classes: dict[int, BulletinClass]) -> str | None:
    return enum_value(row.bulletin_class) or enum_value(classes.get(row.bulletin_id))


def log_entry(row: AsRun, tz: ZoneInfo, data_dir: Path | None, classes: dict[int, BulletinClass] | None = None,
              *, roots: tuple[Path, ...] | None = None) -> LogEntry:
    """One row as the log pages show it; `roots` as for playable_path."""
    status = enum_value(row.status) or ""
    kind = enum_value(row.kind) or AsRunKind.programme.value
    klass = _row_class(row, classes or {})
    return LogEntry(
        id=row.id,
        title=row.title,
        started=fmt_local(row.started_at, tz),
        ended=fmt_local(row.ended_at, tz),
        planned=fmt_local(row.planned_at, tz, "%d/%m/%Y %H:%M"),
        duration_s=row.duration_s,
        status=status,
        status_label=STATUS_LABELS.get(status, status),
        kind=kind,
        kind_label=KIND_LABELS.get(AsRunKind(kind), kind),
        bulletin_class=klass,
        class_label=CLASS_LABELS.get(BulletinClass(klass), klass) if klass else "",
        slot=row.slot,
        operator=row.operator,
        reason=row.reason,
        engine=row.engine,
        bulletin_id=row.bulletin_id,
        path=row.path,
        playable=playable_path(row.path, data_dir, roots=roots) is not None if data_dir is not None else False,
        zones=zones_cell(row),
    )


def query_log(
    *,
    session: Session,
    tz: ZoneInfo | str,
    filters: LogFilter = LogFilter(),
    page: int = 1,
    per_page: int = PER_PAGE,
    data_dir: Path | None = None,
) -> LogPage:
    """One page of the as-run log, newest first, with the total that matches the filters.

    `data_dir` lets each entry say whether its file can be played back in the console.
    """
    tz = as_zone(tz)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    counted = _log_where(select(func.count()).select_from(AsRun), filters, tz)
    total = int(session.exec(counted).one())
    page = clamp_page(page, total, per_page)
    query = _log_where(select(AsRun), filters, tz)
    query = query.order_by(col(AsRun.started_at).desc(), col(AsRun.id).desc())
    rows = session.exec(query.offset((page - 1) * per_page).limit(per_page)).all()
    classes = bulletin_classes(session, rows)
    roots = station_written_roots(data_dir) if data_dir is not None else None
    entries = [log_entry(r, tz, data_dir, classes, roots=roots) for r in rows]
    return LogPage(entries=entries, total=total, page=page, per_page=per_page)


def log_row(*, session: Session, row_id: int) -> AsRun:
    """One as-run row; NotFoundError if there is none."""
    row = session.get(AsRun, row_id)
    if row is None:
        raise NotFoundError(f"Không có dòng nhật ký số {row_id}", row_id=row_id)
    return row


def operators(*, session: Session) -> list[str]:
    """Every operator name in the log (for the filter's choices)."""
    rows = session.exec(select(AsRun.operator).where(col(AsRun.operator).is_not(None)).distinct()).all()
    return sorted(r for r in rows if r)


def iter_log(
    *, session: Session, tz: ZoneInfo | str, filters: LogFilter = LogFilter(), batch: int = 2000
) -> Iterator[tuple[AsRun, str | None]]:
    """Every matching row with its class (the bulletin's when the row has none), oldest first,
    fetched in batches (exports of 100,000 rows)."""
    tz = as_zone(tz)
    query = _log_where(select(AsRun), filters, tz).order_by(col(AsRun.started_at), col(AsRun.id))
    last: tuple[datetime, int] | None = None
    while True:
        page = query
        if last is not None:
            # keyset pagination: OFFSET would rescan everything before the batch each time
            started, row_id = last
            page = page.where(
                (col(AsRun.started_at) > started) | ((col(AsRun.started_at) == started) & (col(AsRun.id) > row_id))
            )
        rows = session.exec(page.limit(batch)).all()
        if not rows:
            return
        classes = bulletin_classes(session, rows)
        for row in rows:
            yield row, _row_class(row, classes)
        last = (rows[-1].started_at, rows[-1].id)
        session.expunge_all()  # keep memory flat over a long export


LOG_HEADERS = (
    "Mã",
    "Bắt đầu",
    "Kết thúc",
    "Thời lượng (giây)",
    "Tiêu đề",
    "Loại",
    "Mức độ",
    "Trạng thái",
    "Khung giờ",
    "Giờ dự kiến",
    "Người yêu cầu",
    "Lý do",
    "Bộ đọc",
    "Mã bản tin",
    "Vùng",
)


def full_names(session: Session) -> dict[str, str]:
    """login → full name of every account (the login when it has none): who asked, as a person reads it."""
    from ..models import User

    return {user.name: (user.full_name or user.name) for user in session.exec(select(User)).all()}


def _log_values(row: AsRun, tz: ZoneInfo, klass: str | None, names: dict[str, str] | None = None) -> list:
    status = enum_value(row.status) or ""
    kind = enum_value(row.kind) or ""
    return [
        row.id,
        to_local(row.started_at, tz),
        to_local(row.ended_at, tz),
        round(row.duration_s, 1) if row.duration_s is not None else None,
        row.title,
        KIND_LABELS.get(AsRunKind(kind), kind) if kind else "",
        CLASS_LABELS.get(BulletinClass(klass), klass) if klass else "",
        STATUS_LABELS.get(status, status),
        row.slot or "",
        to_local(row.planned_at, tz),
        (names or {}).get(row.operator, row.operator) if row.operator else "",
        row.reason or "",
        "giọng thu" if row.engine == "recording" else (row.voice or row.engine or ""),  # engine:voice when known (issue 12)
        row.bulletin_id,
        zones_cell(row),
    ]


def log_csv(*, session: Session, tz: ZoneInfo | str, filters: LogFilter = LogFilter()) -> Iterator[bytes]:
    """The filtered log as CSV (UTF-8 with BOM so spreadsheet programs read the diacritics),
    streamed in chunks; times in the station's zone."""
    tz = as_zone(tz)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(LOG_HEADERS)
    names = full_names(session)
    for count, (row, klass) in enumerate(iter_log(session=session, tz=tz, filters=filters), start=1):
        writer.writerow([csv_cell(v) for v in _log_values(row, tz, klass, names)])
        if count % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_time(value: datetime | None) -> datetime | None:
    # spreadsheets have no zones: write the station-local wall time
    return value.replace(tzinfo=None) if value is not None else None


def log_xlsx(*, session: Session, tz: ZoneInfo | str, filters: LogFilter = LogFilter(), title: str = "Nhật ký phát sóng") -> bytes:
    """The filtered log as an XLSX workbook (one sheet, Vietnamese headers, local times)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    tz = as_zone(tz)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Nhật ký")
    for index, width in enumerate((8, 20, 20, 10, 48, 12, 12, 14, 16, 18, 16, 40, 10, 10, 24), start=1):
        sheet.column_dimensions[_column_letter(index)].width = width
    heading = WriteOnlyCell(sheet, value=title)
    heading.font = Font(bold=True, size=13)
    sheet.append([heading])
    sheet.append([_filter_description(filters)])
    bold = Font(bold=True)
    header_cells = []
    for name in LOG_HEADERS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    names = full_names(session)
    for row, klass in iter_log(session=session, tz=tz, filters=filters):
        values = _log_values(row, tz, klass, names)
        cells = []
        for value in values:
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=_xlsx_time(value))
                cell.number_format = "dd/mm/yyyy hh:mm:ss"
            else:
                cell = WriteOnlyCell(sheet, value=excel_text(value))
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


LOG_HEADER_ROW = 3  # the XLSX log's header row (title, filter description, headers)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _filter_description(filters: LogFilter) -> str:
    parts = []
    if filters.date_from or filters.date_until:
        start = f"{filters.date_from:%d/%m/%Y}" if filters.date_from else "…"
        end = f"{filters.date_until:%d/%m/%Y}" if filters.date_until else "…"
        parts.append(f"từ {start} đến {end}")
    if filters.bulletin_class:
        parts.append(f"mức độ {CLASS_LABELS[filters.bulletin_class]}")
    if filters.status:
        parts.append(f"trạng thái {STATUS_LABELS.get(filters.status.value, filters.status.value)}")
    if filters.kind:
        parts.append(f"loại {KIND_LABELS[filters.kind]}")
    if filters.operator:
        parts.append(f"người yêu cầu {filters.operator}")
    return "Lọc: " + ("; ".join(parts) if parts else "tất cả")


__all__ = [
    "LogFilter",
    "LogEntry",
    "LogPage",
    "query_log",
    "log_row",
    "log_entry",
    "bulletin_classes",
    "operators",
    "iter_log",
    "log_csv",
    "log_xlsx",
    "playable_path",
    "station_written_roots",
    "LOG_HEADERS",
    "LOG_HEADER_ROW",
    "ALL_ZONES",
    "zones_cell",
    "PER_PAGE",
    "MAX_PER_PAGE",
]
