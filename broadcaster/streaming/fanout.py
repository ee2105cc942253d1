"""The station's Icecast fan-out (issue 14 item 1): what the sound card airs also goes to Icecast.

The card's callback hands each block it was given to `tap()`, which copies it into a bounded ring
(no lock wait to speak of, no allocation, the oldest samples dropped when full). ONE fan-out thread
empties the ring every TICK_S and writes the PCM to one encoder per mount (encoder.Encoder: ffmpeg
to icecast://): the main mount and one per zone. When the card gives nothing (closed, lost, not
opened yet) it writes silence at real-time pace, so Icecast keeps the mounts and the receivers stay
connected. An urgent for some zones (`air_to_zones`) replaces the programme on those zones' mounts
only, sample for sample at the same pace, for the file's length.

Losing Icecast never touches the card: an encoder that dies is restarted with a backoff
(1, 2, 4 … ≤ 10 s); the gap (from the first mount lost until every mount is back) is said once,
written once as an alarm row with its cause (the `alarm` callable: the station's AsRunLog.log_alarm)
and shown by states(). No line ever holds the source password.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .encoder import Encoder, encoder_argv
from .protocol import MountState, ZoneAirResult
from .urls import StreamTarget, StreamUrlError

log = logging.getLogger(__name__)

TICK_S = 0.02  # the fan-out thread's period
RING_S = 2.0  # the ring holds this much of the card's audio; more is dropped (oldest first)
IDLE_S = 0.25  # no block from the card for this long: the thread feeds silence at real time
MAX_LAG_S = 0.2  # card audio after a pause is sent as it comes, the clock catching up this far back
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 10.0)
GAP_TITLE = "Cảnh báo: mất luồng Icecast"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Ring:
    """Mono int16 samples from the card's callback to the fan-out thread; bounded, preallocated."""

    def __init__(self, frames: int) -> None:
        self.buf = np.zeros(max(1, int(frames)), dtype=np.int16)
        self.written = 0  # samples pushed since the start
        self.read = 0  # samples taken since the start
        self.dropped = 0
        self.last_push = 0.0  # time.monotonic() of the last push
        self._lock = threading.Lock()

    def push(self, block: np.ndarray) -> None:
        mono = block[:, 0] if block.ndim == 2 else block
        if mono.dtype != np.int16:  # a float stream (a test fake): scaled once, small
            mono = (np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16)
        cap = len(self.buf)
        n = len(mono)
        if n > cap:
            mono, n = mono[-cap:], cap
        with self._lock:
            overflow = (self.written - self.read) + n - cap
            if overflow > 0:
                self.read += overflow
                self.dropped += overflow
            i = self.written % cap
            first = min(n, cap - i)
            self.buf[i:i + first] = mono[:first]
            if n > first:
                self.buf[:n - first] = mono[first:]
            self.written += n
            self.last_push = time.monotonic()

    def take(self) -> np.ndarray:
        with self._lock:
            n = self.written - self.read
            cap = len(self.buf)
            i = self.read % cap
            first = min(n, cap - i)
            out = np.concatenate((self.buf[i:i + first], self.buf[:n - first]))
            self.read = self.written
        return out


@dataclass
class _Override:
    samples: np.ndarray
    pos: int = 0
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Mount:
    mount: str
    zone: str | None
    encoder: Encoder | None = None
    connected: bool = False
    since: str | None = None
    last_error: str | None = None
    retry_at: float = 0.0
    failures: int = 0
    override: _Override | None = None


