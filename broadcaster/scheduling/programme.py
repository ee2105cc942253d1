"""What a slot airs, pure: which bulletins, in which order, and what moves to the next slot.

The rules (Circular 39/2020 classes, the station's practice):

* only approved bulletins inside their validity window (station-local days) air;
* frequency: every slot; N times in all (counted from the as-run log, status aired);
  or only in the slots chosen by name;
* order: khẩn cấp, then ưu tiên, then thông thường; inside a class, what was carried
  over from an earlier slot first, then by approval time;
* the programme fits inside the slot's maximum length: at the first item that does
  not fit, it and everything after it move to the next slot ("chuyển sang khung sau"),
  so order is kept and an ưu tiên item is never pushed out by a shorter thông thường;
* khẩn cấp items always air (never deferred); an item longer than the whole slot can
  never fit, so it is reported and does not block the items behind it;
* a relay slot airs its source only.

Overflow needs no queue: a deferred bulletin has not aired, so the next slot's
programme includes it again, ahead of its class (`carried`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ..localtime import duration_words
from ..models import DEFERRED_LABEL, BulletinClass, BulletinStatus, Frequency
from .timetable import Slot

CLASS_RANK = {BulletinClass.emergency: 0, BulletinClass.priority: 1, BulletinClass.normal: 2}
LIVE_STATUSES = frozenset({BulletinStatus.approved, BulletinStatus.scheduled})
TOO_LONG = "dài hơn thời lượng tối đa của khung giờ"


@dataclass(frozen=True)
class Candidate:
    """What the builder needs to know about one bulletin (built from the database by the caller)."""

    id: int
    title: str
    bulletin_class: BulletinClass = BulletinClass.normal
    status: BulletinStatus = BulletinStatus.approved
    approved_at: datetime | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    frequency: Frequency = Frequency.every_slot
    times: int | None = None
    slot_names: tuple[str, ...] | None = None
    duration_s: float | None = None
    item_path: str | None = None
    item_engine: str | None = None
    item_voice: str | None = None
    render_error: str | None = None
    aired_count: int = 0  # as-run rows with status aired
    aired_here: bool = False  # already aired in this very slot occurrence (a restart must not repeat it)
    carried: bool = False  # deferred or missed last time, not aired since


@dataclass(frozen=True)
class ProgrammeItem:
    """One bulletin in a slot's programme; `offset_s` is where it starts inside the slot."""

    bulletin_id: int
    title: str
    bulletin_class: BulletinClass
    duration_s: float | None
    offset_s: float
    item_path: str | None = None
    render_error: str | None = None
    carried: bool = False
    engine: str | None = None
    voice: str | None = None  # engine:voice that spoke the item

    @property
    def problem(self) -> str | None:
        """Why it may not air as planned (render failed or not rendered yet), else None."""
        if self.item_path and self.duration_s is not None:
            return None  # a usable file: it airs even if a later re-check failed
        return self.render_error or "chưa dựng âm thanh"


@dataclass(frozen=True)
class Deferred:
    """A bulletin that does not fit this slot, and why."""

    bulletin_id: int
    title: str
    bulletin_class: BulletinClass
    duration_s: float | None
    reason: str
    problem: str | None = None  # also not renderable: flagged now, not only when it comes up


@dataclass(frozen=True)
class RelayItem:
    """A relay slot's one item: a stream URL or a file, for a set time."""

    source: str
    duration_s: float


@dataclass(frozen=True)
class Programme:
    """What one slot occurrence airs: `items` in order, `overflow` for the next slot, `total_s`."""

    slot: Slot
    day: date
    items: tuple[ProgrammeItem, ...] = ()
    overflow: tuple[Deferred, ...] = ()
    total_s: float = 0.0
    relay: RelayItem | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def max_s(self) -> float:
        return self.slot.length_s

    @property
    def problems(self) -> list[tuple[ProgrammeItem, str]]:
        """Items that cannot air as planned, with the reason."""
        return [(item, item.problem) for item in self.items if item.problem]

    @property
    def all_problems(self) -> list[tuple[int, str, str]]:
        """(bulletin id, title, reason) of every item or overflow item that has no usable file."""
        found = [(item.bulletin_id, item.title, problem) for item, problem in self.problems]
        found += [(d.bulletin_id, d.title, d.problem) for d in self.overflow if d.problem]
        return found

    @property
    def is_empty(self) -> bool:
        return not self.items and self.relay is None


def _rank(candidate: Candidate) -> tuple:
    approved = candidate.approved_at.timestamp() if candidate.approved_at else float("inf")
    return (CLASS_RANK[candidate.bulletin_class], 0 if candidate.carried else 1, approved, candidate.id)


def exhausted(candidate: Candidate) -> bool:
    """An n_times bulletin that has aired its count."""
    return candidate.frequency == Frequency.n_times and candidate.aired_count >= (candidate.times or 1)


