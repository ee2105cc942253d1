"""The player: one long-lived output stream, one owner thread, one item at a time.

How the pieces share work, and why:

* The owner thread makes every PortAudio call (open, start, stop, close) (line.py; the
  lifecycle is output.Output, which Player extends). PortAudio is not thread-safe, and the
  service calls the player from the scheduler, the CLI and the device-retry loop;
  funnelling the calls through one thread keeps them apart, and lets a caller give up on
  a call that hangs on a dying device.
* The stream's callback runs all the time. With nothing to play it writes silence, so
  the card, the amplifier and the line stay in one steady state between items.
* `play()` runs in the caller's thread: it reads the WAV by blocks into a small prefetch
  queue that the callback drains. A 60-minute programme never sits in memory, and the
  callback never touches the disk.
* Files, network streams (live.StreamSource) and the microphone (live.MicSource) are all
  `Source`s: `play_source()` airs any of them the same way; `play()` and `play_stream()`
  are the two common cases.
* While an item plays, the feeding thread also watches for dead air: output quieter than
  `silence_dbfs` for `silence_s` ends the item as Outcome.SILENCE (the station logs an alarm
  and airs the filler). It looks at each block once as it is queued, so it costs the
  callback nothing.
* Every play call returns a PlayResult (outcome.py): what happened is an Outcome value; the
  words for the as-run log are made from it in station/outcomes.py.
* `interrupt(cause)` only sets a flag; the callback fades the item out over `fade_ms` at its
  next block, so there is no click and no PortAudio call from a foreign thread.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ..exceptions import AudioError
from .feed import Feed
from .line import Line, OutputStream, StreamFactory
from .outcome import DeviceFault, Outcome, PlayResult
from .output import Output, _quietly
from .source import Source, WavReader, match_channels

log = logging.getLogger(__name__)

PREFETCH_S = 1.0  # audio read ahead of the callback; covers a slow disk, costs ~100 kB
POLL_S = 0.05  # how often a waiting play() checks for a stalled stream or a timeout
LIVE_PREROLL_S = 0.2  # a live source has this much buffered before its first sample airs
LIVE_START_TIMEOUT_S = 15.0  # a live source that gives nothing for this long at the start has failed



# --------------------------------------------------------------------------- the player
class Player(Output):
    """One thread owns one long-lived output stream fed by a callback that plays silence when idle.

    Use as a context manager, or call open() and close(). play() blocks until the item has
    been heard (or interrupted, or failed); interrupt() may be called from any thread.
    """

    def interrupt(self, cause: Outcome) -> None:
        """Fade out the current item within about fade_ms; its play() returns `cause` as its outcome.

        Does nothing when idle (nor to an item whose play() has not yet called on_start).
        From the call of on_start on it is never lost, even before the callback has the item.
        Safe from any thread: it only leaves a note for the callback.
        """
        # _starting before line.feed: _play() publishes line.feed before it clears _starting,
        # so one of the two reads sees the item whenever on_start() has been called
        feed = self._starting
        line = self._line
        if feed is None and line is not None:
            feed = line.feed
        if not cause.is_interrupt_cause:
            raise ValueError(f"not a cause of an interrupt: {cause}")
        if feed is not None and feed.stop_cause is None:
            feed.stop_cause = cause

    def play(
        self,
        path: Path,
        *,
        on_start: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> PlayResult:
        """Play one 16-bit PCM WAV (mono or stereo, at the player's sample rate) and wait for it.

        on_start() runs in this thread just before the first sample is handed to the
        stream (commit the as-run row there); if it raises, nothing plays and the error
        propagates. Returns after the last sample has left the stream's buffers, with
        Outcome.AIRED; the cause given to interrupt(), CLOSED after close(), TIMEOUT after
        `timeout` seconds; NOT_OPEN or FAILED when the stream is not open or the file cannot
        be read (the stream is not touched); SILENCE on dead air; DEVICE_LOST when the
        device breaks (the player is then closed and can be reopened). Calls are served one
        at a time.
        """
        path = Path(path)
        with self._play_lock:
            line = self._line
            if line is None or line.error is not None:
                now = self.clock()
                return PlayResult(Outcome.NOT_OPEN, 0, now, now)
            try:
                reader = WavReader(path, sample_rate=self.sample_rate, out_channels=line.channels)
            except AudioError as exc:
                now = self.clock()
                return PlayResult(Outcome.FAILED, 0, now, now, detail=str(exc))
            try:
                self._now_playing = path
                return self._play(line, reader, on_start, timeout)
            finally:
                reader.close()
                self._now_playing = None
                self._now_label = None

    def play_source(
        self,
        source: Source,
        *,
        label: str | None = None,
        on_start: Callable[[], None] | None = None,
        timeout: float | None = None,
    ) -> PlayResult:
        """Air any Source (a stream, the microphone…) like play() airs a file, and wait for it.

        The player closes the source when it returns. A live source gets a short pre-roll
        (LIVE_PREROLL_S) before on_start(); one that gives nothing for LIVE_START_TIMEOUT_S
        fails (Outcome.NO_SIGNAL) without on_start() being called. A source that raises
        AudioError mid-way ends the item as Outcome.FAILED with the error as its detail.
        """
        if label is not None:
            source.label = label
        try:
            with self._play_lock:
                line = self._line
                if line is None or line.error is not None:
                    now = self.clock()
                    return PlayResult(Outcome.NOT_OPEN, 0, now, now)
                try:
                    return self._play(line, source, on_start, timeout)
                finally:
                    self._now_label = None
        finally:
            _quietly(source.close)

    def play_stream(
        self,
        url: str,
        *,
        duration_s: float,
        on_start: Callable[[], None] | None = None,
        stall_s: float = 10.0,
    ) -> PlayResult:
        """Relay a network stream (or any input ffmpeg reads) for `duration_s` seconds.

        Decoded by an ffmpeg subprocess to 16-bit PCM at the player's rate. Outcome.AIRED when
        the set time has elapsed; FAILED (the error as detail) when ffmpeg cannot open or
        decode the stream or no audio arrives for `stall_s`; ENDED_EARLY when it stops before.
        """
        from .live import StreamSource

        try:
            source = StreamSource(url, sample_rate=self.sample_rate, stall_s=stall_s)
        except AudioError as exc:
            now = self.clock()
            return PlayResult(Outcome.FAILED, 0, now, now, detail=str(exc))
        began = time.monotonic()
        result = self.play_source(source, label=url, on_start=on_start, timeout=duration_s)
        elapsed = time.monotonic() - began
        if result.outcome is Outcome.TIMEOUT:
            # the set time is over: that is how a relay ends
            return replace(result, outcome=Outcome.AIRED, seconds=None, underruns=0)
        if result.outcome is Outcome.AIRED and elapsed < duration_s - 1.0:
            return replace(result, outcome=Outcome.ENDED_EARLY, seconds=elapsed, planned_s=duration_s, underruns=0)
        return result

    def _play(
        self,
        line: Line,
        reader: Source,
        on_start: Callable[[], None] | None,
        timeout: float | None,
    ) -> PlayResult:
        chunk_frames = max(self.block_frames, 1024) * 4
        chunks = max(2, math.ceil(PREFETCH_S * self.sample_rate / chunk_frames))
        feed = Feed(
            chunks=chunks,
            fade_frames=max(0, round(self.fade_ms * self.sample_rate / 1000)),
            # the stream's buffers plus one block of slack for the host's own queue
            drain_frames=math.ceil(line.latency_s * self.sample_rate) + self.block_frames,
            wait_s=0.25 * self.block_frames / self.sample_rate,
        )
        eof = False
        read_error: PlayResult | None = None  # how the source failed: outcome and detail
        live = bool(getattr(reader, "live", False))
        silence_limit = None
        if self.silence_s is not None and getattr(reader, "check_silence", True):
            silence_limit = max(1, round(self.silence_s * self.sample_rate))
        # peak at or under this (int16) counts as silence: -60 dBFS is about 32
        quiet = int(32767 * 10 ** (self.silence_dbfs / 20))
        silent_run = 0
        silence_hit = False
        queued = 0

        def top_up() -> None:
            # a live source is read for at most POLL_S per call, so the wait loop keeps
            # checking the stream, the timeout and the stall while audio trickles in
            nonlocal eof, read_error, silent_run, silence_hit, queued
            budget_end = time.monotonic() + POLL_S if live else None
            while not eof and not feed.chunks.full():
                try:
                    data = reader.read(chunk_frames)
                except AudioError as exc:
                    read_error, data = _failed(Outcome.FAILED, self.clock(), detail=str(exc)), data_empty
                if data is None:  # a live source with nothing new yet
                    break
                if len(data) == 0:
                    eof = True
                    feed.chunks.put_nowait(None)
                    break
                if data.shape[1] != line.channels:
                    data = match_channels(data, line.channels)
                if silence_limit is not None:
                    # checked as the audio is queued, not in the callback: it costs one
                    # max/min per block, and the item ends exactly silence_s into the gap
                    if int(data.max()) <= quiet and int(data.min()) >= -quiet:
                        silent_run += len(data)
                    else:
                        silent_run = 0
                if silence_limit is not None and silent_run >= silence_limit:
                    # the silence already queued makes up the rest of silence_s: end here
                    silence_hit = True
                    eof = True
                    feed.chunks.put_nowait(None)
                    break
                feed.chunks.put_nowait(data)
                queued += len(data)
                if budget_end is not None and time.monotonic() > budget_end:
                    break

        data_empty = np.zeros((0, line.channels), dtype=np.int16)
        top_up()  # the first second is ready before the first sample is due
        if live:
            waited_until = time.monotonic() + LIVE_START_TIMEOUT_S
            while read_error is None and not eof and queued < LIVE_PREROLL_S * self.sample_rate:
                if time.monotonic() > waited_until:
                    read_error = _failed(
                        Outcome.NO_SIGNAL, self.clock(), detail=reader.label, seconds=LIVE_START_TIMEOUT_S
                    )
                    break
                time.sleep(0.01)
                top_up()
        if read_error is not None:
            return read_error
        self._starting = feed  # from here on interrupt() reaches this item (see interrupt())
        try:
            if on_start is not None:
                on_start()
            started_at = self.clock()
            self._now_label = reader.label
            began = time.monotonic()
            deadline = began + timeout if timeout is not None else None
            line.feed = feed  # the callback picks it up at its next block
        finally:
            self._starting = None
        try:
            while not feed.done.is_set():
                feed.wake.wait(POLL_S)
                feed.wake.clear()  # a wake-up lost here is harmless: we top up and re-check right after
                top_up()
                now = time.monotonic()
                if line.error is not None:
                    feed.fail(Outcome.DEVICE_LOST, fault=line.error)
                elif now - line.last_callback > self.stall_timeout:
                    line.error = DeviceFault.STALLED
                    # the card went quiet when its callbacks stopped, not when we noticed
                    line.error_wall = time.time() - (now - line.last_callback)
                    feed.fail(Outcome.DEVICE_LOST, fault=DeviceFault.STALLED)
                elif deadline is not None and now > deadline and feed.stop_cause is None:
                    feed.stop_cause = Outcome.TIMEOUT
        finally:
            line.feed = None
        ended_at = self.clock()
        frames = feed.frames_sent
        if line.error is not None and not line.closing:
            self._drop_broken(line)
        if read_error is not None and feed.error is None and feed.ended != "interrupted":
            # the source broke mid-way (a stream that died): failed, not aired
            feed.fail(read_error.outcome, detail=read_error.detail)
        first_sample_at = None
        if feed.first_sample_t is not None:
            first_sample_at = started_at + timedelta(seconds=feed.first_sample_t - began)
        result = PlayResult(Outcome.AIRED, frames, started_at, ended_at, first_sample_at)
        if feed.error is not None:
            if line.closing and feed.fault is DeviceFault.CLOSED:
                result = replace(result, outcome=Outcome.CLOSED)
            else:
                # even an item fully handed over counts as failed: its end may never have been heard
                result = replace(result, outcome=feed.error, fault=feed.fault, detail=feed.detail)
        elif feed.ended == "interrupted":
            cause = feed.stop_cause or Outcome.INTERRUPTED
            result = replace(result, outcome=cause, seconds=timeout if cause is Outcome.TIMEOUT else None)
        elif silence_hit:
            result = replace(result, outcome=Outcome.SILENCE, seconds=self.silence_s or 0)
        elif feed.underruns and not live:
            result = replace(result, underruns=feed.underruns)
        log.info(
            "%s: %s after %.2f s, %d frames%s",
            reader.label, result.outcome.value, time.monotonic() - began, frames,
            f" ({result.fault or result.detail})" if result.fault or result.detail else "",
        )
        return result


def _failed(outcome: Outcome, now: datetime, **fields: object) -> PlayResult:
    """A result for an item that never started: nothing was handed to the card."""
    return PlayResult(outcome, 0, now, now, **fields)  # type: ignore[arg-type]


__all__ = ["OutputStream", "Player", "PlayResult", "Source", "StreamFactory", "match_channels"]

