"""Issue 13 speed: the speech keeps the engine's rate until the item's write resamples it once.

The speech cache holds what the engine spoke (22.05 kHz for espeak-ng); the item render works on
it at that rate (half the samples of 48 kHz through gain, limiter and meters) and libsoxr changes
the rate as the item is written, while the jingles stay at the station's rate throughout.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from audio_helpers import RATE, dominant_hz, lufs, read_back, speech_like, tone, true_peak
from broadcaster import media
from broadcaster.audio import render_item
from broadcaster.audio import stream

ENGINE_RATE = 22050


def _limited_per_rate(monkeypatch) -> dict[int, int]:
    seen: dict[int, int] = {}
    process = stream.StreamLimiter.process

    def counting(self, chunk):
        seen[self.sample_rate] = seen.get(self.sample_rate, 0) + len(chunk)
        return process(self, chunk)

    monkeypatch.setattr(stream.StreamLimiter, "process", counting)
    return seen


def test_speech_at_the_engine_rate_is_limited_at_that_rate_and_written_at_the_station_rate(
        tmp_path, settings, monkeypatch):
    """Failed before: the speech was converted to 48 kHz first (every sample through the limiter at 48 kHz)."""
    seen = _limited_per_rate(monkeypatch)
    voice = speech_like(6.0, rate=ENGINE_RATE, seed=11)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=ENGINE_RATE)
    info = render_item(source, tmp_path / "item.wav", settings=settings, jingles=False)
    # one write on target: every speech sample limited once, at the engine's rate
    assert seen == {ENGINE_RATE: len(voice)}
    samples, rate = read_back(tmp_path / "item.wav")  # asserts 48 kHz, 16-bit mono
    assert len(samples) == pytest.approx(len(voice) * RATE / ENGINE_RATE, abs=2)
    assert info.duration_s == pytest.approx(len(samples) / RATE)
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.5)
    assert info.integrated_lufs == pytest.approx(lufs(samples), abs=0.1)
    assert true_peak(samples) <= settings.true_peak_dbtp
    # the figure returned is the true peak of the file's own samples
    assert info.true_peak_dbtp == pytest.approx(true_peak(samples), abs=0.2)


def test_jingles_stay_at_the_station_rate_around_resampled_speech(tmp_path, settings, monkeypatch):
    """Intro and outro are limited at 48 kHz, the speech at 22.05 kHz; in the file the speech's
    tone is where it belongs, at its pitch and length, between the two jingles."""
    seen = _limited_per_rate(monkeypatch)
    speech = tone(1000.0, 3.0, 0.3, rate=ENGINE_RATE)
    source = media.write_wav(tmp_path / "speech.wav", speech, sample_rate=ENGINE_RATE)
    info = render_item(source, tmp_path / "item.wav", settings=settings)
    assert set(seen) == {RATE, ENGINE_RATE}
    assert seen[ENGINE_RATE] % len(speech) == 0  # whole passes over the speech at its own rate
    samples, _ = read_back(tmp_path / "item.wav")
    assert info.duration_s == pytest.approx(len(samples) / RATE)
    # the speech's stretch: the loud 1 kHz part in the middle of the item
    envelope = np.convolve(np.abs(samples), np.ones(480) / 480, mode="same")
    mid = len(samples) // 2
    level = envelope[mid]
    inside = envelope > 0.5 * level
    lo = mid - int(np.argmin(inside[mid::-1]))
    hi = mid + int(np.argmin(inside[mid:]))
    assert (hi - lo) / RATE == pytest.approx(3.0, abs=0.05)
    assert dominant_hz(samples[lo + RATE // 10 : hi - RATE // 10]) == pytest.approx(1000.0, abs=2.0)
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=0.5)
    assert true_peak(samples) <= settings.true_peak_dbtp


def test_loudness_gated_over_two_rates_equals_the_programme_at_one(settings):
    """combined_integrated_lufs of stretches metered at 48 and 22.05 kHz is the BS.1770 figure of
    the same programme at 48 kHz (within what the blocks across the join can change)."""
    from scipy.signal import resample_poly

    loud = speech_like(8.0, seed=3) * 0.5
    quiet = speech_like(12.0, rate=ENGINE_RATE, seed=4) * 0.1
    meters = [stream.BlockMeter(RATE), stream.BlockMeter(ENGINE_RATE)]
    meters[0].add(loud)
    meters[1].add(quiet)
    together = np.concatenate([loud, resample_poly(quiet, 320, 147).astype(np.float32)])
    assert stream.combined_integrated_lufs(meters) == pytest.approx(lufs(together), abs=0.02)
    assert stream.combined_integrated_lufs(meters[1:]) == pytest.approx(lufs(quiet, ENGINE_RATE), abs=0.01)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_a_full_disk_under_the_resampler_is_one_clear_error_and_nothing_hangs():
    """The resampler hands its samples to the item's writer from a thread of its own; when the disk is full
    (here /dev/full, which answers every write with ENOSPC) the feeder hears it as the OSError it
    was (the item sink words it), and neither side stays blocked on the queue between them."""
    import errno
    import os

    from broadcaster.audio.resample import Resampler

    outcome: dict[str, BaseException] = {}
    finished = threading.Event()
    fd = os.open("/dev/full", os.O_WRONLY)

    def write(pcm) -> None:  # as the item sink writes: all of it, or the OSError
        view = memoryview(pcm.tobytes())
        while view:
            view = view[os.write(fd, view):]

    def run() -> None:
        resampler = Resampler(ENGINE_RATE, RATE, write)
        try:
            chunk = tone(440.0, 1.0, 0.5, rate=ENGINE_RATE)
            for _ in range(200):  # far more than the queue holds
                resampler.feed(chunk)
            resampler.close()
        except BaseException as exc:  # what the feeding thread is told
            outcome["error"] = exc
            resampler.abort()
        finally:
            finished.set()

    try:
        threading.Thread(target=run, daemon=True).start()
        assert finished.wait(60), "the resampler hung on a full disk"
    finally:
        os.close(fd)
    error = outcome.get("error")
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC, outcome


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_the_item_sink_words_a_full_disk_under_the_resampler_as_one_audio_error(tmp_path):
    """The same full disk met by the item being written: one AudioError naming the file and the
    reason (no traceback of the resampler's thread), and no .part left behind."""
    import os

    from broadcaster.audio.item_sink import ItemSink
    from broadcaster.exceptions import AudioError

    path = tmp_path / "item.wav.part"
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(AudioError) as caught:
            with ItemSink(path, RATE, -1.0) as sink:
                os.dup2(full, sink._fd)  # from here on every write of the item meets a full disk
                sink.segment(ENGINE_RATE)
                chunk = tone(440.0, 1.0, 0.5, rate=ENGINE_RATE)
                for _ in range(200):
                    sink.add(chunk)
    finally:
        os.close(full)
    message = str(caught.value)
    assert str(path) in message and "No space left on device" in message, message
    assert not path.exists()


def test_a_failure_mid_write_leaves_no_file_no_copy_and_no_thread(tmp_path, settings, monkeypatch):
    """An error while a resampled stretch is being written (here the limiter, on its fifth chunk):
    the resampler's thread and the lane are stopped and joined before the error reaches the
    caller, and neither the item's part nor the copy's is left behind."""
    voice = speech_like(20.0, rate=ENGINE_RATE, seed=8)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=ENGINE_RATE)
    out_dir, copy_dir = tmp_path / "items", tmp_path / "copy"
    out_dir.mkdir()
    copy_dir.mkdir()
    calls = []
    process = stream.StreamLimiter.process

    def failing(self, chunk):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("limiter broke")
        return process(self, chunk)

    monkeypatch.setattr(stream.StreamLimiter, "process", failing)
    with pytest.raises(RuntimeError, match="limiter broke"):
        render_item(source, out_dir / "item.wav", settings=settings, jingles=False, copy_to=copy_dir / "ban-tin.wav",
                    chunk_frames=4096)
    assert list(out_dir.iterdir()) == [] and list(copy_dir.iterdir()) == []
    assert [t.name for t in threading.enumerate() if t.name.startswith("render-")] == []


