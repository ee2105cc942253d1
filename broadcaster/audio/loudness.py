"""Loudness measurement (ITU-R BS.1770, as pyloudnorm measures it) and normalization under a peak ceiling.

Speech peaks sit far above its loudness (espeak-ng's by about 19 dB), so a plain gain
to -16 LUFS would push peaks to about +3 dBFS and clip. The gain therefore goes through
pedalboard's ``BrickwallLimiter`` (lookahead, configurable ceiling, no makeup gain).
``pedalboard.Limiter`` is not usable here: it wraps JUCE's limiter, which adds automatic
makeup gain and hard-clips at 0 dBFS (measured: +0.1 dBTP with threshold_db=-1.5), so it
cannot hold a -1 dBTP ceiling.

Limiting lowers loudness, so normalization iterates: gain, limit, re-measure, correct.
All functions are pure: arrays in, arrays out, nothing kept between calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..exceptions import AudioError

#: Loudness and peak figures never go below this: silence reports -120 rather than -inf,
#: so the figures can be stored in SQLite and sent as JSON.
FLOOR_DB = -120.0

#: BS.1770 gating block. pyloudnorm refuses shorter input, so shorter clips are measured
#: by padding them to one block and correcting for the padding.
_BLOCK_S = 0.400
#: BS.1770 absolute gate: anything quieter is treated as silence and left alone, because
#: boosting it by 50+ dB would only air hiss.
_ABSOLUTE_GATE_LUFS = -70.0

#: True peak: samples this close to the sample peak get their neighbourhood interpolated.
_TP_CANDIDATE_DB = 6.0
_TP_TAPS_PER_SIDE = 16

#: The limiter's ceiling sits this far below the requested true-peak ceiling, leaving room for
#: inter-sample peaks the limiter's own detector misses and for 16-bit rounding.
LIMITER_HEADROOM_DB = 0.5
#: Release long enough not to distort vowels, short enough not to pump between syllables.
_LIMITER_RELEASE_MS = 100.0
#: A short lookahead: the limiter holds its gain down for about this long around every peak,
#: and a shorter hold lets peaky speech get louder (measured: 2 ms gives ~0.4 LU more than 5 ms).
_LIMITER_LOOKAHEAD_MS = 2.0
#: The lookahead limiter needs a tail to flush its delay line; padded then trimmed off.
_LIMITER_TAIL_S = 0.05

#: Passes of gain → limit → re-measure. Speech usually converges in two or three.
_MAX_PASSES = 6
#: Stop iterating once this close; well inside the ±0.5 LU the station promises.
_TOLERANCE_LU = 0.1
#: A last static trim keeps true peaks this far under the ceiling (limiter overshoot, rounding).
_TRUE_PEAK_MARGIN_DB = 0.05
#: Never push more than this above the starting gain: beyond it the signal would be crushed,
#: and the best pass so far is returned instead.
_MAX_EXTRA_GAIN_DB = 12.0
#: Engage the clipper only when the limiter alone leaves the item this much too quiet.
_CLIP_ENGAGE_LU = 0.2


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS) and true peak (dBTP) of a signal; both floored at FLOOR_DB."""

    integrated_lufs: float
    true_peak_dbtp: float


def measure(samples: np.ndarray, sample_rate: int) -> Loudness:
    """Measure integrated loudness (BS.1770, gated) and true peak (4x oversampled).

    Mono or (frames, channels) input; channels are averaged to mono first, which is what
    the station airs. Clips shorter than 400 ms are measured over their own length.
    Silence (or anything under the -70 LUFS gate) reports FLOOR_DB, never -inf or NaN.
    Raises AudioError for empty input.
    """
    x = _as_mono(samples)
    lufs = _integrated_lufs(x, sample_rate)
    return Loudness(
        integrated_lufs=FLOOR_DB if lufs is None else max(FLOOR_DB, lufs),
        true_peak_dbtp=true_peak_dbtp(x),
    )


