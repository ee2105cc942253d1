"""The station's scheduler: jobs derived from the database timetable.

APScheduler itself is adapted to the injected clock in scheduling/aps.py, the one module that
imports it (ClockScheduler, ClockExecutor, SlotTrigger).

`SlotScheduler` is what the station uses: it holds the data-directory lock, derives
one "air" job (and one render-ahead "prep" job) per enabled slot from the database,
reconciles them at start and whenever the timetable version changes, catches up on
slots that fell due while the PC was off (inside the misfire grace they air late,
beyond it they are logged as missed), and never lets a failing slot kill its thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from . import store
from .aps import EVENT_JOB_MISSED, STATE_STOPPED, ClockExecutor, ClockScheduler, SlotTrigger
from .clock import Clock, RealClock
from .lock import DataDirLock
from .timetable import Slot, Timetable

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ..config import Settings

log = logging.getLogger(__name__)

AIR = "air"
PREP = "prep"


# ------------------------------------------------------------------- the station
@dataclass
class ReconcileReport:
    """What one reconcile changed, by job id."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    version: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


SlotCallback = Callable[[Slot, datetime], None]
MissedCallback = Callable[[Slot, datetime, str], None]


class SlotBook(Protocol):
    """What the scheduler asks of the station's slot airer (station/slots.py: SlotAirer)."""

    def slot_handled(self, *, slot: Slot | str, planned_at: datetime) -> bool: ...

    def log_missed(self, *, slot: Slot | str, planned_at: datetime, reason: str) -> object: ...

    def prerender_slot(self, *, slot: Slot | str, planned_at: datetime) -> object: ...


class AlarmLog(Protocol):
    """Where a failing job's alarm row goes (station/asrun.py: AsRunLog; see faults.report_fault)."""

    def log_alarm(self, *, title: str, reason: str) -> object: ...


