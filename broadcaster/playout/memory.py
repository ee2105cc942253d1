"""A software sound card that keeps what it is given: the fake behind the player's stream factory.

It behaves like a PortAudio callback stream: its own thread calls the callback block by
block at the sample rate (or `speed` times faster), and calls the finished callback when
it stops. Tests use it to check content and timing without PortAudio, and to stage the
failures a real card produces (a card that is missing, that vanishes mid-item, that
stalls). It is never used on air.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..exceptions import PlayoutError


class MemoryStream:
    """One stream of a MemoryCard; `captured()` is everything the callback wrote."""

    def __init__(
        self,
        *,
        samplerate: int,
        blocksize: int,
        channels: int,
        dtype: str,
        callback: Callable[..., None],
        finished_callback: Callable[[], None] | None,
        latency: float,
        speed: float,
    ) -> None:
        self.samplerate = float(samplerate)
        self.blocksize = int(blocksize)
        self.channels = int(channels)
        self.dtype = dtype
        self.latency = float(latency)
        self.speed = float(speed)
        self._callback = callback
        self._finished_callback = finished_callback
        self._blocks: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._fail_after: int | None = None
        self._fail_mode = "vanish"
        self.started = False
        self.closed = False
        self.frames = 0
        self.self_timed = True  # runs `speed` times real time on purpose: the player must not hold it back

    def _run(self) -> None:
        period = self.blocksize / self.samplerate / self.speed
        due = time.monotonic()
        status = SimpleNamespace(output_underflow=False)
        while not self._halt.is_set():
            if self._fail_after is not None and self.frames >= self._fail_after:
                if self._fail_mode == "vanish":
                    break  # like PortAudio when the card is unplugged: the finished callback follows
                self._halt.wait()  # "stall": no more callbacks and no word about it
                return
            out = np.zeros((self.blocksize, self.channels), dtype=self.dtype)
            self._callback(out, self.blocksize, SimpleNamespace(currentTime=due), status)
            with self._lock:
                self._blocks.append(out)
                self.frames += self.blocksize
            due += period
            delay = due - time.monotonic()
            if delay > 0:
                self._halt.wait(delay)
        if self._finished_callback is not None:
            self._finished_callback()

    def start(self) -> None:
        """Start calling the callback from the card's own thread."""
        if self.closed:
            raise PlayoutError("Luồng đã đóng / stream closed")
        self.started = True
        self._thread = threading.Thread(target=self._run, name="memory-card", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop calling the callback (there is no buffer to drain)."""
        self._halt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    abort = stop

    def close(self) -> None:
        """Stop and mark the stream closed."""
        self.stop()
        self.closed = True

    def fail_after(self, frames: int, *, mode: str = "vanish") -> None:
        """Simulate a card failure once `frames` frames have been taken.

        mode "vanish": callbacks stop and the finished callback is called (an unplugged USB
        card); mode "stall": callbacks stop silently (a hung driver).
        """
        self._fail_mode = mode
        self._fail_after = frames

    def captured(self) -> np.ndarray:
        """Every frame the callback wrote so far, shaped (frames, channels)."""
        with self._lock:
            blocks = list(self._blocks)
        if not blocks:
            return np.zeros((0, self.channels), dtype=self.dtype)
        return np.concatenate(blocks)


class MemoryCard:
    """A stream factory for Player(stream_factory=...) that builds MemoryStreams.

    channels: what the card accepts (2 mimics a card that refuses mono); speed: how much
    faster than real time the card takes audio; missing: every open raises PlayoutError
    like a card that is not there.
    """

    def __init__(
        self, *, channels: int = 1, latency: float = 0.02, speed: float = 1.0, missing: bool = False
    ) -> None:
        self.channels = channels
        self.latency = latency
        self.speed = speed
        self.missing = missing
        self.streams: list[MemoryStream] = []

    def __call__(
        self,
        *,
        device: str | int | None,
        samplerate: int,
        blocksize: int,
        dtype: str,
        callback: Callable[..., None],
        finished_callback: Callable[[], None] | None = None,
        **_: Any,
    ) -> MemoryStream:
        """Open a stream, as devices.open_output_stream does."""
        if self.missing:
            raise PlayoutError(f"Không tìm thấy thiết bị âm thanh: {device}", device=str(device))
        stream = MemoryStream(
            samplerate=samplerate,
            blocksize=blocksize,
            channels=self.channels,
            dtype=dtype,
            callback=callback,
            finished_callback=finished_callback,
            latency=self.latency,
            speed=self.speed,
        )
        self.streams.append(stream)
        return stream

    @property
    def last(self) -> MemoryStream:
        """The most recently opened stream."""
        return self.streams[-1]

    @property
    def open_streams(self) -> list[MemoryStream]:
        """Streams opened and not yet closed (a player that closes properly leaves none)."""
        return [s for s in self.streams if not s.closed]
