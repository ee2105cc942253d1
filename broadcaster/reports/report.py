"""The monthly or quarterly report: airings and minutes on air by class, topic and kind, and its exports."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from ..exceptions import InputError
from ..localtime import as_zone, fmt_minutes, local_midnight_utc
from ..models import (
    CLASS_LABELS,
    KIND_LABELS,
    TONE_TITLE,
    AsRun,
    AsRunKind,
    AsRunStatus,
    Bulletin,
    BulletinClass,
    utcnow,
)
from .cells import csv_cell, enum_value, excel_text
from .receiver_log import HeardLine, heard_by_receiver
from .topics import NO_TOPIC, ensure_topics


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
    # of `failed`, the urgent messages that did not air (a sound card missing at the time: issue 11 item 9)
    failed_urgent: int = 0
    # the station's zone: every time an export shows is in it, never UTC
    tz: ZoneInfo | None = None
    # minutes heard per loudspeaker cluster (issue 14), from the clusters' uploaded logs
    by_receiver: list[HeardLine] = field(default_factory=list)


REPORT_CACHE_KIB = 32 * 1024


def build_report(*, session: Session, tz: ZoneInfo | str, period: Period, detail_limit: int | None = None) -> Report:
    """The report of one period (see Report for what is counted). `detail_limit` keeps only the
    most-aired bulletins in `bulletins` (a page shows a few; an export shows all)."""
    # A quarter reads ~25,000 rows scattered over the file: with SQLite's default 2 MB page cache
    # every report re-reads them from the OS; 32 MB (per pooled connection, allocated only as
    # used) keeps them, and halves the report's time on 100,000 rows (bench/bench_web.py).
    session.connection().exec_driver_sql(f"PRAGMA cache_size = -{REPORT_CACHE_KIB}")
    tz = as_zone(tz)
    start = local_midnight_utc(period.start, tz)
    end = local_midnight_utc(period.end, tz)
    tone = TONE_TITLE
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
        tones[(enum_value(status), enum_value(tone_class))] += count
    by_class = {c: ReportLine(c.value, CLASS_LABELS[c].capitalize()) for c in BulletinClass}
    by_kind = {k: ReportLine(k.value, KIND_LABELS[k].capitalize()) for k in counted_kinds}
    topics = {t.name: ReportLine(t.name, t.name) for t in ensure_topics(session=session)}
    total = ReportLine("total", "Tổng cộng")
    failed = missed = failed_urgent = 0
    for kind, status, row_class, topic, count, seconds, distinct in groups:
        kind = AsRunKind(enum_value(kind))
        if kind not in by_kind:
            continue  # filler and alarm rows are not programme
        status = enum_value(status)
        row_class = BulletinClass(enum_value(row_class)) if row_class else None
        tone_rows = tones.pop((status, enum_value(row_class)), 0) if kind == AsRunKind.urgent and topic is None else 0
        if status == AsRunStatus.failed:
            failed += count - tone_rows
            if kind == AsRunKind.urgent:
                failed_urgent += count - tone_rows
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
        failed_urgent=failed_urgent,
        tz=tz,
        by_receiver=heard_by_receiver(session=session, start=start, end=end),
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
        klass = BulletinClass(enum_value(klass)) if klass else None
        out.append(BulletinLine(bulletin_id, title, CLASS_LABELS.get(klass, "") if klass else "", topic or NO_TOPIC,
                                int(airings or 0), float(seconds or 0.0)))
    return out


REPORT_HEADERS = ("Nhóm", "Số lượt phát", "Số bản tin", "Số phút phát")
FAILED_URGENT_LABEL = "Trong đó thông báo khẩn cấp không phát được"
HEARD_TITLE = "Phút nghe được theo cụm loa"
HEARD_HEADERS = ("Cụm loa", "Vùng", "Số phút nghe được", "Số lần gián đoạn")


def _generated_text(report: Report, tz: ZoneInfo | str | None) -> str:
    """"Lập lúc dd/mm/yyyy HH:MM" in the station's zone (the report's own, else the one given)."""
    zone = as_zone(tz) if tz is not None else report.tz or timezone.utc
    return f"Lập lúc {(report.generated_at or utcnow()).astimezone(zone):%d/%m/%Y %H:%M}"


def _report_tables(report: Report) -> list[tuple[str, list[ReportLine]]]:
    return [
        ("Theo mức độ", report.by_class),
        ("Theo chủ đề", report.by_topic),
        ("Theo loại", report.by_kind),
    ]


def report_csv(report: Report, *, station_name: str = "Đài truyền thanh xã", tz: ZoneInfo | str | None = None) -> bytes:
    """The report as CSV (UTF-8 with BOM): the three tables, then the bulletins."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([f"{station_name} — Báo cáo phát sóng {report.period.label}"])
    writer.writerow([f"Từ ngày {report.period.start:%d/%m/%Y} đến hết ngày {report.period.end - timedelta(days=1):%d/%m/%Y}"])
    writer.writerow([_generated_text(report, tz)])
    for title, lines in _report_tables(report):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(REPORT_HEADERS)
        for line in lines:
            writer.writerow([csv_cell(line.label), line.airings, line.bulletins, f"{line.minutes:.1f}"])
        writer.writerow([report.total.label, report.total.airings, report.total.bulletins, f"{report.total.minutes:.1f}"])
    writer.writerow([])
    writer.writerow(["Số lượt không phát được (lỗi)", report.failed])
    writer.writerow([FAILED_URGENT_LABEL, report.failed_urgent])
    writer.writerow(["Số lượt bỏ lỡ", report.missed])
    writer.writerow([])
    writer.writerow(["Chi tiết bản tin"])
    writer.writerow(["Mã", "Tiêu đề", "Mức độ", "Chủ đề", "Số lượt phát", "Số phút phát"])
    for d in report.bulletins:
        writer.writerow([d.bulletin_id, csv_cell(d.title), d.class_label, csv_cell(d.topic), d.airings, f"{d.seconds / 60:.1f}"])
    writer.writerow([])
    writer.writerow([HEARD_TITLE])
    writer.writerow(HEARD_HEADERS)
    for line in report.by_receiver:
        writer.writerow([csv_cell(line.name), csv_cell(line.zone or ""), f"{line.minutes:.1f}", line.gaps])
    return buffer.getvalue().encode("utf-8")


