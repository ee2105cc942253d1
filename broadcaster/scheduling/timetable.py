"""Timetable logic, pure: slots, their occurrences, and the TOML file format.

Nothing here touches the database or a clock: `now` is always an argument. The
database is the timetable (scheduling.store reads and writes it); TOML files under
schedules/ are the import/export format and `default.toml` seeds an empty station.

File format (every key but `time` is optional; the first four are the original format)::

    timezone = "Asia/Ho_Chi_Minh"

    [[slot]]
    name = "Buổi sáng"
    time = "06:00"
    days = "daily"            # or ["T2", "T4", "CN"] / ["mon", "wed", "sun"]
    max_minutes = 30
    kind = "recurring"        # "oneoff" (needs date) or "relay" (needs source, duration_min)
    from = 2026-01-01         # recurring only inside this date range (TOML dates or "YYYY-MM-DD")
    until = 2026-12-31
    date = 2026-12-24         # a one-off slot (or a one-off relay)
    source = "https://…"      # relay: an http(s) stream URL or an audio file in the media folder
    duration_min = 60         # relay: how long to relay
    enabled = true
"""

from __future__ import annotations

import json
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..exceptions import InputError, ScheduleError
from ..localtime import parse_day
from ..resources import data_file

WEEKDAYS = {  # Vietnamese and English names → Python weekday (Monday = 0)
    "t2": 0, "thu2": 0, "mon": 0, "t3": 1, "thu3": 1, "tue": 1, "t4": 2, "thu4": 2, "wed": 2,
    "t5": 3, "thu5": 3, "thu": 3, "t6": 4, "thu6": 4, "fri": 4, "t7": 5, "thu7": 5, "sat": 5,
    "cn": 6, "chunhat": 6, "sun": 6,
}
WEEKDAY_NAMES = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
KINDS = ("recurring", "oneoff", "relay")
KIND_LABELS = {"recurring": "định kỳ", "oneoff": "một lần", "relay": "tiếp sóng"}
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
SLOT_KEYS = frozenset(
    {"name", "time", "days", "max_minutes", "kind", "date", "from", "until", "source", "duration_min", "enabled"}
)


def builtin_schedule() -> Path:
    """schedules/default.toml, shipped in the package (broadcaster.schedules)."""
    return data_file("schedules", "default.toml")


