"""What the player airs: the Source interface, and a WAV file read block by block.

Files, network streams (live.StreamSource) and the microphone (live.MicSource) are all
Sources; the player reads them from the caller's thread, never from the sound card's callback.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Protocol

import numpy as np

from ..exceptions import AudioError


class Source(Protocol):
    """Audio the player can air: a WAV file, a network stream, a microphone.

    The player owns a source once it is handed to play_source(): it reads it from the
    caller's thread (never from the sound card's callback) and closes it at the end.
    """

    label: str  # what the log says is playing (a path, a URL, "micro")
    channels: int  # channels of the arrays read() returns (the player maps them to the card's)
    live: bool  # produces audio in real time: read() returns None while nothing has arrived yet
    check_silence: bool  # whether dead air on this source is a fault (not for a microphone)

    def read(self, frames: int) -> np.ndarray | None:
        """Up to `frames` frames, int16 shaped (n, channels); empty at the end; None (live
        sources only) when nothing is available yet. Raises AudioError when the source breaks."""

    def close(self) -> None:
        """Release the file, process or device. Safe to call twice."""



def match_channels(data: np.ndarray, out_channels: int) -> np.ndarray:
    """int16 frames (n, channels) mapped to `out_channels`: mono is copied, stereo averaged."""
    channels = data.shape[1]
    if channels == out_channels:
        return data
    if channels == 1:
        return np.repeat(data, out_channels, axis=1)
    mono = data.astype(np.int32).sum(axis=1) // channels
    return np.repeat(mono.astype(np.int16)[:, None], out_channels, axis=1)


class WavReader:
    """A 16-bit PCM WAV read block by block, with its channels mapped to the stream's (a Source)."""

    live = False
    check_silence = True

    def __init__(self, path: Path, *, sample_rate: int, out_channels: int) -> None:
        self.path = path
        self.label = str(path)
        if not path.is_file():
            raise AudioError(f"Không tìm thấy tệp âm thanh: {path}", path=str(path))
        try:
            self._wav = wave.open(str(path), "rb")
        except (wave.Error, EOFError, OSError) as exc:
            raise AudioError(f"Không đọc được tệp WAV {path}: {exc}", path=str(path)) from exc
        try:
            width, rate = self._wav.getsampwidth(), self._wav.getframerate()
            self.channels, self.nframes = self._wav.getnchannels(), self._wav.getnframes()
            if width != 2:
                raise AudioError(f"Tệp {path} không phải WAV 16-bit PCM ({8 * width}-bit)", path=str(path))
            if rate != sample_rate:
                raise AudioError(
                    f"Tệp {path} có tần số lấy mẫu {rate} Hz, cần {sample_rate} Hz (hãy dựng lại bản tin)",
                    path=str(path),
                )
            if self.channels not in (1, 2):
                raise AudioError(f"Tệp {path} có {self.channels} kênh, chỉ phát được 1 hoặc 2", path=str(path))
            if self.nframes == 0:
                raise AudioError(f"Tệp âm thanh rỗng: {path}", path=str(path))
        except BaseException:
            self._wav.close()
            raise
        self.out_channels = out_channels

    def read(self, frames: int) -> np.ndarray:
        """Up to `frames` frames shaped (n, out_channels) int16; empty at the end of the file."""
        try:
            raw = self._wav.readframes(frames)
        except (wave.Error, EOFError, OSError) as exc:
            raise AudioError(f"Lỗi đọc tệp WAV {self.path}: {exc}", path=str(self.path)) from exc
        width = 2 * self.channels
        raw = raw[: len(raw) - len(raw) % width]  # a truncated file may end mid-frame
        data = np.frombuffer(raw, dtype="<i2").reshape(-1, self.channels)
        return match_channels(data, self.out_channels)

    def close(self) -> None:
        """Release the file."""
        self._wav.close()



__all__ = ["Source", "WavReader", "match_channels"]
