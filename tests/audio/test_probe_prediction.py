"""Issue 13 speed: the render's probe predicts the limiter's loss from block figures, no limiter run."""

from __future__ import annotations

import numpy as np
import pytest

from audio_helpers import RATE, lufs, peaky_speech, read_back, speech_like
from broadcaster import media
from broadcaster.audio import render_item
from broadcaster.audio.probe import BlockProfile, combined_lufs, limiter_edge_gains
from broadcaster.audio.stream import CHUNK_FRAMES, GAIN_BLOCK, BlockMeter, StreamLimiter

CEILING = -1.5


def _limited_for_real(x: np.ndarray, gain_db: float) -> float:
    limiter, meter = StreamLimiter(sample_rate=RATE, ceiling_db=CEILING), BlockMeter(RATE)
    gain = np.float32(10 ** (gain_db / 20))
    for start in range(0, len(x), CHUNK_FRAMES):
        meter.add(limiter.process(x[start : start + CHUNK_FRAMES] * gain))
    meter.add(limiter.flush())
    return meter.integrated_lufs()


@pytest.mark.parametrize("make", [speech_like, peaky_speech])
def test_prediction_agrees_with_running_limiter_and_meter(make):
    """At gains from no limiting to heavy limiting (peaks 10 dB over the ceiling), the predicted
    loudness is the measured one within 0.05 LU (0.02 up to moderate limiting), and the unity
    figure is the meter's."""
    x = make(30.0, seed=11)
    profile = BlockProfile(RATE)
    for start in range(0, len(x), 10_000):  # chunks that do not line up with the limiter's blocks
        profile.add(x[start : start + 10_000])
    unity = profile.integrated_lufs()
    assert unity == pytest.approx(lufs(x), abs=1e-6)
    for extra in (-6.0, 0.0, 4.0, 8.0, 12.0):
        gain_db = -16.0 - unity + extra
        predicted = profile.limited_lufs(gain_db, ceiling_db=CEILING)
        tolerance = 0.02 if extra <= 4.0 else 0.05
        assert predicted == pytest.approx(_limited_for_real(x, gain_db), abs=tolerance), extra


def test_edge_gains_keep_every_block_under_the_ceiling():
    """The limiter's rule worked on block peaks alone: each block's ramp ends at or under ceiling/peak."""
    x = peaky_speech(10.0, seed=3) * np.float32(4.0)
    peaks = np.abs(x[: len(x) // GAIN_BLOCK * GAIN_BLOCK]).reshape(-1, GAIN_BLOCK).max(axis=1)
    edges = limiter_edge_gains(peaks.astype(np.float64), sample_rate=RATE, ceiling_db=CEILING)
    ceiling = 10 ** (CEILING / 20)
    worst = np.maximum(edges[:-1], edges[1:]) * peaks
    assert len(edges) == len(peaks) + 1
    assert float(worst.max()) <= ceiling * (1 + 1e-9)
    assert float(edges.min()) < 0.5  # it did limit


def test_weighted_sample_stands_for_its_whole():
    """A stretch counted four times weighs as four copies of it in the gates."""
    quiet, loud = BlockProfile(RATE), BlockProfile(RATE)
    quiet.add(speech_like(8.0, seed=1) * np.float32(0.4))  # 8 dB under: inside the relative gate
    loud.add(speech_like(8.0, seed=2))
    four = BlockProfile(RATE)
    for _ in range(4):
        four.add(speech_like(8.0, seed=2))
    both = combined_lufs([(quiet, 1.0, 0.0), (four, 1.0, 0.0)], None, ceiling_db=CEILING)
    weighted = combined_lufs([(quiet, 1.0, 0.0), (loud, 4.0, 0.0)], None, ceiling_db=CEILING)
    once = combined_lufs([(quiet, 1.0, 0.0), (loud, 1.0, 0.0)], None, ceiling_db=CEILING)
    assert weighted == pytest.approx(both, abs=0.1)  # (the 400 ms blocks across the copies' joins differ)
    assert once < both - 0.5  # counted once, the quiet stretch weighs more


def test_an_offset_raises_a_part_peaks_and_all():
    """A part raised by 6 dB predicts what the same audio 6 dB louder predicts, limiter included."""
    x = speech_like(10.0, seed=4)
    plain, louder = BlockProfile(RATE), BlockProfile(RATE)
    plain.add(x)
    louder.add(x * np.float32(10 ** (6 / 20)))
    for gain_db in (None, 0.0, 6.0):
        raised = combined_lufs([(plain, 1.0, 6.0)], gain_db, ceiling_db=CEILING)
        assert raised == pytest.approx(combined_lufs([(louder, 1.0, 0.0)], gain_db, ceiling_db=CEILING), abs=1e-3)


def _counting_limiter(monkeypatch) -> dict:
    from broadcaster.audio import stream

    fed = {"frames": 0}
    process = stream.StreamLimiter.process

    def counting(self, chunk):
        fed["frames"] += len(chunk)
        return process(self, chunk)

    monkeypatch.setattr(stream.StreamLimiter, "process", counting)
    return fed


def test_the_limiter_runs_only_in_the_one_write(tmp_path, settings, monkeypatch):
    """The probe no longer runs the limiter (it ran it twice over a short item, to measure two
    gains): the limiter sees the item once, in the one write, and the item lands on target."""
    fed = _counting_limiter(monkeypatch)
    voice = speech_like(45.0, seed=21)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=RATE)
    info = render_item(source, tmp_path / "item.wav", settings=settings, speech_lufs=lufs(voice))
    samples, _ = read_back(tmp_path / "item.wav")
    assert fed["frames"] == len(samples)
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.1)
    assert info.integrated_lufs == pytest.approx(lufs(samples), abs=0.02)


def test_a_long_item_is_probed_on_a_sample_and_lands_on_target(tmp_path, settings, monkeypatch):
    """A long item (over a minute) is probed on a quarter of its speech, with no limiter run, and
    still lands on target (a second write only if the sample misled the first)."""
    fed = _counting_limiter(monkeypatch)
    voice = peaky_speech(80.0, seed=23)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=RATE)
    info = render_item(source, tmp_path / "item.wav", settings=settings, speech_lufs=lufs(voice))
    samples, _ = read_back(tmp_path / "item.wav")
    assert fed["frames"] in (len(samples), 2 * len(samples))
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.1)
    assert info.integrated_lufs == pytest.approx(lufs(samples), abs=0.02)