@dataclass(frozen=True)
class Slot:
    """One slot: a station-local time, on some days, with a maximum length.

    recurring: every day (`weekdays` None) or on chosen weekdays (Monday = 0), optionally
    only between `date_from` and `date_until`; oneoff: once on `on_date`; relay: plays
    `source` for `duration_min` minutes, recurring like the first kind or once when
    `on_date` is set.
    """

    name: str
    at: time
    weekdays: frozenset[int] | None = None
    max_minutes: int = 30
    kind: str = "recurring"
    on_date: date | None = None
    date_from: date | None = None
    date_until: date | None = None
    source: str | None = None
    duration_min: int | None = None
    enabled: bool = True
    id: int | None = None

    # ------------------------------------------------------------------ facts
    @property
    def is_relay(self) -> bool:
        return self.kind == "relay"

    @property
    def is_oneoff(self) -> bool:
        return self.kind == "oneoff" or (self.kind == "relay" and self.on_date is not None)

    @property
    def length_s(self) -> float:
        """How long the slot may last: the relay's duration, else the maximum length."""
        if self.is_relay and self.duration_min:
            return self.duration_min * 60.0
        return self.max_minutes * 60.0

    def runs_on(self, day: date) -> bool:
        """Whether the slot has an occurrence on this station-local day (ignores `enabled`)."""
        if self.is_oneoff:
            return day == self.on_date
        if self.date_from is not None and day < self.date_from:
            return False
        if self.date_until is not None and day > self.date_until:
            return False
        return self.weekdays is None or day.weekday() in self.weekdays

    def cron_day_of_week(self) -> str:
        """The weekdays as a cron day_of_week field ("*" for every day)."""
        if self.weekdays is None:
            return "*"
        names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        return ",".join(names[d] for d in sorted(self.weekdays))

    def days_label(self) -> str:
        """Vietnamese description of when the slot runs, for tables."""
        if self.is_oneoff:
            return f"ngày {self.on_date:%d/%m/%Y}"
        days = "hằng ngày" if self.weekdays is None else ", ".join(WEEKDAY_NAMES[d] for d in sorted(self.weekdays))
        if self.date_from or self.date_until:
            start = f"{self.date_from:%d/%m/%Y}" if self.date_from else "…"
            end = f"{self.date_until:%d/%m/%Y}" if self.date_until else "…"
            days += f" ({start} → {end})"
        return days

    # ------------------------------------------------------------ occurrences
    def start_on(self, day: date, tz: ZoneInfo) -> datetime:
        """The aware start time of the slot on a station-local day."""
        return datetime.combine(day, self.at, tzinfo=tz)

    def next_after(self, moment: datetime, tz: ZoneInfo, *, inclusive: bool = False) -> datetime | None:
        """The first occurrence after `moment` (at or after when `inclusive`), or None if there is none."""
        local = moment.astimezone(tz)
        if self.is_oneoff:
            candidates: Iterable[date] = [self.on_date] if self.on_date else []
        else:
            first = local.date() - timedelta(days=1)  # a zone offset can move "today" by a day
            if self.date_from is not None and first < self.date_from:
                first = self.date_from
            candidates = (first + timedelta(days=n) for n in range(0, 3700))
        for day in candidates:
            if self.date_until is not None and not self.is_oneoff and day > self.date_until:
                return None
            if not self.runs_on(day):
                continue
            start = self.start_on(day, tz)
            if start > local or (inclusive and start == local):
                return start
        return None

    def occurrences(self, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
        """Every occurrence in the half-open interval (start, end], oldest first."""
        found = []
        at = self.next_after(start, tz)
        while at is not None and at <= end:
            found.append(at)
            at = self.next_after(at, tz)
        return found

    def last_at_or_before(self, moment: datetime, tz: ZoneInfo, *, days: int = 8) -> datetime | None:
        """The latest occurrence at or before `moment`, looking back at most `days` days."""
        found = self.occurrences(moment - timedelta(days=days), moment, tz)
        return found[-1] if found else None


@dataclass(frozen=True)
class Timetable:
    """The station's slots and its time zone."""

    timezone: str
    slots: tuple[Slot, ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def active(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.slots if s.enabled)

    def slot_named(self, name: str) -> Slot | None:
        """The slot with this name (case and accents as typed, surrounding spaces ignored)."""
        wanted = name.strip()
        return next((s for s in self.slots if s.name == wanted), None)

    def next_slot(self, now: datetime, *, include_relay: bool = True) -> tuple[Slot, datetime] | None:
        """The next enabled slot strictly after `now` (aware), with its aware start time.

        Without relays it is the slot where a programme's overflow goes.
        """
        best: tuple[Slot, datetime] | None = None
        for slot in self.active:
            if slot.is_relay and not include_relay:
                continue
            at = slot.next_after(now, self.tz)
            if at is not None and (best is None or at < best[1]):
                best = (slot, at)
        return best

    def occurrences(self, start: datetime, end: datetime) -> list[tuple[Slot, datetime]]:
        """(slot, start time) of every enabled slot in (start, end], in time order."""
        found = [(slot, at) for slot in self.active for at in slot.occurrences(start, end, self.tz)]
        found.sort(key=lambda pair: (pair[1], pair[0].name))
        return found


# ----------------------------------------------------------------------- parsing
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


def parse_days(value: object, where: str = "days") -> frozenset[int] | None:
    """'daily' / '' / None → None (every day); a list or comma-separated names → weekdays."""
    if value in (None, "", "daily", "hằng ngày", "hàng ngày", "*"):
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    days = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(item)
            continue
        key = _fold(str(item))
        if key not in WEEKDAYS:
            raise ScheduleError(f"{where}: ngày '{item}' không hợp lệ (T2…T7, CN)")
        days.add(WEEKDAYS[key])
    if not days:
        raise ScheduleError(f"{where}: danh sách ngày trống")
    return frozenset(days)


def parse_date(value: object, where: str) -> date | None:
    """A TOML date or a 'YYYY-MM-DD' / 'DD/MM/YYYY' string."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return parse_day(str(value), where)
    except InputError as exc:  # a timetable error, as everything else wrong in a timetable
        raise ScheduleError(str(exc)) from None


def _positive_int(value: object, where: str, key: str, *, upper: int = 24 * 60) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ScheduleError(f"{where}: '{key}' phải là số phút nguyên")
    try:
        number = int(value)
    except ValueError as exc:
        raise ScheduleError(f"{where}: '{key}' = '{value}' không phải số") from exc
    if not 1 <= number <= upper:
        raise ScheduleError(f"{where}: '{key}' phải từ 1 đến {upper} phút")
    return number


def check_zone(zone: str, where: str) -> str:
    """The zone name if it exists, else ScheduleError."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"{where}: múi giờ '{zone}' không tồn tại") from exc
    return zone


def validate_slot(slot: Slot, where: str = "Khung giờ") -> Slot:
    """Check the rules that tie fields together; return the slot (normalized) or raise ScheduleError."""
    name = unicodedata.normalize("NFC", (slot.name or "").strip())
    if not name:
        raise ScheduleError(f"{where}: thiếu tên khung giờ")
    if len(name) > 100:
        raise ScheduleError(f"{where}: tên khung giờ dài quá 100 ký tự")
    if slot.kind not in KINDS:
        raise ScheduleError(f"{where}: loại '{slot.kind}' không hợp lệ (recurring, oneoff, relay)")
    if not 1 <= slot.max_minutes <= 24 * 60:
        raise ScheduleError(f"{where}: max_minutes phải từ 1 đến 1440")
    if slot.kind == "oneoff" and slot.on_date is None:
        raise ScheduleError(f"{where}: khung giờ một lần (oneoff) cần 'date'")
    if slot.kind == "recurring" and slot.on_date is not None:
        raise ScheduleError(f"{where}: 'date' chỉ dùng cho khung một lần (kind = \"oneoff\") hoặc tiếp sóng")
    if slot.date_from and slot.date_until and slot.date_until < slot.date_from:
        raise ScheduleError(f"{where}: 'until' ({slot.date_until}) trước 'from' ({slot.date_from})")
    if slot.is_relay:
        if not (slot.source or "").strip():
            raise ScheduleError(f"{where}: khung tiếp sóng cần 'source' (địa chỉ luồng hoặc tệp âm thanh)")
        if not slot.duration_min:
            raise ScheduleError(f"{where}: khung tiếp sóng cần 'duration_min'")
    elif slot.source or slot.duration_min:
        raise ScheduleError(f"{where}: 'source' và 'duration_min' chỉ dùng cho khung tiếp sóng (kind = \"relay\")")
    if slot.weekdays is not None and (not slot.weekdays or not set(slot.weekdays) <= set(range(7))):
        raise ScheduleError(f"{where}: ngày trong tuần không hợp lệ")
    return replace(slot, name=name, source=(slot.source or "").strip() or None)


def slot_from_mapping(raw: Mapping[str, Any], where: str, *, default_name: str | None = None) -> Slot:
    """One [[slot]] table of a timetable file → a validated Slot."""
    if not isinstance(raw, Mapping):
        raise ScheduleError(f"{where}: phải là một bảng [[slot]]")
    unknown = sorted(set(raw) - SLOT_KEYS)
    if unknown:
        raise ScheduleError(f"{where}: khóa không hợp lệ {', '.join(unknown)} (dùng {', '.join(sorted(SLOT_KEYS))})")
    if "time" not in raw:
        raise ScheduleError(f"{where}: thiếu 'time'")
    kind = str(raw.get("kind", "recurring")).strip().lower()
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ScheduleError(f"{where}: 'enabled' phải là true hoặc false")
    slot = Slot(
        name=str(raw.get("name") or default_name or ""),
        at=_parse_time(raw["time"], where),
        weekdays=parse_days(raw.get("days"), where),
        max_minutes=_positive_int(raw.get("max_minutes", 30), where, "max_minutes"),
        kind=kind,
        on_date=parse_date(raw.get("date"), where),
        date_from=parse_date(raw.get("from"), where),
        date_until=parse_date(raw.get("until"), where),
        source=str(raw["source"]) if raw.get("source") is not None else None,
        duration_min=(
            _positive_int(raw["duration_min"], where, "duration_min") if raw.get("duration_min") is not None else None
        ),
        enabled=enabled,
    )
    return validate_slot(slot, where)


def parse_timetable(data: Mapping[str, Any], source: str) -> Timetable:
    """A parsed TOML document → Timetable; ScheduleError naming `source` and the reason."""
    unknown = sorted(set(data) - {"timezone", "slot"})
    if unknown:
        raise ScheduleError(f"{source}: khóa không hợp lệ {', '.join(unknown)} (chỉ có timezone và [[slot]])")
    zone = check_zone(str(data.get("timezone", DEFAULT_TIMEZONE)), str(source))
    raw_slots = data.get("slot", [])
    if not isinstance(raw_slots, list):
        raise ScheduleError(f"{source}: 'slot' phải là các bảng [[slot]]")
    slots: list[Slot] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_slots, start=1):
        where = f"{source} khung giờ {index}"
        slot = slot_from_mapping(raw, where, default_name=f"Khung {index}")
        if slot.name in seen:
            raise ScheduleError(f"{where}: tên '{slot.name}' bị trùng")
        seen.add(slot.name)
        slots.append(slot)
    if not slots:
        raise ScheduleError(f"Tệp lịch phát {source} không có khung giờ nào ([[slot]])")
    return Timetable(timezone=zone, slots=tuple(slots))


def loads_timetable(text: str, source: str = "<lịch phát>") -> Timetable:
    """Parse timetable TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"Tệp lịch phát {source} sai cú pháp: {exc}") from exc
    return parse_timetable(data, source)


def load_timetable(path: Path | str) -> Timetable:
    """Read a timetable TOML file; ScheduleError with the file and the reason when invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScheduleError(f"Không đọc được tệp lịch phát {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ScheduleError(f"Tệp lịch phát {path} không phải văn bản UTF-8") from exc
    return loads_timetable(text, str(path))


# ---------------------------------------------------------------------- writing
def _toml_str(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes
    return json.dumps(unicodedata.normalize("NFC", value), ensure_ascii=False)


def slot_to_toml(slot: Slot) -> str:
    """One [[slot]] table; only the keys that differ from the defaults, so files stay short."""
    lines = ["[[slot]]", f"name = {_toml_str(slot.name)}", f'time = "{slot.at:%H:%M}"']
    if slot.kind != "recurring":
        lines.append(f'kind = "{slot.kind}"')
    if slot.on_date is not None:
        lines.append(f"date = {slot.on_date.isoformat()}")
    if not slot.is_oneoff:
        if slot.weekdays is None:
            lines.append('days = "daily"')
        else:
            lines.append("days = [" + ", ".join(f'"{WEEKDAY_NAMES[d]}"' for d in sorted(slot.weekdays)) + "]")
        if slot.date_from is not None:
            lines.append(f"from = {slot.date_from.isoformat()}")
        if slot.date_until is not None:
            lines.append(f"until = {slot.date_until.isoformat()}")
    if slot.is_relay:
        lines.append(f"source = {_toml_str(slot.source or '')}")
        lines.append(f"duration_min = {slot.duration_min}")
    lines.append(f"max_minutes = {slot.max_minutes}")
    if not slot.enabled:
        lines.append("enabled = false")
    return "\n".join(lines) + "\n"


def dumps_timetable(timetable: Timetable) -> str:
    """The timetable as TOML text that `loads_timetable` reads back to an equal timetable."""
    head = (
        "# Lịch phát của đài truyền thanh xã (timetable), xuất bởi broadcaster.\n"
        "# Giờ theo múi giờ của đài; days: \"daily\" hoặc [\"T2\", …, \"CN\"].\n"
        f"timezone = {_toml_str(timetable.timezone)}\n"
    )
    return head + "".join("\n" + slot_to_toml(slot) for slot in timetable.slots)


def same_slots(a: Timetable, b: Timetable) -> bool:
    """Equal apart from database ids (what a round trip through a file must keep)."""
    strip = lambda t: [replace(s, id=None) for s in t.slots]  # noqa: E731
    return a.timezone == b.timezone and strip(a) == strip(b)