def test_the_disk_is_asked_to_write_the_item_and_its_copy_as_they_are_made(tmp_path, settings, monkeypatch):
    """disk.Writeback hands each file's data to the disk in contiguous spans from its start as
    it is written (a short fsync at the end); both the item and its copy."""
    from broadcaster import disk

    spans: dict[int, list[tuple[int, int]]] = {}
    monkeypatch.setattr(disk, "_start_writeback", lambda fd, offset, count: spans.setdefault(fd, []).append(
        (offset, count)))
    voice = speech_like(200.0, rate=ENGINE_RATE, seed=12)
    source = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=ENGINE_RATE)
    info = render_item(source, tmp_path / "item.wav", settings=settings, jingles=False,
                       copy_to=tmp_path / "copy.wav")
    size = (tmp_path / "item.wav").stat().st_size
    assert (tmp_path / "copy.wav").read_bytes() == (tmp_path / "item.wav").read_bytes()
    assert info.duration_s == pytest.approx(200.0, abs=0.1)
    assert len(spans) == 2, spans  # the item's descriptor and the copy's
    for ranges in spans.values():
        assert ranges[0][0] == 0
        assert all(a + n == b for (a, n), (b, _) in zip(ranges, ranges[1:]))  # contiguous, in order
        end = ranges[-1][0] + ranges[-1][1]
        assert size - (8 << 20) <= end <= size  # all but the last few MB before the fsync
