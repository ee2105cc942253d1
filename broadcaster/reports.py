"""Data behind the console's timetable, log and report pages, and their exports.

Keyword-only functions over a session (or the Station where a programme is needed), in the
style of scheduling.store. Storage is UTC; everything an officer reads is in the station's
zone and in Vietnamese. Nothing here imports the web layer: the pages, the CLI or a script
can call the same functions.

* topics: the editable list of the communication plan's topics (seeded on first use);
* log: the as-run log with filters and pagination, CSV and XLSX export;
* report: airings and minutes on air by class, by topic and by kind for a month or quarter,
  exports for the district/province and an inline SVG bar chart;
* week: what each slot of a week airs (programme, length, overflow, render problems) or,
  for occurrences already past, what the as-run log says aired;
* slot editing that store.py lacks (update in place).
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from .db import as_utc
from .exceptions import InputError, NotFoundError, ScheduleError
from .models import (
    CLASS_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    AsRun,
    AsRunKind,
    AsRunStatus,
    Bulletin,
    BulletinClass,
    SlotPublic,
    SlotRecord,
    Topic,
    TopicPublic,
    utcnow,
)

if TYPE_CHECKING:
    from .scheduling.programme import Programme
    from .scheduling.timetable import Slot
    from .service import Station

# ------------------------------------------------------------------------ topics
# The topics of the commune's communication plan (Kế hoạch truyền thông chính sách 2026,
# shared/samples): the Party's policies, the State's policies and laws, the province's and
# commune's direction, the economy and society, defence and security, promoting the locality,
# and the commune's everyday notices (power cuts, vaccination days).
DEFAULT_TOPICS: tuple[str, ...] = (
    "Chủ trương của Đảng",
    "Chính sách pháp luật",
    "Chỉ đạo điều hành của tỉnh, của xã",
    "Kinh tế - xã hội",
    "Quốc phòng - an ninh",
    "Quảng bá tiềm năng, du lịch, đầu tư",
    "Thông báo của xã",
)
NO_TOPIC = "Chưa phân chủ đề"
TOPICS_SEEDED_KEY = "topics_seeded"


def _clean_name(name: str | None, what: str, limit: int = 200) -> str:
    cleaned = " ".join(unicodedata.normalize("NFC", name or "").split())
    if not cleaned:
        raise InputError(f"{what} không được để trống")
    if len(cleaned) > limit:
        raise InputError(f"{what} dài quá {limit} ký tự")
    return cleaned


def ensure_topics(*, session: Session) -> list[TopicPublic]:
    """The topic list, seeded with the plan's topics the first time it is asked for.

    Seeding happens once per database (a flag in scheduler_state): an officer who removed
    every topic meant it. Commits when it seeds.
    """
    from .scheduling.store import get_state, set_state

    from sqlalchemy.exc import IntegrityError

    if not get_state(session=session, key=TOPICS_SEEDED_KEY):
        try:
            if session.exec(select(Topic)).first() is None:
                for position, name in enumerate(DEFAULT_TOPICS, start=1):
                    session.add(Topic(name=name, position=position, created_by="hệ thống"))
            set_state(session=session, key=TOPICS_SEEDED_KEY, value="1")
            session.commit()
        except IntegrityError:  # another request seeded them at the same moment: use its list
            session.rollback()
    return list_topics(session=session)


def list_topics(*, session: Session) -> list[TopicPublic]:
    """Every topic in display order."""
    rows = session.exec(select(Topic).order_by(col(Topic.position), col(Topic.name))).all()
    return [TopicPublic.model_validate(r) for r in rows]


def add_topic(*, session: Session, name: str, by: str | None = None) -> TopicPublic:
    """A new topic at the end of the list. Commits. InputError for an empty or taken name."""
    ensure_topics(session=session)
    name = _clean_name(name, "Tên chủ đề")
    if session.exec(select(Topic).where(Topic.name == name)).first() is not None:
        raise InputError(f"Đã có chủ đề '{name}'")
    last = session.exec(select(func.max(Topic.position))).one() or 0
    topic = Topic(name=name, position=int(last) + 1, created_by=by)
    session.add(topic)
    session.commit()
    session.refresh(topic)
    return TopicPublic.model_validate(topic)


def rename_topic(*, session: Session, topic_id: int, name: str, by: str | None = None) -> TopicPublic:
    """Rename a topic and the bulletins filed under it (reports keep counting them). Commits once."""
    topic = session.get(Topic, topic_id)
    if topic is None:
        raise NotFoundError(f"Không có chủ đề số {topic_id}", topic_id=topic_id)
    name = _clean_name(name, "Tên chủ đề")
    clash = session.exec(select(Topic).where(Topic.name == name, Topic.id != topic_id)).first()
    if clash is not None:
        raise InputError(f"Đã có chủ đề '{name}'")
    old = topic.name
    if old != name:
        for bulletin in session.exec(select(Bulletin).where(Bulletin.topic == old)).all():
            bulletin.topic = name
            bulletin.updated_at = utcnow()
            bulletin.updated_by = by
            session.add(bulletin)
        topic.name = name
        session.add(topic)
        session.commit()
        session.refresh(topic)
    return TopicPublic.model_validate(topic)


def remove_topic(*, session: Session, topic_id: int) -> TopicPublic:
    """Take a topic off the list. Bulletins keep their topic text (reports still show it). Commits."""
    topic = session.get(Topic, topic_id)
    if topic is None:
        raise NotFoundError(f"Không có chủ đề số {topic_id}", topic_id=topic_id)
    public = TopicPublic.model_validate(topic)
    session.delete(topic)
    session.commit()
    return public


# --------------------------------------------------------------------------- time
def _tz(value: ZoneInfo | str) -> ZoneInfo:
    return value if isinstance(value, ZoneInfo) else ZoneInfo(value)


def local_midnight_utc(day: date, tz: ZoneInfo | str) -> datetime:
    """The UTC instant a station-local day starts."""
    return datetime.combine(day, time(0), tzinfo=_tz(tz)).astimezone(timezone.utc)


def to_local(value: datetime | None, tz: ZoneInfo | str) -> datetime | None:
    """A stored (UTC, maybe naive) time in the station's zone."""
    value = as_utc(value)
    return value.astimezone(_tz(tz)) if value is not None else None


