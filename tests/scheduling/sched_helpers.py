"""Fakes for the scheduling tests: playout and rendering are boundaries here.

FakePlayer "plays" a file by letting its length pass on the injected clock and records
what it played; fake_render gives every bulletin a tiny real WAV and a chosen length,
so programmes have real durations without a speech engine.
"""

from __future__ import annotations

import threading
import time
import wave
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from support.waiting import wait_for  # noqa: F401  (the tests import it from here)

from broadcaster.playout.outcome import Outcome, PlayResult
from broadcaster.station.facade import RenderOutcome


class FakePlayer:
    """A PlayerProtocol on the injected clock: records (path, start, end) per item; each item lasts
    `durations[path]` seconds of clock time (1 s when not given).

    It keeps the real player's contract (tests/playout/test_player_contract.py): NOT_OPEN when
    closed, FAILED for a missing file, TIMEOUT past `timeout`, and an interrupt(cause) sent from
    on_start on ends the item with that cause. A stream URL relays for `duration_s` when it is
    in `durations`, and fails like an unreachable stream otherwise.
    """

    uses_portaudio = False
    failed_at = None
    failure_reason = None

    def __init__(self, clock, durations: dict[str, float] | None = None, *, fail_open: bool = False) -> None:
        self.clock = clock
        self.durations = durations if durations is not None else {}
        self.fail_open = fail_open
        self.is_open = False
        self.now_playing: Path | None = None
        self.now_playing_label: str | None = None
        self.played: list[tuple[str, datetime, datetime]] = []
        self.interrupts: list[Outcome] = []
        # path → PlayResult fields for its next airing only (e.g. {"outcome": Outcome.SILENCE, "seconds": 8.0})
        self.next_results: dict[str, dict] = {}
        self.lock = threading.Lock()
        self._cause: Outcome | None = None
        self._airing = False

    def open(self) -> None:
        from broadcaster.exceptions import PlayoutError

        if self.fail_open:
            raise PlayoutError("no card in this test")
        self.is_open = True

    def close(self) -> None:
        self.is_open = False

    def take_recoveries(self) -> list:
        return []

    def set_tap(self, tap) -> None:
        self.tap = tap  # the Icecast fan-out's tap: this fake airs no samples, so it is never called

    def take_tap_fault(self):
        return None  # its tap is never called, so it never raises

    def interrupt(self, cause: Outcome) -> None:
        if not cause.is_interrupt_cause:
            raise ValueError(f"not a cause of an interrupt: {cause}")
        self.interrupts.append(cause)
        if self._airing and self._cause is None:
            self._cause = cause

    def play(self, path, *, on_start=None, timeout=None) -> PlayResult:
        if not self.is_open:
            now = self.clock.now()
            return PlayResult(Outcome.NOT_OPEN, 0, now, now)
        if not Path(path).is_file():
            now = self.clock.now()
            return PlayResult(Outcome.FAILED, 0, now, now, detail=f"Không tìm thấy tệp âm thanh: {path}")
        self.now_playing = Path(path)
        try:
            return self._air(str(path), self.durations.get(str(path), 1.0), on_start, timeout)
        finally:
            self.now_playing = None

    def play_source(self, source, *, label=None, on_start=None, timeout=None) -> PlayResult:
        if not self.is_open:
            now = self.clock.now()
            return PlayResult(Outcome.NOT_OPEN, 0, now, now)
        what = label or getattr(source, "label", "source")
        try:
            return self._air(what, self.durations.get(what, 1.0), on_start, timeout)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def play_stream(self, url, *, duration_s, on_start=None, stall_s=10.0) -> PlayResult:
        if not self.is_open:
            now = self.clock.now()
            return PlayResult(Outcome.NOT_OPEN, 0, now, now)
        if str(url) not in self.durations:
            now = self.clock.now()
            return PlayResult(Outcome.FAILED, 0, now, now, detail=f"Không phát được luồng {url}: không có mạng (test)")
        result = self._air(str(url), self.durations[str(url)], on_start, duration_s)
        if result.outcome is Outcome.TIMEOUT:
            return replace(result, outcome=Outcome.AIRED, seconds=None)
        return result

    def _air(self, what: str, length: float, on_start, timeout) -> PlayResult:
        outcome, seconds = Outcome.AIRED, None
        if timeout is not None and length > timeout:
            length, outcome, seconds = timeout, Outcome.TIMEOUT, timeout
        self._cause, self._airing = None, True
        try:
            if on_start is not None:
                on_start()
            self.now_playing_label = what
            started = self.clock.now()
            if self._cause is not None:  # interrupted from on_start on: it ends at once
                outcome, seconds, length = self._cause, None, 0.0
            self.clock.sleep(length)
            ended = self.clock.now()
        finally:
            self._airing, self.now_playing_label = False, None
        if self._cause is not None and outcome is Outcome.AIRED:
            outcome = self._cause  # interrupted while the clock ran
        with self.lock:
            self.played.append((what, started, ended))
        result = PlayResult(outcome, 0, started, ended, seconds=seconds)
        staged = self.next_results.pop(what, None)
        return replace(result, **staged) if staged else result


def write_wav(path: Path, seconds: float = 0.01, rate: int = 48000) -> Path:
    """A silent 16-bit mono WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(rate * seconds))
    return path


class FakeRender:
    """Stands in for Station.render_text: the length of a bulletin comes from `lengths[text]`."""

    def __init__(self, station, player_durations: dict[str, float]) -> None:
        self.station = station
        self.lengths: dict[str, float] = {}
        self.fail: dict[str, str] = {}
        self.durations = player_durations
        self.calls = 0

    def __call__(self, text, *, out=None, engine=None, jingles=True, space_check=True, voice=None,
                 progress=None) -> RenderOutcome:
        from broadcaster.exceptions import SpeechError

        self.calls += 1
        if text in self.fail:
            raise SpeechError(self.fail[text])
        length = self.lengths.get(text, 60.0)
        path = write_wav(self.station.settings.cache_dir / "items" / f"fake-{abs(hash(text))}.wav")
        self.durations[str(path)] = length
        if progress is not None:  # as render_text reports a finished item
            progress(1.0)
        return RenderOutcome(
            path=path, spoken_text=text, engine="fake", duration_s=length, integrated_lufs=-16.0, true_peak_dbtp=-1.0
        )


def add(station, render: FakeRender, title: str, seconds: float, *, approve: bool = True, **fields):
    """A bulletin whose rendered item lasts `seconds`; approved (and rendered) by default."""
    text = f"Nội dung {title}"
    render.lengths[text] = seconds
    bulletin = station.add_bulletin(title=title, text=text, approve=approve, **fields)
    time.sleep(0.002)  # distinct approval times, so the order by approval is defined
    return bulletin


VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args) -> datetime:
    """An aware station-local datetime."""
    return datetime(*args, tzinfo=VN)
