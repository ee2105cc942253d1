"""Streaming building blocks: meters and a limiter that see audio one chunk at a time.

A long item (an 11-minute plan document is 32 million samples at 48 kHz) must not be held in
memory whole, nor copied a dozen times by whole-array numpy expressions. Everything here keeps
only the state it needs between chunks:

- ``BlockMeter``: BS.1770 K-weighting with the filter state carried across chunks, summed into
  100 ms sub-blocks; the gated integrated loudness is computed at the end from the 400 ms
  blocks (four sub-blocks each, 75 % overlap). Gating needs every block of the programme, not
  its samples, so this is all the first pass of a two-pass normalization keeps.
- ``PeakMeter``: sample peak and true peak (4x oversampling with the same 32-tap interpolator
  as ``loudness.true_peak_dbtp``), interpolating only around samples within 4 dB of the
  ceiling (or, without a ceiling, within 6 dB of the loudest sample so far): stretches clear
  of it cost one ``abs`` and one ``max``.
- ``StreamLimiter``: a look-ahead brick-wall limiter in numpy, its gain worked out per 32-sample
  block from the block's peak, its state (release, look-ahead) carried across chunks; blocks
  clear of the ceiling pass untouched once the gain has recovered. Its output lines up with
  its input, and ``flush`` returns what it still holds.

The meters' results equal the whole-array functions in loudness.py (tested): same filter,
same blocks; chunk joins leave no trace.
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
#: The limiter works out its gain per block of this many samples (0.67 ms at 48 kHz).
GAIN_BLOCK = 32
#: With a ceiling, the true-peak meter oversamples only samples within this much of it: 4x
#: oversampling of speech finds at most ~3 dB above the sample peak, so quieter samples cannot
#: reach the ceiling (their figure is the sample peak).
TP_NEAR_CEILING_DB = 4.0
#: A limiter gain reduction under this (-120 dB) counts as fully recovered.
_RECOVERED = 1e-6


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
        x = np.asarray(chunk).reshape(-1)
        if x.size == 0:
            return
        # one pass to float64 with the guard (the same values as converting, then adding), filtered in place
        y, self._zi = sos_filter(self._sos, np.add(x, _DENORMAL_GUARD, dtype=np.float64), self._zi, in_place=True)
        self.add_weighted(x, y)

    def add_weighted(self, x: np.ndarray, y: np.ndarray) -> None:
        """Feed samples ``x`` whose K-weighting ``y`` (float64, not changed here) is already known,
        e.g. a stretch of a signal another meter filtered: this meter's own filter is not run."""
        if x.size == 0:
            return
        if self.frames < self._block:
            self._head.append(np.array(x[: self._block - self.frames], dtype=np.float64))
        self._nonzero = self._nonzero or bool(np.any(x))
        self._weighted(x, y)
        pos = 0
        if self._filled:
            take = min(self._step - self._filled, len(y))
            head = y[:take]
            self._partial += float(np.dot(head, head))
            self._filled += take
            pos = take
            if self._filled == self._step:
                self._sums.append(self._partial)
                self._partial, self._filled = 0.0, 0
        whole = (len(y) - pos) // self._step
        if whole:
            rows = y[pos : pos + whole * self._step].reshape(whole, self._step)
            self._sums.extend(np.einsum("ij,ij->i", rows, rows).tolist())  # sums of squares, no squared copy
            pos += whole * self._step
        if pos < len(y):
            tail = y[pos:]
            self._partial = float(np.dot(tail, tail))
            self._filled = len(y) - pos
        self.frames += len(x)

    def _weighted(self, x: np.ndarray, y: np.ndarray) -> None:
        """Hook: ``y`` is ``x`` K-weighted (float64, not to be changed); a subclass keeps more of it."""

    def integrated_lufs(self) -> float | None:
        """Gated loudness of everything fed so far; None below the -70 LUFS gate (or silence)."""
        if not self._nonzero:
            return None
        if self.frames < self._block:
            from .loudness import _integrated_lufs

            return _integrated_lufs(np.concatenate(self._head), self.sample_rate)
        return gated_lufs(self._sub_blocks(), self.frames, self.sample_rate)

    def _sub_blocks(self) -> np.ndarray:
        """The K-weighted energy of every 100 ms sub-block fed so far (the last one partial)."""
        return np.array(self._sums + ([self._partial] if self._filled else []), dtype=np.float64)