class SlotScheduler:
    """The station's scheduler: jobs derived from the database, on an injected clock.

    on_slot(slot, planned_at): air one slot occurrence; its job fires `preroll_s` early so
    the amplifier can warm up and the first item starts on time. on_prerender(slot,
    planned_at): render the slot's programme ahead, `prerender_lead_min` before it.
    on_missed(slot, planned_at, reason): a due occurrence that will not air (default:
    `slots.log_missed`). `planned_at` is always the slot's own start (aware, station zone).

    It is built from the station's parts: the database `engine`, `settings`, the slot airer
    `slots` (whether an occurrence already aired, the default render-ahead and missed log) and the
    as-run log `alarms` (a failing job's alarm row).
    """

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        slots: SlotBook,
        alarms: AlarmLog,
        on_slot: SlotCallback,
        on_prerender: SlotCallback | None = None,
        on_missed: MissedCallback | None = None,
        clock: Clock | None = None,
        preroll_s: float | None = None,
        poll_s: float | None = None,
        lock: DataDirLock | None = None,
    ) -> None:
        self.db = engine
        self.settings = settings
        self.slots = slots
        self.alarms = alarms
        self.clock = clock or RealClock()
        self.on_slot = on_slot
        self.on_prerender = on_prerender or (lambda slot, planned: slots.prerender_slot(slot=slot, planned_at=planned))
        self.on_missed = on_missed or (
            lambda slot, planned, reason: slots.log_missed(slot=slot, planned_at=planned, reason=reason)
        )
        self.grace_s = int(settings.misfire_grace_s)
        self.lead = timedelta(minutes=settings.prerender_lead_min)
        if preroll_s is None:
            preroll_s = settings.amp_preroll_s if (settings.amp_on_command or "").strip() else 0.0
        self.preroll = timedelta(seconds=max(0.0, float(preroll_s)))
        self.lookback = timedelta(days=settings.missed_lookback_days)
        self.poll_s = float(poll_s if poll_s is not None else settings.scheduler_poll_s)
        self.lock = lock or DataDirLock(settings.data_dir)
        self._owns_lock = False  # a lock its caller already held stays held (the caller releases it)
        self.tz = ZoneInfo(settings.timezone)
        self._version: int | None = None
        self._reconciled_at: datetime | None = None  # `now` of the last reconcile
        self._reconcile_lock = threading.RLock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._started = False
        # air run times handed to the executor and not finished: last_check must not pass
        # them, or a crash while one waits would lose it without a "missed" row
        self._in_flight: set[datetime] = set()
        self._in_flight_lock = threading.Lock()
        self._scheduler = ClockScheduler(
            clock=self.clock,
            on_coalesced=self._coalesced,
            on_submit=self._submitted,
            timezone=self.tz,
            executors={AIR: ClockExecutor(self.clock, AIR), PREP: ClockExecutor(self.clock, PREP)},
            job_defaults={"coalesce": True, "misfire_grace_time": self.grace_s, "max_instances": 1},
        )
        self._scheduler.add_listener(self._missed_event, EVENT_JOB_MISSED)

    # ----------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> ReconcileReport:
        """Take the data-directory lock, derive the jobs (catching up since the last run), start.

        Raises ScheduleError ("Đài đang chạy ở thư mục dữ liệu này") when another
        scheduler holds the lock.
        """
        self._owns_lock = not self.lock.held
        self.lock.acquire()
        try:
            store.ensure_timetable(engine=self.db, settings=self.settings)
            with Session(self.db) as session:
                last_check = store.get_last_check(session=session)
            now = self.clock.now()
            since = None
            if last_check is not None and last_check < now:
                since = max(last_check, now - self.lookback)
            elif last_check is None:
                # a new station: nothing to log as missed, but an occurrence that fell due while serve
                # was starting (an officer's one-off a moment ago) still airs late inside the grace
                since = now - timedelta(seconds=self.grace_s)
            self._scheduler.start(paused=True)
            report = self.reconcile(catch_up_since=since)
            # no last-check update here: the catch-up runs are not in flight yet
            self._scheduler.resume()
        except BaseException:
            if self._scheduler.state != STATE_STOPPED:
                self._scheduler.shutdown(wait=False)
            self._release_lock()
            raise
        self._started = True
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="broadcaster-timetable-watch", daemon=True)
        self._watcher.start()
        return report

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop the jobs and release the lock (idempotent). A slot airing now is not waited for
        unless `wait`: closing the player interrupts it and its row says so."""
        if not self._started:
            return
        self._started = False
        self._stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=10)
        try:
            self._scheduler.shutdown(wait=wait)
        finally:
            try:
                self._touch()
            except Exception:  # the database may be gone at exit; the lock must still go
                log.exception("could not record the last check")
            self._release_lock()

    def _release_lock(self) -> None:
        if self._owns_lock:
            self.lock.release()

    def __enter__(self) -> SlotScheduler:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    # --------------------------------------------------------------- reconcile
    def timetable(self) -> Timetable:
        """The timetable the database holds now."""
        with Session(self.db) as session:
            return store.read_timetable(session=session, timezone_name=self.settings.timezone)

    def reconcile(self, *, catch_up_since: datetime | None = None) -> ReconcileReport:
        """Make the jobs match the database: add new slots, drop removed ones, replace changed ones.

        Unchanged slots keep their jobs (and their next run). With `catch_up_since`, air
        jobs start from the first occurrence after that moment, so occurrences missed since
        then fall due at once: APScheduler then airs the latest late (inside the grace) or
        reports it missed, and coalescing folds the older ones (logged as missed).
        """
        with self._reconcile_lock:
            with Session(self.db) as session:
                timetable = store.read_timetable(session=session, timezone_name=self.settings.timezone)
                version = store.timetable_version(session=session)
            now = self.clock.now()
            desired: dict[str, tuple[Slot, str]] = {}
            for slot in timetable.active:
                desired[f"{AIR}:{slot.name}"] = (slot, AIR)
                desired[f"{PREP}:{slot.name}"] = (slot, PREP)
            report = ReconcileReport(version=version)
            existing = {job.id: job for job in self._scheduler.get_jobs()}
            for job_id, job in existing.items():
                if job_id not in desired or job.args[0] != desired[job_id][0]:
                    self._scheduler.remove_job(job_id)
                    report.removed.append(job_id)
                else:
                    report.kept.append(job_id)
            for job_id, (slot, kind) in desired.items():
                if job_id in report.kept:
                    continue
                trigger = SlotTrigger(slot, self.tz, -self.preroll if kind == AIR else -self.lead)
                if kind == AIR and catch_up_since is None and self._reconciled_at is not None:
                    # a slot added or changed since the last check: an occurrence that fell due
                    # between the two checks airs late (inside the grace) instead of vanishing unlogged
                    first = trigger.first_fire(min(self._reconciled_at, now), inclusive=False)
                elif kind == AIR and catch_up_since is not None:
                    first = trigger.first_fire(catch_up_since, inclusive=False)
                elif kind == AIR:
                    first = trigger.first_fire(now, inclusive=True)
                else:
                    # the render-ahead of the next occurrence, at once if its time has passed
                    first = trigger.first_fire(now - self.lead, inclusive=False)
                    if first is not None and first < now:
                        first = now
                if first is None:  # a one-off slot that is over
                    continue
                self._scheduler.add_job(
                    self._fire,
                    trigger,
                    args=[slot, kind],
                    id=job_id,
                    name=f"{kind} {slot.name}",
                    executor=kind,
                    next_run_time=first,
                    # rendering late still helps; airing late only inside the grace
                    misfire_grace_time=self.grace_s if kind == AIR else None,
                    replace_existing=True,
                )
                report.added.append(job_id)
            self._version = version
            self._reconciled_at = now
            if report.changed:
                log.info("timetable reconciled (version %d): +%s -%s", version, report.added, report.removed)
            return report

    def poll(self) -> ReconcileReport | None:
        """Record that the scheduler is alive; reconcile if the timetable changed. Returns the
        report when it reconciled."""
        self._touch()
        with Session(self.db) as session:
            version = store.timetable_version(session=session)
        if version != self._version:
            return self.reconcile()
        return None

    def jobs(self) -> list[tuple[str, str, datetime | None]]:
        """(job id, name, next run in the station's zone) of every job, soonest first."""
        rows = [(j.id, j.name, getattr(j, "next_run_time", None)) for j in self._scheduler.get_jobs()]
        return sorted(rows, key=lambda r: (r[2] is None, r[2] or datetime.max.replace(tzinfo=timezone.utc)))

    # -------------------------------------------------------------------- jobs
    def _planned(self, slot: Slot, kind: str, run_time: datetime) -> datetime:
        shift = self.preroll if kind == AIR else self.lead
        return (run_time + shift).astimezone(self.tz)

    def _handled(self, slot: Slot, planned: datetime) -> bool:
        return self.slots.slot_handled(slot=slot, planned_at=planned)

    def _submitted(self, job, run_times: list[datetime]) -> None:
        if job.args and job.args[1] == AIR:
            with self._in_flight_lock:
                self._in_flight.update(run_times)

    def _done(self, run_time: datetime) -> None:
        with self._in_flight_lock:
            self._in_flight.discard(run_time)

    def _fire(self, slot: Slot, kind: str, scheduled_at: datetime | None = None) -> None:
        # the default only satisfies APScheduler's signature check: ClockExecutor always passes it
        if scheduled_at is None:
            scheduled_at = self.clock.now()
        planned = self._planned(slot, kind, scheduled_at)
        try:
            if kind == PREP:
                self.on_prerender(slot, planned)
                return
            if self._handled(slot, planned):
                log.info("slot %s at %s already has its as-run rows; not aired again", slot.name, planned)
                return
            self.on_slot(slot, planned)
        except Exception as exc:  # one bad slot must never stop the next one: an alarm row says so
            from ..faults import report_fault

            log.exception("%s job of slot %s at %s failed", kind, slot.name, planned)
            doing = "dựng trước" if kind == PREP else "phát"
            report_fault(self.alarms, f"{doing} khung {slot.name} lúc {planned:%H:%M %d/%m/%Y}", exc)
        finally:
            if kind == AIR:
                self._done(scheduled_at)
                self._touch()

    def _report_missed(self, slot: Slot, planned: datetime, reason: str) -> None:
        try:
            if self._handled(slot, planned):
                return
            log.warning("slot %s at %s missed: %s", slot.name, planned, reason)
            self.on_missed(slot, planned, reason)
        except Exception:
            log.exception("could not log the missed slot %s at %s", slot.name, planned)

    def _missed_event(self, event) -> None:
        self._done(event.scheduled_run_time)
        job = self._scheduler.get_job(event.job_id)
        slot, kind = self._job_slot(event.job_id, job)
        if slot is None or kind != AIR:
            return
        planned = self._planned(slot, kind, event.scheduled_run_time)
        late = self.clock.now() - planned
        reason = (
            f"Máy tắt hoặc bận lúc {planned:%H:%M %d/%m/%Y}; trễ {_minutes(late)}, quá "
            f"{_minutes(timedelta(seconds=self.grace_s))} cho phép phát bù (misfire_grace_s)"
        )
        self._report_missed(slot, planned, reason)

    def _coalesced(self, job, dropped: list[datetime]) -> None:
        slot, kind = self._job_slot(job.id, job)
        if slot is None or kind != AIR:
            return
        for run_time in dropped:
            self._done(run_time)
            planned = self._planned(slot, kind, run_time)
            reason = (
                f"Máy tắt hoặc bận lúc {planned:%H:%M %d/%m/%Y}; các lần bị lỡ được gộp lại, "
                "chỉ lần gần nhất được phát bù"
            )
            self._report_missed(slot, planned, reason)

    def _job_slot(self, job_id: str, job) -> tuple[Slot | None, str | None]:
        if job is not None and job.args:
            return job.args[0], job.args[1]
        # a one-off job is gone from the store by the time its event arrives
        kind, _, name = job_id.partition(":")
        slot = self.timetable().slot_named(name)
        return slot, kind

    # ----------------------------------------------------------------- watcher
    def _touch(self) -> None:
        at = self.clock.now()
        with self._in_flight_lock:
            if self._in_flight:
                at = min(at, min(self._in_flight) - timedelta(microseconds=1))
        with Session(self.db) as session:
            previous = store.get_last_check(session=session)
            if previous is None or at > previous:
                store.set_last_check(session=session, at=at)
                session.commit()

    def _watch(self) -> None:
        # wall-clock polling on purpose: it watches another process's writes, not the timetable
        while not self._stop.wait(self.poll_s):
            try:
                self.poll()
            except Exception:
                log.exception("timetable check failed")


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes >= 120:
        return f"{minutes / 60:.0f} giờ"
    return f"{minutes:.0f} phút"


__all__ = ["SlotScheduler", "ReconcileReport", "AIR", "PREP"]
