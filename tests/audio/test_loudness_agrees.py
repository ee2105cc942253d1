"""Our BS.1770 meter (one sosfilt pass + cumulative sums) must give pyloudnorm's figures.

pyloudnorm is the independent reference here: the station's loudness promise is checked
with it everywhere else, so any drift of the fast meter would show up as items that
miss −16 LUFS by pyloudnorm's reckoning.
"""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest

from broadcaster.audio.loudness import _integrated_lufs, measure


def _signals(rate: int):
    rng = np.random.default_rng(7)
    t = np.arange(int(rate * 9.37)) / rate
    # syllable-like bursts: a voiced tone under a 4 Hz envelope with pauses, plus noise
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.3 * t) > -0.5)
    yield "speech-like", 0.3 * envelope * np.sin(2 * np.pi * 180 * t) + 0.01 * rng.standard_normal(len(t))
    yield "noise", 0.05 * rng.standard_normal(int(rate * 3.05))
    yield "low hum", 0.5 * np.sin(2 * np.pi * 50 * np.arange(rate * 2) / rate)
    quiet_then_loud = np.concatenate([1e-4 * rng.standard_normal(rate * 4), 0.2 * rng.standard_normal(rate * 2)])
    yield "gated", quiet_then_loud


@pytest.mark.parametrize("rate", [48000, 44100, 22050, 16000])
def test_integrated_loudness_matches_pyloudnorm(rate):
    for name, x in _signals(rate):
        ours = _integrated_lufs(np.asarray(x, dtype=np.float64), rate)
        reference = pyloudnorm.Meter(rate).integrated_loudness(x)
        assert ours is not None and math.isfinite(reference), name
        assert ours == pytest.approx(reference, abs=1e-6), name


def test_below_the_gate_and_silence_are_floored():
    rate = 48000
    assert _integrated_lufs(np.zeros(rate), rate) is None
    assert _integrated_lufs(1e-6 * np.ones(rate), rate) is None
    assert measure(np.zeros(rate), rate).integrated_lufs == -120.0


def test_short_clip_reads_as_loud_as_the_same_tone_held():
    rate = 48000
    tone = 0.25 * np.sin(2 * np.pi * 1000 * np.arange(rate * 2) / rate)
    short = _integrated_lufs(tone[: rate // 10], rate)
    held = _integrated_lufs(tone, rate)
    assert short == pytest.approx(held, abs=0.3)
