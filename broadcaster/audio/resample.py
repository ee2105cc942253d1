"""One resampler per stretch: float samples in at one rate, 16-bit out at another, handed to
the writer of the file being made, on a thread of its own.

The render keeps speech at the engine's own rate (22.05 kHz for espeak-ng and Piper, 24 kHz for
the online voices) through the cache, the probe and the item's gain and limiter, and changes the
rate once, here, on the samples the item writes: half the samples to filter, limit and meter.
libsoxr (the `soxr` wheel, its "HQ" setting) resamples; it releases the GIL, so it runs on
another core beside the limiter and the meters. It takes the limited float samples and the
16-bit rounding comes after it: one rounding, at the rate the file holds. The output is aligned
with the input (libsoxr's delay is taken out) and as long as the rates make it.

The samples written are saturated at 16 bits (a band-limited resampler may overshoot a sample
the limiter left at the ceiling), as media.to_int16 does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import numpy as np

from .. import media
from ..exceptions import AudioError, BroadcasterError

#: Chunks handed over and not yet written, at most (each one a chunk of the render: memory stays flat).
_DEPTH = 3
_END = object()


class Resampler:
    """``feed`` float mono samples at ``in_rate``; a worker thread resamples them to ``out_rate``
    and hands them, as 16-bit, to ``write`` (which writes them all where the file has reached).

    ``close`` waits for the last samples to be written (``frames`` then says how many); what
    ``write`` raised (an OSError, the station's own error) is raised as it was, at the next
    ``feed`` or at ``close``; ``abort`` stops the worker after a failure elsewhere (nothing more
    is written)."""

    def __init__(self, in_rate: int, out_rate: int, write: Callable[[np.ndarray], None]) -> None:
        try:
            import soxr

            self._stream = soxr.ResampleStream(float(in_rate), float(out_rate), 1, dtype=np.float32, quality="HQ")
        except (ImportError, ValueError, RuntimeError) as exc:
            raise AudioError(f"Không đổi được tần số lấy mẫu {in_rate} → {out_rate} Hz: {exc}") from exc
        self._write = write
        self.frames = 0  # written at out_rate
        self._queue: queue.Queue = queue.Queue(maxsize=_DEPTH)
        self._failure: BaseException | None = None
        self._stopping = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="render-resample", daemon=True)
        self._thread.start()

    def feed(self, samples: np.ndarray) -> None:
        """The next samples (mono float32; not to be changed after)."""
        self._raise_failure()
        if len(samples):
            self._queue.put(samples)

    def close(self) -> None:
        """No more input: wait until the last samples are written."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_END)
        self._thread.join()
        self._raise_failure()

    def abort(self) -> None:
        """After a failure: stop (what is still queued is dropped)."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        self._queue.put(_END)  # the worker takes what is queued without working on it, then this
        self._thread.join()

    def _raise_failure(self) -> None:
        failure = self._failure
        if failure is None:
            return
        if isinstance(failure, (OSError, BroadcasterError)):
            raise failure
        raise AudioError(f"Không đổi được tần số lấy mẫu: {type(failure).__name__}") from failure

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if self._failure is not None or self._stopping:
                if item is _END:
                    return
                continue  # failed or stopped: drain, so a feed never blocks on a full queue
            try:
                last = item is _END
                chunk = np.zeros(0, np.float32) if last else np.ascontiguousarray(item, dtype=np.float32)
                pcm = media.to_int16(self._stream.resample_chunk(chunk, last=last))
                self._write(pcm)
                self.frames += len(pcm)
            except BaseException as exc:  # handed to the caller's thread
                self._failure = exc
            if item is _END:
                return
