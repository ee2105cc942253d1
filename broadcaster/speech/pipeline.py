"""The speech render as a pipeline over pieces: the engine's threads speak, the caller's thread processes.

While the engine speaks piece k+1 (libespeak-ng and the network release the GIL), the piece
before it is checked, trimmed, faded, measured (BS.1770 block energies, kept in the sidecar so
the item render never measures the speech again) and written to the WAV with its gap, at the
engine's own rate: the item render changes the rate once, at its end (audio/render.py), so the
speech is never resampled twice nor processed at more samples than the engine made. Nothing
holds more than a few pieces: memory does not grow with the text.
"""

from __future__ import annotations

import threading
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import media
from ..exceptions import SpeechError
from .base import Speech, SpeechEngine

#: Pieces spoken ahead of the one being processed (each a few seconds of audio: under a few MB in all).
#: Pieces differ in length; with 2 a thread finishing a short one often found the window full behind a
#: long one and waited: 8 kept the speech stage of the plan document 0.05-0.06 s shorter (of ~0.6 s,
#: bench_render.py --stages, 5 and 9 interleaved runs).
_AHEAD = 8


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
    """What the pipeline wrote: frames at the engine's rate, that rate and their integrated
    loudness; ``probe_sample``, the item probe's sample of this speech kept on the way
    (audio.probe.Sample; None for a short speech), so the item render need not read it."""

    frames: int
    integrated_lufs: float | None
    sample_rate: int
    probe_sample: object | None = None


def render_pieces(
    engine: SpeechEngine, pieces: Sequence[str], part: Path, *, gap_ms: float, fade_ms: float,
    prepare: Callable[..., np.ndarray], progress: Callable[[float], None] | None = None,
) -> Rendered:
    """Speak every piece with one engine into the 16-bit mono WAV ``part`` at the engine's rate.

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
                sink = _Sink(part, rate)
            elif speech.sample_rate != rate:
                raise SpeechError(f"tần số lấy mẫu đổi giữa các đoạn ({rate} ≠ {speech.sample_rate} Hz)")
            samples = np.asarray(speech.samples, dtype=np.float32)
            if samples.ndim != 1:
                raise SpeechError("bộ đọc trả về âm thanh nhiều kênh / engine returned non-mono audio")
            # one pass, no mask: a NaN or an infinity anywhere makes the float64 sum non-finite (and
            # float32 samples cannot overflow it)
            if not np.isfinite(samples.sum(dtype=np.float64)):
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
    """Joined samples at the engine's rate in, quantized, measured and written as they come; the
    item probe's sample of them kept on the way."""

    def __init__(self, part: Path, rate: int) -> None:
        from ..audio.probe import SampledMeter
        from ..disk import Writeback

        self.part = part
        self.rate = rate
        self.meter = SampledMeter(rate)  # the speech's loudness, and the item probe's sample of it
        self.frames = 0
        try:
            self._file = open(part, "wb")  # noqa: SIM115 - closed by close()/abort()
        except OSError as exc:
            raise WriteTrouble(exc) from exc
        self._wav = wave.open(self._file, "wb")
        self._writeback = Writeback(self._file.fileno(), start=44)  # after the header: the disk writes as it comes
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self._closed = False

    def add(self, samples: np.ndarray) -> None:
        if samples.size == 0:
            return
        pcm = media.to_int16(samples)
        self.meter.add(samples)  # what the file holds, before its 16-bit rounding (under 1e-4 LU)
        try:
            self._wav.writeframesraw(pcm.tobytes())
        except OSError as exc:
            raise WriteTrouble(exc) from exc
        self._writeback.wrote(2 * len(pcm))
        self.frames += len(pcm)

    def close(self) -> Rendered:
        try:
            self._wav.close()  # its header; the file is ours to close
            self._file.close()
        except OSError as exc:
            raise WriteTrouble(exc) from exc
        self._closed = True
        if self.frames == 0:
            raise SpeechError("không có âm thanh / no audio")
        return Rendered(frames=self.frames, integrated_lufs=self.meter.integrated_lufs(), sample_rate=self.rate,
                        probe_sample=self.meter.sample())

    def abort(self) -> None:
        """After a failure: close the file (the caller removes it)."""
        if self._closed:
            return
        self._closed = True
        for closing in (self._wav.close, self._file.close):
            try:
                closing()
            except (OSError, wave.Error):
                pass
