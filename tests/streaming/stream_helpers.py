"""A listener of an Icecast mount (ffmpeg decoding the listen URL to raw PCM) and what it heard."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np

from broadcaster.media import ffmpeg_exe

RATE = 48000


class Listener:
    """ffmpeg decoding http://HOST:PORT/MOUNT to a raw s16le mono file, like a receiver does."""

    def __init__(self, url: str, path: Path) -> None:
        self.url, self.path = url, Path(path)
        self.proc = subprocess.Popen(
            [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-fflags", "nobuffer",
             "-probesize", "8192", "-analyzeduration", "0", "-i", url, "-f", "s16le", "-ar", str(RATE),
             "-ac", "1", "-y", str(self.path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)

    def samples(self) -> np.ndarray:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return np.zeros(0, dtype=np.int16)
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")

    def wait_seconds(self, seconds: float, timeout: float = 30.0) -> None:
        """Until it has decoded this much audio (the file grows as it hears)."""
        deadline = time.monotonic() + timeout
        while len(self.samples()) < seconds * RATE:
            assert self.proc.poll() is None or len(self.samples()) >= seconds * RATE, (
                f"listener of {self.url} ended: {self.proc.stderr.read().decode(errors='replace')[-400:]}")
            assert time.monotonic() < deadline, f"listener of {self.url} heard only {len(self.samples()) / RATE:.1f} s"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stderr.close()


def dominant_hz(samples: np.ndarray, rate: int = RATE) -> float:
    x = samples.astype(np.float64) * np.hanning(len(samples))
    return float(np.argmax(np.abs(np.fft.rfft(x))) * rate / len(samples))


def tone_windows(samples: np.ndarray, *, window_s: float = 0.25, min_level: int = 1500) -> list[float]:
    """The dominant frequency of each loud window (a quarter second), in order; quiet ones are left out."""
    n = int(window_s * RATE)
    out = []
    for start in range(0, len(samples) - n + 1, n):
        w = samples[start:start + n]
        if np.sqrt(np.mean(w.astype(np.float64) ** 2)) >= min_level:
            out.append(dominant_hz(w))
    return out


def hears(samples: np.ndarray, hz: float, *, windows: int = 4, tolerance: float = 12.0) -> bool:
    """At least `windows` loud quarter-seconds whose strongest frequency is `hz`."""
    return sum(abs(f - hz) <= tolerance for f in tone_windows(samples)) >= windows


def tone(hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.astype("<i2").tobytes())
    return path
