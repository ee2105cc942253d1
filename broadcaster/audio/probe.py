"""What the limiter would leave, predicted from block figures instead of running it.

The render's probe asks: at gain g, how loud is the item once the brick-wall limiter has
worked on it? Running the limiter and a K-weighting meter for every gain it tries costs a
pass over (a sample of) the item each time. But StreamLimiter decides its gain from one
figure per block of GAIN_BLOCK samples, the block's sample peak, and loudness needs only the
K-weighted energy of each 100 ms sub-block. So one read keeps, per block, the peak and the
K-weighted energy at unity gain (``BlockProfile``), and every gain after that costs a few
vector operations on those figures (a millisecond of audio is one number):

- the limiter's edge gains are worked out from the peaks by the limiter's own rule
  (``limiter_edge_gains``: need, look-ahead minimum, release, averaging), from rest;
- a block's energy after limiting is its unity energy × g² × the mean square of the gain's
  linear ramp across it. That treats the limiter's slowly moving gain as if it commuted with
  the K-weighting filter, which it nearly does (the gain moves over milliseconds, the filter's
  response changes slowly with frequency): the prediction is within a few hundredths of a LU
  of running limiter and meter (tested); the write that follows measures exactly what it wrote
  and corrects the gain when it lands off.

A long piece (over ``WHOLE_S``, the speech of a long text) is profiled on a sample: one
``SAMPLE_BLOCK_S`` second in every ``SAMPLE_EVERY`` (fewer when that would exceed
``MAX_SAMPLE_S`` of audio, so memory stays flat). The render reads that sample from the file;
the speech stage, which has every sample in hand as it writes the speech, can keep it on the
way (``SampleCollector``) and spare the render that read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .loudness import _LIMITER_LOOKAHEAD_MS, _LIMITER_RELEASE_MS, _from_db
from .stream import GAIN_BLOCK, BlockMeter, block_energies, gate, release_reduction

#: A piece longer than this (seconds) is profiled on a sample, not whole.
WHOLE_S = 60.0
#: The sample: one block of this many seconds …
SAMPLE_BLOCK_S = 1.0
#: … in every this many (more, on a piece so long that the sample would exceed MAX_SAMPLE_S).
SAMPLE_EVERY = 4
MAX_SAMPLE_S = 180.0

_RAMP = np.arange(GAIN_BLOCK, dtype=np.float64) / GAIN_BLOCK
#: mean over a block of (s + (e - s)·t)² for the ramp t above = s²·A + s·e·B + e²·C
_RAMP_A = float(np.mean((1.0 - _RAMP) ** 2))
_RAMP_B = float(np.mean(2.0 * (1.0 - _RAMP) * _RAMP))
_RAMP_C = float(np.mean(_RAMP**2))


def limiter_edge_gains(peaks: np.ndarray, *, sample_rate: int, ceiling_db: float) -> np.ndarray:
    """StreamLimiter's gain at each block edge (len(peaks) + 1 values) for blocks with these
    sample peaks, from rest and followed by silence: block k ramps from edge k to edge k + 1."""
    ceiling = _from_db(ceiling_db)
    hold = max(1, int(round(_LIMITER_LOOKAHEAD_MS / 1000.0 * sample_rate / GAIN_BLOCK)))
    decay = GAIN_BLOCK / (_LIMITER_RELEASE_MS / 1000.0 * sample_rate)
    count = len(peaks)
    need = np.ones(count + hold + 2)  # need[k + 1]: what block k lets through; silence after the end
    over = peaks > ceiling
    need[1 : count + 1][over] = ceiling / peaks[over]
    edge_need = np.minimum(need[:-1], need[1:])  # edge j: between block j - 1 and block j
    span = count + 1
    ahead = edge_need[:span].copy()
    for k in range(1, hold + 1):
        np.minimum(ahead, edge_need[k : k + span], out=ahead)
    gains = np.concatenate([np.ones(hold), 1.0 - release_reduction(1.0 - ahead, decay, 0.0)])
    total = gains[:span].copy()
    for k in range(1, hold + 1):
        total += gains[k : k + span]
    return total / (hold + 1)


class BlockProfile(BlockMeter):
    """A BlockMeter that also keeps, per GAIN_BLOCK samples, the sample peak and the K-weighted
    energy: enough to predict the loudness after gain and limiter (``limited_lufs``)."""

    def __init__(self, sample_rate: int) -> None:
        """Profile of mono audio at ``sample_rate``."""
        super().__init__(sample_rate)
        self._peaks: list[np.ndarray] = []
        self._energies: list[np.ndarray] = []
        self._rest_x = np.zeros(0, np.float32)
        self._rest_y = np.zeros(0, np.float64)
        self._cached: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None

    def _weighted(self, x: np.ndarray, y: np.ndarray) -> None:
        xs = np.concatenate([self._rest_x, np.abs(x).astype(np.float32, copy=False)])
        ys = np.concatenate([self._rest_y, y])
        whole = len(xs) // GAIN_BLOCK
        if whole:
            cut = whole * GAIN_BLOCK
            self._peaks.append(xs[:cut].reshape(whole, GAIN_BLOCK).max(axis=1))
            rows = ys[:cut].reshape(whole, GAIN_BLOCK)
            self._energies.append(np.einsum("ij,ij->i", rows, rows))
            xs, ys = xs[cut:], ys[cut:]
        self._rest_x, self._rest_y = xs.copy(), ys.copy()

    def _figures(self) -> tuple[np.ndarray, np.ndarray]:
        if self._cached is not None and self._cached[0] == self.frames:
            return self._cached[1]
        figures = self._collect()
        self._cached = (self.frames, figures)
        return figures

    def _collect(self) -> tuple[np.ndarray, np.ndarray]:
        peaks = self._peaks + ([np.array([self._rest_x.max()], np.float32)] if len(self._rest_x) else [])
        energies = self._energies + ([np.array([float(np.dot(self._rest_y, self._rest_y))])] if len(self._rest_y) else [])
        if not peaks:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(peaks).astype(np.float64), np.concatenate(energies)

    def limited_lufs(self, gain_db: float, *, ceiling_db: float) -> float | None:
        """Predicted integrated loudness of what was fed, at ``gain_db`` through StreamLimiter at
        ``ceiling_db``; None below the gate."""
        return combined_lufs([(self, 1.0, 0.0)], gain_db, ceiling_db=ceiling_db)

    def _gating_blocks(self, gain_db: float | None, ceiling_db: float) -> np.ndarray:
        """The 400 ms blocks' mean squares, at unity (``gain_db`` None) or after gain and limiter."""
        if gain_db is None:
            return block_energies(self._sub_blocks(), self.frames, self.sample_rate)
        peaks, energies = self._figures()
        gain = _from_db(gain_db)
        edges = limiter_edge_gains(peaks * gain, sample_rate=self.sample_rate, ceiling_db=ceiling_db)
        start, end = edges[:-1], edges[1:]
        mean_square = start * start * _RAMP_A + start * end * _RAMP_B + end * end * _RAMP_C
        limited = energies * (gain * gain) * mean_square
        # a block counts in the 100 ms sub-block it starts in (off by < one block at 44.1 kHz)
        sub = (np.arange(len(limited)) * GAIN_BLOCK) // self._step
        return block_energies(np.bincount(sub, weights=limited), self.frames, self.sample_rate)


