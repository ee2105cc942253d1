"""The timetable in the database: slots, the scheduler's small state, programme inputs.

Data-access functions are keyword-only and take a session (or an engine where they
own the transaction). Every change to the slot table bumps `timetable_version`, which
a running scheduler polls: the CLI writes from another process, so this counter is how
`serve` learns that it must reconcile its jobs.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..db import as_utc, create_schema
from ..exceptions import ScheduleError
from ..models import (
    AsRun,
    AsRunStatus,
    Bulletin,
    BulletinStatus,
    SchedulerState,
    SlotPublic,
    SlotRecord,
    utcnow,
)
from .programme import LIVE_STATUSES, Candidate
from .timetable import Slot, Timetable, builtin_schedule, load_timetable, slot_from_mapping, validate_slot

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

VERSION_KEY = "timetable_version"
LAST_CHECK_KEY = "last_check"
SEEDED_KEY = "timetable_seeded"


# ------------------------------------------------------------------------ schema
def ensure_schema(engine: Engine) -> None:
    """Tables and columns this version needs (idempotent)."""
    create_schema(engine)  # the migrations (db.migrate)


# ------------------------------------------------------------------------- state
def get_state(*, session: Session, key: str) -> str | None:
    """A value of the scheduler_state table."""
    row = session.get(SchedulerState, key)
    return row.value if row else None


def set_state(*, session: Session, key: str, value: str) -> None:
    """Write a value of the scheduler_state table (the caller commits)."""
    # one upsert statement: two writers (the timetable watcher and a poll) never race an INSERT
    from sqlalchemy.dialects.sqlite import insert

    now = utcnow()
    statement = insert(SchedulerState).values(key=key, value=value, updated_at=now)
    session.exec(statement.on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": now}))
    cached = session.identity_map.get(session.identity_key(SchedulerState, key))
    if cached is not None:  # a row loaded before now must not hide the new value
        session.expire(cached)


def timetable_version(*, session: Session) -> int:
    """A counter bumped by every slot change (0 before the first)."""
    return int(get_state(session=session, key=VERSION_KEY) or 0)


def bump_timetable_version(*, session: Session) -> int:
    """Count one more change to the slot table (the caller commits with the change itself)."""
    version = timetable_version(session=session) + 1
    set_state(session=session, key=VERSION_KEY, value=str(version))
    return version


def get_last_check(*, session: Session) -> datetime | None:
    """When a running scheduler last looked at the clock (UTC); None before the first run."""
    value = get_state(session=session, key=LAST_CHECK_KEY)
    return datetime.fromisoformat(value).astimezone(timezone.utc) if value else None


def set_last_check(*, session: Session, at: datetime) -> None:
    """Record that the scheduler was alive at `at` (the caller commits)."""
    set_state(session=session, key=LAST_CHECK_KEY, value=at.astimezone(timezone.utc).isoformat())


# ------------------------------------------------------------------------- slots
def slot_from_record(record: SlotRecord | SlotPublic) -> Slot:
    """The pure Slot of a database row."""
    return Slot(
        id=record.id,
        name=record.name,
        at=record.at,
        weekdays=frozenset(record.weekdays) if record.weekdays is not None else None,
        max_minutes=record.max_minutes,
        kind=str(record.kind.value if hasattr(record.kind, "value") else record.kind),
        on_date=record.on_date,
        date_from=record.date_from,
        date_until=record.date_until,
        source=record.source,
        duration_min=record.duration_min,
        enabled=bool(record.enabled),
    )


def _record_values(slot: Slot) -> dict:
    return {
        "name": slot.name,
        "kind": slot.kind,
        "at": slot.at,
        "weekdays": sorted(slot.weekdays) if slot.weekdays is not None else None,
        "max_minutes": slot.max_minutes,
        "on_date": slot.on_date,
        "date_from": slot.date_from,
        "date_until": slot.date_until,
        "source": slot.source,
        "duration_min": slot.duration_min,
        "enabled": slot.enabled,
    }


def check_source(slot: Slot, *, settings: Settings | None, decode: bool = True) -> Slot:
    """A relay slot's source must be an http(s) stream URL or an audio file in the media folder
    (sources.check_relay_source); every write of a slot passes here. Without the station's
    settings a file cannot be checked, so it is refused. ScheduleError in one line."""
    from ..exceptions import BroadcasterError
    from ..sources import check_relay_source, check_stream_url, looks_like_url

    if not slot.is_relay or not slot.source:
        return slot
    try:
        if looks_like_url(slot.source):
            check_stream_url(slot.source)
        elif settings is None:
            raise ScheduleError("không kiểm tra được tệp tiếp sóng (thiếu cài đặt của đài)")
        else:
            check_relay_source(slot.source, settings, decode=decode)
    except BroadcasterError as exc:
        raise ScheduleError(f"Khung giờ «{slot.name}»: {exc}", name=slot.name) from None
    return slot


def list_slots(*, session: Session) -> list[SlotPublic]:
    """Every slot, by time of day then name."""
    rows = session.exec(select(SlotRecord).order_by(col(SlotRecord.at), col(SlotRecord.name))).all()
    return [SlotPublic.model_validate(r) for r in rows]


def read_timetable(*, session: Session, timezone_name: str) -> Timetable:
    """The timetable the database holds (disabled slots included; `Timetable.active` skips them)."""
    return Timetable(timezone=timezone_name, slots=tuple(slot_from_record(r) for r in list_slots(session=session)))


def _find(session: Session, ref: str | int) -> SlotRecord:
    record = None
    key = str(ref).strip()
    if key.isascii() and key.isdecimal():  # a slot number in plain digits; "²" or "٢" is a name
        record = session.get(SlotRecord, int(key))
    if record is None:
        record = session.exec(select(SlotRecord).where(SlotRecord.name == key)).first()
    if record is None:
        raise ScheduleError(f"Không có khung giờ '{ref}' / no such slot", ref=str(ref))
    return record


def get_slot(*, session: Session, ref: str | int) -> Slot:
    """A slot by id or name; ScheduleError if there is none."""
    return slot_from_record(_find(session, ref))


def add_slot(*, session: Session, slot: Slot, settings: Settings | None = None) -> SlotPublic:
    """Validate and store a new slot; the name must be unique; a relay's source is checked
    (check_source: a file relay needs `settings`). Commits."""
    slot = check_source(validate_slot(slot), settings=settings)
    if session.exec(select(SlotRecord).where(SlotRecord.name == slot.name)).first() is not None:
        raise ScheduleError(f"Đã có khung giờ tên '{slot.name}' / a slot with this name exists", name=slot.name)
    record = SlotRecord(**_record_values(slot))
    session.add(record)
    bump_timetable_version(session=session)
    session.commit()
    session.refresh(record)
    return SlotPublic.model_validate(record)


def remove_slot(*, session: Session, ref: str | int) -> SlotPublic:
    """Delete a slot by id or name. Commits. Its as-run history keeps the name."""
    record = _find(session, ref)
    public = SlotPublic.model_validate(record)
    session.delete(record)
    bump_timetable_version(session=session)
    session.commit()
    return public


def set_slot_enabled(*, session: Session, ref: str | int, enabled: bool) -> SlotPublic:
    """Switch a slot on or off without losing it. Commits."""
    record = _find(session, ref)
    record.enabled = enabled
    session.add(record)
    bump_timetable_version(session=session)
    session.commit()
    session.refresh(record)
    return SlotPublic.model_validate(record)


def replace_slots(*, session: Session, timetable: Timetable, settings: Settings | None = None) -> int:
    """Make the slot table exactly the timetable's slots (an import); every relay source is
    checked first (check_source). Commits; returns the count."""
    slots = [check_source(validate_slot(s), settings=settings) for s in timetable.slots]
    names = [s.name for s in slots]
    if len(set(names)) != len(names):
        raise ScheduleError("Tên khung giờ bị trùng trong lịch phát")
    for record in session.exec(select(SlotRecord)).all():
        session.delete(record)
    session.flush()  # the unique names must be free before the new rows go in
    for slot in slots:
        session.add(SlotRecord(**_record_values(slot)))
    set_state(session=session, key=SEEDED_KEY, value="1")
    bump_timetable_version(session=session)
    session.commit()
    return len(slots)


def import_timetable(
    *, session: Session, path: Path | str, station_timezone: str, settings: Settings | None = None
) -> int:
    """Replace the slots with a TOML file's; its zone must be the station's (times are local)."""
    timetable = load_timetable(path)
    if timetable.timezone != station_timezone:
        raise ScheduleError(
            f"{path}: múi giờ '{timetable.timezone}' khác múi giờ của đài '{station_timezone}'"
            " (sửa timezone trong tệp hoặc trong cài đặt)"
        )
    return replace_slots(session=session, timetable=timetable, settings=settings)


def ensure_timetable(
    *,
    engine: Engine,
    settings: Settings,
    source: Path | str | None = None,
    timetable: Timetable | None = None,
) -> bool:
    """On a station's first start, fill an empty slot table from `timetable`, the file `source`,
    settings.schedule_file or the built-in schedules/default.toml. Later starts leave the table
    alone, even empty: an officer who removed every slot meant it. Returns True when it imported."""
    ensure_schema(engine)
    with Session(engine) as session:
        if get_state(session=session, key=SEEDED_KEY):
            return False
        if session.exec(select(SlotRecord)).first() is not None:
            set_state(session=session, key=SEEDED_KEY, value="1")
            session.commit()
            return False
        if timetable is None:
            timetable = load_timetable(Path(source or settings.schedule_file or builtin_schedule()))
        # the file's clock times are the station's clock times
        timetable = Timetable(timezone=settings.timezone, slots=timetable.slots)
        count = replace_slots(session=session, timetable=timetable, settings=settings)
        log.info("timetable seeded (%d slots)", count)
        return True


# ------------------------------------------------------------------ programme data
def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def occurrence_rows(*, session: Session, slot_name: str, planned_at: datetime) -> list[AsRun]:
    """As-run rows of one slot occurrence (any status)."""
    planned = _utc(planned_at)  # stored as UTC: the same instant in UTC compares equal
    return list(
        session.exec(select(AsRun).where(AsRun.slot == slot_name, AsRun.planned_at == planned)).all()
    )


def _usable(item_path: str | None) -> bool:
    # a cache cleaned by hand leaves a path to nothing: that item must be rendered again
    return bool(item_path) and Path(item_path).is_file()


def candidates(
    *, session: Session, slot_name: str | None = None, planned_at: datetime | None = None,
    bulletin_ids: Iterable[int] | None = None,
) -> list[Candidate]:
    """Programme inputs for every live (approved or scheduled) bulletin, with their airings.

    `aired_here` needs the occurrence (`slot_name`, `planned_at`); `carried` is true when
    the bulletin's latest as-run row is deferred or missed.
    """
    query = select(Bulletin).where(col(Bulletin.status).in_(list(LIVE_STATUSES)))
    if bulletin_ids is not None:
        query = query.where(col(Bulletin.id).in_(list(bulletin_ids)))
    bulletins = session.exec(query).all()
    if not bulletins:
        return []
    ids = [b.id for b in bulletins]
    rows = session.exec(
        select(AsRun.bulletin_id, AsRun.status, AsRun.slot, AsRun.planned_at, AsRun.started_at, AsRun.id)
        .where(col(AsRun.bulletin_id).in_(ids))
        .order_by(col(AsRun.started_at), col(AsRun.id))
    ).all()
    aired: dict[int, int] = defaultdict(int)
    latest: dict[int, str] = {}
    here: set[int] = set()
    planned = _utc(planned_at) if planned_at is not None else None
    for bulletin_id, status, slot, row_planned, _started, _id in rows:
        status = str(status.value if hasattr(status, "value") else status)
        latest[bulletin_id] = status
        if status == AsRunStatus.aired:
            aired[bulletin_id] += 1
            if planned is not None and slot == slot_name and row_planned is not None and as_utc(row_planned) == planned:
                here.add(bulletin_id)
    return [
        Candidate(
            id=b.id,
            title=b.title,
            bulletin_class=b.bulletin_class,
            status=b.status,
            approved_at=as_utc(b.approved_at),
            valid_from=b.valid_from,
            valid_until=b.valid_until,
            frequency=b.frequency,
            times=b.times,
            slot_names=tuple(b.slot_names) if b.slot_names else None,
            duration_s=b.item_duration_s if _usable(b.item_path) else None,
            item_path=b.item_path if _usable(b.item_path) else None,
            item_engine=b.item_engine,
            item_voice=b.item_voice,
            render_error=b.render_error,
            aired_count=aired[b.id],
            aired_here=b.id in here,
            carried=latest.get(b.id) in (AsRunStatus.deferred, AsRunStatus.missed),
        )
        for b in bulletins
    ]


def airing_counts(*, session: Session, bulletin_ids: Iterable[int]) -> dict[int, int]:
    """How many times each bulletin aired (as-run status aired)."""
    ids = list(bulletin_ids)
    counts = {i: 0 for i in ids}
    if not ids:
        return counts
    rows = session.exec(
        select(AsRun.bulletin_id).where(col(AsRun.bulletin_id).in_(ids), AsRun.status == AsRunStatus.aired)
    ).all()
    for bulletin_id in rows:
        counts[bulletin_id] += 1
    return counts


def live_or_finished_bulletins(*, session: Session) -> list[Bulletin]:
    """Bulletins whose derived status may change with time (everything but drafts)."""
    return list(session.exec(select(Bulletin).where(Bulletin.status != BulletinStatus.draft)).all())


# ------------------------------------------------------------------ slot editing
def slot_from_form(form: dict, *, where: str = "Khung giờ") -> Slot:
    """A validated Slot from a web form's fields (name, time, days, max_minutes, kind, date,
    from, until, source, duration_min, enabled); ScheduleError with a Vietnamese reason."""
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
            if not (value.isascii() and value.isdecimal()):  # "²" passes isdigit(), int() refuses it
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
    kind = str(getattr(slot.kind, "value", slot.kind))
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
    "ensure_schema",
    "ensure_timetable",
    "get_state",
    "set_state",
    "timetable_version",
    "bump_timetable_version",
    "get_last_check",
    "set_last_check",
    "slot_from_record",
    "list_slots",
    "read_timetable",
    "get_slot",
    "check_source",
    "add_slot",
    "remove_slot",
    "set_slot_enabled",
    "replace_slots",
    "import_timetable",
    "occurrence_rows",
    "candidates",
    "airing_counts",
    "live_or_finished_bulletins",
    "slot_from_form",
    "update_slot",
    "slot_form_values",
]
