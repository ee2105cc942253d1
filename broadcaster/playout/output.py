"""The output side of the player: one long-lived stream, opened, watched and closed.

Player (player.py) adds the playing side on top. The owner thread (line.OwnerThread) makes
every PortAudio call, so a caller can give up on a call that hangs on a dying device; a
stream broken by a device error is remembered (failed_at, failure_reason) until it is
reopened, and each gap is handed out once by take_recoveries().
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from ..exceptions import PlayoutError
from .feed import Feed
from .line import UNPACED_LEAD_S, Line, OwnerThread, OwnerTimeout, StreamFactory
from .outcome import DeviceFault, Outcome, TapFault

log = logging.getLogger(__name__)

DTYPE = "int16"
OPEN_TIMEOUT_S = 20.0  # PulseAudio may take seconds to wake an idle sink
CLOSE_TIMEOUT_S = 5.0
CLOSE_FADE_WAIT_S = 0.5


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Output:
    """One thread owns one long-lived output stream fed by a callback that plays silence when idle.

    The lifecycle (open, close, the state of the card); Player adds play() and interrupt().
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
        whose output stays under silence_dbfs (peak) this long ends as Outcome.SILENCE (None: no check).
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
        self._line: Line | None = None
        self._owner: OwnerThread | None = None
        self._now_playing: Path | None = None
        self._now_label: str | None = None
        # the item whose on_start() has been called but whose feed the callback may not have yet:
        # interrupt() reaches it there, so a skip/stop sent just after its row was committed is kept
        self._starting: Feed | None = None
        self._failure: tuple[float, str] | None = None  # (time.time(), reason) of the last broken stream
        self._recovered: list[tuple[float, float, str]] = []  # (lost, back, reason): gaps not yet reported
        self._tap: Callable[[object], None] | None = None  # given every block the card airs (set_tap)
        self._tap_fault: TapFault | None = None  # the tap raised and was dropped; not yet taken

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Output:
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
        if line is not None and line.error is not None and line.error is not DeviceFault.CLOSED:
            wall = line.error_wall if line.error_wall is not None else time.time()
            return datetime.fromtimestamp(wall, timezone.utc)
        if self._failure is not None:
            return datetime.fromtimestamp(self._failure[0], timezone.utc)
        return None

    @property
    def failure_reason(self) -> DeviceFault | None:
        """Why the stream broke (see failed_at), or None."""
        line = self._line
        if line is not None and line.error is not None and line.error is not DeviceFault.CLOSED:
            return line.error
        return self._failure[1] if self._failure is not None else None

    def take_recoveries(self) -> list[tuple[datetime, datetime, DeviceFault]]:
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

    def set_tap(self, tap: Callable[[object], None] | None) -> None:
        """Hand a copy of every block the card airs to `tap` (the Icecast fan-out; it must never block)."""
        self._tap = tap
        line = self._line
        if line is not None:
            line.tap = tap

    def take_tap_fault(self) -> TapFault | None:
        """The tap's error, if it raised in the callback since the last call (it was dropped then:
        never called again, even on a reopened card, until set_tap() gives one); handed out once."""
        fault, self._tap_fault = self._tap_fault, None
        return fault

    def _tap_dropped(self, tap: Callable[[object], None], error: Exception) -> None:
        """Line.callback's word that `tap` raised: runs in the callback, so attribute writes only."""
        if self._tap is tap:
            self._tap = None
        if self._tap_fault is None:
            self._tap_fault = TapFault(at=self.clock(), error=error)

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
                self._owner = OwnerThread()
            line = Line(block_frames=self.block_frames, sample_rate=self.sample_rate)
            line.tap = self._tap
            line.tap_dropped = self._tap_dropped
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
            except OwnerTimeout as exc:
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

        An item still playing is faded out first; its play() returns Outcome.CLOSED.
        """
        with self._state:
            line = self._line
            feed = line.feed if line is not None else None
        if feed is not None and line is not None and line.error is None:
            if feed.stop_cause is None:
                feed.stop_cause = Outcome.CLOSED
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
                raise OwnerTimeout("no owner thread")
            self._owner.call(stop, timeout=CLOSE_TIMEOUT_S)
        except OwnerTimeout:
            log.warning("the sound card did not close within %.0f s; abandoning it", CLOSE_TIMEOUT_S)
            if self._owner is not None:
                self._owner.stop()
            self._owner = None
        except Exception as exc:
            log.warning("closing the stream failed: %s", exc)
        finally:
            if line.error is None:
                line.error = DeviceFault.CLOSED
            feed = line.feed
            if feed is not None:
                feed.fail(Outcome.DEVICE_LOST, fault=DeviceFault.CLOSED)

    # ------------------------------------------------------------------ playing

    def _drop_broken(self, line: Line) -> None:
        """After a device error: close the broken stream so is_open is False and open() starts afresh."""
        with self._state:
            if self._line is line:
                self._remember_failure(line)
                self._shutdown_locked()

    def _remember_failure(self, line: Line) -> None:
        if line.error is not None and line.error is not DeviceFault.CLOSED and self._failure is None:
            self._failure = (line.error_wall if line.error_wall is not None else time.time(), line.error)



def _quietly(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception as exc:  # cleanup of a stream that is already failing
        log.debug("ignored during cleanup: %s", exc)


__all__ = ["DTYPE", "Output"]
