"""The week view: what each slot occurrence of a week airs, or for past ones what the log says aired."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from ..db import as_utc
from ..localtime import as_zone
from ..models import AsRun, AsRunStatus
from ..scheduling import store
from ..scheduling.programme import build_programme, format_duration
from .log import LogEntry, bulletin_classes, log_entry

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ..scheduling.programme import Programme
    from ..scheduling.timetable import Slot, Timetable

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


def _programme_maker(engine: Engine, timetable: Timetable, tz: ZoneInfo,
                     aired: dict[tuple[str, datetime], list[LogEntry]]):
    """programme(slot, at) for many occurrences of one week: Station.programme's result, with the
    bulletins read once instead of once per occurrence (a week has ~14, each reading every live
    bulletin and its airings). Only `aired_here` depends on the occurrence: it is taken from the
    week's as-run rows, which the caller already read."""
    with Session(engine) as session:
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
            day=at.astimezone(tz).date(),
            bulletins=[replace(c, aired_here=c.id in here) for c in base],
            next_slot=(following[0].name, following[1]) if following else None,
        )

    return programme


def week_view(
    *, engine: Engine, timetable: Timetable, tz: ZoneInfo | str, week_start: date, now: datetime
) -> list[WeekDay]:
    """The seven days of the week containing `week_start` (a station-local date): every enabled
    slot's occurrence in `timetable`, with the programme Station.programme would give for what has
    not started by `now` (see _programme_maker) and the as-run rows in `engine`'s database for what has."""
    tz = as_zone(tz)
    week_start = week_start_of(week_start)
    start = datetime.combine(week_start, time(0), tzinfo=tz)
    end = start + timedelta(days=7)
    occurrences = timetable.occurrences(start - timedelta(microseconds=1), end - timedelta(microseconds=1))
    aired: dict[tuple[str, datetime], list[LogEntry]] = defaultdict(list)
    with Session(engine) as session:
        rows = session.exec(
            select(AsRun)
            .where(
                col(AsRun.planned_at) >= start.astimezone(timezone.utc),
                col(AsRun.planned_at) < end.astimezone(timezone.utc),
                col(AsRun.slot).is_not(None),
            )
            .order_by(col(AsRun.started_at), col(AsRun.id))
        ).all()
        classes = bulletin_classes(session, rows)
        for row in rows:
            # data_dir None: the week view offers no playback, and a stat per row is not free
            aired[(row.slot, as_utc(row.planned_at))].append(log_entry(row, tz, None, classes))
    week_programme = _programme_maker(engine, timetable, tz, aired)
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


__all__ = ["Occurrence", "WeekDay", "WEEKDAY_LABELS", "week_start_of", "week_view"]
