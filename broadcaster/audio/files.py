"""Reading audio files into the float32 mono arrays the rest of broadcaster/audio works on."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from .. import media
from ..exceptions import AudioError


def load_audio(path: Path | str, *, sample_rate: int) -> np.ndarray:
    """Load any audio file as mono float32 at ``sample_rate``.

    Our own renders (16-bit PCM WAV already at ``sample_rate``) are read directly; anything
    else (MP3/M4A/OGG from a phone, WAV at another rate or bit depth, stereo) is decoded and
    resampled by ffmpeg. Raises AudioError naming the path when the file is missing,
    cannot be decoded, or holds no audio.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"Không tìm thấy tệp âm thanh: {path} / audio file not found", path=str(path))
    if _is_plain_wav(path, sample_rate):
        samples, _ = media.read_wav(path)
    else:
        samples = media.decode(path, sample_rate=sample_rate, channels=1)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if samples.size == 0:
        raise AudioError(f"Tệp âm thanh không có dữ liệu: {path} / no audio in file", path=str(path))
    return np.ascontiguousarray(samples, dtype=np.float32)


#: The rates a plain WAV may have to be read as it is when any rate will do (``sample_rate`` None).
PLAIN_RATES = (8000, 192000)


def _is_plain_wav(path: Path, sample_rate: int | None) -> bool:
    """True for an uncompressed 16-bit PCM WAV at ``sample_rate`` (None: at any rate in
    PLAIN_RATES): it needs no ffmpeg process."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            return (
                wav.getsampwidth() == 2
                and (rate == sample_rate if sample_rate is not None else PLAIN_RATES[0] <= rate <= PLAIN_RATES[1])
                and wav.getcomptype() == "NONE"
            )
    except (wave.Error, EOFError, OSError):
        # Not a WAV the stdlib can read (MP3, float WAV, WAVE_FORMAT_EXTENSIBLE…): ffmpeg decides.
        return False