def combined_lufs(parts: list[tuple[BlockProfile, float, float]], gain_db: float | None, *,
                  ceiling_db: float) -> float | None:
    """Integrated loudness of several profiled stretches together, each block of a part counted
    as many times as its weight (a sample of one block in four stands for four) and the part
    raised by its offset in dB before the gain (a sample brought to the loudness its whole is
    known to have, peaks and all: the limiter then sees it at the whole's level): at unity
    (``gain_db`` None) or predicted after gain and limiter. None below the gate."""
    zs, ws = [], []
    for profile, weight, offset_db in parts:
        if profile.frames < profile._block or not profile._nonzero:
            continue  # under one gating block (or silence): nothing the gates would count
        if gain_db is None:
            z = profile._gating_blocks(None, ceiling_db) * 10.0 ** (offset_db / 10.0)
        else:
            z = profile._gating_blocks(gain_db + offset_db, ceiling_db)
        zs.append(z)
        ws.append(np.full(len(z), float(weight)))
    if not zs:
        return None
    return gate(np.concatenate(zs), np.concatenate(ws))


def sample_every(long_seconds: float) -> int:
    """One sampled block in how many, for long pieces of ``long_seconds`` in all."""
    return max(SAMPLE_EVERY, math.ceil(long_seconds / MAX_SAMPLE_S))


@dataclass(frozen=True)
class Sample:
    """The probe's sample of one long piece: its profile, the piece's frames, the frames sampled,
    and one block in how many."""

    profile: BlockProfile
    frames: int
    sampled: int
    every: int


class SampleCollector:
    """Keeps the probe's sample of a piece as it is written, chunk by chunk: the same blocks
    (one ``SAMPLE_BLOCK_S`` in ``SAMPLE_EVERY`` from the first sample) the render would read from
    the file. ``result`` is None when the piece is short (the render reads it whole) or so long
    that its sample would be sparser than one in ``SAMPLE_EVERY``; collecting stops as soon as
    that is so, so memory stays flat."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.frames = 0
        self.sampled = 0
        self._block = int(SAMPLE_BLOCK_S * sample_rate)
        self._period = self._block * SAMPLE_EVERY
        self._limit = MAX_SAMPLE_S * sample_rate
        self._profile: BlockProfile | None = BlockProfile(sample_rate) if self._block > 0 else None

    def add(self, chunk: np.ndarray, weighted: np.ndarray | None = None) -> None:
        """The next samples of the piece (mono float, as the file will hold them); ``weighted``:
        their K-weighting when the caller's meter has it (then not filtered again)."""
        n = len(chunk)
        profile = self._profile
        if profile is not None:
            pos = 0
            while pos < n:
                phase = (self.frames + pos) % self._period
                if phase < self._block:  # inside a sampled block
                    take = min(self._block - phase, n - pos)
                    if weighted is None:
                        profile.add(chunk[pos : pos + take])
                    else:
                        profile.add_weighted(chunk[pos : pos + take], weighted[pos : pos + take])
                    self.sampled += take
                else:
                    take = min(self._period - phase, n - pos)
                pos += take
            if self.sampled > self._limit:  # the whole is too long for one in SAMPLE_EVERY
                self._profile = None
        self.frames += n

    def result(self) -> Sample | None:
        if self._profile is None or self.frames <= WHOLE_S * self.sample_rate:
            return None
        if sample_every(self.frames / self.sample_rate) != SAMPLE_EVERY:
            return None
        return Sample(self._profile, self.frames, self.sampled, SAMPLE_EVERY)


class SampledMeter(BlockMeter):
    """The integrated loudness of everything fed (a BlockMeter) that also keeps the item probe's
    sample of it (SampleCollector), from its own K-weighting: the sample costs no filter of its
    own, and its figures follow the signal's filter from its start rather than from each sampled
    second's."""

    def __init__(self, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self._collector = SampleCollector(sample_rate)

    def _weighted(self, x: np.ndarray, y: np.ndarray) -> None:
        self._collector.add(x, y)

    def sample(self) -> Sample | None:
        """The probe's sample (SampleCollector.result)."""
        return self._collector.result()