def fmt_local(value: datetime | None, tz: ZoneInfo | str, pattern: str = "%d/%m/%Y %H:%M:%S") -> str:
    """A stored time as the station reads it ('' when there is none)."""
    local = to_local(value, tz)
    return local.strftime(pattern) if local is not None else ""


def fmt_minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal, Vietnamese decimal comma ('12,5')."""
    return f"{(seconds or 0.0) / 60:.1f}".replace(".", ",")


# ---------------------------------------------------------------------------- log
PER_PAGE = 50
MAX_PER_PAGE = 500


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
            date_from=_parse_day(date_from, "Từ ngày"),
            date_until=_parse_day(date_until, "Đến ngày"),
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


def _parse_day(value: str | None, what: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise InputError(f"{what}: ngày '{value}' không hợp lệ (dạng 2026-12-01 hoặc 01/12/2026)")


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


@dataclass(frozen=True)
class LogPage:
    """One page of the filtered log, newest first."""

    entries: list[LogEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _value(enum_value) -> str | None:
    if enum_value is None:
        return None
    return str(getattr(enum_value, "value", enum_value))


STATION_WRITTEN_DIRS = ("archive", "cache")  # what the station itself writes and may play back


def playable_path(path: str | None, data_dir: Path) -> Path | None:
    """The file of an as-run row if it is an existing file the station itself wrote (under
    <data_dir>/archive or <data_dir>/cache, after symlinks and `..` are resolved), else None.

    A row's path is data, and data must not turn the console into a reader of other files:
    not the database or run/api-token (an older version let a relay slot point at them), and
    not even an open()+close() of the database file in serve, which drops SQLite's locks.
    """
    if not path:
        return None
    try:
        resolved = Path(path).resolve()
        roots = [(Path(data_dir) / name).resolve() for name in STATION_WRITTEN_DIRS]
    except (OSError, RuntimeError, ValueError):
        return None
    if not any(resolved.is_relative_to(root) for root in roots) or not resolved.is_file():
        return None
    return resolved


def _bulletin_classes(session: Session, rows: Sequence[AsRun]) -> dict[int, BulletinClass]:
    """The class of the bulletin behind each row that has none of its own."""
    wanted = {r.bulletin_id for r in rows if r.bulletin_class is None and r.bulletin_id is not None}
    if not wanted:
        return {}
    found = session.exec(select(Bulletin.id, Bulletin.bulletin_class).where(col(Bulletin.id).in_(wanted))).all()
    return {b_id: klass for b_id, klass in found}


def _row_class(row: AsRun, classes: dict[int, BulletinClass]) -> str | None:
    return _value(row.bulletin_class) or _value(classes.get(row.bulletin_id))


def _entry(row: AsRun, tz: ZoneInfo, data_dir: Path | None, classes: dict[int, BulletinClass] | None = None) -> LogEntry:
    status = _value(row.status) or ""
    kind = _value(row.kind) or AsRunKind.programme.value
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
        playable=playable_path(row.path, data_dir) is not None if data_dir is not None else False,
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
    tz = _tz(tz)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    counted = _log_where(select(func.count()).select_from(AsRun), filters, tz)
    total = int(session.exec(counted).one())
    query = _log_where(select(AsRun), filters, tz)
    query = query.order_by(col(AsRun.started_at).desc(), col(AsRun.id).desc())
    rows = session.exec(query.offset((page - 1) * per_page).limit(per_page)).all()
    classes = _bulletin_classes(session, rows)
    return LogPage(entries=[_entry(r, tz, data_dir, classes) for r in rows], total=total, page=page, per_page=per_page)


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
    tz = _tz(tz)
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
        classes = _bulletin_classes(session, rows)
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
)


def _log_values(row: AsRun, tz: ZoneInfo, klass: str | None) -> list:
    status = _value(row.status) or ""
    kind = _value(row.kind) or ""
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
        row.operator or "",
        row.reason or "",
        row.engine or "",
        row.bulletin_id,
    ]


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    # a cell starting with = + - @ is a formula to a spreadsheet: a title must stay text
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text


def log_csv(*, session: Session, tz: ZoneInfo | str, filters: LogFilter = LogFilter()) -> Iterator[bytes]:
    """The filtered log as CSV (UTF-8 with BOM so spreadsheet programs read the diacritics),
    streamed in chunks; times in the station's zone."""
    tz = _tz(tz)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(LOG_HEADERS)
    for count, (row, klass) in enumerate(iter_log(session=session, tz=tz, filters=filters), start=1):
        writer.writerow([_csv_cell(v) for v in _log_values(row, tz, klass)])
        if count % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_time(value: datetime | None) -> datetime | None:
    # spreadsheets have no zones: write the station-local wall time
    return value.replace(tzinfo=None) if value is not None else None


