"""One opened output stream, its callbacks, and the one thread that makes PortAudio calls.

A new Line per Player.open() means a late callback from an old, broken stream can only
mark that old line, never the one that replaced it. The owner thread makes every
PortAudio call (open, start, stop, close): PortAudio is not thread-safe, and a caller can
give up on a call that hangs on a dying device.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .feed import Feed
from .outcome import DeviceFault, Outcome

UNPACED_LEAD_S = 0.25  # a stream further ahead of the wall clock than this is on an unpaced sink
REANCHOR_S = 10.0  # the window of that check: short enough that a card's clock drift never adds up


class OutputStream(Protocol):
    """What the player needs from a sound card stream (devices.SoundDeviceStream, fakes)."""

    channels: int
    latency: float
    # optional: `self_timed = True` on a stream that sets its own pace on purpose (a fake
    # running faster than real time), so the player never holds it back

    def start(self) -> None:
        """Start calling the callback."""

    def stop(self) -> None:
        """Stop after the buffered audio has played."""

    def abort(self) -> None:
        """Stop at once."""

    def close(self) -> None:
        """Release the device."""


StreamFactory = Callable[..., OutputStream]


class Line:
    """One opened stream and the state its callbacks share with the player.

    A new Line per open() means a late callback from an old, broken stream can only
    mark that old line, never the one that replaced it.
    """

    def __init__(self, *, block_frames: int, sample_rate: int) -> None:
        self.stream: OutputStream | None = None
        self.channels = 1
        self.latency_s = 0.0
        self.block_frames = block_frames
        self.sample_rate = sample_rate
        self.lead_s = UNPACED_LEAD_S
        self.self_timed = False  # the stream (a fake) sets its own pace: never hold it back
        self.unpaced = False  # found to take audio faster than real time: we keep time for it
        self._anchor_t = time.monotonic()
        self._anchor_pos = 0
        self.feed: Feed | None = None
        self.position = 0  # frames handed to the stream since it started
        self.last_callback = time.monotonic()
        self.error: DeviceFault | None = None  # CLOSED: closed on purpose; the others: the card was lost
        self.error_wall: float | None = None  # time.time() when the stream broke (device gap logs)
        self.closing = False
        self.underflows = 0
        self.tap: Callable[[np.ndarray], None] | None = None  # a copy of each block (the Icecast fan-out)
        # told (tap, error) when the tap raised and was dropped; runs in the callback: no locks, no I/O
        self.tap_dropped: Callable[[Callable[[np.ndarray], None], Exception], None] | None = None

    def callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's callback: the current item's next samples, or silence."""
        now = self.last_callback = time.monotonic()
        if getattr(status, "output_underflow", False):
            self.underflows += 1
        feed = self.feed
        try:
            if feed is None:
                outdata.fill(0)
            else:
                feed.fill(outdata, frames, self.position)
        except Exception as exc:  # a bug must cost one item, never the stream
            outdata.fill(0)
            if feed is not None:
                feed.fail(Outcome.PLAYOUT_ERROR, detail=repr(exc))
        tap = self.tap
        if tap is not None:  # never blocks; one attribute read when there is no stream_url
            try:
                tap(outdata)
            except Exception as exc:  # a bug in streaming must cost the clusters, never the card
                self.tap = None  # never called again on this line
                dropped = self.tap_dropped
                try:
                    if dropped is not None:
                        dropped(tap, exc)
                except Exception:  # noqa: BLE001  (its own clock failing: the tap is dropped all the same)
                    pass
        if not self.self_timed:
            self._keep_real_time(now)
        self.position += frames

    def _keep_real_time(self, now: float) -> None:
        """Hold a sink that takes audio faster than real time to the wall clock.

        ALSA's file and null devices (dry runs, air-check captures, tests) call back as fast
        as the CPU allows: a core spinning, hundreds of MB of silence a second while idle,
        and items "aired" in milliseconds, which would put false times in the as-run log.
        A real card is never more than its buffer ahead of the wall clock, and the check's
        window restarts every REANCHOR_S so its clock drift cannot add up: it never waits here.
        """
        rate = self.sample_rate
        if not self.unpaced:
            if now - self._anchor_t > REANCHOR_S:
                self._anchor_t, self._anchor_pos = now, self.position
                return
            if (self.position - self._anchor_pos) / rate - (now - self._anchor_t) <= self.lead_s:
                return
            self.unpaced = True  # from now on the stream stays exactly lead_s ahead of the clock
            self._anchor_t, self._anchor_pos = now, self.position - round(self.lead_s * rate)
        ahead = (self.position - self._anchor_pos) / rate - (now - self._anchor_t)
        if ahead > self.lead_s:
            time.sleep(min(ahead - self.lead_s, self.block_frames / rate))

    def finished(self) -> None:
        """PortAudio's finished callback: unexpected unless we are closing."""
        if not self.closing and self.error is None:
            self.error = DeviceFault.STOPPED
            self.error_wall = time.time()
        feed = self.feed
        if feed is not None:
            feed.fail(Outcome.DEVICE_LOST, fault=self.error or DeviceFault.CLOSED)


# --------------------------------------------------------------------------- the owner thread
class OwnerTimeout(Exception):
    """A PortAudio call on the owner thread did not return in time."""


class OwnerThread:
    """The one thread that calls PortAudio. Daemon, so a hung driver cannot block exit."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], dict[str, Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="playout-owner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, box = job
            try:
                box["result"] = fn()
            except BaseException as exc:  # handed back to the caller, who decides
                box["error"] = exc
            finally:
                box["done"].set()

    def call(self, fn: Callable[[], Any], *, timeout: float) -> Any:
        """Run fn on the owner thread and return its result; OwnerTimeout if it hangs."""
        box: dict[str, Any] = {"done": threading.Event()}
        self._jobs.put((fn, box))
        if not box["done"].wait(timeout):
            raise OwnerTimeout(f"PortAudio did not answer within {timeout:g} s")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def stop(self) -> None:
        """Let the thread end once its queued calls are done."""
        self._jobs.put(None)


__all__ = ["Line", "OutputStream", "OwnerThread", "OwnerTimeout", "StreamFactory"]
