"""Issue 13 item 1-2: render_item works over chunks — flat memory, same result as whole, no joints."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from audio_helpers import RATE, lufs, read_back, speech_like, tone, true_peak
from broadcaster import media
from broadcaster.audio import render_item


def _peak_traced(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_sine_rendered_in_chunks_equals_the_whole(tmp_path, settings):
    """A sine through the streaming render in small chunks is the one rendered in one chunk (−60 dB)."""
    source = media.write_wav(tmp_path / "sine.wav", tone(440, 5.0, 0.9), sample_rate=RATE)
    render_item(source, tmp_path / "small.wav", settings=settings, jingles=False, chunk_frames=1000)
    render_item(source, tmp_path / "whole.wav", settings=settings, jingles=False, chunk_frames=10 * RATE)
    small, _ = read_back(tmp_path / "small.wav")
    whole, _ = read_back(tmp_path / "whole.wav")
    assert len(small) == len(whole)
    error = np.sqrt(np.mean((small - whole) ** 2)) / np.sqrt(np.mean(whole**2))
    assert 20 * np.log10(max(error, 1e-12)) <= -60.0
    assert lufs(small) == pytest.approx(settings.target_lufs, abs=0.5)
    assert true_peak(small) <= settings.true_peak_dbtp


def test_peak_memory_does_not_grow_with_length(tmp_path, settings):
    """Four times the audio costs no more than 1.2× the memory (numpy buffers counted by tracemalloc)."""
    voice = speech_like(20.0, seed=5)
    short = media.write_wav(tmp_path / "short.wav", voice, sample_rate=RATE)
    long = media.write_wav(tmp_path / "long.wav", np.tile(voice, 4), sample_rate=RATE)
    del voice
    render_item(short, tmp_path / "warm.wav", settings=settings)  # imports and caches outside the count
    first = _peak_traced(lambda: render_item(short, tmp_path / "a.wav", settings=settings))
    second = _peak_traced(lambda: render_item(long, tmp_path / "b.wav", settings=settings))
    assert second <= 1.2 * first, (first, second)
    samples, _ = read_back(tmp_path / "b.wav")
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.5)
    assert true_peak(samples) <= settings.true_peak_dbtp


def test_progress_is_reported_from_zero_to_one(tmp_path, settings):
    source = media.write_wav(tmp_path / "speech.wav", speech_like(8.0, seed=6), sample_rate=RATE)
    seen: list[float] = []
    render_item(source, tmp_path / "item.wav", settings=settings, progress=seen.append, chunk_frames=RATE)
    assert len(seen) >= 3
    assert seen == sorted(seen) and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


def test_a_render_does_not_import_scipy_signal(tmp_path):
    """scipy.signal's import (sparse, linalg, special…) cost more than a short bulletin's whole render."""
    import subprocess
    import sys

    source = media.write_wav(tmp_path / "speech.wav", speech_like(3.0, seed=7), sample_rate=RATE)
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from broadcaster.config import load_settings\n"
        "from broadcaster.audio import render_item\n"
        f"settings = load_settings({str(tmp_path / 'data')!r}, engine_order=['espeak'])\n"
        f"render_item(Path({str(source)!r}), Path({str(tmp_path / 'item.wav')!r}), settings=settings)\n"
        "print('SCIPY_SIGNAL', 'scipy.signal' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert "SCIPY_SIGNAL False" in run.stdout, run.stdout + run.stderr
    assert (tmp_path / "item.wav").is_file()


def test_metering_overlaps_the_limiter_on_a_second_thread(tmp_path, settings, monkeypatch):
    """Issue 13 speed: in the write, the limiter runs on the caller's thread while the meters of
    the chunk before it run on another (both release the GIL: two cores); the result stays on
    target. (The probe's one read, a BlockProfile, has no limiter to overlap: not counted.)"""
    import threading

    from broadcaster.audio import stream

    seen: dict[str, int] = {}
    add = stream.BlockMeter.add

    def recording_add(self, chunk):
        if type(self) is stream.BlockMeter:
            name = threading.current_thread().name
            seen[name] = seen.get(name, 0) + len(chunk)
        return add(self, chunk)

    monkeypatch.setattr(stream.BlockMeter, "add", recording_add)
    voice = speech_like(6.0, seed=8)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=RATE)
    # the speech's loudness known, as the station knows it from the speech sidecar
    render_item(source, tmp_path / "item.wav", settings=settings, chunk_frames=RATE // 2, speech_lufs=lufs(voice))
    on_lane = sum(n for name, n in seen.items() if name.startswith("render-lane"))
    assert on_lane >= 0.9 * sum(seen.values()), seen  # what is left: the limiters' last few ms
    samples, _ = read_back(tmp_path / "item.wav")
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.5)
    assert true_peak(samples) <= settings.true_peak_dbtp
