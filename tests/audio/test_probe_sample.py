"""Issue 13 speed: the item probe's sample of a long speech is kept by the speech stage as it
writes the speech (probe.SampleCollector), so the item render does not read the speech for it.

The kept sample must be the one the render would have read (one second in four), must not be
kept for a short speech (read whole) or for one so long its sample would be sparser, must stop
growing at its cap, and a render given it must land where a render reading the file lands.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from audio_helpers import lufs, read_back, speech_like
from broadcaster import media
from broadcaster.audio import probe, render_item
from broadcaster.audio import render as render_module
from broadcaster.audio.probe import BlockProfile, SampleCollector

ENGINE_RATE = 22050


def _fed_in_uneven_chunks(collector: SampleCollector, x: np.ndarray, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    pos = 0
    while pos < len(x):
        step = int(rng.integers(1, 30000))
        collector.add(x[pos : pos + step])
        pos += step


def test_the_kept_sample_is_one_second_in_four_from_the_start_whatever_the_chunks():
    x = speech_like(75.0, rate=ENGINE_RATE, seed=5)
    collector = SampleCollector(ENGINE_RATE)
    _fed_in_uneven_chunks(collector, x)
    kept = collector.result()
    assert kept is not None and kept.every == probe.SAMPLE_EVERY and kept.frames == len(x)

    expected = BlockProfile(ENGINE_RATE)
    block = int(probe.SAMPLE_BLOCK_S * ENGINE_RATE)
    for first in range(0, len(x), block * probe.SAMPLE_EVERY):
        expected.add(x[first : first + block])
    assert kept.sampled == expected.frames == 19 * block  # seconds 0, 4, … 72
    got_peaks, got_energies = kept.profile._figures()
    want_peaks, want_energies = expected._figures()
    np.testing.assert_array_equal(got_peaks, want_peaks)
    np.testing.assert_allclose(got_energies, want_energies, rtol=1e-9, atol=1e-18)
    assert kept.profile.integrated_lufs() == pytest.approx(expected.integrated_lufs(), abs=1e-9)


def test_the_speech_meter_keeps_the_sample_from_its_own_k_weighting():
    """SampledMeter (the speech stage's meter): the whole's loudness exactly as a BlockMeter's, and
    the sample's block figures taken from the whole signal's K-weighting, no second filter run."""
    from broadcaster.audio.loudness import _DENORMAL_GUARD, _k_weighting_sos, sos_filter
    from broadcaster.audio.probe import SampledMeter
    from broadcaster.audio.stream import GAIN_BLOCK, BlockMeter

    x = speech_like(75.0, rate=ENGINE_RATE, seed=6)
    meter, plain = SampledMeter(ENGINE_RATE), BlockMeter(ENGINE_RATE)
    rng = np.random.default_rng(7)
    pos = 0
    while pos < len(x):
        step = int(rng.integers(1, 30000))
        meter.add(x[pos : pos + step])
        plain.add(x[pos : pos + step])
        pos += step
    assert meter.integrated_lufs() == plain.integrated_lufs()
    kept = meter.sample()
    assert kept is not None and kept.frames == len(x)

    y, _ = sos_filter(_k_weighting_sos(ENGINE_RATE), np.add(x, _DENORMAL_GUARD, dtype=np.float64), None)
    block = int(probe.SAMPLE_BLOCK_S * ENGINE_RATE)
    firsts = range(0, len(x), block * probe.SAMPLE_EVERY)
    xs = np.concatenate([x[f : f + block] for f in firsts])
    ys = np.concatenate([y[f : f + block] for f in firsts])
    whole = len(xs) // GAIN_BLOCK
    peaks, energies = kept.profile._figures()
    np.testing.assert_array_equal(peaks[:whole], np.abs(xs[: whole * GAIN_BLOCK]).reshape(whole, -1).max(axis=1))
    np.testing.assert_allclose(energies[:whole], (ys[: whole * GAIN_BLOCK] ** 2).reshape(whole, -1).sum(axis=1),
                               rtol=1e-9, atol=1e-18)
    assert kept.sampled == len(xs)


def test_no_sample_is_kept_for_a_short_speech():
    collector = SampleCollector(ENGINE_RATE)
    collector.add(speech_like(probe.WHOLE_S - 1.0, rate=ENGINE_RATE, seed=2))
    assert collector.result() is None  # the render reads a short speech whole


def test_a_speech_too_long_for_one_in_four_keeps_nothing_and_stops_growing():
    """Past MAX_SAMPLE_S · SAMPLE_EVERY seconds the render samples more sparsely: the collector
    gives up at once, so its memory stays under the cap however long the speech goes on."""
    chunk = speech_like(10.0, rate=ENGINE_RATE, seed=9)
    collector = SampleCollector(ENGINE_RATE)
    limit_s = probe.MAX_SAMPLE_S * probe.SAMPLE_EVERY
    tracemalloc.start()
    try:
        peaks = []
        for n in range(int(2 * limit_s / 10.0)):  # twice the length one in four can stand for
            collector.add(chunk)
            if n % 36 == 35:
                peaks.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert collector.frames == 2 * limit_s * ENGINE_RATE
    assert collector.result() is None
    assert collector.sampled <= (probe.MAX_SAMPLE_S + 10.0) * ENGINE_RATE  # stopped at the cap
    # memory held at the end is no more than it held halfway (what it kept was let go)
    assert peaks[-1] <= peaks[len(peaks) // 2 - 1] + 100_000, peaks


def test_a_render_given_the_kept_sample_does_not_read_the_speech_for_it_and_lands_alike(
        tmp_path, settings, monkeypatch):
    voice = speech_like(90.0, rate=ENGINE_RATE, seed=21)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=ENGINE_RATE)
    read = render_item(source, tmp_path / "read.wav", settings=settings, jingles=False)

    collector = SampleCollector(ENGINE_RATE)
    _fed_in_uneven_chunks(collector, media.read_wav(source)[0])  # the samples as the file holds them
    kept = collector.result()
    assert kept is not None

    def no_sample_read(*args, **kwargs):
        raise AssertionError("the probe read the speech although its sample was kept")

    monkeypatch.setattr(render_module, "_sampled_chunks", no_sample_read)
    given = render_item(source, tmp_path / "given.wav", settings=settings, jingles=False, speech_sample=kept)
    samples, _ = read_back(tmp_path / "given.wav")
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.5)
    assert given.integrated_lufs == pytest.approx(read.integrated_lufs, abs=0.05)
    assert given.duration_s == read.duration_s


def test_a_kept_sample_of_another_speech_is_not_used(tmp_path, settings, monkeypatch):
    voice = speech_like(70.0, rate=ENGINE_RATE, seed=4)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=ENGINE_RATE)
    collector = SampleCollector(ENGINE_RATE)
    collector.add(voice[: len(voice) - ENGINE_RATE])  # a second shorter: not this file's
    kept = collector.result()
    assert kept is not None
    reads = []
    real = render_module._sampled_chunks
    monkeypatch.setattr(render_module, "_sampled_chunks", lambda *a, **k: reads.append(1) or real(*a, **k))
    render_item(source, tmp_path / "item.wav", settings=settings, jingles=False, speech_sample=kept)
    assert reads  # it read the file's own sample