def combined_integrated_lufs(meters: list[BlockMeter]) -> float | None:
    """Gated loudness of consecutive stretches metered apart (each at its own rate), as one
    programme: their 100 ms sub-blocks' K-weighted energies, in seconds of signal, joined in
    order, so the 400 ms gating blocks run across the joins as over one signal (a stretch's
    last, partial sub-block stands as one; the grid after it moves by less than 100 ms)."""
    meters = [m for m in meters if m.frames]
    if len(meters) == 1:
        return meters[0].integrated_lufs()
    if not any(m._nonzero for m in meters):
        return None
    seconds = sum(m.frames / m.sample_rate for m in meters)
    if seconds < _BLOCK_S:  # under one gating block in all: the loudest stretch's figure
        figures = [f for f in (m.integrated_lufs() for m in meters) if f is not None]
        return max(figures) if figures else None
    subs = np.concatenate([m._sub_blocks() / m.sample_rate for m in meters])
    return gated_lufs(subs, seconds, 1)


def gated_lufs(subs: np.ndarray, frames: int, rate: int) -> float | None:
    """BS.1770 gated loudness from the K-weighted energies of consecutive 100 ms sub-blocks of a
    signal ``frames`` long (at least one 400 ms block); None below the -70 LUFS gate."""
    z = block_energies(subs, frames, rate)
    return gate(z, np.ones(len(z)))


def block_energies(subs: np.ndarray, frames: int, rate: int) -> np.ndarray:
    """The mean square of every 400 ms gating block (75 % overlap) from the sub-blocks' energies."""
    blocks = int(round((frames / rate - _BLOCK_S) / (_BLOCK_S * 0.25))) + 1
    csum = np.concatenate([[0.0], np.cumsum(subs)])
    j = np.arange(max(blocks, 0))
    hi = np.minimum(j + 4, len(subs))
    return (csum[hi] - csum[np.minimum(j, len(subs))]) / (_BLOCK_S * rate)


def gate(z: np.ndarray, weights: np.ndarray) -> float | None:
    """The two gates of BS.1770 over blocks of mean square ``z``, each counted ``weights`` times
    (a sampled stretch stands for more blocks than it has); None below the absolute gate."""
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(z)
    above = block_lufs >= _ABSOLUTE_GATE_LUFS
    if not np.any(above):
        return None
    relative_gate = -0.691 + 10.0 * math.log10(float(np.average(z[above], weights=weights[above]))) - 10.0
    gated = above & (block_lufs > relative_gate)
    if not np.any(gated):
        return None
    lufs = -0.691 + 10.0 * math.log10(float(np.average(z[gated], weights=weights[gated])))
    return lufs if lufs >= _ABSOLUTE_GATE_LUFS else None


