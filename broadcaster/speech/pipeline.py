"""The speech render as a pipeline over pieces: the engine's threads speak, the caller's thread processes.

While the engine speaks piece k+1 (libespeak-ng and the network release the GIL), the piece
before it is checked, trimmed, faded, measured (BS.1770 block energies at the engine's own
rate, kept in the sidecar so the item render never measures the speech again) and joined to
the stream with its gap; the joined stream goes through one long-lived ffmpeg resampler, which
hands back 16-bit samples at the output rate, and a third thread writes those bytes to the WAV
as they come. Nothing holds more than a few pieces: memory does not grow with the text.
"""

from __future__ import annotations

import subprocess
import threading
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import media
from ..exceptions import SpeechError
from .base import Speech, SpeechEngine

#: Pieces spoken ahead of the one being processed (each a few seconds of audio).
_AHEAD = 2
_READ_BYTES = 1 << 16


class WriteTrouble(Exception):
    """Writing the WAV failed (disk full or failing): not the engine's fault."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class EngineTrouble(Exception):
    """The engine raised while speaking a piece; ``engine_cause`` is what it raised."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.engine_cause = cause


@dataclass(frozen=True)
class Rendered:
    """What the pipeline wrote: frames at the output rate and their integrated loudness."""

    frames: int
    integrated_lufs: float | None


def render_pieces(
    engine: SpeechEngine, pieces: Sequence[str], part: Path, *, sample_rate: int, gap_ms: float, fade_ms: float,
    prepare: Callable[..., np.ndarray], progress: Callable[[float], None] | None = None,
) -> Rendered:
    """Speak every piece with one engine into the 16-bit mono WAV ``part`` at ``sample_rate``.

    ``prepare(samples, rate, index)`` trims and fades one piece (synth.py's rules). Raises
    EngineTrouble when the engine raised, SpeechError for bad audio, WriteTrouble when the file
    cannot be written; the caller removes ``part`` then.
    """
    total = sum(len(p) for p in pieces) or 1
    spoken = _Speaker(engine, pieces)
    spoken.start()
    sink: _Sink | None = None
    done = 0
    try:
        rate: int | None = None
        for index, speech in spoken:
            if not isinstance(speech, Speech) or speech.sample_rate <= 0:
                raise SpeechError(f"bộ đọc trả về dữ liệu không hợp lệ: {type(speech).__name__}")
            if rate is None:
                rate = speech.sample_rate
                sink = _Sink(part, rate, sample_rate)
            elif speech.sample_rate != rate:
                raise SpeechError(f"tần số lấy mẫu đổi giữa các đoạn ({rate} ≠ {speech.sample_rate} Hz)")
            samples = np.asarray(speech.samples, dtype=np.float32)
            if samples.ndim != 1:
                raise SpeechError("bộ đọc trả về âm thanh nhiều kênh / engine returned non-mono audio")
            if not np.isfinite(samples).all():
                raise SpeechError("bộ đọc trả về mẫu âm thanh hỏng (NaN/inf) / engine returned NaN")
            piece = prepare(samples, rate, index)
            if index:
                sink.add(np.zeros(int(round(rate * gap_ms / 1000)), dtype=np.float32))
            sink.add(piece)
            done += len(pieces[index])
            if progress is not None:
                progress(0.99 * done / total)
        if sink is None:
            raise SpeechError("không có âm thanh / no audio")
        return sink.close()
    finally:
        spoken.stop()
        if sink is not None:
            sink.abort()


