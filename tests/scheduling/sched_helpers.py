"""Fakes for the scheduling tests: playout and rendering are boundaries here.

FakePlayer "plays" a file by letting its length pass on the injected clock and records
what it played; fake_render gives every bulletin a tiny real WAV and a chosen length,
so programmes have real durations without a speech engine.
"""

from __future__ import annotations

import threading
import time
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.service import RenderOutcome


@dataclass(frozen=True)
class FakeResult:
    """The fields Station.play_file reads from a player's result."""

    status: str
    reason: str | None
    frames: int
    started_at: datetime
    ended_at: datetime


class FakePlayer:
    """Records (path, start, end) per item; each item lasts `durations[path]` seconds of clock time."""

    def __init__(self, clock, durations: dict[str, float] | None = None, *, fail_open: bool = False) -> None:
        self.clock = clock
        self.durations = durations if durations is not None else {}
        self.fail_open = fail_open
        self.is_open = False
        self.played: list[tuple[str, datetime, datetime]] = []
        self.lock = threading.Lock()

    def open(self) -> None:
        from broadcaster.exceptions import PlayoutError

        if self.fail_open:
            raise PlayoutError("no card in this test")
        self.is_open = True

    def close(self) -> None:
        self.is_open = False

    def play(self, path, *, on_start=None, timeout=None) -> FakeResult:
        length = self.durations.get(str(path), 1.0)
        status, reason = "aired", None
        if timeout is not None and length > timeout:
            length, status, reason = timeout, "interrupted", f"Quá thời gian phát ({timeout:g} s)"
        if on_start is not None:
            on_start()
        started = self.clock.now()
        self.clock.sleep(length)
        ended = self.clock.now()
        with self.lock:
            self.played.append((str(path), started, ended))
        return FakeResult(status, reason, 0, started, ended)


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

    def __call__(self, text, *, out=None, engine=None, jingles=True, space_check=True) -> RenderOutcome:
        from broadcaster.exceptions import SpeechError

        self.calls += 1
        if text in self.fail:
            raise SpeechError(self.fail[text])
        length = self.lengths.get(text, 60.0)
        path = write_wav(self.station.settings.cache_dir / "items" / f"fake-{abs(hash(text))}.wav")
        self.durations[str(path)] = length
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


def wait_for(predicate, timeout: float = 10.0, step: float = 0.01):
    """Poll until predicate() is truthy (returns it) or fail after `timeout` real seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args) -> datetime:
    """An aware station-local datetime."""
    return datetime(*args, tzinfo=VN)
