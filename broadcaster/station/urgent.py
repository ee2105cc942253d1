"""Urgent announcements (khẩn cấp): cut in on whatever plays, attention tone, message, resume.

`UrgentDesk` takes requests (typed text, an officer's recording, the microphone), checks them
before anything is written, and airs each in a thread of its own: the attention tone goes out at
once while the message is being prepared (offline speech engine, loudness normalization) in
another thread, so synthesis overlaps the tone. It shares the one player with the slot loop
through the air gate (station/gate.py): it *seizes* the gate, the programme item on air fades
out, and when it releases the gate the slot loop replays that item or drops the rest of the slot.

Every step has an as-run row of kind "urgent", class khẩn cấp, with the request time and the
time its first sample was handed to the sound card (millisecond precision).

An urgent for some zones only (issue 14) never takes the card: station/urgent_zones.py hands it to
the Icecast fan-out, which airs it on those zones' mounts instead of the programme.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import BroadcasterError, InputError, PlayoutError
from .gate import SEIZE_POLL_S, SEIZE_TIMEOUT_S
from .urgent_audio import prepare_attention_tone, prepare_recording
from .urgent_job import MAX_EVERY_MIN, UrgentJob, _clean_text, check_every_min
from .urgent_mic import air_mic
from .urgent_zones import air_zones, check_zones

from ..models import TONE_TITLE  # as-run title of the attention tone (reports count by it)
from ..playout.outcome import Outcome
from .outcomes import (  # re-exported: the wordings live in station/outcomes.py
    SKIP_REASON,
    STOP_PROGRAMME_REASON,
    URGENT_CUT_REASON,
    URGENT_SHUTDOWN_REASON,
    URGENT_STOP_REASON,
)

if TYPE_CHECKING:
    from ..config import Settings
    from ..models import AsRunPublic
    from ..playout.protocol import PlayerProtocol
    from .asrun import AsRunLog
    from .gate import AirGate

log = logging.getLogger(__name__)

# reasons written into as-run rows (what an officer reads in the log); those of a played
# item are made from its outcome in station/outcomes.py
DROPPED_REASON = "Bỏ phần còn lại của khung giờ sau thông báo khẩn cấp (cài đặt urgent_resume = drop)"

TEXT_TITLE_CHARS = 60
# issue 11 item 9: a request with no sound card is refused at once, never claimed as on air
NO_DEVICE_REASON = "Không có thiết bị âm thanh"
NO_DEVICE_MESSAGE = ("Thông báo khẩn cấp không phát được: không có thiết bị âm thanh (card âm thanh chưa cắm, "
                     "bị rút hoặc hỏng). Đã ghi vào nhật ký; hãy kiểm tra card âm thanh rồi phát lại.")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class UrgentRenderer(Protocol):
    """Makes the audio of a typed urgent message (the items' render_text)."""

    def __call__(self, text: str, *, engine: str | None, jingles: bool, space_check: bool) -> Any:
        """Render `text`; the result's `.path` is the WAV to air. BroadcasterError says why not."""


class UrgentDesk:
    """Takes urgent requests and airs them on a station's player, cutting in on the programme."""

    def __init__(
        self,
        *,
        settings: Settings,
        asrun: AsRunLog,
        render_text: UrgentRenderer,
        player: PlayerProtocol,
        gate: AirGate,
        ensure_device: Callable[[], bool] | None = None,
        say: Callable[[str], None] | None = None,
        mic_factory: Callable[..., Any] | None = None,
        fanout: Any = None,
        known_zones: Callable[[], list[str]] | None = None,
    ) -> None:
        """settings: urgent limits, tone, archive folder; asrun: writes every row; render_text: makes
        a typed message's audio; player: the station's Player; gate: shared with the slot loop;
        ensure_device: opens the card when it is closed (OnAir's); say: progress lines for an
        operator; mic_factory(archive=Path, settings=...) -> a live microphone source (default:
        playout.live.MicSource when present); fanout: the Icecast fan-out (streaming.protocol.Fanout; None
        without stream_url), which airs urgents for some zones; known_zones: the zones receivers registered."""
        self.settings = settings
        self.asrun = asrun
        self._render_text = render_text
        self.player = player
        self.gate = gate
        self._ensure_device = ensure_device
        self.say = say or (lambda message: None)
        self._mic_factory = mic_factory
        self.fanout, self.known_zones = fanout, known_zones or (lambda: [])
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
        zones: list[str] | None = None,
    ) -> UrgentJob:
        """Check a request and start airing it; returns at once with the job.

        Exactly one of text / file / mic. Raises InputError / NotFoundError (nothing is
        written, nothing airs) for bad input. The attention tone starts within a fraction of
        a second; the message follows as soon as it is ready. With defer_start the message
        is prepared at once but airing waits for start(job) (the CLI opens the card first). With
        zones, it airs on those zones' mounts only (station/urgent_zones.py): the card keeps the programme.
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
        limit = self.settings.urgent_max_repeat
        if not 1 <= repeat <= limit:
            raise InputError(f"Số lần phát phải từ 1 đến {limit}")
        every_min = check_every_min(every_min)
        source = chosen[0]
        if source == "text":
            if not text:
                raise InputError("Nội dung thông báo khẩn cấp trống")
            from .bulletins import check_text_length

            check_text_length(text)  # before the tone goes out (issue 9 item 4)
            label = text if len(text) <= TEXT_TITLE_CHARS else text[: TEXT_TITLE_CHARS - 1].rstrip() + "…"
        elif source == "file":
            from ..exceptions import AudioError
            from ..sources import check_audio_file

            path = Path(file).expanduser()
            try:
                # exists, is not one of the station's own files, and decodes (ffmpeg, the first
                # second): a file that is not audio is refused here, before the tone goes out
                file = check_audio_file(path, self.settings)
            except AudioError as exc:
                raise InputError(str(exc)) from None
            label = f"tệp {path.name}"
        else:
            if repeat != 1 or every_min is not None:
                raise InputError("Phát qua micro không lặp lại được (bỏ --repeat/--every)")
            if self._mic_source_class() is None:
                raise InputError("Đài này chưa hỗ trợ phát qua micro (thiếu nguồn micro trong bộ phát)")
            label = "micro"
        zones = check_zones(self, zones, source)  # some zones only: the card is not needed (issue 14)
        if self._closed:
            raise BroadcasterError("Đài đang tắt, không nhận thông báo khẩn cấp")
        if not zones and self._ensure_device is not None and not self.player.is_open and not self._ensure_device():
            # no card: nothing can air; the failed row names the message itself (the log, the reports).
            # An open card costs nothing here (no lock): the tone's 500 ms budget is untouched
            self.asrun.log_failure(title=f"Thông báo khẩn cấp: {label}", reason=NO_DEVICE_REASON,
                                   **self._fields(requested_at, (operator or "").strip() or None))
            raise PlayoutError(NO_DEVICE_MESSAGE)
        job = UrgentJob(
            id=next(self._ids),
            source=source,
            label=label,
            repeat=repeat,
            every_min=every_min if repeat > 1 else None,
            operator=(operator or "").strip() or None,
            requested_at=requested_at,
            zones=zones,
        )
        prepared = job.prepared
        if source != "mic":
            # the message is made while the tone plays: its own thread, started now
            what = text if source == "text" else Path(file)
            threading.Thread(
                target=self._prepare, args=(source, what, prepared, job), name=f"urgent-prepare-{job.id}", daemon=True
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
        self._interrupt_own(Outcome.URGENT_STOPPED)
        return bool(live)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Refuse new requests, stop running ones and wait for them (serve is stopping)."""
        self._closed = True
        with self._jobs_lock:
            live = [job for job in self._jobs if not job.finished]
        for job in live:
            job.stop_event.set()
        self._interrupt_own(Outcome.URGENT_SHUTDOWN)
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
            self._tone = prepare_attention_tone(self.settings)
        return self._tone

    def _prepare(self, source: str, what: Any, out: Future, job: UrgentJob | None = None) -> None:
        try:
            if source == "text":
                # offline engine only: an urgent message never waits on the network
                # an urgent message airs even on a nearly full disk (min_free_mb refuses bulletins only)
                outcome = self._render_text(what, engine="espeak", jingles=False, space_check=False)
                path = outcome.path
                if job is not None:  # the as-run rows say which voice spoke it
                    job.engine, job.voice = getattr(outcome, "engine", None), getattr(outcome, "voice", None)
            else:
                path = prepare_recording(self.settings, Path(what))
            out.set_result(path)
        except BaseException as exc:
            out.set_exception(exc)

    def _mic_source_class(self) -> Any:
        if self._mic_factory is not None:
            return self._mic_factory
        try:
            from ..playout.live import MicSource
        except ImportError:
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
                    if job.zones:
                        air_zones(self, job, group, prepared)
                    else:
                        self._air_group(job, group, prepared)
                if job.state == "failed":
                    break
            if job.state != "failed":
                # the microphone ends when it is stopped: that is its normal end
                stopped = job.stop_event.is_set() and not (job.source == "mic" and job.airings)
                job.state = "stopped" if stopped else "done"
        except Exception as exc:  # a bug must end this request, never the station: an alarm row says so
            from ..faults import report_fault

            job.state, job.error = "failed", job.error or f"Lỗi: {exc}"
            report_fault(self.asrun, f"phát thông báo khẩn cấp số {job.id}", exc)
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
            job.state, job.error = "failed", NO_DEVICE_REASON
            self._log_failed(job, f"Thông báo khẩn cấp: {job.label}", job.error)  # the message, not the tone
            return
        cut = self.gate.seize(lambda: self.player.interrupt(Outcome.URGENT_CUT))
        if self.player.now_playing is not None:
            self.player.interrupt(Outcome.URGENT_CUT)  # something played outside the gate: it gives way too
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
                air_mic(self, job)
                return
            for position, number in enumerate(numbers):
                if position:
                    if job.stop_event.wait(self.settings.urgent_gap_s):
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
        return {**self._fields(job.requested_at, job.operator, engine=job.engine, voice=job.voice),
                **({"zones": list(job.zones)} if job.zones else {})}

    @staticmethod
    def _fields(requested_at: datetime, operator: str | None, *, engine: str | None = None,
                voice: str | None = None) -> dict[str, Any]:
        from ..models import AsRunKind, BulletinClass

        return {
            "kind": AsRunKind.urgent,
            "bulletin_class": BulletinClass.emergency,
            "requested_at": requested_at,
            "operator": operator,
            **({"engine": engine, "voice": voice} if engine else {}),
        }

    def _play(self, job: UrgentJob, path: Path, title: str) -> AsRunPublic | None:
        with self._play_cond:
            if job.stop_event.is_set():  # stopped since the caller looked: nothing more airs
                return None
            self._play_seq += 1
            self._playing = True
        try:
            row = self.asrun.play_file(path, player=self.player, title=title, **self._row_fields(job))
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
        row = self.asrun.log_failure(title=title, reason=reason, **self._row_fields(job))
        job.row_ids.append(row.id)

    def _interrupt_own(self, cause: Outcome) -> None:
        # only the desk's own items are ours to stop: the microphone, or a play_file() of _play()
        live = self._live
        if live is not None:
            # the end of a live announcement is its normal end: stop the input, the item ends "aired"
            try:
                live.stop()
            except Exception:
                log.exception("stopping the microphone failed")
            return
        interrupt = self.player.interrupt
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
                    interrupt(cause)
                    if time.monotonic() > deadline:
                        log.warning("the urgent item did not stop within %.0f s", SEIZE_TIMEOUT_S)
                        return
                    self._play_cond.wait(SEIZE_POLL_S)

        threading.Thread(target=keep_sending, name="urgent-stop", daemon=True).start()



__all__ = [
    "UrgentDesk",
    "UrgentJob",
    "UrgentRenderer",
    "URGENT_CUT_REASON",
    "URGENT_STOP_REASON",
    "URGENT_SHUTDOWN_REASON",
    "SKIP_REASON",
    "STOP_PROGRAMME_REASON",
    "DROPPED_REASON",
    "TONE_TITLE",
    "MAX_EVERY_MIN",
    "check_every_min",
    "prepare_attention_tone",
    "prepare_recording",
]