def why_not(candidate: Candidate, *, slot: Slot, day: date) -> str | None:
    """Why this bulletin is not in this slot's programme on `day` (None: it is)."""
    if slot.is_relay:
        return "khung tiếp sóng không phát bản tin"
    if candidate.status not in LIVE_STATUSES:
        return {
            BulletinStatus.draft: "chưa duyệt",
            BulletinStatus.aired: "đã phát xong",
            BulletinStatus.expired: "hết hạn",
        }.get(candidate.status, str(candidate.status))
    if candidate.valid_from is not None and day < candidate.valid_from:
        return f"chỉ phát từ {candidate.valid_from:%d/%m/%Y}"
    if candidate.valid_until is not None and day > candidate.valid_until:
        return "hết hạn"
    if exhausted(candidate):
        return f"đã phát đủ {candidate.times} lần"
    if candidate.frequency == Frequency.chosen_slots and slot.name not in (candidate.slot_names or ()):
        return "không phát ở khung giờ này"
    if candidate.aired_here:
        return "đã phát ở khung giờ này"
    return None


def build_programme(
    *,
    slot: Slot,
    day: date,
    bulletins: Iterable[Candidate],
    next_slot: tuple[str, datetime] | None = None,
) -> Programme:
    """The programme of `slot` on the station-local `day` (see the module docstring for the rules).

    `next_slot` (name, local start) only makes the overflow reason say where the items go.
    """
    if slot.is_relay:
        relay = RelayItem(source=slot.source or "", duration_s=slot.length_s)
        return Programme(slot=slot, day=day, relay=relay, total_s=relay.duration_s)
    chosen = sorted((c for c in bulletins if why_not(c, slot=slot, day=day) is None), key=_rank)
    limit = slot.length_s
    where = DEFERRED_LABEL
    if next_slot is not None:
        where += f" ({next_slot[0]} {next_slot[1]:%H:%M %d/%m})"
    items: list[ProgrammeItem] = []
    overflow: list[Deferred] = []
    total = 0.0
    full = False
    for c in chosen:
        length = c.duration_s or 0.0  # not rendered yet: counted when it is (air time renders first)
        urgent = c.bulletin_class == BulletinClass.emergency
        problem = None if c.item_path and c.duration_s is not None else (c.render_error or "chưa dựng âm thanh")
        if not urgent and length > limit:
            too_long = f"{TOO_LONG} ({limit / 60:g} phút)"
            overflow.append(Deferred(c.id, c.title, c.bulletin_class, c.duration_s, too_long, problem))
            continue
        if not urgent and (full or total + length > limit):
            full = True  # keep the order: nothing after the first misfit jumps ahead of it
            overflow.append(Deferred(c.id, c.title, c.bulletin_class, c.duration_s, where, problem))
            continue
        items.append(
            ProgrammeItem(
                bulletin_id=c.id,
                title=c.title,
                bulletin_class=c.bulletin_class,
                duration_s=c.duration_s,
                offset_s=total,
                item_path=c.item_path,
                render_error=c.render_error,
                carried=c.carried,
                engine=c.item_engine,
                voice=c.item_voice,
            )
        )
        total += length
    notes = ()
    if total > limit:
        notes = (f"tin khẩn cấp làm khung giờ dài hơn {limit / 60:g} phút",)
    return Programme(slot=slot, day=day, items=tuple(items), overflow=tuple(overflow), total_s=total, notes=notes)


def derive_status(
    *,
    status: BulletinStatus,
    frequency: Frequency,
    times: int | None,
    valid_until: date | None,
    aired_count: int,
    today: date,
) -> BulletinStatus:
    """The lifecycle status the facts imply: aired when its airings are done, expired when
    its window closed first; otherwise the stored one (draft, approved or scheduled)."""
    if status == BulletinStatus.draft:
        return status
    if frequency == Frequency.n_times and aired_count >= (times or 1):
        return BulletinStatus.aired
    if valid_until is not None and today > valid_until:
        if frequency != Frequency.n_times and aired_count > 0:
            return BulletinStatus.aired
        return BulletinStatus.expired
    if status in (BulletinStatus.aired, BulletinStatus.expired):
        # the window was extended or the count raised: it is live again
        return BulletinStatus.approved
    return status


def check_frequency(frequency: Frequency, times: int | None, slot_names: Sequence[str] | None) -> str | None:
    """Why a frequency setting is inconsistent (None when it is fine)."""
    if frequency == Frequency.n_times and (times is None or times < 1):
        return "Tần suất 'số lần' cần số lần phát (≥ 1)"
    if frequency == Frequency.chosen_slots and not [n for n in (slot_names or ()) if n.strip()]:
        return "Tần suất 'khung giờ chọn' cần ít nhất một tên khung giờ"
    return None


def format_duration(seconds: float | None) -> str:
    """A length as shown to an officer, "23 phút 48 giây" ('?' when unknown)."""
    return duration_words(seconds)


__all__ = [
    "Candidate",
    "ProgrammeItem",
    "Deferred",
    "RelayItem",
    "Programme",
    "build_programme",
    "derive_status",
    "why_not",
    "exhausted",
    "check_frequency",
    "format_duration",
    "CLASS_RANK",
    "TOO_LONG",
]
