"""Issue 13 item 2: true peak and limiting cost what they must.

The limiter computes its gain per small block from the block's sample peak and passes blocks
far under the ceiling untouched once its gain has recovered; the true-peak meter of the write
oversamples only samples within 4 dB of the ceiling (4x oversampling of speech finds at most
~3 dB above the sample peak), so a programme that stays clear of the ceiling is never
oversampled, and a hot one is still limited to the ceiling.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from audio_helpers import RATE, lufs, read_back, speech_like, tone, true_peak
from broadcaster import media
from broadcaster.audio import render_item
from broadcaster.audio.stream import StreamLimiter


def _recorded_peak_meters(monkeypatch) -> list:
    from broadcaster.audio import stream

    made: list = []
    real = stream.PeakMeter.__init__

    def recording(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(stream.PeakMeter, "__init__", recording)
    return made


def test_a_quiet_programme_is_never_oversampled(tmp_path, settings, monkeypatch):
    """A tone at the target loudness peaks ~13 dB under the ceiling: no sample of it is
    interpolated, and the limiter leaves it as plain gain."""
    meters = _recorded_peak_meters(monkeypatch)
    x = tone(440, 6.0, 0.3)
    source = media.write_wav(tmp_path / "tone.wav", x, sample_rate=RATE)
    info = render_item(source, tmp_path / "item.wav", settings=settings, jingles=False, chunk_frames=RATE // 3)
    assert meters, "the write measures its true peak"
    assert sum(m.interpolated for m in meters) == 0
    samples, _ = read_back(tmp_path / "item.wav")
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.5)
    assert info.true_peak_dbtp == pytest.approx(true_peak(samples), abs=0.05)
    # untouched by the limiter: the written item is the source times one gain (16-bit rounding aside)
    source_back, _ = read_back(source)
    edge = RATE // 10  # past the fades at both ends
    inner, original = samples[edge:-edge], source_back[edge:-edge]
    gain = float(np.dot(inner, original) / np.dot(original, original))
    assert np.max(np.abs(inner - gain * original)) <= 2.0 / 32768


def test_a_hot_programme_is_still_limited_and_oversampled(tmp_path, settings, monkeypatch):
    meters = _recorded_peak_meters(monkeypatch)
    voice = speech_like(8.0, seed=21)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=RATE)
    info = render_item(source, tmp_path / "item.wav", settings=settings, jingles=False, chunk_frames=RATE // 2)
    assert sum(m.interpolated for m in meters) > 0
    samples, _ = read_back(tmp_path / "item.wav")
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.5)
    assert true_peak(samples) <= settings.true_peak_dbtp
    assert info.true_peak_dbtp == pytest.approx(true_peak(samples), abs=0.05)
    # speech at -16 LUFS would peak ~3 dB over the ceiling with a plain gain: the limiter worked
    assert 20 * np.log10(np.max(np.abs(voice))) + (settings.target_lufs - lufs(voice)) > settings.true_peak_dbtp + 1


def _limit(x: np.ndarray, chunk: int, ceiling_db: float = -1.5) -> tuple[np.ndarray, StreamLimiter]:
    limiter = StreamLimiter(sample_rate=RATE, ceiling_db=ceiling_db)
    parts = [limiter.process(x[start : start + chunk]) for start in range(0, len(x), chunk)]
    parts.append(limiter.flush())
    return np.concatenate(parts), limiter


@pytest.mark.parametrize("chunk", [37, 1000, 65536])
def test_limiter_in_chunks_equals_the_whole_and_holds_the_ceiling(chunk):
    x = speech_like(5.0, seed=22) * 2.0  # +5 dBFS peaks
    whole, _ = _limit(x, len(x))
    small, limiter = _limit(x, chunk)
    assert len(small) == len(whole) == len(x)
    assert np.max(np.abs(small - whole)) <= 1e-5
    ceiling = 10 ** (-1.5 / 20)
    assert np.max(np.abs(small)) <= ceiling * (1 + 1e-6)
    assert limiter.limited_blocks > 0
    # only gain, never a new waveform: the output keeps the input's sign and never exceeds it
    assert np.all(np.abs(small) <= np.abs(x) * (1 + 1e-6))


def test_limiter_passes_quiet_blocks_untouched_after_it_recovers():
    """A burst over the ceiling, then two seconds later quiet speech: that is passed bit for bit
    (its gain has recovered to within -120 dB, 1.4 s at 100 ms release, and no block of it
    needs any reduction)."""
    burst = speech_like(1.0, seed=23) * 3.0
    quiet = speech_like(4.0, seed=24) * 0.3
    x = np.concatenate([burst, np.zeros(2 * RATE, np.float32), quiet])
    y, limiter = _limit(x, 4800)
    assert np.max(np.abs(y[: len(burst)])) <= 10 ** (-1.5 / 20) * (1 + 1e-6)
    tail = len(burst) + 2 * RATE
    assert np.array_equal(y[tail:], x[tail:])
    assert limiter.limited_blocks <= (len(burst) + 3 * RATE // 2) // 32  # the burst and its release only


def test_limiter_gain_has_no_steps():
    """The gain falls in a ramp before a peak and recovers smoothly: a sine limited by 6 dB has no
    sample-to-sample jump larger than the sine's own (no click)."""
    x = tone(200, 2.0, 0.2)
    x[RATE // 2 : RATE] *= 5.0  # a loud second half-second
    y, _ = _limit(x, 4096)
    own = np.max(np.abs(np.diff(x)))
    assert np.max(np.abs(np.diff(y))) <= own * 1.05


def test_a_speech_render_does_not_load_pedalboard(tmp_path):
    """The limiter is numpy; pedalboard's import (and its per-sample pass over every probe and
    write) is no longer part of a render."""
    source = media.write_wav(tmp_path / "speech.wav", speech_like(3.0, seed=25), sample_rate=RATE)
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from broadcaster.config import load_settings\n"
        "from broadcaster.audio import render_item\n"
        f"settings = load_settings({str(tmp_path / 'data')!r}, engine_order=['espeak'])\n"
        f"render_item(Path({str(source)!r}), Path({str(tmp_path / 'item.wav')!r}), settings=settings)\n"
        "print('PEDALBOARD', 'pedalboard' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert "PEDALBOARD False" in run.stdout, run.stdout + run.stderr
    samples, _ = read_back(tmp_path / "item.wav")
    assert lufs(samples) == pytest.approx(-16.0, abs=0.5)
    assert true_peak(samples) <= -1.0
