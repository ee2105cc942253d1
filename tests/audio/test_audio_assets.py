"""The built-in jingles and attention tone, and the generator that makes them."""

from __future__ import annotations

import subprocess
import sys
import wave

import numpy as np
import pytest

from audio_helpers import REPO, RATE, dominant_hz, lufs, true_peak
from broadcaster import media
from broadcaster.audio import BUILTIN_ASSETS, builtin_asset
from broadcaster.exceptions import AudioError

DURATIONS = {"intro": (2.5, 3.5), "outro": (2.0, 3.0), "attention": (2.0, 3.0), "filler": (20.0, 30.0)}
# bytes: jingles are short; the filler is 20-30 s of 48 kHz mono (2.9 MB at 30 s)
MAX_BYTES = {"filler": 3_000_000}


@pytest.mark.parametrize("name", list(BUILTIN_ASSETS))
def test_builtin_asset_is_a_small_48k_16bit_mono_wav(name):
    path = builtin_asset(name)
    assert path.parent == REPO / "audio_assets" and path.is_file()
    assert path.stat().st_size < MAX_BYTES.get(name, 300_000)
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (RATE, 2, 1)
    samples, _ = media.read_wav(path)
    low, high = DURATIONS[name]
    assert low <= len(samples) / RATE <= high
    assert samples[0] == 0.0 and samples[-1] == 0.0  # starts and ends without a click
    assert true_peak(samples) <= -1.0


def test_attention_tone_can_air_as_it_is():
    # It may be played straight from the file while an urgent item renders: it must already
    # sit at the station's loudness, and be the hi-lo two-tone.
    samples, _ = media.read_wav(builtin_asset("attention"))
    assert lufs(samples) == pytest.approx(-16.0, abs=1.0)
    assert dominant_hz(samples[: int(0.25 * RATE)]) == pytest.approx(880, abs=3)
    assert dominant_hz(samples[int(0.32 * RATE) : int(0.58 * RATE)]) == pytest.approx(659, abs=3)


def test_filler_is_calm_never_silent_and_at_station_loudness():
    # it airs after silence on air: it must not itself trip the silence detector (-60 dBFS)
    samples, _ = media.read_wav(builtin_asset("filler"))
    assert lufs(samples) == pytest.approx(-16.0, abs=1.0)
    half = RATE // 2
    windows = samples[: len(samples) // half * half].reshape(-1, half)
    quietest = 20 * np.log10(np.sqrt((windows[1:-1] ** 2).mean(axis=1)).min())
    assert quietest > -40.0


def test_intro_rises_and_outro_falls(generator):
    intro, _ = media.read_wav(builtin_asset("intro"))
    outro, _ = media.read_wav(builtin_asset("outro"))
    first, second = generator.INTRO_NOTES[0][1], generator.INTRO_NOTES[1][1]
    assert dominant_hz(intro[: int(0.2 * RATE)]) == pytest.approx(first, abs=4)
    assert dominant_hz(intro[int(0.25 * RATE) : int(0.45 * RATE)]) == pytest.approx(second, abs=4)
    assert second > first
    assert generator.OUTRO_NOTES[0][1] > generator.OUTRO_NOTES[-1][1]
    assert dominant_hz(outro[: int(0.2 * RATE)]) == pytest.approx(generator.OUTRO_NOTES[0][1], abs=6)


def test_unknown_asset_is_refused():
    with pytest.raises(AudioError) as err:
        builtin_asset("fanfare")
    assert "fanfare" in str(err.value)


def test_generator_is_deterministic_and_matches_the_committed_files(tmp_path, generator):
    first = generator.generate(tmp_path / "a")
    second = generator.generate(tmp_path / "b")
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
        committed = REPO / "audio_assets" / a.name
        assert committed.read_bytes() == a.read_bytes(), f"{committed} is stale: run python audio_assets/generate.py"
    assert {p.name for p in first} == set(BUILTIN_ASSETS.values())


def test_generator_runs_as_a_script(tmp_path):
    run = subprocess.run(
        [sys.executable, str(REPO / "audio_assets" / "generate.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(BUILTIN_ASSETS.values())
