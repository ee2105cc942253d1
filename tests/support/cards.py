"""A sound card per process for tests with many players (the station, each loudspeaker cluster):
ALSA's file capture in a HOME of its own, watched while it grows so each sample has a wall time.

    card = FileCard(tmp_path / "rx-a1")          # card.home/.asoundrc → card.path (a WAV)
    proc = subprocess.Popen([...], env=card.env(base_env))
    watch = CaptureWatch([card]).start()          # one thread tails every card's file
    ...
    audio = watch.samples(card)                   # int16 mono, everything captured so far
    t = watch.wall_time(card, frame)              # when that frame reached the file (time.time())
    tone_windows(audio, 440)                      # which 50 ms windows carry a 440 Hz tone

The file device sits on ALSA's `null`, which takes audio as fast as it is written; the player holds
such a sink to the wall clock (playout/line.py, 0.25 s ahead), so the file grows in real time and a
frame's arrival in it is when the player handed it to the card. The watcher reads each file
incrementally (~20 ms polls) and keeps the audio it read, so a card closed and reopened (the file
truncated and started again) loses nothing already seen.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 48000
WINDOW_S = 0.05


def file_capture_asoundrc(path: Path) -> str:
    """The default ALSA device writes a WAV of everything played (the same as tests/playout's)."""
    return f'pcm.!default {{ type file; slave.pcm "null"; file "{path}"; format "wav" }}\n'


@dataclass
class FileCard:
    """A HOME whose ~/.asoundrc sends ALSA's default device to `<directory>/card.wav`."""

    directory: Path
    name: str = ""

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        self.name = self.name or self.directory.name
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / ".asoundrc").write_text(file_capture_asoundrc(self.path), encoding="utf-8")

    @property
    def home(self) -> Path:
        return self.directory / "home"

    @property
    def path(self) -> Path:
        return self.directory / "card.wav"

    def env(self, base: dict) -> dict:
        """`base` with HOME here (and no PulseAudio server that would take the default device)."""
        env = {k: v for k, v in base.items() if not k.startswith("PULSE_")}
        env["HOME"] = str(self.home)
        return env


def _data_offset(head: bytes) -> tuple[int, int, int] | None:
    """(offset of the audio, rate, channels) from a WAV header, or None while it is incomplete."""
    if len(head) < 12:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("the capture is not a WAV file")
    pos, rate, channels = 12, RATE, 1
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        if chunk == b"fmt ":
            if len(head) < pos + 8 + 16:
                return None
            channels = int.from_bytes(head[pos + 10 : pos + 12], "little")
            rate = int.from_bytes(head[pos + 12 : pos + 16], "little")
        elif chunk == b"data":
            return pos + 8, rate, channels
        pos += 8 + size + (size & 1)
    return None


@dataclass
class _Tail:
    card: FileCard
    offset: int = 0  # bytes of the current file already read
    start: int | None = None  # where the current file's audio starts
    rate: int = RATE
    channels: int = 1
    rest: bytes = b""
    chunks: list = field(default_factory=list)  # int16 mono arrays, in order
    frames: int = 0  # frames read so far, over every file generation
    marks: list = field(default_factory=list)  # (time.time(), frames) after each read that got audio
    generations: int = 0


