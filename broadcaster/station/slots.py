"""Airing a slot: its programme in order, a relay, the rest dropped after a stop, the silence fallback.

`SlotAirer` is built with its collaborators passed in: the settings, the database engine, the
clock, the as-run log (every row goes through it), the air gate (shared with the urgent desk)
and the items (`SlotItems`: what it needs to make a bulletin's audio and the filler).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from ..db import as_utc
from ..exceptions import BroadcasterError
from ..models import AsRunPublic, AsRunStatus, BulletinPublic, BulletinStatus
from ..playout.outcome import Outcome
from .asrun import _db_reason
from .bulletin_rows import move_status
from .outcomes import as_run_status, reason_text
from .relay import RelayAirer, is_stream_url

if TYPE_CHECKING:
    from ..config import Settings
    from ..playout.protocol import PlayerProtocol as Player
    from ..scheduling.programme import Programme
    from ..scheduling.timetable import Slot, Timetable
    from .asrun import AsRunLog
    from .gate import AirGate

log = logging.getLogger(__name__)

class SlotItems(Protocol):
    """What airing a slot needs from the items (bulletin audio, the filler)."""

    def get_bulletin(self, bulletin_id: int) -> BulletinPublic:
        """The bulletin as stored (its item file, render error). NotFoundError when there is none."""

    def prepare_bulletin(self, bulletin_id: int) -> BulletinPublic:
        """Render a bulletin's item ahead (any engine); the file or the reason is stored on it."""

    def prepare_bulletin_offline(self, bulletin_id: int) -> BulletinPublic:
        """The last render attempt at air time: offline engines only, never the network."""

    def filler_path(self) -> Path:
        """The station filler as a WAV the player takes. AudioError/NotFoundError say why not."""


