"""Urgent announcements (khẩn cấp): cut in on whatever plays, attention tone, message, resume.

Two pieces share the one player:

* `AirGate` sits between the slot loop (`Station.air_slot`) and the urgent desk. The slot
  loop enters the gate around every programme item; the desk *seizes* it, which stops new
  items from starting and fades out the item on air (Player.interrupt) until its play()
  has returned. Only then does the desk play, so the two never race for the player.
  When the desk releases the gate the slot loop replays the interrupted item from its
  start (a new as-run row) or drops the rest of the slot (setting `urgent_resume`).
* `UrgentDesk` takes requests (typed text, an officer's recording, the microphone),
  checks them before anything is written, and airs each in a thread of its own: the
  attention tone goes out at once while the message is being prepared (offline speech
  engine, loudness normalization) in another thread, so synthesis overlaps the tone.

Every step has an as-run row of kind "urgent", class khẩn cấp, with the request time and
the time its first sample was handed to the sound card (millisecond precision).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import BroadcasterError, InputError, NotFoundError

if TYPE_CHECKING:
    from .models import AsRunPublic
    from .service import Station

log = logging.getLogger(__name__)

# reasons written into as-run rows (what an officer reads in the log)
URGENT_CUT_REASON = "Bị ngắt để phát thông báo khẩn cấp"
URGENT_STOP_REASON = "Dừng thông báo khẩn cấp theo lệnh trực đài"
URGENT_SHUTDOWN_REASON = "Dừng thông báo khẩn cấp do tắt đài"
SKIP_REASON = "Bỏ qua theo lệnh trực đài"
STOP_PROGRAMME_REASON = "Dừng chương trình theo lệnh trực đài"
DROPPED_REASON = "Bỏ phần còn lại của khung giờ sau thông báo khẩn cấp (cài đặt urgent_resume = drop)"

from .models import TONE_TITLE  # noqa: E402  (as-run title of the attention tone; reports count by it)
SEIZE_POLL_S = 0.005  # how often the desk re-sends the interrupt while a programme item is still playing
SEIZE_TIMEOUT_S = 10.0
TEXT_TITLE_CHARS = 60
MAX_EVERY_MIN = 24 * 60  # a repeat interval longer than a day is a typing mistake, not a plan


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- the gate
class AirGate:
    """Turn-taking for the player between the slot loop and urgent announcements.

    The slot loop calls `enter_item()` before each programme item (it blocks while an urgent
    announcement holds the gate) and `leave_item()` after it. The desk calls
    `seize(interrupt)` and `release()`. Thread-safe; one per station.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._urgent = 0  # urgent holds in force (nested holds of one desk count)
        self._item_active = False
        self._item_seq = 0  # counts programme items entered: an interrupt re-sent for one never reaches the next
        self._stop_programme = False
        self.slot: str | None = None  # the slot being aired, for status()
        self.upcoming: list[str] = []  # titles still to come in that slot

    # -- the slot loop
    def enter_item(self) -> None:
        """Wait until no urgent announcement holds the gate, then mark a programme item on air."""
        with self._cond:
            while self._urgent:
                self._cond.wait()
            self._item_active = True
            self._item_seq += 1

    def leave_item(self) -> None:
        """The programme item's play() has returned."""
        with self._cond:
            self._item_active = False
            self._cond.notify_all()

    def wait_clear(self) -> None:
        """Block until no urgent announcement holds the gate."""
        with self._cond:
            while self._urgent:
                self._cond.wait()

    def begin_slot(self, name: str, titles: list[str]) -> None:
        """A slot starts airing: forget an old stop request, remember what is coming (status)."""
        with self._cond:
            self._stop_programme = False
            self.slot, self.upcoming = name, list(titles)

    def end_slot(self) -> None:
        with self._cond:
            self.slot, self.upcoming, self._stop_programme = None, [], False

    def take_stop_programme(self) -> bool:
        """True once after stop_programme() was asked for during this slot."""
        with self._cond:
            asked, self._stop_programme = self._stop_programme, False
            return asked

    # -- operators and the desk
    @property
    def urgent_active(self) -> bool:
        return self._urgent > 0

    @property
    def item_active(self) -> bool:
        return self._item_active

    def ask_stop_programme(self) -> bool:
        """Ask the slot loop to drop the rest of its slot; False when no slot airs."""
        with self._cond:
            if self.slot is None:
                return False
            self._stop_programme = True
            return True

    def interrupt_item(self, interrupt: Callable[[], None], *, timeout: float = SEIZE_TIMEOUT_S) -> bool:
        """Fade out the programme item on air (an operator's skip or stop); False when none is.

        Returns at once. Like seize(), a thread keeps sending the interrupt until that item's
        play() has returned: an item between its turn and its first sample (row committed,
        feed not yet with the callback) ignores an interrupt, and one sent once would be lost.
        """
        with self._cond:
            if not self._item_active or self._urgent:
                return False
            seq = self._item_seq

        def keep_sending() -> None:
            deadline = time.monotonic() + timeout
            with self._cond:
                # checked and sent under the lock: the next item cannot enter in between
                while self._item_active and self._item_seq == seq and not self._urgent:
                    interrupt()
                    if time.monotonic() > deadline:
                        log.warning("the programme item did not stop within %.0f s", timeout)
                        return
                    self._cond.wait(SEIZE_POLL_S)

        threading.Thread(target=keep_sending, name="interrupt-item", daemon=True).start()
        return True

    def seize(self, interrupt: Callable[[], None] | None, *, timeout: float = SEIZE_TIMEOUT_S) -> bool:
        """Hold the gate for an urgent announcement; returns whether a programme item was cut.

        No new programme item starts from now on; the one on air is faded out. The call
        keeps sending the interrupt until that item's play() has returned: an item that was
        just starting (its feed not yet handed to the callback) ignores the first one.
        """
        cut = False
        deadline = time.monotonic() + timeout
        with self._cond:
            self._urgent += 1
            while self._item_active:
                cut = True
                if interrupt is not None:
                    interrupt()
                if time.monotonic() > deadline:
                    log.warning("the programme item did not stop within %.0f s; airing the urgent item anyway", timeout)
                    break
                self._cond.wait(SEIZE_POLL_S)
        return cut

    def release(self) -> None:
        """Give the player back to the slot loop."""
        with self._cond:
            self._urgent = max(0, self._urgent - 1)
            self._cond.notify_all()


