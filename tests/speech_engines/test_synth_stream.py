"""Issue 13: the speech render is a pipeline over pieces — synthesis of the next piece overlaps the
processing of the last, memory stays flat with the text's length, progress is reported, and a cache
hit is answered from the sidecar without opening the WAV."""

from __future__ import annotations

import threading
import tracemalloc


from broadcaster.media import read_wav
from broadcaster.speech import synth as synth_module
from broadcaster.speech.synth import Synthesizer
from engine_fakes import FakeEngine

SENTENCE = "Ủy ban nhân dân xã thông báo lịch tiêm phòng cho trẻ em trong thôn."


def _synth(settings, engine, tmp_path, name="cache"):
    return Synthesizer(settings=settings, engines={"espeak": engine}, normalizer=lambda t: t,
                       cache_dir=tmp_path / name)


class GatedEngine(FakeEngine):
    """The last piece is only spoken once the first one is being processed: a render that synthesizes
    every piece before processing any cannot finish it (the wait has a deadline, then it fails)."""

    def __init__(self, processing_started: threading.Event, last: str) -> None:
        super().__init__("espeak", sample_rate=22050)
        self.processing_started = processing_started
        self.last = last
        self.overlapped: bool | None = None

    def synthesize(self, text):
        if text == self.last:
            self.overlapped = self.processing_started.wait(timeout=20)
        return super().synthesize(text)


def test_next_piece_is_synthesized_while_the_last_is_processed(speech_settings, tmp_path, monkeypatch):
    started = threading.Event()
    real_trim = synth_module.trim_silence

    def trim(*args, **kwargs):
        started.set()
        return real_trim(*args, **kwargs)

    monkeypatch.setattr(synth_module, "trim_silence", trim)
    text = " ".join(f"Câu số {i} của bản tin." for i in range(4))
    engine = GatedEngine(started, "Câu số 3 của bản tin.")
    result = _synth(speech_settings, engine, tmp_path).speak(text)
    assert engine.overlapped is True
    assert engine.calls == [f"Câu số {i} của bản tin." for i in range(4)]
    samples, rate = read_wav(result.path)
    assert rate == 22050 and len(samples) > rate  # the engine's rate, kept


def _peak_speak(settings, tmp_path, text, name):
    synth = _synth(settings, FakeEngine("espeak", sample_rate=22050), tmp_path, name)
    tracemalloc.start()
    try:
        result = synth.speak(text)
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def _sample_allowance(rate: int) -> float:
    """Bytes the item probe's sample, kept on the way, may hold at most: per GAIN_BLOCK samples a
    float32 peak and a float64 energy, over MAX_SAMPLE_S of audio (half again for the lists that
    hold them). It grows with the speech up to that cap, then stops (test_probe_sample.py)."""
    from broadcaster.audio.probe import MAX_SAMPLE_S
    from broadcaster.audio.stream import GAIN_BLOCK

    return 1.5 * MAX_SAMPLE_S * rate / GAIN_BLOCK * (4 + 8)


def test_peak_memory_does_not_grow_with_the_text(speech_settings, tmp_path):
    text = " ".join([SENTENCE] * 40)
    _peak_speak(speech_settings, tmp_path, SENTENCE, "warm")  # imports and first-use caches outside the count
    first, short = _peak_speak(speech_settings, tmp_path, text, "a")
    second, long = _peak_speak(speech_settings, tmp_path, " ".join([text] * 4), "b")
    assert second <= 1.2 * first + _sample_allowance(22050), (first, second)
    assert len(read_wav(long.path)[0]) > 3.9 * len(read_wav(short.path)[0])
    # the allowance is small beside what holding the speech would take (4 bytes a sample)
    assert _sample_allowance(22050) < 0.1 * 4 * len(read_wav(long.path)[0])


def test_progress_goes_from_zero_to_one(speech_settings, tmp_path):
    seen: list[float] = []
    _synth(speech_settings, FakeEngine("espeak"), tmp_path).speak(" ".join([SENTENCE] * 6), progress=seen.append)
    assert len(seen) >= 3
    assert seen == sorted(seen) and seen[-1] == 1.0 and seen[0] >= 0.0


def test_a_cache_hit_is_answered_from_the_sidecar(speech_settings, tmp_path, monkeypatch):
    engine = FakeEngine("espeak")
    synth = _synth(speech_settings, engine, tmp_path)
    first = synth.speak(SENTENCE)
    assert not first.cached

    def no_reading(*args, **kwargs):
        raise AssertionError("the cached WAV was opened")

    monkeypatch.setattr(synth_module.wave, "open", no_reading)
    again = synth.speak(SENTENCE)
    assert again.cached and again.path == first.path
    assert engine.calls == [SENTENCE]


def test_a_cached_wav_cut_short_is_rendered_again(speech_settings, tmp_path):
    engine = FakeEngine("espeak")
    synth = _synth(speech_settings, engine, tmp_path)
    first = synth.speak(SENTENCE)
    data = first.path.read_bytes()
    first.path.write_bytes(data[: len(data) // 2])
    again = synth.speak(SENTENCE)
    assert not again.cached and len(engine.calls) == 2
    assert again.path.read_bytes() == data
