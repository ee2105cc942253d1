"""Streaming building blocks: meters and a limiter that see audio one chunk at a time.

A long item (an 11-minute plan document is 32 million samples at 48 kHz) must not be held in
memory whole, nor copied a dozen times by whole-array numpy expressions. Everything here keeps
only the state it needs between chunks:

- ``BlockMeter``: BS.1770 K-weighting with the filter state carried across chunks, summed into
  100 ms sub-blocks; the gated integrated loudness is computed at the end from the 400 ms
  blocks (four sub-blocks each, 75 % overlap). Gating needs every block of the programme, not
  its samples, so this is all the first pass of a two-pass normalization keeps.
- ``PeakMeter``: sample peak and true peak (4x oversampling with the same 32-tap interpolator
  as ``loudness.true_peak_dbtp``), interpolating only around samples within 6 dB of the
  ceiling or of the loudest sample so far: quiet stretches cost one ``abs`` and one ``max``.
- ``StreamLimiter``: pedalboard's BrickwallLimiter with its state (gain envelope, lookahead
  delay line) carried across chunks; its output lines up with its input, and ``flush`` returns
  what its delay line still holds.

Results equal the whole-array functions in loudness.py (tested): same filter, same blocks,
same limiter, chunk joins leave no trace.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from .loudness import (
    _ABSOLUTE_GATE_LUFS,
    _BLOCK_S,
    _LIMITER_LOOKAHEAD_MS,
    _LIMITER_RELEASE_MS,
    _LIMITER_TAIL_S,
    _DENORMAL_GUARD,
    _TP_CANDIDATE_DB,
    FLOOR_DB,
    _bs1770_integrated,
    _from_db,
    _interpolation_kernel,
    _k_weighting_sos,
    _to_db,
    sos_filter,
)

#: Samples per chunk the streaming code works on: a second at 48 kHz, a few hundred KB.
CHUNK_FRAMES = 1 << 16


class BlockMeter:
    """Integrated loudness (BS.1770-4, gated) of a signal fed in chunks of any size."""

    def __init__(self, sample_rate: int) -> None:
        """Meter for mono audio at ``sample_rate``."""
        self.sample_rate = sample_rate
        self._sos = _k_weighting_sos(sample_rate)
        self._zi = np.zeros((self._sos.shape[0], 2))  # zero initial state, as the whole-array filter starts
        self._step = int(round(_BLOCK_S * 0.25 * sample_rate))  # 100 ms sub-block
        self._block = int(math.ceil(_BLOCK_S * sample_rate))
        self._sums: list[float] = []  # energy of each completed sub-block
        self._partial = 0.0  # energy of the sub-block being filled
        self._filled = 0  # samples in it
        self.frames = 0
        self._head: list[np.ndarray] = []  # the first 400 ms, raw: a shorter clip is measured whole
        self._nonzero = False

    def add(self, chunk: np.ndarray) -> None:
        """Feed the next samples (mono float)."""
        x = np.asarray(chunk, dtype=np.float64).reshape(-1)
        if x.size == 0:
            return
        if self.frames < self._block:
            self._head.append(x[: self._block - self.frames].copy())
        self._nonzero = self._nonzero or bool(np.any(x))
        y, self._zi = sos_filter(self._sos, x + _DENORMAL_GUARD, self._zi)
        sq = np.square(y)
        pos = 0
        if self._filled:
            take = min(self._step - self._filled, len(sq))
            self._partial += float(sq[:take].sum())
            self._filled += take
            pos = take
            if self._filled == self._step:
                self._sums.append(self._partial)
                self._partial, self._filled = 0.0, 0
        whole = (len(sq) - pos) // self._step
        if whole:
            self._sums.extend(sq[pos : pos + whole * self._step].reshape(whole, self._step).sum(axis=1).tolist())
            pos += whole * self._step
        if pos < len(sq):
            self._partial = float(sq[pos:].sum())
            self._filled = len(sq) - pos
        self.frames += len(x)

    def integrated_lufs(self) -> float | None:
        """Gated loudness of everything fed so far; None below the -70 LUFS gate (or silence)."""
        if not self._nonzero:
            return None
        if self.frames < self._block:
            from .loudness import _integrated_lufs

            return _integrated_lufs(np.concatenate(self._head), self.sample_rate)
        n, rate = self.frames, self.sample_rate
        subs = np.array(self._sums + ([self._partial] if self._filled else []), dtype=np.float64)
        blocks = int(round((n / rate - _BLOCK_S) / (_BLOCK_S * 0.25))) + 1
        csum = np.concatenate([[0.0], np.cumsum(subs)])
        j = np.arange(max(blocks, 0))
        hi = np.minimum(j + 4, len(subs))
        z = (csum[hi] - csum[np.minimum(j, len(subs))]) / (_BLOCK_S * rate)
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10.0 * np.log10(z)
        above = block_lufs >= _ABSOLUTE_GATE_LUFS
        if not np.any(above):
            return None
        relative_gate = -0.691 + 10.0 * math.log10(float(np.mean(z[above]))) - 10.0
        gated = z[above & (block_lufs > relative_gate)]
        if gated.size == 0:
            return None
        lufs = -0.691 + 10.0 * math.log10(float(np.mean(gated)))
        return lufs if lufs >= _ABSOLUTE_GATE_LUFS else None


class PeakMeter:
    """Sample peak and 4x-oversampled true peak of a signal fed in chunks.

    ``ceiling_db``: samples within 6 dB of it are always interpolated (the ones a limiter must
    hold); samples within 6 dB of the loudest one so far are interpolated too, so the figure
    is the true peak of the whole signal, not only of what came near the ceiling.
    """

    def __init__(self, ceiling_db: float | None = None) -> None:
        """Meter with an optional true-peak ceiling (dBTP) that decides where to look closely."""
        kernel = _interpolation_kernel()
        self._kernel_t = np.ascontiguousarray(kernel.T)
        self._half = kernel.shape[1] // 2  # 16
        self._context = np.zeros(2 * self._half - 1, np.float32)  # the 31 samples before the chunk
        self._started = False
        self._floor = _from_db(ceiling_db - _TP_CANDIDATE_DB) if ceiling_db is not None else math.inf
        self.sample_peak = 0.0
        self.true_peak = 0.0
        self.interpolated = 0  # points interpolated so far (what the true peak cost)

    def add(self, chunk: np.ndarray) -> None:
        """Feed the next samples (mono float)."""
        x = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if x.size == 0:
            return
        magnitude = np.abs(x)
        chunk_peak = float(magnitude.max())
        self.sample_peak = max(self.sample_peak, chunk_peak)
        self.true_peak = max(self.true_peak, chunk_peak)
        # Interpolation point i sits between sample i and i+1 of `joined` (context + chunk); the
        # window for it is joined[i-15 .. i+16]. The last 16 samples of a chunk wait for the next.
        joined = np.concatenate([self._context, x])
        threshold = min(self._floor, self.sample_peak * _from_db(-_TP_CANDIDATE_DB))
        if self.sample_peak > 0 and max(chunk_peak, float(np.abs(self._context).max())) >= threshold:
            loud = np.abs(joined) >= threshold
            loud[:-1] |= loud[1:]
            first = self._half - 1 if self._started else 2 * self._half - 1  # no interpolation before the start
            last = len(joined) - self._half  # exclusive: needs 16 samples after
            starts = np.nonzero(loud[first:last])[0] + first
            if len(starts):
                for lo in range(0, len(starts), CHUNK_FRAMES // 4):
                    part = starts[lo : lo + CHUNK_FRAMES // 4]
                    windows = np.lib.stride_tricks.sliding_window_view(joined, 2 * self._half)[part - (self._half - 1)]
                    self.true_peak = max(self.true_peak, float(np.abs(windows @ self._kernel_t).max()))
                    self.interpolated += len(part)
        self._context = joined[-(2 * self._half - 1):].copy()
        self._started = True

    def finish(self) -> None:
        """The end of the signal: interpolate the last samples against the zeros after it."""
        self.add(np.zeros(self._half, np.float32))

    @property
    def true_peak_dbtp(self) -> float:
        """True peak in dBTP (FLOOR_DB for silence)."""
        return _to_db(self.true_peak)


class StreamLimiter:
    """The normalizer's brick-wall limiter, chunk by chunk, its state carried across."""

    def __init__(self, *, sample_rate: int, ceiling_db: float) -> None:
        """A limiter at ``ceiling_db`` (sample peak) with loudness.py's release and lookahead."""
        import pedalboard

        self.sample_rate = sample_rate
        self._limiter = pedalboard.BrickwallLimiter(
            ceiling_db=ceiling_db, release_ms=_LIMITER_RELEASE_MS, lookahead_ms=_LIMITER_LOOKAHEAD_MS,
            true_peak=False,
        )
        self._fed = 0
        self._returned = 0

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Limit the next samples; returns what is ready (a little less than fed at first)."""
        x = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if x.size == 0:
            return x
        out = np.asarray(self._limiter(x, self.sample_rate, reset=False), dtype=np.float32).reshape(-1)
        self._fed += len(x)
        self._returned += len(out)
        return out

    def flush(self) -> np.ndarray:
        """The samples still in the lookahead delay line, so output length equals input length."""
        tail = int(_LIMITER_TAIL_S * self.sample_rate)
        out = np.asarray(self._limiter(np.zeros(tail, np.float32), self.sample_rate, reset=False),
                         dtype=np.float32).reshape(-1)
        missing = self._fed - self._returned
        out = out[:missing]
        if len(out) < missing:
            out = np.concatenate([out, np.zeros(missing - len(out), np.float32)])
        self._returned += len(out)
        return out


class Lane:
    """Calls run in order on one worker thread while the caller goes on (at most ``depth`` queued).

    The render's limiter runs on the caller's thread and the meters of the chunk before it
    here: numpy, the K-weighting loop and pedalboard release the GIL, so the two use two
    cores. Each call's arguments must not change after it is handed over. An exception in a
    call is raised on the caller's thread at the next ``submit`` or at ``drain``; leaving the
    ``with`` block on an error drops what has not started and waits for what has."""

    def __init__(self, depth: int = 2) -> None:
        """A lane holding at most ``depth`` calls not yet done (memory stays flat)."""
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render-lane")
        self._pending: deque = deque()
        self._depth = max(1, depth)

    def submit(self, fn, *args) -> None:
        """Queue ``fn(*args)`` after the calls before it."""
        while len(self._pending) >= self._depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(fn, *args))

    def drain(self) -> None:
        """Wait for every queued call; raises the first one's error."""
        while self._pending:
            self._pending.popleft().result()

    def __enter__(self) -> Lane:
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        try:
            if exc_type is None:
                self.drain()
        finally:
            for future in self._pending:
                future.cancel()
            self._pending.clear()
            self._pool.shutdown(wait=True)


def quantized(samples: np.ndarray) -> np.ndarray:
    """The samples as they read back from a 16-bit WAV (media.to_int16 then /32768)."""
    from .. import media

    return media.to_int16(samples).astype(np.float32) / 32768.0


__all__ = ["BlockMeter", "CHUNK_FRAMES", "FLOOR_DB", "Lane", "PeakMeter", "StreamLimiter", "quantized", "_bs1770_integrated"]
