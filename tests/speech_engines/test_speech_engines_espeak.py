"""espeak-ng for real: the library shipped in the espeakng-loader wheel, through ctypes."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from broadcaster.exceptions import SpeechError
from broadcaster.speech.espeak_engine import EspeakEngine
from engine_fakes import SAMPLE_SENTENCE


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def test_vietnamese_sentence_is_plausible_speech():
    engine = EspeakEngine(voice="vi", rate=140)
    started = time.perf_counter()
    speech = engine.synthesize(SAMPLE_SENTENCE)
    elapsed = time.perf_counter() - started
    assert speech.sample_rate == 22050  # what espeak_Initialize reports
    # 14 words and a year at 140 wpm: a few seconds, not a blip and not a minute of noise.
    assert 2.0 <= speech.duration_s <= 8.0
    assert _rms(speech.samples) > 0.02
    # Speech has pauses between words: a good share of 20 ms frames is much quieter than the loudest.
    frame = speech.sample_rate // 50
    frames = speech.samples[: len(speech.samples) // frame * frame].reshape(-1, frame)
    levels = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    assert (levels < 0.1 * levels.max()).mean() > 0.05
    assert elapsed < 5.0, f"espeak-ng took {elapsed:.2f}s"


def test_rate_setting_changes_the_speed():
    slow = EspeakEngine(rate=100).synthesize(SAMPLE_SENTENCE)
    fast = EspeakEngine(rate=250).synthesize(SAMPLE_SENTENCE)
    assert slow.duration_s > 1.6 * fast.duration_s


def test_concurrent_calls_are_serialized_and_all_succeed():
    # Different voices/rates interleaved: without the process-wide lock the C library's
    # global voice and callback state would mix them up (or crash the process).
    engines = [EspeakEngine(rate=120), EspeakEngine(rate=200), EspeakEngine(voice="vi-VN-x-south", rate=140)]
    alone = {id(e): e.synthesize(SAMPLE_SENTENCE).duration_s for e in engines}
    jobs = [engines[i % len(engines)] for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda e: (e, e.synthesize(SAMPLE_SENTENCE)), jobs))
    assert len(results) == len(jobs)
    for engine, speech in results:
        assert _rms(speech.samples) > 0.02
        # Each thread got its own audio with its own settings, not a neighbour's.
        assert speech.duration_s == pytest.approx(alone[id(engine)], rel=0.02)


def test_unknown_voice_is_a_speech_error_and_the_library_still_works():
    with pytest.raises(SpeechError, match="xx-no-such-voice"):
        EspeakEngine(voice="xx-no-such-voice").synthesize("xin chào")
    assert EspeakEngine().synthesize("xin chào").duration_s > 0.2


def test_missing_library_is_a_speech_error(tmp_path):
    with pytest.raises(SpeechError, match="thư viện espeak-ng"):
        EspeakEngine(library_path=tmp_path / "libespeak-ng.so").synthesize("xin chào")


def test_missing_data_is_a_speech_error_and_the_library_recovers(tmp_path):
    with pytest.raises(SpeechError, match="dữ liệu espeak-ng"):
        EspeakEngine(data_path=tmp_path).synthesize("xin chào")
    assert EspeakEngine().synthesize("xin chào").duration_s > 0.2


def test_punctuation_only_is_a_speech_error_not_silence():
    with pytest.raises(SpeechError):
        EspeakEngine().synthesize("... ,")


@pytest.mark.parametrize(("rate", "pitch"), [(79, 50), (451, 50), (140, 100), (140, -1)])
def test_out_of_range_settings_are_refused_up_front(rate, pitch):
    with pytest.raises(ValueError):
        EspeakEngine(rate=rate, pitch=pitch)
