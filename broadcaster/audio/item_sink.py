"""The item file as the render writes it: 16-bit mono WAV at the station's rate, stretches at
other rates resampled into it (libsoxr, audio/resample.py), with the loudness and true peak of what it holds.

Split from render.py, whose normalizer decides what to write (gain, limiter, passes); this
module only writes and measures.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import media
from ..exceptions import AudioError
from .loudness import FLOOR_DB, _to_db
from .stream import BlockMeter, PeakMeter, combined_integrated_lufs


@dataclass(frozen=True)
class Written:
    path: Path
    gain_db: float
    clip: bool
    lufs: float
    true_peak: float
    error: float  # target minus achieved, LU
    frames: int  # at the station's rate


class ItemSink:
    """A 16-bit mono WAV at ``rate`` written chunk by chunk, in stretches (``segment``) that may be
    at another rate: a resampler on its own thread converts those and writes them into the file,
    where the item has reached (audio/resample.py). Loudness and true peak are measured on the samples of every
    stretch at its own rate as they are written, the loudness gated over all of them together. A
    resampled stretch's true peak is its own before resampling, read at 8 points per sample: on
    ten espeak-ng bulletins the file's own figure (4x at 48 kHz) was within 0.005 dB of it."""

    def __init__(self, path: Path, rate: int, ceiling_db: float) -> None:
        self.path = path
        self.rate = rate
        self.ceiling_db = ceiling_db
        self.meters: list[BlockMeter] = []  # one per stretch, in the file's order
        self.peak_meters: list[PeakMeter] = []  # likewise
        self.frames = 0
        self._fd: int | None = None
        self._meter: BlockMeter | None = None
        self._peaks: PeakMeter | None = None
        self._resampler = None

    def __enter__(self) -> ItemSink:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
            self._write_all(_wav_header(self.rate, 0))
        except OSError as exc:
            self._close_fd()
            self.path.unlink(missing_ok=True)
            raise self._cannot_write(exc) from exc
        self.segment(self.rate)
        return self

    def segment(self, rate: int) -> None:
        """What follows is at ``rate``: the stretch before it is finished (its resampler done)."""
        from .resample import Resampler

        self._end_resampled()
        self._meter = BlockMeter(rate)
        self.meters.append(self._meter)
        # a stretch the file will hold resampled is read at 8 points per sample: its own 4x grid
        # (88.2 kHz at 22.05) reads peaks lower than the file's at 4x 48 kHz
        self._peaks = PeakMeter(self.ceiling_db, oversample=4 if rate == self.rate else _RESAMPLED_OVERSAMPLE)
        self.peak_meters.append(self._peaks)
        if rate != self.rate:
            self._resampler = Resampler(rate, self.rate, self._fd)

    def _end_resampled(self) -> None:
        if self._resampler is None:
            return
        resampler, self._resampler = self._resampler, None
        try:
            resampler.close()
        except OSError as exc:
            raise self._cannot_write(exc) from exc
        self.frames += resampler.frames

    def add(self, samples: np.ndarray) -> None:
        # measured before the 16-bit rounding: it moves the loudness by under 1e-4 LU and a peak
        # by under 0.001 dB (and clips nothing the limiter let through)
        self._meter.add(samples)
        self._peaks.add(samples)
        if self._resampler is not None:  # rounded to 16 bits after its resampling
            try:
                self._resampler.feed(samples)
            except OSError as exc:
                raise self._cannot_write(exc) from exc
            return
        pcm = media.to_int16(samples)
        try:
            self._write_all(pcm.tobytes())
        except OSError as exc:
            raise self._cannot_write(exc) from exc
        self.frames += len(pcm)

    def _cannot_write(self, exc: OSError) -> AudioError:
        return AudioError(f"Không ghi được tệp âm thanh {self.path}: {exc.strerror or exc}")

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def __exit__(self, exc_type, *exc_info) -> None:
        try:
            if exc_type is None:
                self._end_resampled()  # its last samples (its error is raised here)
                try:
                    os.lseek(self._fd, 0, os.SEEK_SET)
                    self._write_all(_wav_header(self.rate, self.frames))
                except OSError as exc:
                    raise self._cannot_write(exc) from exc
        except BaseException:
            self._abort()
            raise
        if exc_type is not None:
            self._abort()
            return
        self._close_fd()

    def _abort(self) -> None:
        if self._resampler is not None:
            self._resampler.abort()
            self._resampler = None
        self._close_fd()
        self.path.unlink(missing_ok=True)

    def _close_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass

    def result(self, gain_db: float, clip: bool, target: float) -> Written:
        for peaks in self.peak_meters:
            peaks.finish()
        true_peak = max(p.true_peak for p in self.peak_meters)
        lufs = combined_integrated_lufs(self.meters)
        lufs = FLOOR_DB if lufs is None else max(FLOOR_DB, lufs)
        return Written(self.path, gain_db, clip, lufs, _to_db(true_peak), target - lufs, self.frames)


_RESAMPLED_OVERSAMPLE = 8


def _wav_header(rate: int, frames: int) -> bytes:
    """The 44-byte header of a 16-bit mono PCM WAV of ``frames`` frames."""
    data = 2 * frames
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + data, b"WAVE", b"fmt ", 16, 1, 1, rate, 2 * rate, 2,
                       16, b"data", data)