class IcecastFanout:
    """The Fanout of protocol.py over real Icecast mounts (one ffmpeg encoder each)."""

    def __init__(self, target: StreamTarget, *, fmt: str = "mp3", bitrate_kbps: int = 48,
                 sample_rate: int = 48000, alarm: Callable[..., object] | None = None,
                 say: Callable[[str], None] | None = None, ffmpeg: str | None = None) -> None:
        self.target = target
        self.fmt = fmt
        self.bitrate_kbps = int(bitrate_kbps)
        self.sample_rate = int(sample_rate)
        self._alarm = alarm
        self._say = say or (lambda _line: None)
        self._ffmpeg = ffmpeg
        self._ring = Ring(self.sample_rate * RING_S)
        self._mounts: dict[str, _Mount] = {target.mount: _Mount(target.mount, None)}
        self._lock = threading.Lock()  # guards _mounts (the thread, ensure_zones, air_to_zones)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fed_t = 0.0
        self._gap_start: datetime | None = None
        self._gap_cause: str | None = None

    # ------------------------------------------------------------------ the Fanout protocol
    def start(self) -> None:
        if self._thread is not None:
            return
        if self._ffmpeg is None:
            from ..media import ffmpeg_exe

            self._ffmpeg = ffmpeg_exe()
        self._stop.clear()
        self._fed_t = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="icecast-fanout", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10)
        with self._lock:
            mounts = list(self._mounts.values())
        for m in mounts:
            if m.override is not None:
                m.override.done.set()
            if m.encoder is not None:
                m.encoder.close()
                m.encoder = None
            m.connected = False
        if self._gap_start is not None:  # a gap still open when the station stops: logged once, now
            self._log_gap(still_open=True)

    def tap(self, block) -> None:
        try:
            self._ring.push(block)
        except Exception:  # never into the card's callback
            pass

    def ensure_zones(self, zones: Iterable[str]) -> None:
        for zone in zones:
            try:
                mount = self.target.zone_mount(zone)
            except StreamUrlError as exc:
                log.warning("zone %r has no usable mount: %s", zone, exc)
                continue
            with self._lock:
                if mount not in self._mounts:
                    self._mounts[mount] = _Mount(mount, zone)

    def air_to_zones(self, zones: list[str], path: Path, *, stop: threading.Event) -> ZoneAirResult:
        if self._thread is None or self._stop.is_set():
            return ZoneAirResult.NO_STREAM
        self.ensure_zones(zones)
        wanted = set()
        for zone in zones:
            try:
                wanted.add(self.target.zone_mount(zone))
            except StreamUrlError:
                continue
        with self._lock:
            mounts = [m for name, m in self._mounts.items() if name in wanted]
        if not mounts or not any(m.encoder is not None and m.encoder.alive for m in mounts):
            return ZoneAirResult.NO_STREAM
        from ..media import decode, to_int16

        samples = to_int16(decode(Path(path), sample_rate=self.sample_rate, channels=1))
        overrides = [_Override(samples) for _ in mounts]
        with self._lock:
            for m, override in zip(mounts, overrides):
                m.override = override
        try:
            for override in overrides:
                while not override.done.wait(0.05):
                    if stop.is_set() or self._stop.is_set():
                        return ZoneAirResult.STOPPED
            return ZoneAirResult.STOPPED if self._stop.is_set() else ZoneAirResult.AIRED
        finally:
            with self._lock:
                for m, override in zip(mounts, overrides):
                    if m.override is override:
                        m.override = None

    def states(self) -> list[MountState]:
        with self._lock:
            mounts = list(self._mounts.values())
        return [MountState(mount=m.mount, zone=m.zone, connected=m.connected, since=m.since,
                           last_error=m.last_error) for m in mounts]

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        rate = self.sample_rate
        while not self._stop.wait(TICK_S):
            try:
                now = time.monotonic()
                self._supervise(now)
                pcm = self._ring.take()
                if len(pcm):
                    self._fed_t = max(self._fed_t, now - MAX_LAG_S) + len(pcm) / rate
                elif now - self._ring.last_push > IDLE_S and self._fed_t < now:
                    n = min(int((now - self._fed_t) * rate), rate)
                    self._fed_t = max(self._fed_t + n / rate, now - 1.0)
                    pcm = np.zeros(n, dtype=np.int16)
                if len(pcm):
                    self._feed(pcm)
            except Exception:  # the thread must outlive any bug: the card never notices
                log.exception("icecast fan-out step failed")

    def _feed(self, pcm: np.ndarray) -> None:
        programme = pcm.tobytes()
        n = len(pcm)
        with self._lock:
            mounts = list(self._mounts.values())
        for m in mounts:
            data = programme
            override = m.override
            if override is not None:
                chunk = override.samples[override.pos:override.pos + n]
                override.pos += n
                if len(chunk) < n:
                    chunk = np.concatenate((chunk, np.zeros(n - len(chunk), dtype=np.int16)))
                if override.pos >= len(override.samples):
                    override.done.set()
                data = chunk.tobytes()
            if m.encoder is not None:
                m.encoder.write(data)

    def _supervise(self, now: float) -> None:
        with self._lock:
            mounts = list(self._mounts.values())
        for m in mounts:
            enc = m.encoder
            if enc is not None and not enc.alive:
                cause = enc.cause()
                enc.close()
                m.encoder = None
                m.retry_at = now + BACKOFF_S[min(m.failures, len(BACKOFF_S) - 1)]
                m.failures += 1
                self._down(m, cause)
            elif enc is not None and enc.connected and not m.connected:
                m.connected, m.failures, m.last_error = True, 0, None
                m.since = _utc_now().isoformat(timespec="seconds")
                self._up()
            elif enc is None and now >= m.retry_at and not self._stop.is_set():
                argv = encoder_argv(self._ffmpeg, self.target, m.mount, fmt=self.fmt,
                                    bitrate_kbps=self.bitrate_kbps, sample_rate=self.sample_rate)
                try:
                    m.encoder = Encoder(argv, self.target.redacted(m.mount))
                except OSError as exc:
                    m.retry_at = now + BACKOFF_S[-1]
                    self._down(m, f"Không chạy được bộ mã hóa ffmpeg: {exc.strerror or type(exc).__name__}")

    def _down(self, m: _Mount, cause: str) -> None:
        was = m.connected
        m.connected, m.last_error = False, cause
        if was or m.since is None:
            m.since = _utc_now().isoformat(timespec="seconds")
        if self._gap_start is None:
            self._gap_start, self._gap_cause = _utc_now(), cause
            self._say(f"Mất luồng Icecast: {cause} Loa của đài vẫn phát bình thường; đài sẽ tự nối lại.")
            log.warning("icecast stream lost: %s", cause)

    def _up(self) -> None:
        if self._gap_start is None:
            return
        with self._lock:
            if not all(m.connected for m in self._mounts.values()):
                return
        seconds = self._log_gap(still_open=False)
        self._say(f"Đã nối lại luồng Icecast (gián đoạn {seconds:.1f} giây).")

    def _log_gap(self, *, still_open: bool) -> float:
        lost, cause = self._gap_start, self._gap_cause
        self._gap_start = self._gap_cause = None
        back = _utc_now()
        seconds = max(0.0, (back - lost).total_seconds()) if lost else 0.0
        end = "chưa nối lại khi đài dừng" if still_open else "đã nối lại"
        if self._alarm is not None:
            try:
                self._alarm(title=GAP_TITLE, reason=f"Mất luồng Icecast {seconds:.1f} giây ({cause}); {end}",
                            started_at=lost, ended_at=back)
            except Exception:  # the log must never stop the stream
                log.exception("could not log the icecast gap")
        return seconds




def fanout_from_settings(settings, *, alarm=None, say=None) -> IcecastFanout | None:
    """The station's fan-out when `stream_url` is set (None without it, or when it cannot be used:
    then `say` gets one line without the password and the station airs without the stream)."""
    if not getattr(settings, "stream_url", None):
        return None
    from .urls import parse_stream_url

    try:
        target = parse_stream_url(settings.stream_url)
    except StreamUrlError as exc:
        if say is not None:
            say(f"Cài đặt stream_url không dùng được: {exc} Đài vẫn phát trên loa, không có luồng Icecast.")
        return None
    return IcecastFanout(target, fmt=settings.stream_format, bitrate_kbps=settings.stream_bitrate_kbps,
                         sample_rate=settings.sample_rate, alarm=alarm, say=say)


__all__ = ["GAP_TITLE", "IcecastFanout", "Ring", "fanout_from_settings"]