class CaptureWatch:
    """Tails the capture files of some cards from one thread; every frame read gets the wall time
    of the poll that found it (an upper bound, ~20 ms late at most plus the file's write granularity)."""

    def __init__(self, cards: list[FileCard], poll_s: float = 0.02) -> None:
        self._tails = {card.name: _Tail(card) for card in cards}
        self.poll_s = poll_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="capture-watch")

    def add(self, card: FileCard) -> None:
        with self._lock:
            self._tails[card.name] = _Tail(card)

    def start(self) -> "CaptureWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self.poll()  # what arrived since the last poll

    def __enter__(self) -> "CaptureWatch":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.poll()

    def poll(self) -> None:
        with self._lock:
            for tail in self._tails.values():
                self._read(tail)

    @staticmethod
    def _read(tail: _Tail) -> None:
        try:
            fd = os.open(tail.card.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            if size < tail.offset:  # the card was reopened: a new file from its header on
                tail.offset, tail.start, tail.rest = 0, None, b""
                tail.generations += 1
            if tail.start is None:
                head = os.pread(fd, 4096, 0)
                parsed = _data_offset(head)
                if parsed is None:
                    return
                tail.start, tail.rate, tail.channels = parsed
                tail.offset = tail.start
            if size <= tail.offset:
                return
            data = tail.rest + os.pread(fd, size - tail.offset, tail.offset)
            tail.offset = size
        finally:
            os.close(fd)
        frame_bytes = 2 * tail.channels
        usable = len(data) - len(data) % frame_bytes
        tail.rest = data[usable:]
        if not usable:
            return
        block = np.frombuffer(data[:usable], dtype="<i2").reshape(-1, tail.channels)
        mono = block[:, 0].copy() if tail.channels == 1 else block.mean(axis=1).astype(np.int16)
        tail.chunks.append(mono)
        tail.frames += len(mono)
        tail.marks.append((time.time(), tail.frames))

    # ------------------------------------------------------------------ what was captured
    def frames(self, card: FileCard) -> int:
        with self._lock:
            return self._tails[card.name].frames

    def samples(self, card: FileCard, since_frame: int = 0) -> np.ndarray:
        """The mono int16 audio captured so far (from `since_frame` on)."""
        with self._lock:
            tail = self._tails[card.name]
            if len(tail.chunks) > 1:
                tail.chunks[:] = [np.concatenate(tail.chunks)]
            audio = tail.chunks[0] if tail.chunks else np.zeros(0, np.int16)
        return audio[since_frame:]

    def frame_at(self, card: FileCard, wall: float) -> int:
        """How many frames had been captured at wall time `wall` (time.time())."""
        with self._lock:
            marks = list(self._tails[card.name].marks)
        seen = 0
        for t, frames in marks:
            if t > wall:
                break
            seen = frames
        return seen

    def wall_time(self, card: FileCard, frame: int) -> float | None:
        """time.time() of the poll that first saw `frame` (None: not captured yet)."""
        with self._lock:
            marks = list(self._tails[card.name].marks)
        for t, frames in marks:
            if frames > frame:
                return t
        return None

    def generations(self, card: FileCard) -> int:
        with self._lock:
            return self._tails[card.name].generations


# ---------------------------------------------------------------------- analysis
def tone_windows(audio: np.ndarray, hz: float, *, rate: int = RATE, window_s: float = WINDOW_S,
                 min_rms: float = 300.0, share: float = 0.5) -> np.ndarray:
    """One bool per `window_s` window: the window is loud (RMS ≥ min_rms of 32767) and at least
    `share` of its energy lies within ±40 Hz of `hz` (a tone survives MP3/Opus coding like that)."""
    n = int(rate * window_s)
    count = len(audio) // n
    if count == 0:
        return np.zeros(0, bool)
    x = audio[: count * n].astype(np.float64).reshape(count, n)
    rms = np.sqrt(np.mean(x * x, axis=1))
    spectrum = np.abs(np.fft.rfft(x * np.hanning(n), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / rate)
    band = np.abs(freqs - hz) <= 40
    total = spectrum.sum(axis=1) + 1e-12
    return (rms >= min_rms) & (spectrum[:, band].sum(axis=1) / total >= share)


def loud_windows(audio: np.ndarray, *, rate: int = RATE, window_s: float = WINDOW_S, min_rms: float = 300.0) -> np.ndarray:
    n = int(rate * window_s)
    count = len(audio) // n
    if count == 0:
        return np.zeros(0, bool)
    x = audio[: count * n].astype(np.float64).reshape(count, n)
    return np.sqrt(np.mean(x * x, axis=1)) >= min_rms


def tone_seconds(audio: np.ndarray, hz: float, **kw) -> float:
    """How many seconds of `audio` carry the tone."""
    return float(tone_windows(audio, hz, **kw).sum()) * kw.get("window_s", WINDOW_S)


def first_window(flags: np.ndarray, *, run: int = 2) -> int | None:
    """The index of the first of `run` consecutive True windows (None: there is none)."""
    if len(flags) < run:
        return None
    hits = np.flatnonzero(np.convolve(flags.astype(int), np.ones(run, int), "valid") == run)
    return int(hits[0]) if len(hits) else None


def first_loud_frame(audio: np.ndarray, *, threshold: int = 1000) -> int | None:
    """The first sample whose magnitude passes `threshold` (an onset out of digital silence)."""
    hits = np.flatnonzero(np.abs(audio.astype(np.int32)) >= threshold)
    return int(hits[0]) if len(hits) else None


def write_tone(path: Path, hz: float, seconds: float, *, amplitude: float = 0.3, rate: int = RATE) -> Path:
    """A mono 16-bit WAV of a sine tone."""
    import wave

    t = np.arange(round(seconds * rate)) / rate
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.round(amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes())
    return Path(path)


__all__ = ["CaptureWatch", "FileCard", "file_capture_asoundrc", "first_loud_frame", "first_window", "loud_windows",
           "tone_seconds", "tone_windows", "write_tone"]