class PeakMeter:
    """Sample peak and 4x-oversampled true peak of a signal fed in chunks.

    ``ceiling_db``: only samples within 4 dB of it are interpolated (a speech sample further
    under cannot reach the ceiling between samples), so a programme clear of the ceiling is
    never oversampled and its figure is its sample peak. Without a ceiling, samples within
    6 dB of the loudest one so far are interpolated: the true peak of the whole signal.
    """

    def __init__(self, ceiling_db: float | None = None, *, oversample: int = 4) -> None:
        """Meter with an optional true-peak ceiling (dBTP) that decides where to look closely;
        ``oversample`` points per sample (BS.1770: 4; more for a stretch at a low rate that the
        file will hold resampled: its 4x grid would read peaks lower than the file's)."""
        kernel = _interpolation_kernel(oversample)
        self._kernel_t = np.ascontiguousarray(kernel.T)
        self._half = kernel.shape[1] // 2  # 16
        self._context = np.zeros(2 * self._half - 1, np.float32)  # the 31 samples before the chunk
        self._started = False
        self._floor = _from_db(ceiling_db - TP_NEAR_CEILING_DB) if ceiling_db is not None else None
        self.sample_peak = 0.0
        self.true_peak = 0.0
        self.interpolated = 0  # points interpolated so far (what the true peak cost)

    def add(self, chunk: np.ndarray) -> None:
        """Feed the next samples (mono float)."""
        x = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if x.size == 0:
            return
        # Interpolation point i sits between sample i and i+1 of `joined` (context + chunk); the
        # window for it is joined[i-15 .. i+16]. The last 16 samples of a chunk wait for the next.
        joined = np.concatenate([self._context, x])
        magnitude = np.abs(joined)  # once, for the peak and the candidates
        context = len(self._context)
        chunk_peak = float(magnitude[context:].max())
        self.sample_peak = max(self.sample_peak, chunk_peak)
        self.true_peak = max(self.true_peak, chunk_peak)
        threshold = self._floor if self._floor is not None else self.sample_peak * _from_db(-_TP_CANDIDATE_DB)
        if self.sample_peak > 0 and max(chunk_peak, float(magnitude[:context].max())) >= threshold:
            loud = magnitude >= threshold
            loud[:-1] |= loud[1:]
            first = self._half - 1 if self._started else 2 * self._half - 1  # no interpolation before the start
            last = len(joined) - self._half  # exclusive: needs 16 samples after
            starts = np.nonzero(loud[first:last])[0] + first
            if len(starts):
                for lo in range(0, len(starts), CHUNK_FRAMES // 4):
                    part = starts[lo : lo + CHUNK_FRAMES // 4]
                    self.true_peak = max(self.true_peak, oversampled_peak(joined, part - (self._half - 1), self._kernel_t))
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


def oversampled_peak(joined: np.ndarray, firsts: np.ndarray, kernel_t: np.ndarray) -> float:
    """The largest magnitude at 1/4, 2/4, 3/4 between samples of ``joined`` for the windows
    starting at ``firsts`` (32 samples each): the only place the true peak oversamples."""
    windows = np.lib.stride_tricks.sliding_window_view(joined, kernel_t.shape[0])[firsts]
    return float(np.abs(windows @ kernel_t).max())


class StreamLimiter:
    """A look-ahead brick-wall limiter in numpy, chunk by chunk, its state carried across chunks.

    The gain is worked out per block of ``GAIN_BLOCK`` samples (0.67 ms at 48 kHz) from the
    block's sample peak, not per sample, and interpolated linearly inside each block:

    - each block edge may let through at most the smaller "ceiling / peak" of its two blocks;
    - look-ahead: an edge takes the smallest of that over the next ~2 ms of edges, and the
      result is averaged over the ~2 ms of edges before it, so the gain ramps down before a
      peak, and since every value averaged is at most what each sample in reach needs, no
      sample leaves above the ceiling (tested on the samples);
    - release: the gain reduction decays exponentially (100 ms, as loudness.py's limiter).

    Blocks under the ceiling while the gain has recovered (reduction under 1e-6, −120 dB) are
    passed as they are: a chunk clear of the ceiling costs one peak per block. The output is
    delayed by a few blocks inside the limiter but lines up with the input (``process``
    returns a little less than fed at first; ``flush`` returns the rest, so output length
    equals input length). Chunk sizes do not change the result (beyond 1e-6).
    """

    def __init__(self, *, sample_rate: int, ceiling_db: float) -> None:
        """A limiter at ``ceiling_db`` (sample peak) with loudness.py's release and lookahead."""
        self.sample_rate = sample_rate
        self._ceiling = _from_db(ceiling_db)
        self._block = GAIN_BLOCK
        self._hold = max(1, int(round(_LIMITER_LOOKAHEAD_MS / 1000.0 * sample_rate / self._block)))
        self._decay = self._block / (_LIMITER_RELEASE_MS / 1000.0 * sample_rate)  # -ln(release factor per block)
        self._ramp = (np.arange(self._block, dtype=np.float32) / np.float32(self._block)).reshape(1, -1)
        self._buf = np.zeros(0, np.float32)  # input from the first block not yet returned
        self._need_before = 1.0  # "ceiling / peak" of the block before the buffer
        self._reduction = 0.0  # gain reduction (1 - gain) at the last edge returned
        self._edges = np.ones(self._hold)  # the released gains of the edges before the buffer
        self._fed = 0
        self._returned = 0
        self.limited_blocks = 0  # blocks whose gain was below 1 somewhere (what the limiter did)

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Limit the next samples; returns what is ready (a little less than fed at first)."""
        x = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if x.size == 0:
            return x
        self._fed += len(x)
        out = self._run(x)
        self._returned += len(out)
        return out

    def flush(self) -> np.ndarray:
        """The samples still held back, so output length equals input length."""
        missing = self._fed - self._returned
        out = self._run(np.zeros((self._hold + 3) * self._block, np.float32))[:missing]
        if len(out) < missing:
            out = np.concatenate([out, np.zeros(missing - len(out), np.float32)])
        self._returned += len(out)
        return out

    def _released(self) -> bool:
        return self._reduction == 0.0 and self._need_before == 1.0 and bool(np.all(self._edges == 1.0))

    def _run(self, x: np.ndarray) -> np.ndarray:
        buf = np.concatenate([self._buf, x]) if self._buf.size else x
        size, hold = self._block, self._hold
        count = len(buf) // size  # whole blocks held
        ready = count - 1 - hold  # blocks whose gain is known at both edges
        if ready <= 0:
            self._buf = buf.copy()
            return np.zeros(0, np.float32)
        held = buf[: count * size]
        # only samples over the ceiling make a block need any gain reduction: find those (a few
        # per cent of hot speech, none of a quiet programme), not every block's peak
        magnitude = np.abs(held)
        over = np.flatnonzero(magnitude > self._ceiling)
        if self._released() and over.size == 0:
            # clear of the ceiling with the gain recovered: nothing to compute, nothing to change
            self._reduction, self._need_before = 0.0, 1.0
            self._edges = np.ones(hold)
            self._buf = buf[ready * size :].copy()
            return held[: ready * size]
        need = np.ones(count + 1)  # need[k + 1]: what block k lets through, "ceiling / peak" at most 1
        need[0] = self._need_before
        if over.size:
            block_of = over // size
            firsts = np.flatnonzero(np.diff(block_of, prepend=-1))  # `over` is sorted: runs per block
            peaks = np.maximum.reduceat(magnitude[over], firsts).astype(np.float64)
            need[block_of[firsts] + 1] = self._ceiling / peaks
        edge_need = np.minimum(need[:-1], need[1:])  # edge j: between block j-1 and block j
        # (windows of hold + 1 edges as shifted slices: numpy's reductions over short rows are slow)
        span = count - hold  # edges whose look-ahead is complete
        ahead = edge_need[:span].copy()
        for k in range(1, hold + 1):
            np.minimum(ahead, edge_need[k : k + span], out=ahead)
        reduction = self._release(1.0 - ahead)
        gains = np.concatenate([self._edges, 1.0 - reduction])
        total = gains[:span].copy()
        for k in range(1, hold + 1):
            total += gains[k : k + span]
        smooth = (total / (hold + 1)).astype(np.float32)
        start, end = smooth[:-1], smooth[1:]  # ready + 1 edges -> ready blocks
        touched = (start < 1.0) | (end < 1.0)  # the rest pass at gain 1, untouched
        active = int(np.count_nonzero(touched))
        out = held[: ready * size].copy()
        if active:
            rows = out.reshape(ready, size)
            if 2 * active > ready:  # mostly limited (voiced speech): one multiply is cheaper than a gather
                rows *= start[:, None] + (end - start)[:, None] * self._ramp
            else:
                picked = np.flatnonzero(touched)
                rows[picked] *= start[picked, None] + (end - start)[picked, None] * self._ramp
        self.limited_blocks += active
        # the next call starts at block `ready`: keep what its edges need
        self._need_before = float(need[ready])  # need[k + 1] is block k's
        self._reduction = float(reduction[ready - 1])
        self._edges = gains[ready : ready + hold].copy()
        self._buf = buf[ready * size :].copy()
        return out

    def _release(self, wanted: np.ndarray) -> np.ndarray:
        return release_reduction(wanted, self._decay, self._reduction)


def release_reduction(wanted: np.ndarray, decay: float, carried: float) -> np.ndarray:
    """r[j] = max(wanted[j], r[j-1]·exp(-decay)) from the ``carried`` reduction, without a loop:
    log r[j] + j·decay is a running maximum."""
    index = np.arange(len(wanted)) * decay
    with np.errstate(divide="ignore"):
        level = np.log(wanted) + index
    if carried > 0.0:
        level[0] = max(level[0], math.log(carried) - decay)
    np.maximum.accumulate(level, out=level)
    reduction = np.exp(level - index)
    # under 1e-6 (-120 dB) the gain counts as recovered: exactly 1, so the fast path can resume
    # (the same snap whatever the chunks: a chain decayed that far never outweighs a new need)
    reduction[reduction < _RECOVERED] = 0.0
    return reduction


class Lane:
    """Calls run in order on one worker thread while the caller goes on (at most ``depth`` queued).

    The render's limiter runs on the caller's thread and the meters of the chunk before it
    here: numpy and the K-weighting loop release the GIL, so the two use two
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


__all__ = ["BlockMeter", "CHUNK_FRAMES", "FLOOR_DB", "GAIN_BLOCK", "Lane", "PeakMeter", "StreamLimiter", "oversampled_peak",
           "quantized", "_bs1770_integrated"]
