"""Loudness measurement and normalization on arrays (the file round trip is in test_audio_render)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audio_helpers import RATE, lufs, peaky_speech, speech_like, tone, true_peak
from broadcaster.audio import FLOOR_DB, Loudness, measure, normalize_loudness
from broadcaster.exceptions import AudioError

TARGET, CEILING = -16.0, -1.0


def _normalize(x, target=TARGET, ceiling=CEILING):
    return normalize_loudness(x, sample_rate=RATE, target_lufs=target, true_peak_dbtp=ceiling)


# ----------------------------------------------------------------------------- measure
def test_measure_matches_the_bs1770_reference_tone():
    # BS.1770: a 0 dBFS-peak 1 kHz sine in one channel reads -3.01 LUFS; half amplitude is 6.02 dB less.
    figures = measure(tone(1000, 2.0, amplitude=0.5), RATE)
    assert isinstance(figures, Loudness)
    assert figures.integrated_lufs == pytest.approx(-3.01 - 6.02, abs=0.1)
    assert figures.true_peak_dbtp == pytest.approx(-6.02, abs=0.05)


def test_true_peak_sees_between_the_samples():
    # A quarter-rate sine sampled at 45° never has a sample at its crest: sample peak is 3 dB low.
    n = np.arange(RATE)
    x = 0.5 * np.sin(2 * np.pi * n / 4 + np.pi / 4)
    assert 20 * np.log10(np.max(np.abs(x))) == pytest.approx(-9.03, abs=0.05)
    assert measure(x, RATE).true_peak_dbtp == pytest.approx(-6.02, abs=0.2)


SIGNALS = {
    "speech-like": lambda: speech_like(3.0),
    "limited speech": lambda: _normalize(speech_like(3.0)),
    "clipped peaky speech": lambda: _normalize(peaky_speech(3.0)),
    "noise": lambda: np.random.default_rng(0).standard_normal(RATE).astype(np.float32) * 0.2,
    "11 kHz sine": lambda: tone(11000, 0.5),
    "19 kHz sine": lambda: tone(19000, 0.5),
    "one click": lambda: np.eye(1, RATE, RATE // 2, dtype=np.float32)[0] * 0.8,
}


@pytest.mark.parametrize("make", SIGNALS.values(), ids=SIGNALS.keys())
def test_true_peak_agrees_with_full_oversampling(make):
    x = make()
    assert measure(x, RATE).true_peak_dbtp == pytest.approx(true_peak(x), abs=0.05)


def test_measure_silence_is_finite():
    figures = measure(np.zeros(RATE, dtype=np.float32), RATE)
    assert figures == Loudness(FLOOR_DB, FLOOR_DB)


def test_measure_short_clip_reads_like_the_same_sound_held():
    held = measure(tone(1000, 1.0, amplitude=0.3), RATE).integrated_lufs
    short = measure(tone(1000, 0.1, amplitude=0.3), RATE).integrated_lufs
    assert math.isfinite(short)
    assert short == pytest.approx(held, abs=0.5)


def test_measure_stereo_is_averaged_to_mono():
    x = tone(1000, 1.0, amplitude=0.5)
    assert measure(np.stack([x, x], axis=1), RATE).integrated_lufs == pytest.approx(
        measure(x, RATE).integrated_lufs, abs=0.01
    )


def test_measure_empty_raises():
    with pytest.raises(AudioError):
        measure(np.zeros(0, dtype=np.float32), RATE)


# ----------------------------------------------------------------------------- normalize
CASES = {
    "speech-like (19 dB crest)": lambda: speech_like(8.0),
    "quiet (-55 LUFS)": lambda: speech_like(8.0, seed=1) * 0.01,
    "loud, clipped": lambda: np.clip(speech_like(8.0, seed=2) * 8.0, -1.0, 1.0),
    "peaky (needs the clipper)": lambda: peaky_speech(8.0),
    "steady tone": lambda: tone(700, 3.0, amplitude=0.9),
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_normalize_reaches_target_under_the_ceiling(make):
    x = make()
    y = _normalize(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert np.all(np.isfinite(y))
    assert lufs(y) == pytest.approx(TARGET, abs=0.5)
    assert true_peak(y) <= CEILING + 0.1


def test_speech_like_signal_is_as_peaky_as_espeak():
    # The whole point of the limiter: plain gain to -16 LUFS would put this 2-3 dB over full scale.
    x = speech_like(8.0)
    assert true_peak(x) - lufs(x) == pytest.approx(19.0, abs=1.0)


def test_normalize_other_targets():
    y = _normalize(speech_like(6.0), target=-23.0, ceiling=-2.0)
    assert lufs(y) == pytest.approx(-23.0, abs=0.5)
    assert true_peak(y) <= -2.0 + 0.1


def test_normalize_keeps_timing():
    # The limiter's lookahead must be compensated: the envelope may not shift in time.
    x = speech_like(4.0)
    y = _normalize(x)
    lag = np.argmax(np.correlate(y[:RATE], x[:RATE], "full")) - (RATE - 1)
    assert lag == 0


def test_normalize_silence_stays_silent():
    y = _normalize(np.zeros(2 * RATE, dtype=np.float32))
    assert not np.any(y)


def test_normalize_below_the_gate_is_not_amplified():
    # -80 LUFS is hiss, not programme: boosting it by 64 dB would air noise.
    x = (np.random.default_rng(0).standard_normal(RATE) * 1e-4).astype(np.float32)
    np.testing.assert_array_equal(_normalize(x), x)


@pytest.mark.parametrize("frames", [1, 2, 480, 9600, 19199])
def test_normalize_short_input(frames):
    if frames > 2:
        voice = speech_like(1.0)
        start = max(0, int(np.argmax(np.abs(voice))) - frames // 2)  # cut around a syllable, not a gap
        x = voice[start : start + frames]
    else:
        x = np.full(frames, 0.3, dtype=np.float32)
    y = _normalize(x)
    assert y.shape == x.shape
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y)) <= 10 ** (CEILING / 20)
    if frames >= 480:  # long enough to be a sound: it lands on target too
        assert measure(y, RATE).integrated_lufs == pytest.approx(TARGET, abs=0.5)


def test_normalize_non_finite_samples_do_not_spread():
    x = speech_like(2.0)
    x[1000:1010] = np.nan
    x[5000] = np.inf
    y = _normalize(x)
    assert np.all(np.isfinite(y))
    assert lufs(y) == pytest.approx(TARGET, abs=0.5)


def test_normalize_empty_raises():
    with pytest.raises(AudioError):
        _normalize(np.zeros(0, dtype=np.float32))