class _Speaker:
    """Synthesizes the pieces with ``engine.concurrency`` threads (1 if it does not say), a bounded
    few ahead of the consumer, and hands them over strictly in order; an error is handed over at
    its own piece, and no piece after it is taken up."""

    def __init__(self, engine: SpeechEngine, pieces: Sequence[str]) -> None:
        self.engine = engine
        self.pieces = list(pieces)
        try:
            wanted = int(getattr(engine, "concurrency", 1))
        except (TypeError, ValueError):
            wanted = 1
        self.concurrency = max(1, min(wanted, len(self.pieces)))
        # pieces taken up but not yet handed over: spoken, being spoken, or waiting for the consumer
        self.window = _AHEAD + self.concurrency
        self._ready = threading.Condition()
        self._done: dict[int, object] = {}  # index → Speech or the exception it raised
        self._next = 0  # the next piece to take up
        self._handed = 0  # pieces handed to the consumer
        self._failed_at: int | None = None
        self._stopped = False
        self._threads = [threading.Thread(target=self._run, name=f"speech-synth-{n}", daemon=True)
                         for n in range(self.concurrency)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _take(self) -> int | None:
        """The next piece for this thread, once it is at most `window` ahead; None when there is none."""
        with self._ready:
            while True:
                if self._stopped or self._next >= len(self.pieces):
                    return None
                if self._failed_at is not None and self._next > self._failed_at:
                    return None
                if self._next < self._handed + self.window:
                    index = self._next
                    self._next += 1
                    return index
                self._ready.wait()

    def _run(self) -> None:
        while (index := self._take()) is not None:
            try:
                item: object = self.engine.synthesize(self.pieces[index])
            except BaseException as exc:  # handed to the consumer, raised there
                item = exc
            with self._ready:
                self._done[index] = item
                if isinstance(item, BaseException) and (self._failed_at is None or index < self._failed_at):
                    self._failed_at = index
                self._ready.notify_all()

    def __iter__(self):
        for index in range(len(self.pieces)):
            with self._ready:
                while index not in self._done and not self._stopped:
                    self._ready.wait()
                if self._stopped:
                    return
                item = self._done.pop(index)
                self._handed = index + 1
                self._ready.notify_all()
            if isinstance(item, BaseException):
                raise EngineTrouble(item) from item
            yield index, item

    def stop(self) -> None:
        """Stop after the pieces being spoken (the consumer failed or finished)."""
        with self._ready:
            self._stopped = True
            self._done.clear()
            self._ready.notify_all()


class _Sink:
    """Joined samples at the engine's rate in, a WAV at the output rate out (resampled by ffmpeg).

    The loudness is measured on the joined samples at the engine's rate, before resampling: the
    resampler keeps everything under the engine's Nyquist frequency, and K-weighting fewer samples
    costs less than half (22.05 against 48 kHz). ffmpeg answers 16-bit samples (its conversion
    saturates an overshoot of the band-limited resampler, as to_int16 did), so the reader only
    copies bytes into the WAV."""

    def __init__(self, part: Path, in_rate: int, out_rate: int) -> None:
        from ..audio.stream import BlockMeter

        self.part = part
        self.out_rate = out_rate
        self.meter = BlockMeter(in_rate)
        self.frames = 0
        try:
            self._wav = wave.open(str(part), "wb")
        except OSError as exc:
            raise WriteTrouble(exc) from exc
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(out_rate)
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._reader_error: BaseException | None = None
        self._closed = False
        if in_rate != out_rate:
            cmd = [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
                   "-f", "s16le", "-ar", str(in_rate), "-ac", "1", "-i", "pipe:0",
                   "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(out_rate), "pipe:1"]
            try:
                self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                              stderr=subprocess.DEVNULL)
            except OSError as exc:
                self._wav.close()
                raise SpeechError(f"Không chạy được ffmpeg để đổi tần số lấy mẫu: {exc}") from exc
            self._reader = threading.Thread(target=self._read, name="speech-resample", daemon=True)
            self._reader.start()

    def add(self, samples: np.ndarray) -> None:
        if samples.size == 0:
            return
        if self._proc is None:
            self._write(samples)
            return
        pcm = media.to_int16(samples)
        self.meter.add(pcm.astype(np.float32) / np.float32(32768.0))  # what ffmpeg is fed
        try:
            self._proc.stdin.write(pcm.tobytes())
        except (BrokenPipeError, OSError) as exc:
            raise SpeechError(f"ffmpeg dừng khi đổi tần số lấy mẫu: {self._reader_error or exc}") from exc

    def _read(self) -> None:
        rest = b""
        try:
            while True:
                data = self._proc.stdout.read(_READ_BYTES)
                if not data:
                    break
                data = rest + data if rest else data
                cut = len(data) - len(data) % 2
                rest = data[cut:]
                if cut:
                    self._write_bytes(data[:cut] if rest else data)
        except BaseException as exc:  # reported by close()
            self._reader_error = exc
            self._proc.stdout.close()

    def _write(self, samples: np.ndarray) -> None:
        """No resampling (the engine speaks at the output rate): quantize, measure, write."""
        pcm = media.to_int16(samples)
        self.meter.add(pcm.astype(np.float32) / np.float32(32768.0))
        self._write_bytes(pcm.tobytes())

    def _write_bytes(self, data: bytes) -> None:
        try:
            self._wav.writeframesraw(data)
        except OSError as exc:
            raise WriteTrouble(exc) from exc
        self.frames += len(data) // 2

    def close(self) -> Rendered:
        if self._proc is not None:
            try:
                self._proc.stdin.close()
            except OSError as exc:
                raise SpeechError(f"ffmpeg dừng khi đổi tần số lấy mẫu: {exc}") from exc
            self._reader.join()
            code = self._proc.wait()
            if self._reader_error is not None:
                raise self._reader_error
            if code != 0:
                raise SpeechError(f"ffmpeg không đổi được tần số lấy mẫu (mã {code})")
        try:
            self._wav.close()
        except OSError as exc:
            raise WriteTrouble(exc) from exc
        self._closed = True
        if self.frames == 0:
            raise SpeechError("không có âm thanh / no audio")
        return Rendered(frames=self.frames, integrated_lufs=self.meter.integrated_lufs())

    def abort(self) -> None:
        """After a failure: stop ffmpeg and the reader, close the file (the caller removes it)."""
        if self._closed:
            return
        self._closed = True
        if self._proc is not None:
            self._proc.kill()
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            self._proc.wait()
            self._reader.join(timeout=10)  # ffmpeg is gone: its stdout ends, and the reader with it
            try:
                self._proc.stdout.close()
            except OSError:
                pass
        try:
            self._wav.close()
        except (OSError, wave.Error):
            pass
