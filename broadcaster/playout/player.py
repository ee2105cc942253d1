"""The player: one long-lived output stream, one owner thread, one item at a time.

How the pieces share work, and why:

* The owner thread makes every PortAudio call (open, start, stop, close). PortAudio is
  not thread-safe, and the service calls the player from the scheduler, the CLI and the
  device-retry loop; funnelling the calls through one thread keeps them apart, and lets
  a caller give up on a call that hangs on a dying device.
* The stream's callback runs all the time. With nothing to play it writes silence, so
  the card, the amplifier and the line stay in one steady state between items.
* `play()` runs in the caller's thread: it reads the WAV by blocks into a small prefetch
  queue that the callback drains. A 60-minute programme never sits in memory, and the
  callback never touches the disk.
* Files, network streams (live.StreamSource) and the microphone (live.MicSource) are all
  `Source`s: `play_source()` airs any of them the same way; `play()` and `play_stream()`
  are the two common cases.
* While an item plays, the feeding thread also watches for dead air: output quieter than
  `silence_dbfs` for `silence_s` ends the item as "failed" (the service then logs an alarm
  and airs the filler). It looks at each block once as it is queued, so it costs the
  callback nothing.
* `interrupt()` only sets a flag; the callback fades the item out over `fade_ms` at its
  next block, so there is no click and no PortAudio call from a foreign thread.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..exceptions import AudioError, PlayoutError

log = logging.getLogger(__name__)

DTYPE = "int16"
PREFETCH_S = 1.0  # audio read ahead of the callback; covers a slow disk, costs ~100 kB
POLL_S = 0.05  # how often a waiting play() checks for a stalled stream or a timeout
OPEN_TIMEOUT_S = 20.0  # PulseAudio may take seconds to wake an idle sink
CLOSE_TIMEOUT_S = 5.0
CLOSE_FADE_WAIT_S = 0.5
UNPACED_LEAD_S = 0.25  # a stream further ahead of the wall clock than this is on an unpaced sink
REANCHOR_S = 10.0  # the window of that check: short enough that a card's clock drift never adds up

STREAM_STOPPED = "Luồng âm thanh bị dừng (thiết bị bị rút ra hoặc lỗi) / the output stream stopped"
STREAM_STALLED = "Thiết bị âm thanh ngừng nhận dữ liệu / the sound card stopped taking audio"
NOT_OPEN = "Thiết bị âm thanh chưa được mở / the output stream is not open"
CLOSED_WHILE_PLAYING = "Đã đóng thiết bị âm thanh khi đang phát"
LIVE_PREROLL_S = 0.2  # a live source has this much buffered before its first sample airs
LIVE_START_TIMEOUT_S = 15.0  # a live source that gives nothing for this long at the start has failed
STREAM_TIMEOUT_PREFIX = "Quá thời gian phát"  # the wording of a timeout (service.RELAY_TIMEOUT_PREFIX)


SILENCE_PREFIX = "Im lặng trên sóng"  # how the service recognizes a silence fault in a row's reason


def silence_reason(seconds: float) -> str:
    """How a silence fault is worded in the as-run log (Vietnamese, for the officer)."""
    return f"{SILENCE_PREFIX} quá {seconds:g} giây"


class Source(Protocol):
    """Audio the player can air: a WAV file, a network stream, a microphone.

    The player owns a source once it is handed to play_source(): it reads it from the
    caller's thread (never from the sound card's callback) and closes it at the end.
    """

    label: str  # what the log says is playing (a path, a URL, "micro")
    channels: int  # channels of the arrays read() returns (the player maps them to the card's)
    live: bool  # produces audio in real time: read() returns None while nothing has arrived yet
    check_silence: bool  # whether dead air on this source is a fault (not for a microphone)

    def read(self, frames: int) -> np.ndarray | None:
        """Up to `frames` frames, int16 shaped (n, channels); empty at the end; None (live
        sources only) when nothing is available yet. Raises AudioError when the source breaks."""

    def close(self) -> None:
        """Release the file, process or device. Safe to call twice."""


class OutputStream(Protocol):
    """What the player needs from a sound card stream (devices.SoundDeviceStream, fakes)."""

    channels: int
    latency: float
    # optional: `self_timed = True` on a stream that sets its own pace on purpose (a fake
    # running faster than real time), so the player never holds it back

    def start(self) -> None:
        """Start calling the callback."""

    def stop(self) -> None:
        """Stop after the buffered audio has played."""

    def abort(self) -> None:
        """Stop at once."""

    def close(self) -> None:
        """Release the device."""


StreamFactory = Callable[..., OutputStream]


@dataclass(frozen=True)
class PlayResult:
    """How one item went: "aired", "interrupted" or "failed" (with the reason), and when."""

    status: str
    reason: str | None
    frames: int
    started_at: datetime
    ended_at: datetime
    # when the callback first handed this item's samples to the stream (urgent latency, as-run
    # start times); None when nothing was handed over. Same clock as started_at.
    first_sample_at: datetime | None = None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- file reading
def match_channels(data: np.ndarray, out_channels: int) -> np.ndarray:
    """int16 frames (n, channels) mapped to `out_channels`: mono is copied, stereo averaged."""
    channels = data.shape[1]
    if channels == out_channels:
        return data
    if channels == 1:
        return np.repeat(data, out_channels, axis=1)
    mono = data.astype(np.int32).sum(axis=1) // channels
    return np.repeat(mono.astype(np.int16)[:, None], out_channels, axis=1)


class _WavReader:
    """A 16-bit PCM WAV read block by block, with its channels mapped to the stream's (a Source)."""

    live = False
    check_silence = True

    def __init__(self, path: Path, *, sample_rate: int, out_channels: int) -> None:
        self.path = path
        self.label = str(path)
        if not path.is_file():
            raise AudioError(f"Không tìm thấy tệp âm thanh: {path}", path=str(path))
        try:
            self._wav = wave.open(str(path), "rb")
        except (wave.Error, EOFError, OSError) as exc:
            raise AudioError(f"Không đọc được tệp WAV {path}: {exc}", path=str(path)) from exc
        try:
            width, rate = self._wav.getsampwidth(), self._wav.getframerate()
            self.channels, self.nframes = self._wav.getnchannels(), self._wav.getnframes()
            if width != 2:
                raise AudioError(f"Tệp {path} không phải WAV 16-bit PCM ({8 * width}-bit)", path=str(path))
            if rate != sample_rate:
                raise AudioError(
                    f"Tệp {path} có tần số lấy mẫu {rate} Hz, cần {sample_rate} Hz (hãy dựng lại bản tin)",
                    path=str(path),
                )
            if self.channels not in (1, 2):
                raise AudioError(f"Tệp {path} có {self.channels} kênh, chỉ phát được 1 hoặc 2", path=str(path))
            if self.nframes == 0:
                raise AudioError(f"Tệp âm thanh rỗng: {path}", path=str(path))
        except BaseException:
            self._wav.close()
            raise
        self.out_channels = out_channels

    def read(self, frames: int) -> np.ndarray:
        """Up to `frames` frames shaped (n, out_channels) int16; empty at the end of the file."""
        try:
            raw = self._wav.readframes(frames)
        except (wave.Error, EOFError, OSError) as exc:
            raise AudioError(f"Lỗi đọc tệp WAV {self.path}: {exc}", path=str(self.path)) from exc
        width = 2 * self.channels
        raw = raw[: len(raw) - len(raw) % width]  # a truncated file may end mid-frame
        data = np.frombuffer(raw, dtype="<i2").reshape(-1, self.channels)
        return match_channels(data, self.out_channels)

    def close(self) -> None:
        """Release the file."""
        self._wav.close()


