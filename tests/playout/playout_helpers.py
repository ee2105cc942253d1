"""Signals and measurements for the playout tests: rendered test items and what a card heard."""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

RATE = 48000
AMPLITUDE = 0.5

# parameters for the `sink` fixture (tests/playout/conftest.py)
ALL_SINKS = ["memory", "alsa-file", pytest.param("pulse", marks=pytest.mark.paced)]
PACED_SINKS = ["memory", pytest.param("pulse", marks=pytest.mark.paced)]


def tone(hz: float, seconds: float, *, amplitude: float = AMPLITUDE, rate: int = RATE) -> np.ndarray:
    """A 16-bit sine tone. The phase offset keeps the first sample non-zero, so an item's start is findable."""
    t = np.arange(round(seconds * rate)) / rate
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * hz * t + 0.7)).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, *, rate: int = RATE, sampwidth: int = 2) -> Path:
    """Write int16 samples (frames,) or (frames, channels) as a PCM WAV, like the renderer does."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(sampwidth)
        out.setframerate(rate)
        if sampwidth == 2:
            out.writeframes(samples.astype("<i2").tobytes())
        else:
            out.writeframes((samples.astype(np.int32) // 256 + 128).astype(np.uint8).tobytes())
    return path


def mono(heard: np.ndarray) -> np.ndarray:
    """The one signal a (frames, channels) capture carries; every channel must carry the same."""
    if heard.ndim == 1:
        return heard
    for channel in range(1, heard.shape[1]):
        assert np.array_equal(heard[:, channel], heard[:, 0]), f"channel {channel} differs from channel 0"
    return heard[:, 0]


def locate(heard: np.ndarray, item: np.ndarray, *, start: int = 0, length: int | None = None) -> int | None:
    """Index in `heard` (at or after `start`) where the first `length` samples of `item` occur exactly."""
    length = len(item) if length is None else length
    head = item[: min(16, length)]
    rest = heard[start:]
    candidates = np.flatnonzero(rest == head[0])
    if len(candidates) and len(rest) >= len(head):
        # keep the candidates whose first 16 samples match (a sine starts at 0, and a recording holds
        # long runs of zeros: comparing 0.5 s at each of them made one call take seconds)
        candidates = candidates[candidates <= len(rest) - len(head)]
        windows = np.lib.stride_tricks.sliding_window_view(rest, len(head))[candidates]
        candidates = candidates[np.all(windows == head, axis=1)]
    candidates = candidates + start
    for index in candidates:
        if np.array_equal(heard[index : index + length], item[:length]):
            return int(index)
    return None


def find_aired(
    heard: np.ndarray, item: np.ndarray, *, start: int = 0, dropouts: bool = False
) -> tuple[int, int] | None:
    """(first, end): where `item` is in `heard` at or after `start`, or None.

    Without dropouts the item must be there whole, sample for sample (`end - first == len(item)`).
    With dropouts (the card reported running dry: its client was starved of CPU) what was heard
    from the first sound on must still be made only of the item's own samples, exact and in
    order, but stretches of it may be missing or replaced by silence: `end` is past the last
    piece of it, and at least half of the item must be there.
    """
    if not dropouts:
        first = locate(heard, item, start=start)
        return None if first is None else (first, first + len(item))
    loud = np.flatnonzero(heard[start:])
    if not len(loud):
        return None
    first = at = int(loud[0]) + start
    end, next_k, matched = first, 0, 0
    while at < len(heard) and next_k < len(item):
        if heard[at] == 0:
            at += 1
            continue
        window = heard[at : at + min(16, len(heard) - at)]
        later = np.flatnonzero(item[next_k:] == window[0]) + next_k
        k = next((int(c) for c in later if np.array_equal(item[c : c + len(window)], window)), None)
        if k is None:
            break  # not the item (what follows it, or foreign sound: the caller's checks tell)
        run = len(window)
        while at + run < len(heard) and k + run < len(item) and heard[at + run] == item[k + run]:
            run += 1
        at, end, next_k, matched = at + run, at + run, k + run, matched + run
    return (first, end) if matched * 2 >= len(item) else None


def rms(samples: np.ndarray) -> float:
    """Root mean square, relative to full scale."""
    return float(np.sqrt(np.mean((samples.astype(np.float64) / 32768.0) ** 2)))


def dominant_hz(samples: np.ndarray, *, rate: int = RATE) -> float:
    """Frequency of the strongest FFT bin (Hann window)."""
    x = samples.astype(np.float64) * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.argmax(spectrum) * rate / len(samples))


def last_sound(heard: np.ndarray, *, threshold: int = 0) -> int:
    """Index of the last sample above `threshold` in magnitude (-1 if none)."""
    loud = np.flatnonzero(np.abs(heard.astype(np.int32)) > threshold)
    return int(loud[-1]) if len(loud) else -1


def file_capture_asoundrc(path: Path) -> str:
    """An ~/.asoundrc whose default device writes a WAV of everything played, with no pacing."""
    return f'pcm.!default {{ type file; slave.pcm "null"; file "{path}"; format "wav" }}\n'


class FakeToneInput:
    """The input-device boundary (a microphone): delivers a 700 Hz tone of `seconds` block by block
    from its own thread in real time, like PortAudio's callback. Pass it, or a functools.partial
    of it with another length, as MicSource's stream_factory."""

    def __init__(self, *, callback, finished_callback, blocksize, samplerate, seconds: float = 30.0, **_):
        self.callback, self.finished = callback, finished_callback
        self.blocksize, self.rate = blocksize, samplerate
        self.signal = tone(700, seconds)
        self._halt = threading.Event()

    def start(self):
        def run():
            pos = 0
            while not self._halt.is_set() and pos < len(self.signal):
                block = self.signal[pos : pos + self.blocksize][:, None]
                self.callback(block, len(block), None, None)
                pos += len(block)
                time.sleep(self.blocksize / self.rate)
            self.finished()

        threading.Thread(target=run, daemon=True).start()

    def abort(self):
        self._halt.set()

    close = abort
