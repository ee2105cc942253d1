"""One item in flight: filled by play() in its thread, drained by the stream's callback."""

from __future__ import annotations

import queue
import threading
import time

import numpy as np

from .outcome import DeviceFault, Outcome


class Feed:
    """One item on its way to the card: filled by play() in its thread, drained by the callback.

    Only the queue and a few plain attributes cross threads: the callback never reads the
    file, play() never touches the stream.
    """

    def __init__(self, *, chunks: int, fade_frames: int, drain_frames: int, wait_s: float) -> None:
        self.chunks: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=chunks)
        self.low_water = max(1, chunks // 2)
        self.wake = threading.Event()  # play() should look: data is running low, or the item is done
        self.done = threading.Event()  # the item is over and its last sample has left the buffers
        self.fade_frames = fade_frames
        self.drain_frames = drain_frames
        self.wait_s = wait_s
        self.stop_cause: Outcome | None = None  # set by interrupt(); the callback fades out
        self.ended: str | None = None  # "eof" or "interrupted", set by the callback
        self.error: Outcome | None = None  # why the item failed (the stream broke, the source broke)
        self.fault: DeviceFault | None = None  # with Outcome.DEVICE_LOST: how the stream was lost
        self.detail: str | None = None  # technical text for the error
        self.frames_sent = 0
        self.first_sample_t: float | None = None  # time.monotonic() of the first item sample handed over
        self.underruns = 0
        self._current: np.ndarray | None = None
        self._offset = 0
        self._fade_left: int | None = None
        self._end_mark: int | None = None

    def _next_chunk(self) -> np.ndarray | None | bool:
        """The next chunk, None at the end of the item, False when play() is behind."""
        try:
            chunk = self.chunks.get_nowait()
        except queue.Empty:
            self.wake.set()
            # A short bounded wait: on a paced card this costs a fraction of a block of
            # margin; on an unpaced sink (tests, file capture) it keeps the item gapless.
            try:
                chunk = self.chunks.get(timeout=self.wait_s)
            except queue.Empty:
                return False
        if self.chunks.qsize() < self.low_water:
            self.wake.set()
        return chunk

    def fill(self, out: np.ndarray, frames: int, position: int) -> None:
        """Write the next `frames` frames into `out`; `position` counts frames the stream took before."""
        pos = 0
        if self._end_mark is None:
            if self.stop_cause is not None and self._fade_left is None:
                self._fade_left = self.fade_frames
                if self._fade_left == 0:
                    self._finish("interrupted", position)
            while pos < frames and self._end_mark is None:
                if self._current is None or self._offset >= len(self._current):
                    chunk = self._next_chunk()
                    if chunk is False:
                        self.underruns += 1
                        break
                    if chunk is None:
                        self._finish("eof", position + pos)
                        break
                    self._current, self._offset = chunk, 0
                assert self._current is not None
                n = min(frames - pos, len(self._current) - self._offset)
                block = self._current[self._offset : self._offset + n]
                if self._fade_left is not None:
                    n = min(n, self._fade_left)
                    done = self.fade_frames - self._fade_left
                    gains = 1.0 - np.arange(done + 1, done + n + 1, dtype=np.float32) / self.fade_frames
                    out[pos : pos + n] = (block[:n] * gains[:, None]).astype(np.int16)
                    self._fade_left -= n
                else:
                    out[pos : pos + n] = block
                self._offset += n
                pos += n
                if self.first_sample_t is None and n:
                    self.first_sample_t = time.monotonic()
                self.frames_sent += n
                if self._fade_left == 0:
                    self._finish("interrupted", position + pos)
        out[pos:] = 0
        if self._end_mark is not None and position + frames >= self._end_mark + self.drain_frames:
            self.done.set()
            self.wake.set()

    def _finish(self, how: str, mark: int) -> None:
        if self._fade_left is not None:
            how = "interrupted"  # the end arrived during a fade: the listener heard it cut short
        self.ended = how
        self._end_mark = mark

    def fail(self, outcome: Outcome, *, fault: DeviceFault | None = None, detail: str | None = None) -> None:
        """End the item because the stream broke; wakes play(). The first reason given is kept."""
        if self.error is None:
            self.error, self.fault, self.detail = outcome, fault, detail
        self.done.set()
        self.wake.set()



__all__ = ["Feed"]