def _excel_text(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def log_xlsx(*, session: Session, tz: ZoneInfo | str, filters: LogFilter = LogFilter(), title: str = "Nhật ký phát sóng") -> bytes:
    """The filtered log as an XLSX workbook (one sheet, Vietnamese headers, local times)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    tz = _tz(tz)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Nhật ký")
    for index, width in enumerate((8, 20, 20, 10, 48, 12, 12, 14, 16, 18, 16, 40, 10, 10), start=1):
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
    for row, klass in iter_log(session=session, tz=tz, filters=filters):
        values = _log_values(row, tz, klass)
        cells = []
        for value in values:
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=_xlsx_time(value))
                cell.number_format = "dd/mm/yyyy hh:mm:ss"
            else:
                cell = WriteOnlyCell(sheet, value=_excel_text(value))
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


# ------------------------------------------------------------------------- report
@dataclass(frozen=True)
class Period:
    """A month or a quarter of station-local days: [start, end)."""

    kind: str  # "month" | "quarter"
    year: int
    number: int  # month 1–12 or quarter 1–4

    @property
    def start(self) -> date:
        month = self.number if self.kind == "month" else 3 * (self.number - 1) + 1
        return date(self.year, month, 1)

    @property
    def end(self) -> date:
        months = 1 if self.kind == "month" else 3
        month = self.start.month - 1 + months
        return date(self.year + month // 12, month % 12 + 1, 1)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"Tháng {self.number:02d}/{self.year}"
        return f"Quý {('I', 'II', 'III', 'IV')[self.number - 1]}/{self.year}"

    @property
    def key(self) -> str:
        return f"{self.year}-{self.number:02d}" if self.kind == "month" else f"{self.year}-Q{self.number}"

    def previous(self) -> Period:
        limit = 12 if self.kind == "month" else 4
        return Period(self.kind, self.year - 1, limit) if self.number == 1 else Period(self.kind, self.year, self.number - 1)

    def next(self) -> Period:
        limit = 12 if self.kind == "month" else 4
        return Period(self.kind, self.year + 1, 1) if self.number == limit else Period(self.kind, self.year, self.number + 1)

    @classmethod
    def parse(cls, value: str | None, *, today: date) -> Period:
        """'2026-12' (a month), '2026-Q4' (a quarter), or empty for the current month."""
        value = (value or "").strip().upper()
        if not value:
            return cls("month", today.year, today.month)
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", value)
        if match and 1 <= int(match.group(2)) <= 12:
            return cls("month", int(match.group(1)), int(match.group(2)))
        match = re.fullmatch(r"(\d{4})-Q([1-4])", value)
        if match:
            return cls("quarter", int(match.group(1)), int(match.group(2)))
        raise InputError(f"Kỳ báo cáo '{value}' không hợp lệ (tháng: 2026-12, quý: 2026-Q4)")

    @classmethod
    def containing(cls, day: date, kind: str = "month") -> Period:
        if kind == "quarter":
            return cls("quarter", day.year, (day.month - 1) // 3 + 1)
        return cls("month", day.year, day.month)


@dataclass
class ReportLine:
    """One line of a report table: airings (lượt phát), distinct bulletins, seconds on air."""

    key: str
    label: str
    airings: int = 0
    bulletins: int = 0
    seconds: float = 0.0

    @property
    def minutes(self) -> float:
        return self.seconds / 60.0

    @property
    def minutes_label(self) -> str:
        return fmt_minutes(self.seconds)


@dataclass
class BulletinLine:
    """A bulletin's airings in the period (the detail sheet)."""

    bulletin_id: int
    title: str
    class_label: str
    topic: str
    airings: int = 0
    seconds: float = 0.0

    @property
    def minutes_label(self) -> str:
        return fmt_minutes(self.seconds)


@dataclass
class Report:
    """Airings and minutes on air in a period, by class, topic and kind.

    Counted: rows of kind programme, urgent and relay. An airing is a row with status
    aired (the attention tone before an urgent message is not counted as an airing of its
    own); minutes add up every second actually on air (aired and interrupted rows, tone
    included). `failed` and `missed` count what should have aired and did not.
    """

    period: Period
    by_class: list[ReportLine]
    by_topic: list[ReportLine]
    by_kind: list[ReportLine]
    total: ReportLine
    bulletins: list[BulletinLine]
    failed: int = 0
    missed: int = 0
    generated_at: datetime | None = None


def _tone_title() -> str:
    from .urgent import TONE_TITLE

    return TONE_TITLE


REPORT_CACHE_KIB = 32 * 1024


def build_report(*, session: Session, tz: ZoneInfo | str, period: Period, detail_limit: int | None = None) -> Report:
    """The report of one period (see Report for what is counted). `detail_limit` keeps only the
    most-aired bulletins in `bulletins` (a page shows a few; an export shows all)."""
    # A quarter reads ~25,000 rows scattered over the file: with SQLite's default 2 MB page cache
    # every report re-reads them from the OS; 32 MB (per pooled connection, allocated only as
    # used) keeps them, and halves the report's time on 100,000 rows (bench/bench_web.py).
    session.connection().exec_driver_sql(f"PRAGMA cache_size = -{REPORT_CACHE_KIB}")
    tz = _tz(tz)
    start = local_midnight_utc(period.start, tz)
    end = local_midnight_utc(period.end, tz)
    tone = _tone_title()
    counted_kinds = [AsRunKind.programme, AsRunKind.urgent, AsRunKind.relay]
    in_period = (col(AsRun.started_at) >= start, col(AsRun.started_at) < end)
    klass = func.coalesce(AsRun.bulletin_class, Bulletin.bulletin_class)
    # no kind filter in SQL: it would lure SQLite onto the kind index instead of the time range
    groups = session.exec(
        select(AsRun.kind, AsRun.status, klass, Bulletin.topic, func.count(),
               func.coalesce(func.sum(AsRun.duration_s), 0.0), func.count(func.distinct(AsRun.bulletin_id)))
        .select_from(AsRun)
        .join(Bulletin, Bulletin.id == AsRun.bulletin_id, isouter=True)
        .where(*in_period)
        .group_by(AsRun.kind, AsRun.status, klass, Bulletin.topic)
    ).all()
    # the attention tone before each urgent message is air time, not an airing of its own
    tones: dict[tuple[str | None, str | None], int] = defaultdict(int)
    for status, tone_class, count in session.exec(
        select(AsRun.status, AsRun.bulletin_class, func.count())
        .where(*in_period, AsRun.kind == AsRunKind.urgent, AsRun.title == tone, col(AsRun.bulletin_id).is_(None))
        .group_by(AsRun.status, AsRun.bulletin_class)
    ).all():
        tones[(_value(status), _value(tone_class))] += count
    by_class = {c: ReportLine(c.value, CLASS_LABELS[c].capitalize()) for c in BulletinClass}
    by_kind = {k: ReportLine(k.value, KIND_LABELS[k].capitalize()) for k in counted_kinds}
    topics = {t.name: ReportLine(t.name, t.name) for t in ensure_topics(session=session)}
    total = ReportLine("total", "Tổng cộng")
    failed = missed = 0
    for kind, status, row_class, topic, count, seconds, distinct in groups:
        kind = AsRunKind(_value(kind))
        if kind not in by_kind:
            continue  # filler and alarm rows are not programme
        status = _value(status)
        row_class = BulletinClass(_value(row_class)) if row_class else None
        tone_rows = tones.pop((status, _value(row_class)), 0) if kind == AsRunKind.urgent and topic is None else 0
        if status == AsRunStatus.failed:
            failed += count - tone_rows
            continue
        if status == AsRunStatus.missed:
            missed += count
            continue
        if status not in (AsRunStatus.aired, AsRunStatus.interrupted):
            continue
        airings = count - tone_rows if status == AsRunStatus.aired else 0
        lines = [total, by_kind[kind]]
        if row_class is not None:
            lines.append(by_class[row_class])
        if kind != AsRunKind.relay:
            name = topic or NO_TOPIC
            lines.append(topics.setdefault(name, ReportLine(name, name)))
        for line in lines:
            line.airings += airings
            line.seconds += float(seconds or 0.0)
            # a bulletin has one kind, class and topic: distinct counts of its groups add up
            if status == AsRunStatus.aired:
                line.bulletins += distinct
    by_topic = [line for line in topics.values() if line.key != NO_TOPIC or line.seconds or line.airings]
    return Report(
        period=period,
        by_class=list(by_class.values()),
        by_topic=by_topic,
        by_kind=list(by_kind.values()),
        total=total,
        bulletins=_bulletin_lines(session, in_period, limit=detail_limit),
        failed=failed,
        missed=missed,
        generated_at=utcnow(),
    )


def _bulletin_lines(session: Session, in_period, *, limit: int | None) -> list[BulletinLine]:
    """Each bulletin's airings and seconds on air in the period, most aired first."""
    aired = func.sum(case((AsRun.status == AsRunStatus.aired, 1), else_=0))
    query = (
        select(AsRun.bulletin_id, Bulletin.title, Bulletin.topic, func.coalesce(AsRun.bulletin_class, Bulletin.bulletin_class),
               aired, func.coalesce(func.sum(AsRun.duration_s), 0.0))
        .select_from(AsRun)
        .join(Bulletin, Bulletin.id == AsRun.bulletin_id)
        .where(*in_period, col(AsRun.status).in_([AsRunStatus.aired, AsRunStatus.interrupted]),
               col(AsRun.kind).in_([AsRunKind.programme, AsRunKind.urgent]))
        .group_by(AsRun.bulletin_id)
        .order_by(aired.desc(), func.sum(AsRun.duration_s).desc(), AsRun.bulletin_id)
    )
    if limit is not None:
        query = query.limit(limit)
    out = []
    for bulletin_id, title, topic, klass, airings, seconds in session.exec(query).all():
        klass = BulletinClass(_value(klass)) if klass else None
        out.append(BulletinLine(bulletin_id, title, CLASS_LABELS.get(klass, "") if klass else "", topic or NO_TOPIC,
                                int(airings or 0), float(seconds or 0.0)))
    return out


REPORT_HEADERS = ("Nhóm", "Số lượt phát", "Số bản tin", "Số phút phát")


def _report_tables(report: Report) -> list[tuple[str, list[ReportLine]]]:
    return [
        ("Theo mức độ", report.by_class),
        ("Theo chủ đề", report.by_topic),
        ("Theo loại", report.by_kind),
    ]


def report_csv(report: Report, *, station_name: str = "Đài truyền thanh xã") -> bytes:
    """The report as CSV (UTF-8 with BOM): the three tables, then the bulletins."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([f"{station_name} — Báo cáo phát sóng {report.period.label}"])
    writer.writerow([f"Từ ngày {report.period.start:%d/%m/%Y} đến hết ngày {report.period.end - timedelta(days=1):%d/%m/%Y}"])
    for title, lines in _report_tables(report):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(REPORT_HEADERS)
        for line in lines:
            writer.writerow([_csv_cell(line.label), line.airings, line.bulletins, f"{line.minutes:.1f}"])
        writer.writerow([report.total.label, report.total.airings, report.total.bulletins, f"{report.total.minutes:.1f}"])
    writer.writerow([])
    writer.writerow(["Số lượt không phát được (lỗi)", report.failed])
    writer.writerow(["Số lượt bỏ lỡ", report.missed])
    writer.writerow([])
    writer.writerow(["Chi tiết bản tin"])
    writer.writerow(["Mã", "Tiêu đề", "Mức độ", "Chủ đề", "Số lượt phát", "Số phút phát"])
    for d in report.bulletins:
        writer.writerow([d.bulletin_id, _csv_cell(d.title), d.class_label, _csv_cell(d.topic), d.airings, f"{d.seconds / 60:.1f}"])
    return buffer.getvalue().encode("utf-8")


def report_xlsx(report: Report, *, station_name: str = "Đài truyền thanh xã") -> bytes:
    """The report as an XLSX workbook: sheet "Tổng hợp" (the tables) and "Chi tiết" (each bulletin)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "Tổng hợp"
    bold = Font(bold=True)
    summary.append([f"{station_name} — Báo cáo phát sóng {report.period.label}"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([f"Từ ngày {report.period.start:%d/%m/%Y} đến hết ngày {report.period.end - timedelta(days=1):%d/%m/%Y}"])
    generated = report.generated_at or utcnow()
    summary.append([f"Lập lúc {generated.astimezone(timezone.utc):%d/%m/%Y %H:%M} UTC"])
    for title, lines in _report_tables(report):
        summary.append([])
        summary.append([title])
        summary.cell(row=summary.max_row, column=1).font = bold
        summary.append(list(REPORT_HEADERS))
        for cell in summary[summary.max_row]:
            cell.font = bold
        for line in lines:
            summary.append([_excel_text(line.label), line.airings, line.bulletins, round(line.minutes, 1)])
        summary.append([report.total.label, report.total.airings, report.total.bulletins, round(report.total.minutes, 1)])
        for cell in summary[summary.max_row]:
            cell.font = bold
    summary.append([])
    summary.append(["Số lượt không phát được (lỗi)", report.failed])
    summary.append(["Số lượt bỏ lỡ", report.missed])
    summary.column_dimensions["A"].width = 40
    for letter in "BCD":
        summary.column_dimensions[letter].width = 16
    detail = workbook.create_sheet("Chi tiết")
    detail.append(["Mã", "Tiêu đề", "Mức độ", "Chủ đề", "Số lượt phát", "Số phút phát"])
    for cell in detail[1]:
        cell.font = bold
    for d in report.bulletins:
        detail.append([d.bulletin_id, _excel_text(d.title), d.class_label, _excel_text(d.topic), d.airings, round(d.seconds / 60, 1)])
    detail.column_dimensions["B"].width = 60
    detail.column_dimensions["D"].width = 32
    for column in "CEF":
        detail.column_dimensions[column].width = 14
    detail["B1"].alignment = Alignment(wrap_text=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CHART_COLOURS = ("#1d4ed8", "#b45309", "#b91c1c", "#047857", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f")


def bar_chart_svg(lines: Sequence[ReportLine], *, title: str, value: str = "minutes") -> str:
    """A horizontal bar chart as inline SVG (server-rendered; no JavaScript, works offline).

    `value` is "minutes" or "airings". Labels are escaped here: the result is safe to embed.
    """
    width, label_w, bar_h, gap, top = 640, 230, 22, 8, 30
    values = [(line.minutes if value == "minutes" else float(line.airings)) for line in lines]
    biggest = max(values, default=0.0) or 1.0
    height = top + len(lines) * (bar_h + gap) + 10
    unit = "phút" if value == "minutes" else "lượt"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{html.escape(title)}" class="chart">',
        f'<title>{html.escape(title)}</title>',
        f'<text x="0" y="18" font-size="15" font-weight="bold" fill="#111">{html.escape(title)}</text>',
    ]
    span = width - label_w - 90
    for index, (line, amount) in enumerate(zip(lines, values)):
        y = top + index * (bar_h + gap)
        bar = 0 if amount <= 0 else max(2, round(span * amount / biggest))
        label = line.label if len(line.label) <= 34 else line.label[:33] + "…"
        shown = fmt_minutes(line.seconds) if value == "minutes" else str(line.airings)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" font-size="13" text-anchor="end" fill="#222">'
            f"{html.escape(label)}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{bar}" height="{bar_h}" rx="3" '
            f'fill="{CHART_COLOURS[index % len(CHART_COLOURS)]}"><title>{html.escape(line.label)}: '
            f"{html.escape(shown)} {unit}</title></rect>"
        )
        parts.append(
            f'<text x="{label_w + bar + 6}" y="{y + bar_h * 0.7:.1f}" font-size="13" fill="#222">'
            f"{html.escape(shown)} {unit}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------- week view
WEEKDAY_LABELS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


@dataclass
class Occurrence:
    """One slot occurrence of the week: its programme (upcoming) or what aired (past)."""

    slot: Slot
    at: datetime  # station-local start
    past: bool
    programme: Programme | None = None
    aired: list[LogEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    total_s: float = 0.0

    @property
    def max_s(self) -> float:
        return self.slot.length_s

    @property
    def fill(self) -> float:
        """How full the slot is (0–1+), for the bar on the page."""
        return self.total_s / self.max_s if self.max_s else 0.0


@dataclass
class WeekDay:
    day: date
    label: str
    occurrences: list[Occurrence]
    is_today: bool = False


def week_start_of(day: date) -> date:
    """The Monday of the week containing `day`."""
    return day - timedelta(days=day.weekday())


def _occurrence_warnings(programme: Programme) -> list[str]:
    from .scheduling.programme import format_duration

    warnings: list[str] = []
    if programme.overflow:
        warnings.append(
            f"Quá thời lượng: {len(programme.overflow)} bản tin chuyển sang khung sau "
            f"({', '.join(d.title for d in programme.overflow[:3])}{'…' if len(programme.overflow) > 3 else ''})"
        )
    for _bulletin_id, title, problem in programme.all_problems:
        warnings.append(f"Chưa dựng được âm thanh cho '{title}': {problem}")
    warnings.extend(programme.notes)
    if programme.total_s > programme.max_s:
        warnings.append(
            f"Tổng thời lượng {format_duration(programme.total_s)} vượt tối đa {format_duration(programme.max_s)}"
        )
    return warnings


def _programme_maker(station: Station, timetable, aired: dict[tuple[str, datetime], list[LogEntry]]):
    """programme(slot, at) for many occurrences of one week: Station.programme's result, with the
    bulletins read once instead of once per occurrence (a week has ~14, each reading every live
    bulletin and its airings). Only `aired_here` depends on the occurrence: it is taken from the
    week's as-run rows, which the caller already read."""
    from .scheduling import store
    from .scheduling.programme import build_programme

    with Session(station.db) as session:
        base = store.candidates(session=session)

    def programme(slot: Slot, at: datetime) -> Programme:
        here = {
            entry.bulletin_id
            for entry in aired.get((slot.name, at.astimezone(timezone.utc)), [])
            if entry.status == AsRunStatus.aired and entry.bulletin_id is not None
        }
        following = timetable.next_slot(at, include_relay=False)
        return build_programme(
            slot=slot,
            day=at.astimezone(station.tz).date(),
            bulletins=[replace(c, aired_here=c.id in here) for c in base],
            next_slot=(following[0].name, following[1]) if following else None,
        )

    return programme


def week_view(*, station: Station, week_start: date, now: datetime | None = None) -> list[WeekDay]:
    """The seven days from `week_start` (a station-local date): every enabled slot's occurrence,
    with the programme Station.programme would give for what has not started yet (see
    _programme_maker) and the as-run rows for what has."""
    tz = station.tz
    now = now or station.clock()
    week_start = week_start_of(week_start)
    start = datetime.combine(week_start, time(0), tzinfo=tz)
    end = start + timedelta(days=7)
    timetable = station.timetable()
    occurrences = timetable.occurrences(start - timedelta(microseconds=1), end - timedelta(microseconds=1))
    aired: dict[tuple[str, datetime], list[LogEntry]] = defaultdict(list)
    with Session(station.db) as session:
        rows = session.exec(
            select(AsRun)
            .where(
                col(AsRun.planned_at) >= start.astimezone(timezone.utc),
                col(AsRun.planned_at) < end.astimezone(timezone.utc),
                col(AsRun.slot).is_not(None),
            )
            .order_by(col(AsRun.started_at), col(AsRun.id))
        ).all()
        classes = _bulletin_classes(session, rows)
        for row in rows:
            # data_dir None: the week view offers no playback, and a stat per row is not free
            aired[(row.slot, as_utc(row.planned_at))].append(_entry(row, tz, None, classes))
    week_programme = _programme_maker(station, timetable, aired)
    days = [
        WeekDay(day=week_start + timedelta(days=n), label=WEEKDAY_LABELS[n], occurrences=[],
                is_today=(week_start + timedelta(days=n)) == now.astimezone(tz).date())
        for n in range(7)
    ]
    for slot, at in occurrences:
        at_utc = at.astimezone(timezone.utc)
        rows_here = aired.get((slot.name, at_utc), [])
        past = at_utc <= now.astimezone(timezone.utc)
        occurrence = Occurrence(slot=slot, at=at, past=past, aired=rows_here)
        if past:
            occurrence.total_s = sum(e.duration_s or 0.0 for e in rows_here)
            for entry in rows_here:
                if entry.status in (AsRunStatus.failed, AsRunStatus.missed):
                    occurrence.warnings.append(f"{entry.title}: {entry.status_label} — {entry.reason or ''}".rstrip(" —"))
        else:
            programme = week_programme(slot, at)
            occurrence.programme = programme
            occurrence.total_s = programme.total_s
            occurrence.warnings = _occurrence_warnings(programme)
        days[(at.date() - week_start).days].occurrences.append(occurrence)
    return days


# ------------------------------------------------------------------ slot editing
def slot_from_form(form: dict, *, where: str = "Khung giờ") -> Slot:
    """A validated Slot from a web form's fields (name, time, days, max_minutes, kind, date,
    from, until, source, duration_min, enabled); ScheduleError with a Vietnamese reason."""
    from .scheduling.timetable import slot_from_mapping

    raw: dict = {}
    for key in ("name", "time", "kind", "date", "from", "until", "source"):
        value = str(form.get(key) or "").strip()
        if value:
            raw[key] = unicodedata.normalize("NFC", value)
    days = form.get("days")
    if isinstance(days, (list, tuple)):
        picked = [str(d).strip() for d in days if str(d).strip()]
        raw["days"] = picked if picked and len(picked) < 7 else "daily"
    elif str(days or "").strip():
        text = str(days).strip()
        raw["days"] = text if text.lower() in ("daily", "hằng ngày", "hang ngay") else [d.strip() for d in text.split(",") if d.strip()]
    if raw.get("days") in ("hằng ngày", "hang ngay"):
        raw["days"] = "daily"
    for key in ("max_minutes", "duration_min"):
        value = str(form.get(key) or "").strip()
        if value:
            if not value.isdigit():
                raise ScheduleError(f"{where}: '{key}' phải là số phút nguyên dương")
            raw[key] = int(value)
    enabled = form.get("enabled", True)
    raw["enabled"] = enabled if isinstance(enabled, bool) else str(enabled).lower() in ("1", "true", "on", "yes")
    if raw.get("kind") != "relay":
        raw.pop("source", None)
        raw.pop("duration_min", None)
    return slot_from_mapping(raw, where)


def update_slot(*, session: Session, ref: str | int, slot: Slot, settings=None) -> SlotPublic:
    """Change a slot in place (same id). A new name must be free; bulletins that chose the
    slot by its old name follow the rename. Commits once; bumps the timetable version so a
    running serve reconciles its jobs."""
    from .scheduling.store import _find, _record_values, bump_timetable_version, check_source
    from .scheduling.timetable import validate_slot

    record = _find(session, ref)
    slot = check_source(validate_slot(slot), settings=settings)
    old_name = record.name
    if slot.name != old_name:
        if session.exec(select(SlotRecord).where(SlotRecord.name == slot.name)).first() is not None:
            raise ScheduleError(f"Đã có khung giờ tên '{slot.name}' / a slot with this name exists", name=slot.name)
        for bulletin in session.exec(select(Bulletin).where(col(Bulletin.slot_names).is_not(None))).all():
            names = list(bulletin.slot_names or [])
            if old_name in names:
                bulletin.slot_names = [slot.name if n == old_name else n for n in names]
                session.add(bulletin)
    for key, value in _record_values(slot).items():
        setattr(record, key, value)
    session.add(record)
    bump_timetable_version(session=session)
    session.commit()
    session.refresh(record)
    return SlotPublic.model_validate(record)


def slot_form_values(slot: SlotPublic | None) -> dict:
    """A slot as the edit form's initial values (the inverse of slot_from_form)."""
    if slot is None:
        return {"name": "", "time": "06:00", "days": [], "max_minutes": 30, "kind": "recurring", "date": "",
                "from": "", "until": "", "source": "", "duration_min": "", "enabled": True}
    kind = _value(slot.kind)
    return {
        "name": slot.name,
        "time": slot.at.strftime("%H:%M"),
        "days": list(slot.weekdays) if slot.weekdays is not None else [],
        "max_minutes": slot.max_minutes,
        "kind": kind,
        "date": slot.on_date.isoformat() if slot.on_date else "",
        "from": slot.date_from.isoformat() if slot.date_from else "",
        "until": slot.date_until.isoformat() if slot.date_until else "",
        "source": slot.source or "",
        "duration_min": slot.duration_min or "",
        "enabled": bool(slot.enabled),
    }


__all__ = [
    "DEFAULT_TOPICS",
    "NO_TOPIC",
    "ensure_topics",
    "list_topics",
    "add_topic",
    "rename_topic",
    "remove_topic",
    "LogFilter",
    "LogEntry",
    "LogPage",
    "query_log",
    "log_row",
    "operators",
    "iter_log",
    "log_csv",
    "log_xlsx",
    "playable_path",
    "LOG_HEADERS",
    "LOG_HEADER_ROW",
    "Period",
    "ReportLine",
    "BulletinLine",
    "Report",
    "build_report",
    "report_csv",
    "report_xlsx",
    "bar_chart_svg",
    "Occurrence",
    "WeekDay",
    "week_start_of",
    "week_view",
    "slot_from_form",
    "update_slot",
    "slot_form_values",
    "fmt_local",
    "fmt_minutes",
    "to_local",
    "local_midnight_utc",
]