def true_peak_dbtp(samples: np.ndarray) -> float:
    """True peak in dBTP: the largest magnitude of the signal oversampled 4x (FLOOR_DB for silence).

    Only the neighbourhoods of samples within 6 dB of the sample peak are interpolated (a
    32-tap Kaiser-windowed sinc at 1/4, 2/4 and 3/4 of each sample step): an inter-sample
    peak higher than that needs content near Nyquist in a rare phase. That is ~6x faster
    than oversampling everything and agrees with scipy's resample_poly within 0.02 dB on
    speech and jingles. When too many samples qualify (noise, heavy compression) the whole
    signal goes through resample_poly instead.
    """
    x = _as_mono(samples).astype(np.float32)
    magnitude = np.abs(x)
    sample_peak = float(np.max(magnitude))
    if sample_peak == 0.0:
        return FLOOR_DB
    loud = magnitude >= sample_peak * _from_db(-_TP_CANDIDATE_DB)
    # The crest may lie just before or just after a loud sample: interpolate both intervals.
    # (A boolean mask, not np.unique: on an hour of audio that sort/hash took seconds.)
    loud[:-1] |= loud[1:]
    loud[-1] = False
    starts = np.nonzero(loud)[0]
    if len(starts) > len(x) // 4:
        from scipy.signal import resample_poly

        return _to_db(max(sample_peak, float(np.max(np.abs(resample_poly(x, 4, 1))))))
    if len(starts) == 0:
        return _to_db(sample_peak)
    kernel = _interpolation_kernel()
    half = kernel.shape[1] // 2
    padded = np.concatenate([np.zeros(half - 1, np.float32), x, np.zeros(half, np.float32)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape[1])[starts]
    between = float(np.max(np.abs(windows @ kernel.T)))
    return _to_db(max(sample_peak, between))


def normalize_loudness(
    samples: np.ndarray, *, sample_rate: int, target_lufs: float, true_peak_dbtp: float
) -> np.ndarray:
    """Bring a signal to ``target_lufs`` integrated with true peaks at or below ``true_peak_dbtp``.

    Gain to the target, limit with a brick-wall limiter set a little under the ceiling,
    re-measure (true peak by 4x oversampling) and correct the gain, a few passes, so the
    result lands within 0.1 LU of the target. Speech too peaky for the limiter alone to
    reach the target is driven into a clipper first. Returns mono float32 of the same
    length. Silent input (below the -70 LUFS gate) comes back unchanged, and so does
    not turn into amplified noise. Raises AudioError for empty input.
    """
    x = _as_mono(samples)
    current = _integrated_lufs(x, sample_rate)
    ceiling_lin = _from_db(true_peak_dbtp - _TRUE_PEAK_MARGIN_DB)
    if current is None:
        # Nothing to normalize; only make sure stray peaks respect the ceiling.
        return np.clip(x, -ceiling_lin, ceiling_lin).astype(np.float32)

    import pedalboard

    if not hasattr(pedalboard, "BrickwallLimiter"):
        raise AudioError("pedalboard quá cũ, thiếu BrickwallLimiter / pedalboard >= 0.9.26 required")
    limiter_ceiling_db = true_peak_dbtp - LIMITER_HEADROOM_DB
    limiter = pedalboard.BrickwallLimiter(
        ceiling_db=limiter_ceiling_db,
        release_ms=_LIMITER_RELEASE_MS,
        lookahead_ms=_LIMITER_LOOKAHEAD_MS,
        # Its oversampled sidechain costs 7x the time and gained under 0.01 dB on speech at 48 kHz;
        # the headroom above and the measured trim below already keep true peaks under the ceiling.
        true_peak=False,
    )
    plain_gain = target_lufs - current

    def limited(gain_db: float) -> np.ndarray:
        return _limit(x * _from_db(gain_db), limiter, sample_rate)

    best = _search_gain(limited, sample_rate, target_lufs, true_peak_dbtp, plain_gain)
    if best.error > _CLIP_ENGAGE_LU:
        # Still too quiet: the limiter holds its gain down over whole pitch periods, so speech
        # whose every period carries a sharp peak cannot get louder through it, whatever the
        # gain. Shaving those peaks with a clipper first is what broadcast processors do; it is
        # only engaged here, for the few inputs that need it.
        clipper = pedalboard.Clipping(threshold_db=limiter_ceiling_db)

        def clipped(gain_db: float) -> np.ndarray:
            driven = clipper(np.asarray(x * _from_db(gain_db), dtype=np.float32), sample_rate)
            return _limit(np.asarray(driven, dtype=np.float64).reshape(-1), limiter, sample_rate)

        second = _search_gain(clipped, sample_rate, target_lufs, true_peak_dbtp, plain_gain)
        if abs(second.error) < abs(best.error):
            best = second
    return best.samples.astype(np.float32)


@dataclass(frozen=True)
class _Pass:
    gain_db: float
    error: float  # target minus achieved, LU: positive means still too quiet
    samples: np.ndarray


def _search_gain(
    process, sample_rate: int, target_lufs: float, ceiling_db: float, start_gain: float
) -> _Pass:
    """Find the gain for which ``process(gain)`` measures ``target_lufs``; returns the best pass."""
    max_gain = start_gain + _MAX_EXTRA_GAIN_DB
    gain_db = start_gain
    best: _Pass | None = None
    previous: tuple[float, float] | None = None  # (gain, achieved) of the pass before
    for _ in range(_MAX_PASSES):
        y = _trim_to_ceiling(process(gain_db), ceiling_db - _TRUE_PEAK_MARGIN_DB)
        achieved = _integrated_lufs(y, sample_rate)
        if achieved is None:  # cannot happen for input above the gate, but never loop on it
            break
        error = target_lufs - achieved
        if best is None or abs(error) < abs(best.error):
            best = _Pass(gain_db, error, y)
        if abs(error) <= _TOLERANCE_LU:
            break
        # Under limiting 1 dB more gain buys less than 1 LU, so a plain "+error" would only
        # creep towards the target; a secant step on the measured slope gets there in a pass or two.
        slope = 1.0
        if previous is not None and gain_db != previous[0]:
            slope = min(1.0, max(0.1, (achieved - previous[1]) / (gain_db - previous[0])))
        previous = (gain_db, achieved)
        gain_db = min(gain_db + error / slope, max_gain)
        if gain_db == previous[0]:
            break  # at the gain cap: more would only crush the signal
    if best is None:
        y = process(start_gain)
        best = _Pass(start_gain, 0.0, y)
    return best


# ----------------------------------------------------------------------------- helpers
def _as_mono(samples: np.ndarray) -> np.ndarray:
    """Float64 1-D copy: channels averaged, non-finite values zeroed; empty input refused."""
    x = np.asarray(samples)
    if x.ndim == 2:
        x = x.mean(axis=1) if x.shape[1] > 0 else x.reshape(-1)
    elif x.ndim != 1:
        raise AudioError(f"Dữ liệu âm thanh có dạng không hợp lệ {x.shape} / bad audio shape")
    if x.size == 0:
        raise AudioError("Âm thanh trống / empty audio")
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        # A NaN would poison every measurement downstream; a decoder glitch is better aired as a gap.
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    return x


def _integrated_lufs(x: np.ndarray, sample_rate: int) -> float | None:
    """Gated integrated loudness of a mono float64 signal, or None when it is below the gate."""
    if not np.any(x):
        return None
    block = int(math.ceil(_BLOCK_S * sample_rate))
    if len(x) >= block:
        lufs = _bs1770_integrated(x, sample_rate)
    else:
        # One zero-padded block holds the clip's energy spread over 400 ms; scale it back to the
        # clip's own length so a 100 ms beep reads as loud as the same beep held for a second.
        padded = np.zeros(block)
        padded[: len(x)] = x
        lufs = _bs1770_integrated(padded, sample_rate)
        if math.isfinite(lufs):
            lufs += 10.0 * math.log10(block / len(x))
    if not math.isfinite(lufs) or lufs < _ABSOLUTE_GATE_LUFS:
        return None
    return float(lufs)


def _bs1770_integrated(x: np.ndarray, sample_rate: int) -> float:
    """BS.1770-4 gated loudness of a mono signal: the same figures as pyloudnorm.Meter (its
    K-weighting coefficients and block layout; agreement to 1e-9 LU, tested), computed with one
    second-order-section filter pass and a cumulative sum instead of pyloudnorm's two lfilter
    passes and a Python loop over the 400 ms blocks, which cost ~1 s per pass on an 11-minute item.
    """
    n = len(x)
    y, _ = sos_filter(_k_weighting_sos(sample_rate), np.asarray(x, dtype=np.float64) + _DENORMAL_GUARD, None)
    energy = np.concatenate([[0.0], np.cumsum(np.square(y))])
    step = 0.25  # 75 % overlap between gating blocks
    blocks = int(round((n / sample_rate - _BLOCK_S) / (_BLOCK_S * step))) + 1
    j = np.arange(max(blocks, 0))
    lo = (_BLOCK_S * (j * step) * sample_rate).astype(np.int64)
    hi = np.minimum((_BLOCK_S * (j * step + 1) * sample_rate).astype(np.int64), n)
    z = (energy[hi] - energy[lo]) / (_BLOCK_S * sample_rate)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(z)
    above = block_lufs >= _ABSOLUTE_GATE_LUFS
    if not np.any(above):
        return float("-inf")
    relative_gate = -0.691 + 10.0 * math.log10(float(np.mean(z[above]))) - 10.0
    gated = z[above & (block_lufs > relative_gate)]
    if gated.size == 0:
        return float("-inf")
    return -0.691 + 10.0 * math.log10(float(np.mean(gated)))


@lru_cache(maxsize=8)
def _k_weighting_sos(sample_rate: int) -> np.ndarray:
    """The BS.1770 K-weighting (pre-filter shelf + RLB high-pass) as second-order sections, with
    pyloudnorm's own filter design (its IIRfilter's RBJ formulas, restated here so that designing
    them imports neither pyloudnorm nor scipy.signal: seconds of start-up on a small PC; equality
    with pyloudnorm's coefficients is tested)."""
    rows = []
    for gain_db, q, fc, kind in ((4.0, 1 / math.sqrt(2), 1500.0, "high_shelf"), (0.0, 0.5, 38.0, "high_pass")):
        a_ = 10 ** (gain_db / 40.0)
        w0 = 2.0 * math.pi * (fc / sample_rate)
        alpha = math.sin(w0) / (2.0 * q)
        cos = math.cos(w0)
        if kind == "high_shelf":
            root = 2 * math.sqrt(a_) * alpha
            b = [a_ * ((a_ + 1) + (a_ - 1) * cos + root), -2 * a_ * ((a_ - 1) + (a_ + 1) * cos),
                 a_ * ((a_ + 1) + (a_ - 1) * cos - root)]
            a = [(a_ + 1) - (a_ - 1) * cos + root, 2 * ((a_ - 1) - (a_ + 1) * cos), (a_ + 1) - (a_ - 1) * cos - root]
        else:
            b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
            a = [1 + alpha, -2 * cos, 1 - alpha]
        rows.append([x / a[0] for x in b] + [x / a[0] for x in a])
    return np.array(rows, dtype=np.float64)  # shared through the cache: the filters only read it


#: Added to every sample before K-weighting: fed exact zeros (digital silence, a quarter of a
#: spoken item) the filter's state decays into subnormal floats, which cost the CPU tens of
#: times more per operation; at 1e-15 (-300 dBFS, DC the high-pass removes) it stays normal.
_DENORMAL_GUARD = 1e-15


def sos_filter(sos: np.ndarray, x: np.ndarray, zi: np.ndarray | None, *,
               in_place: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scipy.signal.sosfilt of a 1-D float64 signal from state ``zi`` (None: at rest); returns
    (output, final state). Calls scipy's compiled loop (scipy.signal._sosfilt) without importing
    scipy.signal, whose import pulls in scipy.sparse, linalg, special… for this one loop: over a
    second of start-up on a small PC, more than the whole render of a short bulletin.
    ``in_place``: ``x`` is a float64 array of the caller's own, filtered where it lies (no copy)."""
    kernel = _sosfilt_kernel()
    state = np.zeros((1, sos.shape[0], 2)) if zi is None else np.array(zi, dtype=np.float64).reshape(1, -1, 2)
    if in_place and x.dtype == np.float64 and x.flags.c_contiguous and x.flags.writeable:
        y = x.reshape(1, -1)
    else:
        y = np.array(x, dtype=np.float64, order="C").reshape(1, -1)
    kernel(np.ascontiguousarray(sos, dtype=np.float64), y, state)
    return y.reshape(-1), state.reshape(-1, 2)


@lru_cache(maxsize=1)
def _sosfilt_kernel():
    import sys

    name = "scipy.signal._sosfilt"
    module = sys.modules.get(name)
    if module is None:
        import importlib.machinery
        import importlib.util
        from pathlib import Path

        import scipy

        folder = Path(scipy.__file__).parent / "signal"
        found = [folder / f"_sosfilt{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES]
        found = [path for path in found if path.is_file()]
        if not found:  # a scipy laid out otherwise: the public way, at its import cost
            from scipy.signal import sosfilt

            return lambda sos, y, state: _public_sosfilt(sosfilt, sos, y, state)
        loader = importlib.machinery.ExtensionFileLoader(name, str(found[0]))
        spec = importlib.util.spec_from_file_location(name, found[0], loader=loader)
        module = importlib.util.module_from_spec(spec)
        # registered under its own name, so a later `import scipy.signal` uses this very module
        # (a compiled module cannot be initialized twice in one process)
        sys.modules[name] = module
        try:
            loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
    return module._sosfilt


def _public_sosfilt(sosfilt, sos, y, state) -> None:
    out, final = sosfilt(sos, y[0], zi=state[0])
    y[0] = out
    state[0] = final


@lru_cache(maxsize=2)
def _interpolation_kernel(factor: int = 4) -> np.ndarray:
    """(factor - 1, 32) float32: sinc interpolators for points 1/factor … (factor-1)/factor
    between x[n] and x[n+1] (BS.1770's true peak: factor 4).

    Row p applied to x[n-15 .. n+16] gives the band-limited value at n + (p+1)/factor.
    """
    half = _TP_TAPS_PER_SIDE
    offsets = np.arange(-half + 1, half + 1)
    rows = []
    for frac in np.arange(1, factor) / factor:
        t = frac - offsets
        window = np.i0(8.0 * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, None))) / np.i0(8.0)
        taps = np.sinc(t) * window
        rows.append(taps / taps.sum())  # unity gain at DC
    kernel = np.array(rows, dtype=np.float32)
    kernel.flags.writeable = False  # shared by every caller through the cache
    return kernel


def _limit(x: np.ndarray, limiter, sample_rate: int) -> np.ndarray:
    """Run the limiter over the whole signal; returns float64 of the input's length."""
    tail = int(_LIMITER_TAIL_S * sample_rate)
    # Zeros after the end let the lookahead delay line flush; pedalboard compensates the
    # plugin's latency, so the first len(x) output samples line up with the input.
    padded = np.concatenate([x, np.zeros(tail)]).astype(np.float32)
    out = limiter(padded, sample_rate, reset=True)
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    if len(out) < len(x):
        out = np.concatenate([out, np.zeros(len(x) - len(out))])
    return out[: len(x)]


def _trim_to_ceiling(y: np.ndarray, ceiling_db: float) -> np.ndarray:
    """Static gain down if any inter-sample peak slipped past the limiter (rare, a few tenths of a dB)."""
    peak = true_peak_dbtp(y)
    if peak > ceiling_db:
        y = y * _from_db(ceiling_db - peak)
    return y


def _to_db(value: float) -> float:
    return FLOOR_DB if value <= 0 else max(FLOOR_DB, 20.0 * math.log10(value))


def _from_db(db: float) -> float:
    return 10.0 ** (db / 20.0)
