"""Issue 13 items 1-2: the streaming meters equal the whole-signal ones, and the true peak is only
oversampled where samples come within a few dB of the ceiling (or of the loudest sample so far)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from audio_helpers import RATE, lufs, speech_like, tone
from broadcaster.audio.stream import BlockMeter, PeakMeter


@pytest.mark.parametrize("chunk", [1000, 4800, 65536])
def test_block_meter_in_chunks_equals_the_whole_measurement(chunk):
    x = speech_like(12.0, seed=8) * 0.5
    meter = BlockMeter(RATE)
    for start in range(0, len(x), chunk):
        meter.add(x[start : start + chunk])
    assert meter.integrated_lufs() == pytest.approx(lufs(x), abs=1e-6)


def test_true_peak_in_chunks_equals_4x_oversampling():
    x = speech_like(6.0, seed=9) * 0.8
    meter = PeakMeter(-1.0)
    for start in range(0, len(x), 3000):
        meter.add(x[start : start + 3000])
    meter.finish()
    reference = 20 * np.log10(np.max(np.abs(resample_poly(x.astype(np.float64), 4, 1))))
    assert meter.true_peak_dbtp == pytest.approx(reference, abs=0.05)


def test_quiet_blocks_are_not_oversampled():
    loud = tone(997, 1.0, 0.89)  # -1 dBFS: every sample near the ceiling is looked at closely
    quiet = tone(997, 30.0, 0.05)  # -26 dBFS after it: far below the ceiling and the peak so far
    meter = PeakMeter(-1.0)
    meter.add(loud)
    after_loud = meter.interpolated
    assert after_loud > 0
    for start in range(0, len(quiet), RATE):
        meter.add(quiet[start : start + RATE])
    meter.finish()
    assert meter.interpolated - after_loud <= 64  # only the joint's few samples, not 30 s of audio
    assert meter.true_peak_dbtp == pytest.approx(20 * np.log10(0.89), abs=0.05)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_k_weighting_is_pyloudnorms(rate):
    from pyloudnorm.iirfilter import IIRfilter
    from scipy.signal import tf2sos

    from broadcaster.audio.loudness import _k_weighting_sos

    stages = [IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"), IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")]
    reference = np.vstack([tf2sos(stage.b, stage.a) for stage in stages])
    assert np.allclose(_k_weighting_sos(rate), reference, rtol=0, atol=1e-12)


def test_k_weighting_never_goes_subnormal_in_digital_silence(monkeypatch):
    """Issue 13 speed: an IIR filter fed exact zeros decays into subnormal floats, which cost
    the CPU tens of times more per operation (a quarter of a spoken item is digital silence:
    the meter took 3× as long as on noise). The meter keeps its filter out of that range, and
    the figure is unchanged."""
    from broadcaster.audio import stream

    tiny = np.finfo(np.float64).tiny
    subnormal = {"seen": 0}
    real = stream.sos_filter

    def recording(sos, x, zi, **options):
        y, state = real(sos, x, zi, **options)
        for values in (y, state):
            subnormal["seen"] += int(np.count_nonzero((values != 0) & (np.abs(values) < tiny)))
        return y, state

    monkeypatch.setattr(stream, "sos_filter", recording)
    x = np.concatenate([speech_like(2.0, seed=3) * 0.5, np.zeros(20 * RATE, np.float32), speech_like(2.0, seed=4)])
    meter = BlockMeter(RATE)
    for start in range(0, len(x), 4800):
        meter.add(x[start : start + 4800])
    assert subnormal["seen"] == 0
    assert meter.integrated_lufs() == pytest.approx(lufs(x), abs=1e-6)