# --------------------------------------------------------------------------- one item in flight
class _Feed:
    """One item on its way to the card: filled by play() in its thread, drained by the callback.

    Only the queue and a few plain attributes cross threads: the callback never reads the
    file, play() never touches the stream.
    """

    def __init__(self, *, chunks: int, fade_frames: int, drain_frames: int, wait_s: float) -> None:
        self.chunks: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=chunks)
        self.low_water = max(1, chunks // 2)
        self.wake = threading.Event()  # play() should look: data is running low, or the item is done
        self.done = threading.Event()  # the item is over and its last sample has left the buffers
        self.fade_frames = fade_frames
        self.drain_frames = drain_frames
        self.wait_s = wait_s
        self.stop_reason: str | None = None  # set by interrupt(); the callback fades out
        self.ended: str | None = None  # "eof" or "interrupted", set by the callback
        self.error: str | None = None
        self.frames_sent = 0
        self.first_sample_t: float | None = None  # time.monotonic() of the first item sample handed over
        self.underruns = 0
        self._current: np.ndarray | None = None
        self._offset = 0
        self._fade_left: int | None = None
        self._end_mark: int | None = None

    def _next_chunk(self) -> np.ndarray | None | bool:
        """The next chunk, None at the end of the item, False when play() is behind."""
        try:
            chunk = self.chunks.get_nowait()
        except queue.Empty:
            self.wake.set()
            # A short bounded wait: on a paced card this costs a fraction of a block of
            # margin; on an unpaced sink (tests, file capture) it keeps the item gapless.
            try:
                chunk = self.chunks.get(timeout=self.wait_s)
            except queue.Empty:
                return False
        if self.chunks.qsize() < self.low_water:
            self.wake.set()
        return chunk

    def fill(self, out: np.ndarray, frames: int, position: int) -> None:
        """Write the next `frames` frames into `out`; `position` counts frames the stream took before."""
        pos = 0
        if self._end_mark is None:
            if self.stop_reason is not None and self._fade_left is None:
                self._fade_left = self.fade_frames
                if self._fade_left == 0:
                    self._finish("interrupted", position)
            while pos < frames and self._end_mark is None:
                if self._current is None or self._offset >= len(self._current):
                    chunk = self._next_chunk()
                    if chunk is False:
                        self.underruns += 1
                        break
                    if chunk is None:
                        self._finish("eof", position + pos)
                        break
                    self._current, self._offset = chunk, 0
                assert self._current is not None
                n = min(frames - pos, len(self._current) - self._offset)
                block = self._current[self._offset : self._offset + n]
                if self._fade_left is not None:
                    n = min(n, self._fade_left)
                    done = self.fade_frames - self._fade_left
                    gains = 1.0 - np.arange(done + 1, done + n + 1, dtype=np.float32) / self.fade_frames
                    out[pos : pos + n] = (block[:n] * gains[:, None]).astype(np.int16)
                    self._fade_left -= n
                else:
                    out[pos : pos + n] = block
                self._offset += n
                pos += n
                if self.first_sample_t is None and n:
                    self.first_sample_t = time.monotonic()
                self.frames_sent += n
                if self._fade_left == 0:
                    self._finish("interrupted", position + pos)
        out[pos:] = 0
        if self._end_mark is not None and position + frames >= self._end_mark + self.drain_frames:
            self.done.set()
            self.wake.set()

    def _finish(self, how: str, mark: int) -> None:
        if self._fade_left is not None:
            how = "interrupted"  # the end arrived during a fade: the listener heard it cut short
        self.ended = how
        self._end_mark = mark

    def fail(self, reason: str) -> None:
        """End the item because the stream broke; wakes play()."""
        if self.error is None:
            self.error = reason
        self.done.set()
        self.wake.set()


# --------------------------------------------------------------------------- one open stream
class _Line:
    """One opened stream and the state its callbacks share with the player.

    A new _Line per open() means a late callback from an old, broken stream can only
    mark that old line, never the one that replaced it.
    """

    def __init__(self, *, block_frames: int, sample_rate: int) -> None:
        self.stream: OutputStream | None = None
        self.channels = 1
        self.latency_s = 0.0
        self.block_frames = block_frames
        self.sample_rate = sample_rate
        self.lead_s = UNPACED_LEAD_S
        self.self_timed = False  # the stream (a fake) sets its own pace: never hold it back
        self.unpaced = False  # found to take audio faster than real time: we keep time for it
        self._anchor_t = time.monotonic()
        self._anchor_pos = 0
        self.feed: _Feed | None = None
        self.position = 0  # frames handed to the stream since it started
        self.last_callback = time.monotonic()
        self.error: str | None = None
        self.error_wall: float | None = None  # time.time() when the stream broke (device gap logs)
        self.closing = False
        self.underflows = 0

    def callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's callback: the current item's next samples, or silence."""
        now = self.last_callback = time.monotonic()
        if getattr(status, "output_underflow", False):
            self.underflows += 1
        feed = self.feed
        try:
            if feed is None:
                outdata.fill(0)
            else:
                feed.fill(outdata, frames, self.position)
        except Exception as exc:  # a bug must cost one item, never the stream
            outdata.fill(0)
            if feed is not None:
                feed.fail(f"Lỗi trong luồng phát: {exc!r}")
        if not self.self_timed:
            self._keep_real_time(now)
        self.position += frames

    def _keep_real_time(self, now: float) -> None:
        """Hold a sink that takes audio faster than real time to the wall clock.

        ALSA's file and null devices (dry runs, air-check captures, tests) call back as fast
        as the CPU allows: a core spinning, hundreds of MB of silence a second while idle,
        and items "aired" in milliseconds, which would put false times in the as-run log.
        A real card is never more than its buffer ahead of the wall clock, and the check's
        window restarts every REANCHOR_S so its clock drift cannot add up: it never waits here.
        """
        rate = self.sample_rate
        if not self.unpaced:
            if now - self._anchor_t > REANCHOR_S:
                self._anchor_t, self._anchor_pos = now, self.position
                return
            if (self.position - self._anchor_pos) / rate - (now - self._anchor_t) <= self.lead_s:
                return
            self.unpaced = True  # from now on the stream stays exactly lead_s ahead of the clock
            self._anchor_t, self._anchor_pos = now, self.position - round(self.lead_s * rate)
        ahead = (self.position - self._anchor_pos) / rate - (now - self._anchor_t)
        if ahead > self.lead_s:
            time.sleep(min(ahead - self.lead_s, self.block_frames / rate))

    def finished(self) -> None:
        """PortAudio's finished callback: unexpected unless we are closing."""
        if not self.closing and self.error is None:
            self.error = STREAM_STOPPED
            self.error_wall = time.time()
        feed = self.feed
        if feed is not None:
            feed.fail(self.error or CLOSED_WHILE_PLAYING)


# --------------------------------------------------------------------------- the owner thread
class _OwnerTimeout(Exception):
    """A PortAudio call on the owner thread did not return in time."""


class _OwnerThread:
    """The one thread that calls PortAudio. Daemon, so a hung driver cannot block exit."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], dict[str, Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="playout-owner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, box = job
            try:
                box["result"] = fn()
            except BaseException as exc:  # handed back to the caller, who decides
                box["error"] = exc
            finally:
                box["done"].set()

    def call(self, fn: Callable[[], Any], *, timeout: float) -> Any:
        """Run fn on the owner thread and return its result; _OwnerTimeout if it hangs."""
        box: dict[str, Any] = {"done": threading.Event()}
        self._jobs.put((fn, box))
        if not box["done"].wait(timeout):
            raise _OwnerTimeout(f"PortAudio did not answer within {timeout:g} s")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def stop(self) -> None:
        """Let the thread end once its queued calls are done."""
        self._jobs.put(None)


# --------------------------------------------------------------------------- the player
class Player:
    """One thread owns one long-lived output stream fed by a callback that plays silence when idle.

    Use as a context manager, or call open() and close(). play() blocks until the item has
    been heard (or interrupted, or failed); interrupt() may be called from any thread.
    """

    def __init__(
        self,
        *,
        device: str | int | None = None,
        sample_rate: int = 48000,
        block_frames: int = 1024,
        fade_ms: int = 20,
        clock: Callable[[], datetime] | None = None,
        stream_factory: StreamFactory | None = None,
        stall_timeout: float = 5.0,
        silence_s: float | None = None,
        silence_dbfs: float = -60.0,
    ) -> None:
        """Configure, without touching the sound card.

        device: index or part of the name (None = default); stream_factory: builds the
        stream (default: devices.open_output_stream; tests pass a fake); stall_timeout:
        seconds without a callback after which the card counts as gone; silence_s: an item
        whose output stays under silence_dbfs (peak) this long ends as "failed" (None: no check).
        """
        self.silence_s = silence_s
        self.silence_dbfs = float(silence_dbfs)
        self.device = device
        self.sample_rate = int(sample_rate)
        self.block_frames = int(block_frames)
        self.fade_ms = int(fade_ms)
        self.clock = clock or _utc_now
        self.stall_timeout = float(stall_timeout)
        if stream_factory is None:
            from .devices import open_output_stream

            stream_factory = open_output_stream
        self._stream_factory = stream_factory
        self._state = threading.Lock()  # guards _line and _owner
        self._play_lock = threading.Lock()  # one item at a time
        self._line: _Line | None = None
        self._owner: _OwnerThread | None = None
        self._now_playing: Path | None = None
        self._now_label: str | None = None
        # the item whose on_start() has been called but whose feed the callback may not have yet:
        # interrupt() reaches it there, so a skip/stop sent just after its row was committed is kept
        self._starting: _Feed | None = None
        self._failure: tuple[float, str] | None = None  # (time.time(), reason) of the last broken stream
        self._recovered: list[tuple[float, float, str]] = []  # (lost, back, reason): gaps not yet reported

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Player:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        """True while the stream runs; False before open(), after close() or after a device error."""
        line = self._line
        return line is not None and line.error is None

    @property
    def now_playing(self) -> Path | None:
        """The file being played, or None when idle (or airing a stream or the microphone)."""
        return self._now_playing

    @property
    def now_playing_label(self) -> str | None:
        """What is being played (a path, a URL, "micro"), or None when idle."""
        return self._now_label

    @property
    def uses_portaudio(self) -> bool:
        """True when the stream is a real sounddevice stream (not a test fake)."""
        from .devices import open_output_stream

        return self._stream_factory is open_output_stream

    @property
    def failed_at(self) -> datetime | None:
        """When the stream last broke (the device failed, vanished or stalled) and has not been
        reopened since; None while it works or was closed on purpose."""
        line = self._line
        if line is not None and line.error is not None and line.error != "closed":
            wall = line.error_wall if line.error_wall is not None else time.time()
            return datetime.fromtimestamp(wall, timezone.utc)
        if self._failure is not None:
            return datetime.fromtimestamp(self._failure[0], timezone.utc)
        return None

    @property
    def failure_reason(self) -> str | None:
        """Why the stream broke (see failed_at), or None."""
        line = self._line
        if line is not None and line.error is not None and line.error != "closed":
            return line.error
        return self._failure[1] if self._failure is not None else None

    def take_recoveries(self) -> list[tuple[datetime, datetime, str]]:
        """Gaps since the last call: (lost, back, reason) for each broken stream reopened since.

        The caller logs them (OnAir.ensure_device writes an alarm row per gap); each is handed
        out once.
        """
        with self._state:
            gaps, self._recovered = self._recovered, []
        return [
            (datetime.fromtimestamp(lost, timezone.utc), datetime.fromtimestamp(back, timezone.utc), reason)
            for lost, back, reason in gaps
        ]

    @property
    def output_channels(self) -> int | None:
        """Channels of the open stream (2 on any card that has two, else 1); None when closed."""
        line = self._line
        return line.channels if line is not None else None

    @property
    def latency(self) -> float | None:
        """Output latency of the open stream in seconds; None when closed."""
        line = self._line
        return line.latency_s if line is not None else None

    def open(self) -> None:
        """Open and start the stream (silence until something plays). Idempotent.

        A stream broken by a device error is closed and a new one opened. Raises
        PlayoutError when the device is missing or refuses the format.
        """
        with self._state:
            if self._line is not None and self._line.error is None:
                return
            if self._line is not None:
                self._remember_failure(self._line)
                self._shutdown_locked()
            if self._owner is None:
                self._owner = _OwnerThread()
            line = _Line(block_frames=self.block_frames, sample_rate=self.sample_rate)
            # who owns a stream that opens after open() stopped waiting: decided under a lock
            handover = threading.Lock()
            fate = {"abandoned": False}

            def start() -> None:
                stream = self._stream_factory(
                    device=self.device,
                    samplerate=self.sample_rate,
                    blocksize=self.block_frames,
                    dtype=DTYPE,
                    callback=line.callback,
                    finished_callback=line.finished,
                )
                try:
                    line.channels = int(stream.channels)
                    line.latency_s = float(stream.latency)
                    line.lead_s = max(UNPACED_LEAD_S, 2 * line.latency_s)
                    line.self_timed = bool(getattr(stream, "self_timed", False))
                    line.last_callback = line._anchor_t = time.monotonic()
                    stream.start()
                except BaseException:
                    line.closing = True
                    _quietly(stream.close)
                    raise
                with handover:
                    line.stream = stream
                    if not fate["abandoned"]:
                        return
                line.closing = True  # open() gave up waiting: nobody else will close it
                _quietly(stream.abort)
                _quietly(stream.close)

            try:
                self._owner.call(start, timeout=OPEN_TIMEOUT_S)
            except _OwnerTimeout as exc:
                with handover:
                    fate["abandoned"] = line.stream is None
                if fate["abandoned"]:
                    self._owner.stop()
                    self._owner = None
                    raise PlayoutError(
                        f"Mở thiết bị âm thanh quá lâu / opening the sound card hung: {exc}"
                    ) from exc
            except Exception as exc:
                # no stream, so no reason to keep the owner thread until the next open()
                self._owner.stop()
                self._owner = None
                if isinstance(exc, PlayoutError):
                    raise
                raise PlayoutError(f"Không mở được thiết bị âm thanh: {exc}") from exc
            self._line = line
            if self._failure is not None:  # whoever reopened it (a slot, urgent, the retry loop)
                self._recovered.append((self._failure[0], time.time(), self._failure[1]))
            self._failure = None

    def close(self) -> None:
        """Stop and close the stream. Always leaves no open stream; safe to call twice.

        An item still playing is faded out first; its play() returns "interrupted".
        """
        with self._state:
            line = self._line
            feed = line.feed if line is not None else None
        if feed is not None and line is not None and line.error is None:
            if feed.stop_reason is None:
                feed.stop_reason = CLOSED_WHILE_PLAYING
            feed.done.wait(CLOSE_FADE_WAIT_S)
        with self._state:
            if self._line is not None:
                self._remember_failure(self._line)  # a broken card stays on record until reopened
            self._shutdown_locked()
            if self._owner is not None:
                self._owner.stop()
                self._owner = None

    def _shutdown_locked(self) -> None:
        """Close the current line's stream on the owner thread, whatever state it is in."""
        line, self._line = self._line, None
        if line is None:
            return
        line.closing = True
        stream = line.stream

        def stop() -> None:
            if stream is None:
                return
            try:
                # abort, not stop: the idle stream holds only silence, and stop() can wait
                # forever on a card that has gone away.
                stream.abort()
            except Exception as exc:
                log.info("aborting the stream failed (closing anyway): %s", exc)
            stream.close()

        try:
            if self._owner is None:
                raise _OwnerTimeout("no owner thread")
            self._owner.call(stop, timeout=CLOSE_TIMEOUT_S)
        except _OwnerTimeout:
            log.warning("the sound card did not close within %.0f s; abandoning it", CLOSE_TIMEOUT_S)
            if self._owner is not None:
                self._owner.stop()
            self._owner = None
        except Exception as exc:
            log.warning("closing the stream failed: %s", exc)
        finally:
            if line.error is None:
                line.error = "closed"
            feed = line.feed
            if feed is not None:
                feed.fail(CLOSED_WHILE_PLAYING)

    # ------------------------------------------------------------------ playing
    def interrupt(self, reason: str) -> None:
        """Fade out the current item within about fade_ms; its play() returns "interrupted".

        Does nothing when idle (nor to an item whose play() has not yet called on_start).
        From the call of on_start on it is never lost, even before the callback has the item.
        Safe from any thread: it only leaves a note for the callback.
        """
        # _starting before line.feed: _play() publishes line.feed before it clears _starting,
        # so one of the two reads sees the item whenever on_start() has been called
        feed = self._starting
        line = self._line
        if feed is None and line is not None:
            feed = line.feed
        if feed is not None and feed.stop_reason is None:
            feed.stop_reason = reason or "Bị ngắt"

    def play(
        self,
        path: Path,
        *,
        on_start: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> PlayResult:
        """Play one 16-bit PCM WAV (mono or stereo, at the player's sample rate) and wait for it.

        on_start() runs in this thread just before the first sample is handed to the
        stream (commit the as-run row there); if it raises, nothing plays and the error
        propagates. Returns after the last sample has left the stream's buffers, with
        "aired"; "interrupted" after interrupt(), close() or `timeout` seconds; "failed"
        when the file cannot be read (the stream is not touched) or the device breaks
        (the player is then closed and can be reopened). Calls are served one at a time.
        """
        path = Path(path)
        with self._play_lock:
            line = self._line
            if line is None or line.error is not None:
                now = self.clock()
                return PlayResult("failed", NOT_OPEN, 0, now, now)
            try:
                reader = _WavReader(path, sample_rate=self.sample_rate, out_channels=line.channels)
            except AudioError as exc:
                now = self.clock()
                return PlayResult("failed", str(exc), 0, now, now)
            try:
                self._now_playing = path
                return self._play(line, reader, on_start, timeout)
            finally:
                reader.close()
                self._now_playing = None
                self._now_label = None

    def play_source(
        self,
        source: Source,
        *,
        label: str | None = None,
        on_start: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> PlayResult:
        """Air any Source (a stream, the microphone…) like play() airs a file, and wait for it.

        The player closes the source when it returns. A live source gets a short pre-roll
        (LIVE_PREROLL_S) before on_start(); one that gives nothing for LIVE_START_TIMEOUT_S
        fails without on_start() being called. A source that raises AudioError mid-way ends
        the item as "failed" with that reason.
        """
        if label is not None:
            source.label = label
        try:
            with self._play_lock:
                line = self._line
                if line is None or line.error is not None:
                    now = self.clock()
                    return PlayResult("failed", NOT_OPEN, 0, now, now)
                try:
                    return self._play(line, source, on_start, timeout)
                finally:
                    self._now_label = None
        finally:
            _quietly(source.close)

    def play_stream(
        self,
        url: str,
        *,
        duration_s: float,
        on_start: Callable[[], None] | None = None,
        stall_s: float = 10.0,
    ) -> PlayResult:
        """Relay a network stream (or any input ffmpeg reads) for `duration_s` seconds.

        Decoded by an ffmpeg subprocess to 16-bit PCM at the player's rate. "aired" when the
        set time has elapsed; "failed" with the reason when ffmpeg cannot open or decode the
        stream, when no audio arrives for `stall_s`, or when the stream ends early.
        """
        from .live import StreamSource

        try:
            source = StreamSource(url, sample_rate=self.sample_rate, stall_s=stall_s)
        except AudioError as exc:
            now = self.clock()
            return PlayResult("failed", str(exc), 0, now, now)
        began = time.monotonic()
        result = self.play_source(source, label=url, on_start=on_start, timeout=duration_s)
        elapsed = time.monotonic() - began
        if result.status == "interrupted" and (result.reason or "").startswith(STREAM_TIMEOUT_PREFIX):
            # the set time is over: that is how a relay ends
            return PlayResult("aired", None, result.frames, result.started_at, result.ended_at, result.first_sample_at)
        if result.status == "aired" and elapsed < duration_s - 1.0:
            reason = f"Luồng tiếp sóng kết thúc sớm sau {elapsed:.0f} giây (đặt {duration_s:.0f} giây)"
            return PlayResult("failed", reason, result.frames, result.started_at, result.ended_at, result.first_sample_at)
        return result

    def _play(
        self,
        line: _Line,
        reader: Source,
        on_start: Callable[[], None] | None,
        timeout: float | None,
    ) -> PlayResult:
        chunk_frames = max(self.block_frames, 1024) * 4
        chunks = max(2, math.ceil(PREFETCH_S * self.sample_rate / chunk_frames))
        feed = _Feed(
            chunks=chunks,
            fade_frames=max(0, round(self.fade_ms * self.sample_rate / 1000)),
            # the stream's buffers plus one block of slack for the host's own queue
            drain_frames=math.ceil(line.latency_s * self.sample_rate) + self.block_frames,
            wait_s=0.25 * self.block_frames / self.sample_rate,
        )
        eof = False
        read_error: str | None = None
        live = bool(getattr(reader, "live", False))
        silence_limit = None
        if self.silence_s is not None and getattr(reader, "check_silence", True):
            silence_limit = max(1, round(self.silence_s * self.sample_rate))
        # peak at or under this (int16) counts as silence: -60 dBFS is about 32
        quiet = int(32767 * 10 ** (self.silence_dbfs / 20))
        silent_run = 0
        silence_error: str | None = None
        queued = 0

        def top_up() -> None:
            # a live source is read for at most POLL_S per call, so the wait loop keeps
            # checking the stream, the timeout and the stall while audio trickles in
            nonlocal eof, read_error, silent_run, silence_error, queued
            budget_end = time.monotonic() + POLL_S if live else None
            while not eof and not feed.chunks.full():
                try:
                    data = reader.read(chunk_frames)
                except AudioError as exc:
                    read_error, data = str(exc), data_empty
                if data is None:  # a live source with nothing new yet
                    break
                if len(data) == 0:
                    eof = True
                    feed.chunks.put_nowait(None)
                    break
                if data.shape[1] != line.channels:
                    data = match_channels(data, line.channels)
                if silence_limit is not None:
                    # checked as the audio is queued, not in the callback: it costs one
                    # max/min per block, and the item ends exactly silence_s into the gap
                    if int(data.max()) <= quiet and int(data.min()) >= -quiet:
                        silent_run += len(data)
                    else:
                        silent_run = 0
                if silence_limit is not None and silent_run >= silence_limit:
                    # the silence already queued makes up the rest of silence_s: end here
                    silence_error = silence_reason(self.silence_s or 0)
                    eof = True
                    feed.chunks.put_nowait(None)
                    break
                feed.chunks.put_nowait(data)
                queued += len(data)
                if budget_end is not None and time.monotonic() > budget_end:
                    break

        data_empty = np.zeros((0, line.channels), dtype=np.int16)
        top_up()  # the first second is ready before the first sample is due
        if live:
            waited_until = time.monotonic() + LIVE_START_TIMEOUT_S
            while read_error is None and not eof and queued < LIVE_PREROLL_S * self.sample_rate:
                if time.monotonic() > waited_until:
                    read_error = f"Không nhận được âm thanh từ {reader.label} sau {LIVE_START_TIMEOUT_S:g} giây"
                    break
                time.sleep(0.01)
                top_up()
        if read_error is not None:
            now = self.clock()
            return PlayResult("failed", read_error, 0, now, now)
        self._starting = feed  # from here on interrupt() reaches this item (see interrupt())
        try:
            if on_start is not None:
                on_start()
            started_at = self.clock()
            self._now_label = reader.label
            began = time.monotonic()
            deadline = began + timeout if timeout is not None else None
            line.feed = feed  # the callback picks it up at its next block
        finally:
            self._starting = None
        try:
            while not feed.done.is_set():
                feed.wake.wait(POLL_S)
                feed.wake.clear()  # a wake-up lost here is harmless: we top up and re-check right after
                top_up()
                now = time.monotonic()
                if line.error is not None:
                    feed.fail(CLOSED_WHILE_PLAYING if line.closing and line.error == "closed" else line.error)
                elif now - line.last_callback > self.stall_timeout:
                    line.error = STREAM_STALLED
                    # the card went quiet when its callbacks stopped, not when we noticed
                    line.error_wall = time.time() - (now - line.last_callback)
                    feed.fail(STREAM_STALLED)
                elif deadline is not None and now > deadline and feed.stop_reason is None:
                    feed.stop_reason = f"Quá thời gian phát ({timeout:g} s)"
        finally:
            line.feed = None
        ended_at = self.clock()
        frames = feed.frames_sent
        if line.error is not None and not line.closing:
            self._drop_broken(line)
        if read_error is not None and feed.error is None and feed.ended != "interrupted":
            feed.error = read_error  # the source broke mid-way (a stream that died): failed, not aired
        if feed.error is not None:
            if line.closing and feed.error == CLOSED_WHILE_PLAYING:
                status, reason = "interrupted", CLOSED_WHILE_PLAYING
            else:
                # even an item fully handed over counts as failed: its end may never have been heard
                status, reason = "failed", feed.error
        elif feed.ended == "interrupted":
            status, reason = "interrupted", feed.stop_reason
        else:
            status, reason = "aired", None
            if silence_error is not None:
                status, reason = "failed", silence_error
            elif feed.underruns and not live:
                reason = f"Thiếu dữ liệu {feed.underruns} lần khi phát (underrun)"
        log.info(
            "%s: %s after %.2f s, %d frames%s",
            reader.label, status, time.monotonic() - began, frames, f" ({reason})" if reason else "",
        )
        first_sample_at = None
        if feed.first_sample_t is not None:
            first_sample_at = started_at + timedelta(seconds=feed.first_sample_t - began)
        return PlayResult(status, reason, frames, started_at, ended_at, first_sample_at)

    def _drop_broken(self, line: _Line) -> None:
        """After a device error: close the broken stream so is_open is False and open() starts afresh."""
        with self._state:
            if self._line is line:
                self._remember_failure(line)
                self._shutdown_locked()

    def _remember_failure(self, line: _Line) -> None:
        if line.error is not None and line.error != "closed" and self._failure is None:
            self._failure = (line.error_wall if line.error_wall is not None else time.time(), line.error)


def _quietly(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception as exc:  # cleanup of a stream that is already failing
        log.debug("ignored during cleanup: %s", exc)
