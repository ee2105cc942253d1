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
from ..disk import Writeback
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
    copy: Path | None = None  # the same bytes, written alongside (ItemSink's copy_path)


class ItemSink:
    """A 16-bit mono WAV at ``rate`` written chunk by chunk, in stretches (``segment``) that may be
    at another rate: a resampler on its own thread converts those and writes them into the file,
    where the item has reached (audio/resample.py). Loudness and true peak are measured on the
    samples of every stretch at its own rate as they are written, the loudness gated over all of
    them together. A resampled stretch's true peak is its own before resampling, read at 8 points
    per sample: on ten espeak-ng bulletins the file's own figure (4x at 48 kHz) was within 0.005 dB
    of it.

    ``copy_path``: a second file written with the same bytes as they come (the officer's copy of
    the item, where a copy after the render would read the whole item again and wait for its own
    flush). The disk starts writing both while they are made (disk.Writeback)."""

    def __init__(self, path: Path, rate: int, ceiling_db: float, *, copy_path: Path | None = None) -> None:
        self.path = path
        self.copy_path = copy_path
        self.rate = rate
        self.ceiling_db = ceiling_db
        self.meters: list[BlockMeter] = []  # one per stretch, in the file's order
        self.peak_meters: list[PeakMeter] = []  # likewise
        self.frames = 0
        self._outs: list[tuple[Path, int, Writeback]] = []  # (path, fd, its writeback), the item's first
        self._meter: BlockMeter | None = None
        self._peaks: PeakMeter | None = None
        self._resampler = None

    @property
    def _fd(self) -> int | None:
        """The item file's descriptor (None once closed)."""
        return self._outs[0][1] if self._outs else None

    def __enter__(self) -> ItemSink:
        for path in [self.path] + ([self.copy_path] if self.copy_path is not None else []):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o644)
            except OSError as exc:
                self._abort()
                raise self._cannot_write(exc, path) from exc
            self._outs.append((path, fd, Writeback(fd)))
        try:
            self._write_all(_wav_header(self.rate, 0))
        except AudioError:
            self._abort()
            raise
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
            self._resampler = Resampler(rate, self.rate, self._write_pcm)

    def _end_resampled(self) -> None:
        if self._resampler is None:
            return
        resampler, self._resampler = self._resampler, None
        resampler.close()  # its last samples; a write that failed there is raised here
        self.frames += resampler.frames

    def add(self, samples: np.ndarray) -> None:
        # measured before the 16-bit rounding: it moves the loudness by under 1e-4 LU and a peak
        # by under 0.001 dB (and clips nothing the limiter let through)
        self._meter.add(samples)
        self._peaks.add(samples)
        if self._resampler is not None:  # rounded to 16 bits after its resampling
            self._resampler.feed(samples)
            return
        pcm = media.to_int16(samples)
        self._write_pcm(pcm)
        self.frames += len(pcm)

    def _write_pcm(self, pcm: np.ndarray) -> None:
        """16-bit samples into every file, where the item has reached (the resampler's thread
        calls this too, never at the same time as this one's)."""
        self._write_all(pcm.tobytes())

    def _cannot_write(self, exc: OSError, path: Path) -> AudioError:
        return AudioError(f"Không ghi được tệp âm thanh {path}: {exc.strerror or exc}")

    def _write_all(self, data: bytes) -> None:
        for path, fd, writeback in self._outs:
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(fd, view):]
            except OSError as exc:
                raise self._cannot_write(exc, path) from exc
            writeback.wrote(len(data))

    def __exit__(self, exc_type, *exc_info) -> None:
        try:
            if exc_type is None:
                self._end_resampled()  # its last samples (its error is raised here)
                header = _wav_header(self.rate, self.frames)
                for path, fd, _ in self._outs:
                    try:
                        os.lseek(fd, 0, os.SEEK_SET)
                        view = memoryview(header)
                        while view:
                            view = view[os.write(fd, view):]
                    except OSError as exc:
                        raise self._cannot_write(exc, path) from exc
        except BaseException:
            self._abort()
            raise
        if exc_type is not None:
            self._abort()
            return
        self._close_fds()

    def _abort(self) -> None:
        if self._resampler is not None:
            self._resampler.abort()
            self._resampler = None
        paths = [path for path, _, _ in self._outs]
        self._close_fds()
        for path in paths:
            path.unlink(missing_ok=True)

    def _close_fds(self) -> None:
        outs, self._outs = self._outs, []
        for _, fd, _ in outs:
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
        return Written(self.path, gain_db, clip, lufs, _to_db(true_peak), target - lufs, self.frames, self.copy_path)


_RESAMPLED_OVERSAMPLE = 8


def _wav_header(rate: int, frames: int) -> bytes:
    """The 44-byte header of a 16-bit mono PCM WAV of ``frames`` frames."""
    data = 2 * frames
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + data, b"WAVE", b"fmt ", 16, 1, 1, rate, 2 * rate, 2,
                       16, b"data", data)
