"""The pieces of a receiver test: a tone (or silence) sent to Icecast as the station would, the
`broadcaster receiver` command in a subprocess with an ALSA file capture as its card, and readers
for what it heard (the capture) and logged (its own database)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
from support import waiting
from support.pulse import read_wav_lenient

MOUNT = "/dai.mp3"

RATE = 48000
TONE_HZ = 1000
LOUD = 3000  # a sample louder than this is the tone (amplitude ~0.5 full scale), never MP3 noise of silence


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


class IcecastSource:
    """ffmpeg playing a 1 kHz tone (or silence) in real time into an Icecast mount, as the fan-out does."""

    def __init__(self, source_url: str, *, silent: bool = False) -> None:
        signal_ = "anullsrc=r=48000:cl=mono" if silent else f"sine=frequency={TONE_HZ}:sample_rate={RATE}"
        self.proc = subprocess.Popen(
            [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", signal_,
             "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", "-content_type", "audio/mpeg", "-f", "mp3",
             source_url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class ReceiverProcess:
    """`broadcaster receiver …` in a subprocess whose ALSA default card writes a WAV (`capture`)."""

    def __init__(self, tmp: Path, *, station: str, token: str | None, name: str, zone: str | None = None,
                 extra: list[str] = (), data_dir: Path | None = None, asoundrc: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.home = tmp / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.capture = tmp / "captured.wav"
        (self.home / ".asoundrc").write_text(asoundrc or
            f'pcm.!default {{ type file; slave.pcm "null"; file "{self.capture}"; format "wav" }}\n')
        self.data_dir = data_dir or tmp / "receiver-data"
        self.out = tmp / "receiver.out"
        self.err = tmp / "receiver.err"
        args = ["receiver", "--station", station, "--name", name, "--data-dir", str(self.data_dir), *extra]
        if token is not None:
            args += ["--token", token]
        if zone is not None:
            args += ["--zone", zone]
        extra_env = env or {}  # e.g. PULSE_SERVER (a PulseAudio card), BROADCASTER_DEVICE_RETRY_S
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
        env.update(HOME=str(self.home), BROADCASTER_ENGINE_ORDER='["espeak"]', COLUMNS="200", **extra_env)
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "broadcaster.cli.entry", *args], env=env,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)

    # ------------------------------------------------------------------ its life
    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"the receiver did not stop within {timeout:g} s on SIGTERM")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    # ------------------------------------------------------------------ what it heard
    def frames(self) -> int:
        """Frames the card has taken so far (the player keeps real time on this unpaced device)."""
        try:
            size = self.capture.stat().st_size
        except FileNotFoundError:
            return 0
        return max(0, size - 44) // (2 * self.channels())

    def channels(self) -> int:
        try:
            return read_wav_lenient(self.capture)[2]
        except (OSError, ValueError):
            return 2

    def heard(self) -> np.ndarray:
        """Channel 0 of the capture, int16."""
        data, rate, _ = read_wav_lenient(self.capture)
        assert rate == RATE
        return data[:, 0]

    def tone_from(self, start: int) -> int | None:
        """Index of the first tone sample at or after frame `start`, or None."""
        heard = self.heard()[start:]
        loud = np.flatnonzero(np.abs(heard.astype(np.int32)) > LOUD)
        return start + int(loud[0]) if len(loud) else None

    # ------------------------------------------------------------------ what it logged
    def rows(self) -> list[dict]:
        """Its as-run rows, read straight from its database (read-only, while it runs)."""
        db = self.data_dir / "broadcaster.db"
        if not db.is_file():
            return []
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
                conn.row_factory = sqlite3.Row
                return [dict(r) for r in conn.execute(
                    "SELECT id, title, path, kind, status, reason, started_at, ended_at FROM as_run ORDER BY id")]
        except sqlite3.Error:
            return []


def dominant_hz(samples: np.ndarray, rate: int = RATE) -> float:
    x = samples.astype(np.float64) * np.hanning(len(samples))
    return float(np.argmax(np.abs(np.fft.rfft(x))) * rate / len(samples))


def wait_for(predicate, timeout: float, what: str, step: float = 0.1):
    """support.waiting.wait_for, polling every 0.1 s (the conditions here read a database)."""
    return waiting.wait_for(predicate, timeout, what, step=step)
