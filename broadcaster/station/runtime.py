"""`broadcaster serve`: the long-running station — scheduler, sound card, recovery.

It never crashes for want of a sound card: it says so, keeps the timetable running,
retries the device every `device_retry_s`, and logs every due item that could not air.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from ..exceptions import BroadcasterError, PlayoutError
from ..faults import report_fault
from ..models import AsRunStatus
from ..scheduling.clock import Clock, RealClock
from ..scheduling.lock import DataDirLock
from ..scheduling.timetable import Slot, Timetable
from ..playout.outcome import Outcome
from .amp import Amplifier
from .outcomes import fault_text
from .urgent_job import _iso_ms

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ..config import Settings
    from ..playout.protocol import PlayerProtocol
    from ..streaming.protocol import Fanout
    from .asrun import AsRunLog
    from .gate import AirGate
    from .items import Items
    from .slots import SlotAirer
    from .urgent import UrgentDesk

log = logging.getLogger(__name__)

PRERENDER_EVERY_S = 600.0
TAP_FAULT_WHAT = "gửi âm thanh sang luồng Icecast cho các cụm loa"  # the tap raised (see _log_tap_fault)


class OnAir:
    """Runs one station until `stop` is set.

    Built from the station's parts (never the facade): `settings`, the database `engine`, the
    as-run log `asrun` (every row, and the station clock: `asrun.clock`, which the facade's clock
    setter keeps current), the slot airer `slots`, the `items` (render-ahead), the air `gate`
    and `urgent_desk(player=, ensure_device=, say=)`, the factory of the urgent desk on our player.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        asrun: AsRunLog,
        slots: SlotAirer,
        items: Items,
        gate: AirGate,
        urgent_desk: Callable[..., UrgentDesk],
        timetable: Timetable | None = None,
        player_factory: Callable[[], PlayerProtocol],
        stop: threading.Event | None = None,
        say: Callable[[str], None] = print,
        clock: Clock | None = None,
        amplifier: Amplifier | None = None,
        lock: DataDirLock | None = None,
        slot_start: Callable[[str, datetime], object] | None = None,
        fanout: Fanout | None = None,
        watch: Callable[[], object] | None = None,
    ) -> None:
        """`timetable` only seeds the database on the station's first start (the database is the
        timetable); `clock` drives the scheduler (tests pass an accelerated one); `lock` is the
        data-directory lock when the caller took it already (serve takes it before writing anything);
        `slot_start(slot_name, planned_utc)` runs as each slot starts (the offline-cluster alarms);
        `fanout`: the Icecast fan-out (None: made from stream_url, if set), which airs urgents for some zones;
        `watch()` runs every device_retry_s (the clusters' links lost and back)."""
        self.settings = settings
        self.db = engine
        self.asrun = asrun
        self.slots = slots
        self.items = items
        self.gate = gate
        self.tz = ZoneInfo(settings.timezone)
        self.lock = lock
        self.slot_start = slot_start
        self.watch = watch
        self.timetable = timetable
        self.clock = clock or RealClock()
        self.amplifier = amplifier or Amplifier.from_settings(settings)
        self.player = player_factory()
        self.stop = stop or threading.Event()
        self.say = say
        self._device_lock = threading.Lock()
        self._device_missing_reported = False
        # a lost sound card: since when and why (None while it works); see ensure_device
        self._device_lost_at: datetime | None = None
        self._device_lost_reason: str | None = None
        # the data directory's disk below min_free_mb: the line said and shown (None while it is fine)
        self.disk_low: str | None = None
        # issue 14: what the card airs also goes to Icecast when stream_url is set (None without it)
        if fanout is None:
            from ..streaming.fanout import fanout_from_settings

            fanout = fanout_from_settings(settings, alarm=self.asrun.log_alarm, say=self.say)
        self.fanout = fanout
        if self.fanout is not None:
            self.player.set_tap(self.fanout.tap)
        # urgent announcements cut in on this player (the fan-out airs those for some zones); the slot
        # loop yields through the air gate
        self.urgent = urgent_desk(player=self.player, ensure_device=self.ensure_device, say=self.say, fanout=fanout)

    def _now(self) -> datetime:
        """The station clock (the as-run log's: tests set station.clock after construction)."""
        return self.asrun.clock()

    def _local_today(self) -> date:
        return self._now().astimezone(self.tz).date()

    def ensure_device(self) -> bool:
        """Open the sound card if it is closed; report a missing card once until it returns.

        When the card was lost (it failed, vanished or could not be opened) and comes back,
        PortAudio is restarted first so it sees a re-plugged card, and an alarm row records
        each gap: from when it was lost to when it came back, in seconds. A card reopened
        by someone else in between (the next item of a slot) has its gap logged here too.
        """
        with self._device_lock:
            _log_tap_fault(self.player, self.asrun, self.say)
            if self.player.is_open:
                self._log_device_gaps()
                return True
            broken = self.player.failed_at is not None
            if (broken or self._device_lost_at is not None) and self.player.uses_portaudio:
                # PortAudio lists devices once, at start: without a restart a card that comes
                # back (USB re-plugged, sound server restarted) stays invisible to us
                self.player.close()
                try:
                    from ..playout.devices import reinitialize_portaudio

                    reinitialize_portaudio()
                except PlayoutError as exc:
                    log.warning("restarting PortAudio failed: %s", exc)
            try:
                self.player.open()
            except PlayoutError as exc:
                if not broken and self._device_lost_at is None:  # missing from the start: the gap starts now
                    self._device_lost_at, self._device_lost_reason = self._now(), str(exc)
                if not self._device_missing_reported:
                    self.say(
                        f"Không mở được thiết bị âm thanh: {exc}. Đài vẫn chạy theo lịch và sẽ thử lại "
                        f"sau mỗi {self.settings.device_retry_s:g} giây."
                    )
                    self._device_missing_reported = True
                return False
            gaps = self._log_device_gaps()
            if self._device_missing_reported:
                total = sum((back - lost).total_seconds() for lost, back, _ in gaps)
                self.say(f"Đã kết nối lại thiết bị âm thanh (gián đoạn {total:.1f} giây).")
            self._device_missing_reported = False
            return True

    def check_disk(self, *, slot: str | None = None, planned_at: datetime | None = None,
                   alarm_always: bool = False) -> str | None:
        """Free space against min_free_mb: when it falls below, say so and log an alarm row (again at
        each slot while it stays low, with `alarm_always`); when it is back, say so. Rows a full disk
        held back are written as soon as the database takes them. Returns the low-space line or None."""
        from ..disk import BACK_TITLE, LOW_TITLE, low_space

        problem = low_space(self.settings)
        was_low, self.disk_low = self.disk_low, problem
        if problem is not None and (was_low is None or alarm_always):
            if was_low is None:
                self.say(f"{LOW_TITLE}: {problem}")
            try:
                self.asrun.log_alarm(title=LOW_TITLE, reason=problem, slot=slot, planned_at=planned_at)
            except Exception:  # the alarm must never keep a slot off air
                log.exception("could not log the disk alarm")
        elif problem is None and was_low is not None:
            self.say(f"{BACK_TITLE}; đài ghi tiếp nhật ký và dựng bản tin bình thường.")
        try:
            self.asrun.flush_pending_rows()
        except Exception:
            log.exception("writing the held-back as-run rows failed")
        return problem

    def _log_device_gaps(self) -> list[tuple[datetime, datetime, str | None]]:
        """An alarm row per sound-card gap that ended since the last call (see ensure_device)."""
        gaps: list[tuple[datetime, datetime, str | None]] = [
            (lost, back, fault_text(fault)) for lost, back, fault in self.player.take_recoveries()
        ]
        if self._device_lost_at is not None:
            gaps.append((self._device_lost_at, self._now(), self._device_lost_reason))
            self._device_lost_at = self._device_lost_reason = None
        for lost, back, reason in gaps:
            gap_s = max(0.0, (back - lost).total_seconds())
            try:
                self.asrun.log_alarm(
                    title="Cảnh báo: mất thiết bị âm thanh",
                    reason=f"Mất thiết bị âm thanh {gap_s:.1f} giây" + (f" ({reason})" if reason else "")
                    + "; đã mở lại",
                    started_at=lost,
                    ended_at=back,
                )
            except Exception:  # the log must not keep the card closed
                log.exception("could not log the sound card gap")
        return gaps

    def on_slot(self, slot: Slot, planned_at: datetime) -> None:
        """Air one slot occurrence: amplifier on, its programme (each item with its as-run row), amplifier off.

        The scheduler calls this `amp_preroll_s` before the slot; the first item waits for
        the planned time (a late start still gives the amplifier its full pre-roll).
        """
        began = self.clock.now()
        planned_utc = planned_at.astimezone(timezone.utc)
        self.say(f"Đến giờ phát: {slot.name} ({planned_at.astimezone(self.tz):%H:%M %d/%m/%Y}).")
        self.check_disk(slot=slot.name, planned_at=planned_utc, alarm_always=True)  # airs what is rendered anyway
        if self.slot_start is not None:  # e.g. an alarm per loudspeaker cluster offline now; never stops the slot
            self._guarded("kiểm tra cụm loa", lambda: self.slot_start(slot.name, planned_utc))
        if not self.ensure_device():
            self.slots.log_missed(
                slot=slot, planned_at=planned_at, reason="Không có thiết bị âm thanh", status=AsRunStatus.failed
            )
            return
        if self._switch_amplifier(slot, planned_utc, on=True):
            start = max(planned_utc, began + timedelta(seconds=self.amplifier.preroll_s))
            self.clock.wait(self.stop, (start - self.clock.now()).total_seconds())
        try:
            rows = self.slots.air_slot(slot=slot, planned_at=planned_at, player=self.player)
        finally:
            self._switch_amplifier(slot, planned_utc, on=False)
        if not rows:
            self.say(f"{slot.name}: không có bản tin nào đã duyệt cho khung giờ này.")
        for row in rows:
            self.say(f"  {row.title}: {row.status.value}" + (f" ({row.reason})" if row.reason else ""))

    def _switch_amplifier(self, slot: Slot, planned_utc: datetime, *, on: bool) -> bool:
        """Run the amplifier command; a failure is logged (with a failed row) and never stops the slot.

        Returns whether a command ran.
        """
        what = "Bật tăng âm" if on else "Tắt tăng âm"
        try:
            outcome = self.amplifier.switch_on() if on else self.amplifier.switch_off()
            if outcome is not None and not outcome.ok:
                self.say(f"{what} không được: {outcome.reason}")
                self.asrun.log_failure(
                    title=what, reason=f"{outcome.reason} ({outcome.command})", slot=slot.name, planned_at=planned_utc
                )
            return outcome is not None
        except Exception:
            log.exception("amplifier command failed")
            return False

    def on_prerender(self, slot: Slot, planned_at: datetime) -> None:
        """Render a slot's programme ahead and say what cannot air or will not fit."""
        try:
            programme = self.slots.prerender_slot(slot=slot, planned_at=planned_at)
        except BroadcasterError as exc:
            self.say(f"Lỗi khi dựng trước khung {slot.name}: {exc}")
            return
        except Exception as exc:  # never the end of the station: an alarm row, and the slot still airs
            report_fault(self.asrun, f"dựng trước khung {slot.name}", exc)
            return
        when = f"{planned_at.astimezone(self.tz):%H:%M %d/%m}"
        for bulletin_id, title, problem in programme.all_problems:
            self.say(f"Chưa dựng được bản tin {bulletin_id} «{title}» cho {slot.name} {when}: {problem}")
        for deferred in programme.overflow:
            self.say(f"{slot.name} {when}: «{deferred.title}» {deferred.reason}")

    def prerender(self) -> None:
        try:
            for bulletin in self.items.prerender_due(self._local_today()):
                if bulletin.render_error:
                    self.say(f"Chưa dựng được bản tin {bulletin.id} «{bulletin.title}»: {bulletin.render_error}")
        except BroadcasterError as exc:
            self.say(f"Lỗi khi dựng trước các bản tin: {exc}")
        except Exception as exc:  # e.g. the database busy: an alarm row, the station goes on
            report_fault(self.asrun, "dựng trước các bản tin", exc)
            self.say("Lỗi khi dựng trước các bản tin; đài vẫn chạy, sẽ thử lại sau.")

    def run(self) -> None:
        """Block until `stop` is set; always closes the stream and the scheduler.

        Raises ScheduleError when another station already runs on this data directory.
        """
        from ..scheduling import store
        from ..scheduling.scheduler import SlotScheduler

        scheduler = SlotScheduler(
            engine=self.db,
            settings=self.settings,
            slots=self.slots,
            alarms=self.asrun,
            on_slot=self.on_slot,
            on_prerender=self.on_prerender,
            clock=self.clock,
            preroll_s=self.amplifier.preroll_s,  # the air job fires this early so the first item is on time
            lock=self.lock,
        )
        owns_lock = not scheduler.lock.held  # serve passes the lock it took before writing anything
        scheduler.lock.acquire()  # before touching the database: a second station must change nothing
        try:
            store.ensure_timetable(engine=self.db, settings=self.settings, timetable=self.timetable)
            try:
                recovered = self.asrun.recover_interrupted()
            except SQLAlchemyError as exc:  # a full disk: the next start recovers them
                log.error("rows left on air not recovered: %s", exc)
                recovered = 0
            self.check_disk()
            if recovered:
                self.say(f"Đã ghi {recovered} mục đang phát dở (do tắt máy hoặc lỗi) là bị ngắt.")
            self._guarded("mở thiết bị âm thanh", self.ensure_device)
            self._guarded("luồng Icecast", self._stream_zones)
            scheduler.start()
        except BaseException:
            if owns_lock:
                scheduler.lock.release()
            raise
        if self.fanout is not None:  # issue 14: stopped in the finally below, after the card
            self._guarded("luồng Icecast", self.fanout.start)
        from ..backup import AutoBackup

        # the daily database backup, in its own thread (settings, clock and alarm rows: the as-run log's)
        backups = AutoBackup(self.asrun, say=self.say)
        try:
            upcoming = scheduler.timetable().next_slot(self.clock.now())
            if upcoming:
                self.say(f"Đài đang chạy. Khung giờ tới: {upcoming[0].name} lúc {upcoming[1]:%H:%M %d/%m/%Y}.")
            self._guarded("dựng trước các bản tin", self.prerender)
            self._guarded("sao lưu cơ sở dữ liệu", backups.tick)
            waited = 0.0
            retry = max(0.5, self.settings.device_retry_s)
            while not self.stop.wait(retry):
                # no exception ends this loop (and with it serve): each becomes an alarm row
                self._guarded("kiểm tra thiết bị âm thanh", self.ensure_device)
                self._guarded("luồng Icecast", self._stream_zones)
                self._guarded("sao lưu cơ sở dữ liệu", backups.tick)
                self._guarded("kiểm tra dung lượng ổ đĩa", self.check_disk)
                if self.watch is not None:
                    self._guarded("theo dõi cụm loa", self.watch)
                waited += retry
                if waited >= PRERENDER_EVERY_S:
                    waited = 0.0
                    self._guarded("dựng trước các bản tin", self.prerender)
        finally:
            scheduler.shutdown()
            self.urgent.shutdown()
            backups.join(timeout=60)  # a backup under way finishes (or leaves only its .part)
            with self._device_lock:
                self.player.close()
            if self.fanout is not None:
                self.fanout.stop()
            if owns_lock:
                scheduler.lock.release()

    def _stream_zones(self) -> None:
        """Feed a mount for every zone the receivers registered with (issue 14; [] before the table exists)."""
        if self.fanout is not None:
            from .urgent_zones import known_zones  # the one lookup of the receivers' zones

            self.fanout.ensure_zones(known_zones(self.db))

    def _guarded(self, what: str, step: Callable[[], object]) -> None:
        try:
            step()
        except Exception as exc:
            report_fault(self.asrun, what, exc)

    # ------------------------------------------------------------------ operator controls
    def status(self, *, asrun: AsRunLog | None = None, slots: SlotAirer | None = None) -> dict:
        """What is on air: the item (title, path, kind, slot, elapsed and length in seconds), what
        comes next in the slot and in the timetable, urgent requests, whether the card is open.

        `asrun`, `slots`: the parts whose connections read the database (the web console passes
        its own view's, so its polling never takes the station's connections)."""
        asrun = asrun or self.asrun
        slots = slots or self.slots
        now = self.clock.now()
        row = asrun.on_air_row()
        playing = None
        if row is not None:
            length = _wav_seconds(row.path)
            elapsed = max(0.0, (now - row.started_at).total_seconds())
            playing = {
                "row_id": row.id,
                "title": row.title,
                "path": row.path,
                "kind": row.kind.value,
                "slot": row.slot,
                "started_at": _iso_ms(row.started_at),
                "elapsed_s": round(elapsed, 1),
                "length_s": round(length, 1) if length is not None else None,
                "progress": round(min(1.0, elapsed / length), 3) if length else None,
            }
        gate = self.gate
        upcoming = None
        try:
            found = slots.timetable().next_slot(now)
        except Exception:  # status must answer even when the timetable cannot be read
            log.exception("reading the timetable for status failed")
            found = None
        if found:
            upcoming = {"slot": found[0].name, "at": found[1].astimezone(timezone.utc).isoformat(timespec="seconds")}
        return {
            "now": _iso_ms(now),
            "device_open": bool(self.player.is_open),
            "playing": playing,
            "slot": gate.slot,
            "next_in_slot": list(gate.upcoming),
            "next_slot": upcoming,
            "urgent": self.urgent.status(),
            "stream": [asdict(state) for state in self.fanout.states()] if self.fanout is not None else None,
        }

    def skip(self) -> bool:
        """Fade out the programme item on air; the slot goes on with the next one.

        Never touches an urgent announcement. Returns whether an item was playing.
        """
        gate = self.gate
        return gate.interrupt_item(lambda: self.player.interrupt(Outcome.SKIPPED))

    def stop_programme(self) -> bool:
        """Fade out the programme item on air and drop the rest of the slot (rows say so).

        Returns whether a slot was airing.
        """
        gate = self.gate
        if not gate.ask_stop_programme():
            return False
        gate.interrupt_item(lambda: self.player.interrupt(Outcome.PROGRAMME_STOPPED))
        return True


def _log_tap_fault(player: PlayerProtocol, asrun: AsRunLog, say: Callable[[str], None]) -> None:
    """One alarm row (and one line) when the fan-out's tap raised in the card's callback: the player
    dropped it and played on; the clusters get no sound until serve restarts (OnAir.ensure_device)."""
    fault = player.take_tap_fault()
    if fault is not None:
        report_fault(asrun, TAP_FAULT_WHAT, fault.error)  # the traceback goes to the journal
        say("Ngừng gửi âm thanh sang luồng Icecast do lỗi phần mềm; loa của đài vẫn phát, các cụm loa "
            "không nhận được âm thanh cho đến khi khởi động lại đài.")


def _wav_seconds(path: str | None) -> float | None:
    """Length of a WAV from its header (cheap), None when it is not a readable WAV."""
    if not path:
        return None
    import wave

    try:
        with wave.open(path, "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (OSError, EOFError, wave.Error):
        return None
