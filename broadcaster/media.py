"""Decoding and writing audio files with the ffmpeg binary from imageio-ffmpeg.

This is the only place that runs ffmpeg, and it never needs ffprobe (which
imageio-ffmpeg does not ship): we always tell ffmpeg the output format ourselves.
Samples in the project are float32 numpy arrays shaped (frames,) for mono or
(frames, channels), values in [-1, 1].
"""

from __future__ import annotations

import subprocess
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from .exceptions import AudioError


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped in the imageio-ffmpeg wheel."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def configure_pydub() -> None:
    """Point pydub at our ffmpeg. pydub then decodes MP3 without ffprobe when given codec=."""
    from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_exe()


def decode(source: Path | str | bytes, *, sample_rate: int, channels: int = 1) -> np.ndarray:
    """Decode a file path or in-memory bytes (MP3, WAV, M4A, OGG…) to float32 samples.

    Returns shape (frames,) when channels == 1, else (frames, channels).
    Raises AudioError with the file name and ffmpeg's reason when it cannot be decoded.
    """
    if isinstance(source, (bytes, bytearray)):
        input_arg, stdin, label = "pipe:0", bytes(source), "dữ liệu âm thanh"
    else:
        path = Path(source)
        if not path.is_file():
            raise AudioError(f"Không tìm thấy tệp âm thanh: {path}", path=str(path))
        input_arg, stdin, label = str(path), None, str(path)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-i", input_arg, "-vn", "-f", "f32le", "-acodec", "pcm_f32le",
        "-ac", str(channels), "-ar", str(sample_rate), "pipe:1",
    ]
    try:
        run = subprocess.run(cmd, input=stdin, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(f"Không chạy được ffmpeg để giải mã {label}: {exc}") from exc
    if run.returncode != 0 or not run.stdout:
        reason = run.stderr.decode("utf-8", "replace").strip().splitlines()
        why = reason[-1] if reason else "không có dữ liệu âm thanh"
        raise AudioError(f"Không giải mã được {label}: {why}", path=label)
    samples = np.frombuffer(run.stdout, dtype="<f4").astype(np.float32)
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    return samples


def decoded_seconds(path: Path | str, *, sample_rate: int = 8000, timeout_s: float = 600) -> float:
    """How many seconds of audio ffmpeg decodes from a file on disk (never a pipe: a phone's M4A keeps
    its index at the end, which ffmpeg can only reach by seeking). The samples are counted as they
    come and not kept, so a 30-minute recording costs no memory. AudioError (one line, without
    ffmpeg's text) when the file cannot be decoded."""
    import tempfile
    import time

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"Không tìm thấy tệp âm thanh: {path}", path=str(path))
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-i", str(path), "-vn", "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1",
    ]
    total = 0
    deadline = time.monotonic() + timeout_s
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise AudioError(f"Không chạy được ffmpeg để đọc {path.name}", path=str(path)) from exc
        with proc:
            assert proc.stdout is not None
            for chunk in iter(lambda: proc.stdout.read(1 << 16), b""):
                total += len(chunk)
                if time.monotonic() > deadline:
                    proc.kill()
                    raise AudioError(f"Đọc tệp âm thanh {path.name} quá lâu", path=str(path))
            code = proc.wait()
        errors.seek(0)
        why = errors.read(4000).decode("utf-8", "replace").strip()
    if code != 0 or total == 0:
        log_reason = why.splitlines()[-1] if why else "no audio"
        raise AudioError(f"Không giải mã được {path.name}", path=str(path), reason=log_reason)
    return total / 2 / sample_rate


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples to 16-bit PCM with rounding and clipping at full scale."""
    y = np.multiply(samples, 32767.0)  # a new array: rounded and clipped in place (one buffer, not three)
    np.rint(y, out=y)
    np.clip(y, -32768, 32767, out=y)
    return y.astype("<i2")


def write_wav(path: Path | str, samples: np.ndarray, *, sample_rate: int) -> Path:
    """Write 16-bit PCM WAV atomically (temp file + rename): never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    from .disk import part_file

    try:
        with part_file(path) as tmp, wave.open(str(tmp), "wb") as out:  # a full disk leaves no .part behind
            out.setnchannels(channels)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(to_int16(samples).tobytes())
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp âm thanh {path}: {exc.strerror or exc}", path=str(path)) from exc
    return path


def read_wav(path: Path | str) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV (what we write) into float32; other files go through decode()."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise wave.Error("not 16-bit")
            rate, channels = wav.getframerate(), wav.getnchannels()
            data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioError(f"Không đọc được tệp WAV {path}: {exc}", path=str(path)) from exc
    samples = data.astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels)
    return samples, rate