def report_xlsx(report: Report, *, station_name: str = "Đài truyền thanh xã", tz: ZoneInfo | str | None = None) -> bytes:
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
    summary.append([_generated_text(report, tz)])
    for title, lines in _report_tables(report):
        summary.append([])
        summary.append([title])
        summary.cell(row=summary.max_row, column=1).font = bold
        summary.append(list(REPORT_HEADERS))
        for cell in summary[summary.max_row]:
            cell.font = bold
        for line in lines:
            summary.append([excel_text(line.label), line.airings, line.bulletins, round(line.minutes, 1)])
        summary.append([report.total.label, report.total.airings, report.total.bulletins, round(report.total.minutes, 1)])
        for cell in summary[summary.max_row]:
            cell.font = bold
    summary.append([])
    summary.append(["Số lượt không phát được (lỗi)", report.failed])
    summary.append([FAILED_URGENT_LABEL, report.failed_urgent])
    summary.append(["Số lượt bỏ lỡ", report.missed])
    summary.append([])
    summary.append([HEARD_TITLE])  # issue 14: what each loudspeaker cluster heard
    summary.cell(row=summary.max_row, column=1).font = bold
    summary.append(list(HEARD_HEADERS))
    for cell in summary[summary.max_row]:
        cell.font = bold
    for line in report.by_receiver:
        summary.append([excel_text(line.name), excel_text(line.zone or ""), round(line.minutes, 1), line.gaps])
    summary.column_dimensions["A"].width = 40
    for letter in "BCD":
        summary.column_dimensions[letter].width = 16
    detail = workbook.create_sheet("Chi tiết")
    detail.append(["Mã", "Tiêu đề", "Mức độ", "Chủ đề", "Số lượt phát", "Số phút phát"])
    for cell in detail[1]:
        cell.font = bold
    for d in report.bulletins:
        detail.append([d.bulletin_id, excel_text(d.title), d.class_label, excel_text(d.topic), d.airings, round(d.seconds / 60, 1)])
    detail.column_dimensions["B"].width = 60
    detail.column_dimensions["D"].width = 32
    for column in "CEF":
        detail.column_dimensions[column].width = 14
    detail["B1"].alignment = Alignment(wrap_text=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


__all__ = ["Period", "ReportLine", "BulletinLine", "Report", "build_report", "report_csv", "report_xlsx", "REPORT_HEADERS"]