# --------------------------------------------------------------------------- requests
@dataclass
class UrgentJob:
    """One urgent request and how far it got. `public()` is what the API and CLI show."""

    id: int
    source: str  # "text" | "file" | "mic"
    label: str
    repeat: int
    every_min: float | None
    operator: str | None
    requested_at: datetime
    state: str = "pending"  # pending → on_air → waiting → done | failed | stopped
    airings: int = 0
    row_ids: list[int] = field(default_factory=list)
    error: str | None = None
    archive_path: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    stop_event: threading.Event = field(default_factory=threading.Event, repr=False)
    prepared: Future = field(default_factory=Future, repr=False)  # the message file, made in its own thread

    @property
    def finished(self) -> bool:
        return self.done.is_set()

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "label": self.label,
            "repeat": self.repeat,
            "every_min": self.every_min,
            "operator": self.operator,
            "requested_at": _iso_ms(self.requested_at),
            "state": self.state,
            "airings": self.airings,
            "rows": list(self.row_ids),
            "error": self.error,
            "archive": self.archive_path,
        }


def _iso_ms(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds") if value else None


def check_every_min(value: Any) -> float | None:
    """The minutes between airings of a repeated urgent message: a finite number above 0 and at
    most MAX_EVERY_MIN (None when not given; "" from a form counts as not given). InputError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InputError(f"Khoảng cách giữa các lần phát '{value}' không hợp lệ")
    try:
        minutes = float(value.replace(",", ".").strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"Khoảng cách giữa các lần phát '{value}' không hợp lệ") from None
    if not (math.isfinite(minutes) and 0 < minutes <= MAX_EVERY_MIN):
        raise InputError(
            f"Khoảng cách giữa các lần phát (phút) phải lớn hơn 0 và không quá {MAX_EVERY_MIN} phút (24 giờ)"
        )
    return minutes


def _clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    import unicodedata

    return unicodedata.normalize("NFC", text).strip()


class UrgentDesk:
    """Takes urgent requests and airs them on a station's player, cutting in on the programme."""

    def __init__(
        self,
        station: Station,
        player: Any,
        *,
        gate: AirGate | None = None,
        ensure_device: Callable[[], bool] | None = None,
        say: Callable[[str], None] | None = None,
        mic_factory: Callable[..., Any] | None = None,
    ) -> None:
        """station: writes the as-run rows and prepares audio; player: the station's Player;
        gate: shared with the slot loop (default: the station's); ensure_device: opens the
        card when it is closed (OnAir's); say: progress lines for an operator;
        mic_factory(archive=Path, settings=...) -> a live microphone source (default: U2's
        playout.live.MicSource when present)."""
        self.station = station
        self.player = player
        self.gate = gate if gate is not None else station.air_gate
        self._ensure_device = ensure_device
        self.say = say or (lambda message: None)
        self._mic_factory = mic_factory
        self._ids = itertools.count(1)
        self._jobs: list[UrgentJob] = []
        self._jobs_lock = threading.Lock()
        self._air_lock = threading.Lock()  # one urgent airing at a time; later requests queue
        self._holding: UrgentJob | None = None  # the job that holds the gate now
        # the desk's own play_file() in progress (counted), so a stop re-sends its interrupt to it alone
        self._play_cond = threading.Condition()
        self._play_seq = 0
        self._playing = False
        self._live: Any = None  # the microphone source on air, to stop it
        self._tone: Path | None = None
        self._closed = False
        # a station's own tone (MP3…) is converted once, now, not in the first request's 500 ms
        threading.Thread(target=self._warm_tone, name="urgent-tone", daemon=True).start()

    def _warm_tone(self) -> None:
        try:
            self.attention_tone()
        except Exception as exc:  # said again, with a failed row, when a request needs it
            log.warning("the attention tone is not usable: %s", exc)

    # ------------------------------------------------------------------ requests
    def request(
        self,
        *,
        text: str | None = None,
        file: str | Path | None = None,
        mic: bool = False,
        repeat: int = 1,
        every_min: float | None = None,
        operator: str | None = None,
        requested_at: datetime | None = None,
        defer_start: bool = False,
    ) -> UrgentJob:
        """Check a request and start airing it; returns at once with the job.

        Exactly one of text / file / mic. Raises InputError / NotFoundError (nothing is
        written, nothing airs) for bad input. The attention tone starts within a fraction of
        a second; the message follows as soon as it is ready. With defer_start the message
        is prepared at once but airing waits for start(job) (the CLI opens the card first).
        """
        requested_at = requested_at or _utc_now()
        text = _clean_text(text)
        chosen = [name for name, given in (("text", text is not None), ("file", file is not None), ("mic", mic)) if given]
        if len(chosen) != 1:
            raise InputError("Cần đúng một trong ba: văn bản (--text), tệp ghi âm (--file) hoặc micro (--mic)")
        try:
            repeat = int(repeat)
        except (TypeError, ValueError):
            raise InputError(f"Số lần phát '{repeat}' không hợp lệ") from None
        limit = self.station.settings.urgent_max_repeat
        if not 1 <= repeat <= limit:
            raise InputError(f"Số lần phát phải từ 1 đến {limit}")
        every_min = check_every_min(every_min)
        source = chosen[0]
        if source == "text":
            if not text:
                raise InputError("Nội dung thông báo khẩn cấp trống")
            from .editorial import check_text_length

            check_text_length(text)  # before the tone goes out (issue 9 item 4)
            label = text if len(text) <= TEXT_TITLE_CHARS else text[: TEXT_TITLE_CHARS - 1].rstrip() + "…"
        elif source == "file":
            from .exceptions import AudioError
            from .sources import check_audio_file

            path = Path(file).expanduser()
            try:
                # exists, is not one of the station's own files, and decodes (ffmpeg, the first
                # second): a file that is not audio is refused here, before the tone goes out
                file = check_audio_file(path, self.station.settings)
            except AudioError as exc:
                raise InputError(str(exc)) from None
            label = f"tệp {path.name}"
        else:
            if repeat != 1 or every_min is not None:
                raise InputError("Phát qua micro không lặp lại được (bỏ --repeat/--every)")
            if self._mic_source_class() is None:
                raise InputError("Đài này chưa hỗ trợ phát qua micro (thiếu nguồn micro trong bộ phát)")
            label = "micro"
        if self._closed:
            raise BroadcasterError("Đài đang tắt, không nhận thông báo khẩn cấp")
        job = UrgentJob(
            id=next(self._ids),
            source=source,
            label=label,
            repeat=repeat,
            every_min=every_min if repeat > 1 else None,
            operator=(operator or "").strip() or None,
            requested_at=requested_at,
        )
        prepared = job.prepared
        if source != "mic":
            # the message is made while the tone plays: its own thread, started now
            what = text if source == "text" else Path(file)
            threading.Thread(
                target=self._prepare, args=(source, what, prepared), name=f"urgent-prepare-{job.id}", daemon=True
            ).start()
        with self._jobs_lock:
            self._jobs.append(job)
            del self._jobs[:-20]  # keep a short history for status()
        if not defer_start:
            self.start(job)
        return job

    def start(self, job: UrgentJob) -> None:
        """Start airing a job made with request(..., defer_start=True)."""
        threading.Thread(target=self._run, args=(job, job.prepared), name=f"urgent-{job.id}", daemon=True).start()

    def stop(self) -> bool:
        """Stop every urgent request: fade out what airs, cancel repeats, end the microphone.

        Returns whether anything was running.
        """
        with self._jobs_lock:
            live = [job for job in self._jobs if not job.finished]
        for job in live:
            job.stop_event.set()
        self._interrupt_own(URGENT_STOP_REASON)
        return bool(live)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Refuse new requests, stop running ones and wait for them (serve is stopping)."""
        self._closed = True
        with self._jobs_lock:
            live = [job for job in self._jobs if not job.finished]
        for job in live:
            job.stop_event.set()
        self._interrupt_own(URGENT_SHUTDOWN_REASON)
        deadline = time.monotonic() + timeout
        for job in live:
            job.done.wait(max(0.0, deadline - time.monotonic()))

    def jobs(self) -> list[UrgentJob]:
        with self._jobs_lock:
            return list(self._jobs)

    def get(self, job_id: int) -> UrgentJob | None:
        with self._jobs_lock:
            return next((job for job in self._jobs if job.id == job_id), None)

    def status(self) -> dict[str, Any]:
        """The running requests and the last few finished ones."""
        jobs = self.jobs()
        return {
            "active": [job.public() for job in jobs if not job.finished],
            "recent": [job.public() for job in jobs if job.finished][-5:],
            "holding": self.gate.urgent_active,
        }

    # ------------------------------------------------------------------ audio
    def attention_tone(self) -> Path:
        """The attention tone as a WAV the player takes (the station's own, converted once, or built-in)."""
        if self._tone is None:
            self._tone = prepare_attention_tone(self.station.settings)
        return self._tone

    def _prepare(self, source: str, what: Any, out: Future) -> None:
        try:
            if source == "text":
                # offline engine only: an urgent message never waits on the network
                # an urgent message airs even on a nearly full disk (min_free_mb refuses bulletins only)
                path = self.station.render_text(what, engine="espeak", jingles=False, space_check=False).path
            else:
                path = prepare_recording(self.station.settings, Path(what))
            out.set_result(path)
        except BaseException as exc:
            out.set_exception(exc)

    def _mic_source_class(self) -> Any:
        if self._mic_factory is not None:
            return self._mic_factory
        try:
            from .playout.live import MicSource
        except ImportError:
            return None
        if not hasattr(self.player, "play_source"):
            return None
        return MicSource

    # ------------------------------------------------------------------ airing
    def _run(self, job: UrgentJob, prepared: Future) -> None:
        try:
            if job.source == "mic":
                groups = [[1]]
            elif job.every_min:
                groups = [[n] for n in range(1, job.repeat + 1)]  # each airing cuts in afresh
            else:
                groups = [list(range(1, job.repeat + 1))]  # back to back under one cut-in
            for index, group in enumerate(groups):
                if index and job.every_min:
                    job.state = "waiting"
                    self.say(f"Chờ {job.every_min:g} phút đến lần phát thứ {group[0]}/{job.repeat}.")
                    if job.stop_event.wait(job.every_min * 60):
                        break
                with self._air_lock:
                    if job.stop_event.is_set():
                        break
                    self._air_group(job, group, prepared)
                if job.state == "failed":
                    break
            if job.state != "failed":
                # the microphone ends when it is stopped: that is its normal end
                stopped = job.stop_event.is_set() and not (job.source == "mic" and job.airings)
                job.state = "stopped" if stopped else "done"
        except Exception as exc:  # a bug must end this request, never the station: an alarm row says so
            from .faults import report_fault

            job.state, job.error = "failed", job.error or f"Lỗi: {exc}"
            report_fault(self.station, f"phát thông báo khẩn cấp số {job.id}", exc)
        finally:
            if job.state == "done":
                self.say(f"Đã phát xong thông báo khẩn cấp ({job.airings} lần).")
            elif job.state == "stopped":
                self.say("Đã dừng thông báo khẩn cấp.")
            else:
                self.say(f"Thông báo khẩn cấp không phát được: {job.error}")
            job.done.set()

    def _air_group(self, job: UrgentJob, numbers: list[int], prepared: Future) -> None:
        """Cut in, play the tone, then the message for each airing number; give the player back."""
        if self._ensure_device is not None and not self._ensure_device():
            job.state, job.error = "failed", "Không có thiết bị âm thanh"
            self._log_failed(job, TONE_TITLE, job.error)
            return
        interrupt = getattr(self.player, "interrupt", None)
        cut = self.gate.seize((lambda: interrupt(URGENT_CUT_REASON)) if interrupt else None)
        if interrupt is not None and getattr(self.player, "now_playing", None) is not None:
            interrupt(URGENT_CUT_REASON)  # something played outside the gate: it gives way too
            cut = True
        self._holding = job
        try:
            job.state = "on_air"
            if cut:
                self.say("Đã ngắt chương trình đang phát để phát thông báo khẩn cấp.")
            try:
                tone = self.attention_tone()
            except BroadcasterError as exc:
                # a broken station tone must not hold back the warning itself: log it, go on
                self._log_failed(job, TONE_TITLE, f"Không dùng được tín hiệu chú ý: {exc}")
            else:
                self.say("Đang phát tín hiệu chú ý…")
                row = self._play(job, tone, TONE_TITLE)
                if row is None or job.stop_event.is_set():
                    return
            if job.source == "mic":
                self._air_mic(job)
                return
            for position, number in enumerate(numbers):
                if position:
                    if job.stop_event.wait(self.station.settings.urgent_gap_s):
                        return
                path = self._wait_prepared(job, prepared)
                if path is None:
                    return
                title = f"Thông báo khẩn cấp: {job.label}"
                if job.repeat > 1:
                    title += f" (lần {number}/{job.repeat})"
                self.say(f"Đang phát thông báo khẩn cấp (lần {number}/{job.repeat})…")
                row = self._play(job, path, title)
                if row is None:
                    return
                if row.status.value == "aired":
                    job.airings += 1
                if job.stop_event.is_set():
                    return
        finally:
            self._holding = None
            self.gate.release()

    def _wait_prepared(self, job: UrgentJob, prepared: Future) -> Path | None:
        while True:
            if job.stop_event.is_set():
                return None
            try:
                return prepared.result(timeout=0.05)
            except TimeoutError:
                continue
            except BroadcasterError as exc:
                reason = f"Không chuẩn bị được thông báo: {exc}"
            except Exception as exc:
                log.exception("urgent message %s could not be prepared", job.id)
                reason = f"Không chuẩn bị được thông báo: {type(exc).__name__}: {exc}"
            job.state, job.error = "failed", reason
            self._log_failed(job, f"Thông báo khẩn cấp: {job.label}", reason)
            return None

    def _row_fields(self, job: UrgentJob) -> dict[str, Any]:
        from .models import AsRunKind, BulletinClass

        return {
            "kind": AsRunKind.urgent,
            "bulletin_class": BulletinClass.emergency,
            "requested_at": job.requested_at,
            "operator": job.operator,
        }

    def _play(self, job: UrgentJob, path: Path, title: str) -> AsRunPublic | None:
        with self._play_cond:
            if job.stop_event.is_set():  # stopped since the caller looked: nothing more airs
                return None
            self._play_seq += 1
            self._playing = True
        try:
            row = self.station.play_file(path, player=self.player, title=title, **self._row_fields(job))
        finally:
            with self._play_cond:
                self._playing = False
                self._play_cond.notify_all()
        job.row_ids.append(row.id)
        if row.status.value == "failed":
            job.state, job.error = "failed", row.reason
            return None
        return row

    def _log_failed(self, job: UrgentJob, title: str, reason: str) -> None:
        row = self.station.log_failure(title=title, reason=reason, **self._row_fields(job))
        job.row_ids.append(row.id)

    def _air_mic(self, job: UrgentJob) -> None:
        """The microphone to the output until stop(); the recording is archived as a WAV."""
        factory = self._mic_source_class()
        archive_dir = self.station.settings.data_dir / "archive" / "urgent"
        archive_dir.mkdir(parents=True, exist_ok=True)
        archive = archive_dir / f"{job.requested_at.astimezone(timezone.utc):%Y%m%dT%H%M%S}-{job.id}.wav"
        title = "Thông báo khẩn cấp: micro"
        fields = self._row_fields(job)
        try:
            source = factory(archive=archive, settings=self.station.settings)
        except Exception as exc:
            job.state, job.error = "failed", f"Không mở được micro: {exc}"
            self._log_failed(job, title, job.error)
            return
        self._live = source
        if job.stop_event.is_set():  # a stop that came before the microphone was ours to stop
            _quiet_stop(source)
        self.say("Đang phát trực tiếp qua micro. Dừng bằng lệnh dừng (Ctrl+C).")
        try:
            row = self.station.play_source(source, player=self.player, title=title, path=str(archive), **fields)
        finally:
            self._live = None
        job.row_ids.append(row.id)
        job.archive_path = str(archive) if archive.is_file() else None
        if row.status.value == "failed":
            job.state, job.error = "failed", row.reason
        else:
            job.airings += 1

    def _interrupt_own(self, reason: str) -> None:
        # only the desk's own items are ours to stop: the microphone, or a play_file() of _play()
        live = self._live
        if live is not None:
            # the end of a live announcement is its normal end: stop the input, the item ends "aired"
            try:
                live.stop()
            except Exception:
                log.exception("stopping the microphone failed")
            return
        interrupt = getattr(self.player, "interrupt", None)
        if interrupt is None:
            return
        with self._play_cond:
            if not self._playing:
                return  # between items: the job sees its stop_event before it plays again
            seq = self._play_seq

        def keep_sending() -> None:
            # an item that is just starting (row committed, feed not yet with the callback)
            # ignores an interrupt: re-send until that play_file() has returned
            deadline = time.monotonic() + SEIZE_TIMEOUT_S
            with self._play_cond:
                while self._playing and self._play_seq == seq:
                    interrupt(reason)
                    if time.monotonic() > deadline:
                        log.warning("the urgent item did not stop within %.0f s", SEIZE_TIMEOUT_S)
                        return
                    self._play_cond.wait(SEIZE_POLL_S)

        threading.Thread(target=keep_sending, name="urgent-stop", daemon=True).start()


def _quiet_stop(source: Any) -> None:
    try:
        source.stop()
    except Exception:
        log.exception("stopping the microphone failed")


# --------------------------------------------------------------------------- audio preparation
def prepare_attention_tone(settings) -> Path:
    """The attention tone as a 16-bit WAV at the output rate: the file itself when it already
    is one, else a loudness-normalized copy made once in the cache. AudioError says why not."""
    from .audio import builtin_asset
    from .audio.files import _is_plain_wav

    source = Path(settings.attention_tone) if settings.attention_tone else builtin_asset("attention")
    if _is_plain_wav(source, settings.sample_rate):
        return source
    return _normalized_copy(settings, source, "tone")


def prepare_recording(settings, source: Path) -> Path:
    """An officer's recording (MP3/WAV/M4A…) decoded and loudness-normalized to the station
    target, cached by content. AudioError when it is not audio."""
    return _normalized_copy(settings, Path(source), "recording")


def _normalized_copy(settings, source: Path, what: str) -> Path:
    from .audio.render import render_item
    from .exceptions import AudioError

    if not source.is_file():
        raise AudioError(f"Không tìm thấy tệp âm thanh: {source}", path=str(source))
    digest = hashlib.sha256()
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"|{settings.sample_rate}|{settings.target_lufs}|{settings.true_peak_dbtp}|{settings.fade_ms}".encode())
    out = Path(settings.cache_dir) / "urgent" / f"{what}-{digest.hexdigest()[:32]}.wav"
    if not out.is_file():
        render_item(source, out, settings=settings, jingles=False)
    return out


__all__ = [
    "AirGate",
    "UrgentDesk",
    "UrgentJob",
    "URGENT_CUT_REASON",
    "URGENT_STOP_REASON",
    "SKIP_REASON",
    "STOP_PROGRAMME_REASON",
    "DROPPED_REASON",
    "TONE_TITLE",
    "MAX_EVERY_MIN",
    "check_every_min",
    "prepare_attention_tone",
    "prepare_recording",
]
