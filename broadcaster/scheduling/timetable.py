"""Timetable logic, pure: slots read from TOML; `now` is always an argument."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..exceptions import ScheduleError

WEEKDAYS = {  # Vietnamese and English names → Python weekday (Monday = 0)
    "t2": 0, "thu2": 0, "mon": 0, "t3": 1, "thu3": 1, "tue": 1, "t4": 2, "thu4": 2, "wed": 2,
    "t5": 3, "thu5": 3, "thu": 3, "t6": 4, "thu6": 4, "fri": 4, "t7": 5, "thu7": 5, "sat": 5,
    "cn": 6, "chunhat": 6, "sun": 6,
}


def builtin_schedule() -> Path:
    """schedules/default.toml of the source tree (the package is installed editable)."""
    return Path(__file__).resolve().parents[2] / "schedules" / "default.toml"


@dataclass(frozen=True)
class Slot:
    """A recurring slot: a local time on some weekdays (all when `weekdays` is None)."""

    name: str
    at: time
    weekdays: frozenset[int] | None = None
    max_minutes: int = 30

    def runs_on(self, day: date) -> bool:
        return self.weekdays is None or day.weekday() in self.weekdays

    def cron_day_of_week(self) -> str:
        if self.weekdays is None:
            return "*"
        names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        return ",".join(names[d] for d in sorted(self.weekdays))


@dataclass(frozen=True)
class Timetable:
    timezone: str
    slots: tuple[Slot, ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_slot(self, now: datetime) -> tuple[Slot, datetime] | None:
        """The next slot strictly after `now` (aware), with its aware start time."""
        local = now.astimezone(self.tz)
        best: tuple[Slot, datetime] | None = None
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            for slot in self.slots:
                if not slot.runs_on(day):
                    continue
                start = datetime.combine(day, slot.at, tzinfo=self.tz)
                if start > local and (best is None or start < best[1]):
                    best = (slot, start)
            if best:
                return best
        return best


def _parse_time(value: object, where: str) -> time:
    try:
        hours, minutes = str(value).strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ScheduleError(f"{where}: giờ '{value}' không hợp lệ (dạng HH:MM)") from exc


def _fold(text: str) -> str:
    """'Thứ 2' → 'thu2', 'Chủ nhật' → 'chunhat': accents and spaces dropped for matching."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace())


def _parse_days(value: object, where: str) -> frozenset[int] | None:
    if value in (None, "", "daily", "hằng ngày", "hàng ngày"):
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    days = set()
    for item in items:
        key = _fold(str(item))
        if key not in WEEKDAYS:
            raise ScheduleError(f"{where}: ngày '{item}' không hợp lệ (T2…T7, CN)")
        days.add(WEEKDAYS[key])
    return frozenset(days)


def load_timetable(path: Path | str) -> Timetable:
    """Read a timetable TOML file; ScheduleError with the file and the reason when invalid."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"Không đọc được tệp lịch phát {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"Tệp lịch phát {path} sai cú pháp: {exc}") from exc
    zone = str(data.get("timezone", "Asia/Ho_Chi_Minh"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"{path}: múi giờ '{zone}' không tồn tại") from exc
    slots = []
    for index, raw in enumerate(data.get("slot", []), start=1):
        where = f"{path} khung giờ {index}"
        if "time" not in raw:
            raise ScheduleError(f"{where}: thiếu 'time'")
        slots.append(
            Slot(
                name=str(raw.get("name") or f"Khung {index}"),
                at=_parse_time(raw["time"], where),
                weekdays=_parse_days(raw.get("days"), where),
                max_minutes=int(raw.get("max_minutes", 30)),
            )
        )
    if not slots:
        raise ScheduleError(f"Tệp lịch phát {path} không có khung giờ nào ([[slot]])")
    return Timetable(timezone=zone, slots=tuple(slots))
