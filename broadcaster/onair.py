"""`broadcaster serve`: the long-running station — scheduler, sound card, recovery.

It never crashes for want of a sound card: it says so, keeps the timetable running,
retries the device every `device_retry_s`, and logs every due item that could not air.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from .exceptions import BroadcasterError, PlayoutError
from .scheduling.timetable import Slot, Timetable
from .service import Station

log = logging.getLogger(__name__)

PRERENDER_EVERY_S = 600.0


class OnAir:
    """Runs one station until `stop` is set."""

    def __init__(
        self,
        station: Station,
        timetable: Timetable,
        *,
        player_factory: Callable[[], object],
        stop: threading.Event | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.station = station
        self.timetable = timetable
        self.player = player_factory()
        self.stop = stop or threading.Event()
        self.say = say
        self._device_lock = threading.Lock()
        self._device_missing_reported = False

    def ensure_device(self) -> bool:
        """Open the sound card if it is closed; report a missing card once until it returns."""
        with self._device_lock:
            if self.player.is_open:
                return True
            try:
                self.player.open()
            except PlayoutError as exc:
                if not self._device_missing_reported:
                    self.say(
                        f"Không mở được thiết bị âm thanh: {exc}. Đài vẫn chạy theo lịch và sẽ thử lại "
                        f"sau mỗi {self.station.settings.device_retry_s:g} giây."
                    )
                    self._device_missing_reported = True
                return False
            if self._device_missing_reported:
                self.say("Đã kết nối lại thiết bị âm thanh.")
            self._device_missing_reported = False
            return True

    def on_slot(self, slot: Slot, planned_at: datetime) -> None:
        """Air one slot: every approved bulletin due that day, each with its as-run row."""
        self.say(f"Đến giờ phát: {slot.name} ({planned_at:%H:%M %d/%m/%Y}).")
        if not self.ensure_device():
            for bulletin in self.station.due_bulletins(planned_at.date()):
                self.station.log_failure(
                    title=bulletin.title,
                    bulletin_id=bulletin.id,
                    slot=slot.name,
                    planned_at=planned_at.astimezone(timezone.utc),
                    reason="Không có thiết bị âm thanh",
                )
            return
        rows = self.station.air_slot(slot=slot.name, planned_at=planned_at, player=self.player)
        if not rows:
            self.say(f"{slot.name}: không có bản tin nào đã duyệt cho hôm nay.")
        for row in rows:
            self.say(f"  {row.title}: {row.status.value}" + (f" ({row.reason})" if row.reason else ""))

    def prerender(self) -> None:
        try:
            for bulletin in self.station.prerender_due(self.station.local_today()):
                if bulletin.render_error:
                    self.say(f"Chưa dựng được bản tin {bulletin.id} «{bulletin.title}»: {bulletin.render_error}")
        except BroadcasterError as exc:
            self.say(f"Lỗi khi dựng trước các bản tin: {exc}")

    def run(self) -> None:
        """Block until `stop` is set; always closes the stream and the scheduler."""
        from .scheduling.scheduler import build_scheduler

        recovered = self.station.recover_interrupted()
        if recovered:
            self.say(f"Đã ghi {recovered} mục đang phát dở (do tắt máy hoặc lỗi) là bị ngắt.")
        self.ensure_device()
        scheduler = build_scheduler(
            self.timetable, self.on_slot, misfire_grace_s=self.station.settings.misfire_grace_s
        )
        scheduler.start()
        try:
            upcoming = self.timetable.next_slot(datetime.now(timezone.utc))
            if upcoming:
                self.say(f"Đài đang chạy. Khung giờ tới: {upcoming[0].name} lúc {upcoming[1]:%H:%M %d/%m/%Y}.")
            self.prerender()
            waited = 0.0
            retry = max(0.5, self.station.settings.device_retry_s)
            while not self.stop.wait(retry):
                self.ensure_device()
                waited += retry
                if waited >= PRERENDER_EVERY_S:
                    waited = 0.0
                    self.prerender()
        finally:
            scheduler.shutdown(wait=False)
            with self._device_lock:
                self.player.close()