class SlotAirer:
    """Airs slot occurrences on a player, every step with its as-run row."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        clock: Callable[[], datetime],
        asrun: AsRunLog,
        gate: AirGate,
        items: SlotItems,
    ) -> None:
        """settings: slot and relay settings (urgent_resume, sample_rate, cache_dir); engine: the
        timetable and bulletins; clock: now, UTC; asrun: writes every row; gate: shared with the
        urgent desk; items: bulletin audio and the filler."""
        self.settings = settings
        self.db = engine
        self.clock = clock
        self.asrun = asrun
        self.gate = gate
        self.items = items
        self.air_lock = threading.Lock()  # one slot on air at a time
        self.relays = RelayAirer(settings=settings, clock=clock, asrun=asrun)

    def over_engine(self, engine: Engine, *, asrun: AsRunLog, items: SlotItems) -> SlotAirer:
        """This airer through another engine (the web console's): same gate and lock."""
        view = copy.copy(self)
        view.db, view.asrun, view.items = engine, asrun, items
        view.relays = RelayAirer(settings=self.settings, clock=self.clock, asrun=asrun)
        return view

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    @clock.setter
    def clock(self, value: Callable[[], datetime]) -> None:
        self._clock = value  # the relay airer reads the same clock
        if "relays" in self.__dict__:
            self.relays.clock = value

    def relay_file(self, slot: Slot) -> Path:
        """The WAV a file relay plays (see RelayAirer.relay_file)."""
        return self.relays.relay_file(slot)

    @property
    def tz(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.timezone)

    def timetable(self) -> Timetable:
        """The timetable the database holds, in the station's zone (disabled slots included)."""
        from ..scheduling import store

        with Session(self.db) as session:
            return store.read_timetable(session=session, timezone_name=self.settings.timezone)


    def _as_slot(self, slot: Slot | str, planned_at: datetime) -> Slot:
        # the original API named the slot: look the name up; an unknown name has no length limit
        from ..scheduling.timetable import Slot

        if isinstance(slot, Slot):
            return slot
        found = self.timetable().slot_named(str(slot))
        if found is not None:
            return found
        local = planned_at.astimezone(self.tz)
        return Slot(name=str(slot), at=local.time().replace(second=0, microsecond=0), max_minutes=24 * 60)


    def programme(self, *, slot: Slot | str, planned_at: datetime) -> Programme:
        """What one slot occurrence airs: items in order, the overflow for the next slot, the total length."""
        from ..scheduling import store
        from ..scheduling.programme import build_programme

        slot = self._as_slot(slot, planned_at)
        with Session(self.db) as session:
            candidates = store.candidates(session=session, slot_name=slot.name, planned_at=planned_at)
            timetable = store.read_timetable(session=session, timezone_name=self.settings.timezone)
        following = timetable.next_slot(planned_at, include_relay=False)
        return build_programme(
            slot=slot,
            day=planned_at.astimezone(self.tz).date(),
            bulletins=candidates,
            next_slot=(following[0].name, following[1]) if following else None,
        )


    def prerender_slot(self, *, slot: Slot | str, planned_at: datetime) -> Programme:
        """Render ahead everything a slot occurrence will air (and its overflow).

        A failure is recorded on the bulletin (render_error), so it shows long before air;
        items ready to air become `scheduled`. A relay's file is converted ahead too.
        """
        slot = self._as_slot(slot, planned_at)
        if slot.is_relay:
            if slot.source and not is_stream_url(slot.source):
                try:
                    self.relay_file(slot)
                except BroadcasterError as exc:
                    log.warning("relay %s cannot be prepared: %s", slot.name, exc)
            return self.programme(slot=slot, planned_at=planned_at)
        programme = self.programme(slot=slot, planned_at=planned_at)
        for bulletin_id in [i.bulletin_id for i in programme.items] + [d.bulletin_id for d in programme.overflow]:
            bulletin = self.items.get_bulletin(bulletin_id)
            if not bulletin.item_path or not Path(bulletin.item_path).is_file():
                self.items.prepare_bulletin(bulletin_id)
        programme = self.programme(slot=slot, planned_at=planned_at)
        self._mark_scheduled({i.bulletin_id for i in programme.items if i.problem is None})
        return programme


    def _mark_scheduled(self, bulletin_ids: set[int]) -> None:
        # approved → scheduled once placed in a slot; then aired/expired where the facts say so
        with Session(self.db) as session:
            move_status(session=session, bulletin_ids=bulletin_ids, was=BulletinStatus.approved,
                        now=BulletinStatus.scheduled)
            session.commit()
        self.refresh_statuses()


    def refresh_statuses(self) -> int:
        """Bring stored statuses in line with the as-run log and the calendar (aired, expired).

        Returns how many changed.
        """
        from ..scheduling import store
        from ..scheduling.programme import derive_status

        today = self.clock().astimezone(self.tz).date()
        changed = 0
        with Session(self.db) as session:
            rows = store.live_or_finished_bulletins(session=session)
            counts = store.airing_counts(session=session, bulletin_ids=[b.id for b in rows])
            for row in rows:
                status = derive_status(
                    status=row.status,
                    frequency=row.frequency,
                    times=row.times,
                    valid_until=row.valid_until,
                    aired_count=counts[row.id],
                    today=today,
                )
                if status != row.status:  # unless an edit committed since (move_status)
                    changed += move_status(session=session, bulletin_ids=[row.id], was=row.status, now=status)
            session.commit()
        return changed


    def slot_handled(self, *, slot: Slot | str, planned_at: datetime) -> bool:
        """Whether a slot occurrence already has as-run rows (of any status): it never airs twice."""
        from ..scheduling import store

        name = getattr(slot, "name", None) or str(slot)
        planned_utc = planned_at.astimezone(timezone.utc)
        if any(r.slot == name and as_utc(r.planned_at) == planned_utc for r in self.asrun.pending_rows):
            return True  # aired while the disk was full: its rows wait to be written
        with Session(self.db) as session:
            return bool(store.occurrence_rows(session=session, slot_name=name, planned_at=planned_at))


    def log_missed(
        self, *, slot: Slot | str, planned_at: datetime, reason: str, status: AsRunStatus = AsRunStatus.missed
    ) -> list[AsRunPublic]:
        """A slot occurrence that did not air: a closed row per item it would have aired (one
        for the slot when it had none), with the reason. `status` failed when it was due but
        could not air (no sound card), missed when the PC was off or busy."""
        slot = self._as_slot(slot, planned_at)
        programme = self.programme(slot=slot, planned_at=planned_at)
        planned_utc = planned_at.astimezone(timezone.utc)
        if programme.relay is not None:
            entries = [(f"Tiếp sóng: {slot.name}", None, programme.relay.source)]
        else:
            entries = [(item.title, item.bulletin_id, item.item_path) for item in programme.items]
        if not entries:
            entries = [(f"Khung giờ {slot.name}", None, None)]
        rows = []
        for title, bulletin_id, path in entries:
            row_id = self.asrun.open_row(title=title, bulletin_id=bulletin_id, path=path, slot=slot.name, planned_at=planned_utc)
            rows.append(self.asrun.close_row(row_id, status=AsRunStatus(status), reason=reason))
        return rows


    def air_slot(self, *, slot: Slot | str, planned_at: datetime, player: Player) -> list[AsRunPublic]:
        """Air one slot occurrence: its programme in order, each item with its as-run row.

        Items without a usable file get a last render attempt (cache or offline engine);
        what does not fit gets a `deferred` row ("chuyển sang khung sau") and airs in the
        next slot; a relay slot plays its source until its set time is over. A slot that
        starts a minute or more late says so in the rows' reason.
        """
        with self.air_lock:
            slot = self._as_slot(slot, planned_at)
            planned_utc = planned_at.astimezone(timezone.utc)
            late_s = (self.clock() - planned_utc).total_seconds()
            note = f"Phát muộn {late_s / 60:.0f} phút so với giờ phát" if late_s >= 60 else None
            if slot.is_relay:
                return self._air_relay_gated(slot=slot, planned_at=planned_utc, player=player, note=note)
            programme = self.programme(slot=slot, planned_at=planned_at)
            if any(item.problem for item in programme.items):
                for item in programme.items:
                    if item.problem:
                        # offline only: air time never waits on the network (a hanging gTTS)
                        try:
                            self.items.prepare_bulletin_offline(item.bulletin_id)
                        except SQLAlchemyError as exc:  # a full disk: the rest of the slot still airs
                            log.error("bulletin %s: render result not stored: %s", item.bulletin_id, _db_reason(exc))
                programme = self.programme(slot=slot, planned_at=planned_at)
            rows: list[AsRunPublic] = []
            # urgent announcements take the player between items (see urgent.AirGate)
            gate = self.gate
            items = list(programme.items)
            gate.begin_slot(slot.name, [i.title for i in items])
            index = 0
            try:
                while index < len(items):
                    item = items[index]
                    gate.upcoming = [i.title for i in items[index + 1 :]]
                    if item.problem:
                        rows.append(
                            self.asrun.log_failure(
                                title=item.title,
                                bulletin_id=item.bulletin_id,
                                slot=slot.name,
                                planned_at=planned_utc,
                                reason=item.problem,
                            )
                        )
                        index += 1
                        continue
                    gate.enter_item()
                    try:
                        row, outcome = self.asrun.play_file_outcome(
                            Path(item.item_path),
                            player=player,
                            title=item.title,
                            bulletin_id=item.bulletin_id,
                            slot=slot.name,
                            engine=item.engine,
                            voice=item.voice,
                            planned_at=planned_utc,
                            bulletin_class=item.bulletin_class,
                        )
                    finally:
                        gate.leave_item()
                    if note and row.status == AsRunStatus.aired and not row.reason:
                        row = self.asrun.close_row(row.id, reason=note)
                    rows.append(row)
                    if outcome is Outcome.SILENCE:  # dead air: alarm, filler, then the next item
                        gate.enter_item()  # an urgent announcement may cut the filler too
                        try:
                            rows += self.silence_fallback(player=player, slot=slot.name, planned_at=planned_utc, reason=row.reason)
                        finally:
                            gate.leave_item()
                    if outcome is Outcome.URGENT_CUT:
                        gate.wait_clear()
                        if self.settings.urgent_resume == "resume" and not gate.take_stop_programme():
                            continue  # the same item again from its start, with a row of its own
                        rows += self._drop_rest(items[index + 1 :], slot=slot.name, planned_at=planned_utc, urgent=True)
                        break
                    if gate.take_stop_programme():
                        rows += self._drop_rest(items[index + 1 :], slot=slot.name, planned_at=planned_utc, urgent=False)
                        break
                    index += 1
            finally:
                gate.end_slot()
            for deferred in programme.overflow:
                log.info("%s: «%s» %s", slot.name, deferred.title, deferred.reason)
                row_id = self.asrun.open_row(
                    title=deferred.title, bulletin_id=deferred.bulletin_id, slot=slot.name, planned_at=planned_utc
                )
                rows.append(self.asrun.close_row(row_id, status=AsRunStatus.deferred, reason=deferred.reason))
            try:
                self._mark_scheduled({r.bulletin_id for r in rows if r.status == AsRunStatus.aired and r.bulletin_id})
            except SQLAlchemyError as exc:  # a full disk: statuses follow the rows once they are written
                log.error("bulletin statuses not updated after %s: %s", slot.name, _db_reason(exc))
            return rows


    def _drop_rest(self, items, *, slot: str, planned_at: datetime, urgent: bool) -> list[AsRunPublic]:
        """Rows (missed, with the reason) for programme items dropped after an urgent cut-in or a stop."""
        from .urgent import DROPPED_REASON, STOP_PROGRAMME_REASON

        reason = DROPPED_REASON if urgent else STOP_PROGRAMME_REASON
        rows = []
        for item in items:
            row_id = self.asrun.open_row(
                title=item.title, bulletin_id=item.bulletin_id, path=item.item_path, slot=slot, planned_at=planned_at
            )
            rows.append(self.asrun.close_row(row_id, status=AsRunStatus.missed, reason=reason))
        return rows


    def _air_relay_gated(self, *, slot: Slot, planned_at: datetime, player: Player, note: str | None) -> list[AsRunPublic]:
        """A relay slot under the urgent gate: cut by an urgent announcement, it goes on for the
        rest of its set time afterwards (or stops, when urgent_resume is drop)."""
        from datetime import timedelta

        gate = self.gate
        gate.begin_slot(slot.name, [])
        rows: list[AsRunPublic] = []
        try:
            while True:
                gate.enter_item()
                try:
                    row, outcome = self.relays.air_relay(slot=slot, planned_at=planned_at, player=player, note=note)
                finally:
                    gate.leave_item()
                rows.append(row)
                if outcome is not Outcome.URGENT_CUT:
                    break
                gate.wait_clear()
                if self.settings.urgent_resume != "resume":
                    break
                if planned_at + timedelta(seconds=slot.length_s) <= self.clock():
                    break  # the urgent announcement outlasted the relay's set time
        finally:
            gate.end_slot()
        return rows


    def silence_fallback(self, *, player: Player, slot: str | None, planned_at: datetime | None,
                         reason: str | None) -> list[AsRunPublic]:
        """After dead air: an alarm row with the reason, then the station filler (its own row,
        kind filler). Returns both rows; the caller goes on with the next item."""
        from ..models import AsRunKind

        fields = {"slot": slot, "planned_at": planned_at}
        alarm = self.asrun.log_alarm(title="Cảnh báo: im lặng trên sóng", reason=reason or "Im lặng trên sóng", **fields)
        log.warning("%s: %s; airing the filler", slot, alarm.reason)
        title = "Nhạc đệm (sau sự cố im lặng)"
        try:
            path = self.items.filler_path()
        except BroadcasterError as exc:
            return [alarm, self.asrun.log_failure(title=title, reason=str(exc), kind=AsRunKind.filler, **fields)]
        row_id = self.asrun.open_row(title=title, path=str(path), kind=AsRunKind.filler, **fields)
        filler, _ = self.asrun.play_with_row(
            row_id, player, lambda: player.play(path), what="the filler", error_prefix="Lỗi phát",
            outcome=lambda result: {"status": as_run_status(result.outcome), "reason": reason_text(result),
                                    "started_at": result.started_at, "ended_at": result.ended_at},
        )
        return [alarm, filler]


__all__ = ["SlotAirer", "SlotItems"]
