"""Issue 13: the speech pipeline speaks with as many threads as the engine allows (``concurrency``),
hands the pieces on strictly in order, a bounded few ahead, raises an engine error at its own
piece and stops every thread when the consumer gives up."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from broadcaster.exceptions import SpeechError
from broadcaster.speech import pipeline
from broadcaster.speech.pipeline import EngineTrouble, render_pieces
from broadcaster.speech.synth import Synthesizer
from engine_fakes import FakeEngine
from support.waiting import wait_for

PIECES = [f"Câu số {i} của bản tin hôm nay." for i in range(7)]
DEADLINE = 30


class OutOfOrderEngine(FakeEngine):
    """Two pieces at once, each even piece finished only after the odd one behind it: the pieces
    come back 1, 0, 3, 2, … A one-thread pipeline never starts piece 1 beside piece 0, and
    piece 0 fails when its wait runs out."""

    concurrency = 2

    def __init__(self, pieces):
        super().__init__("espeak", sample_rate=22050)
        self.pieces = list(pieces)
        self.done = {text: threading.Event() for text in self.pieces}
        self.finished: list[int] = []

    def synthesize(self, text):
        speech = super().synthesize(text)
        index = self.pieces.index(text)
        if index % 2 == 0 and index + 1 < len(self.pieces):
            if not self.done[self.pieces[index + 1]].wait(timeout=DEADLINE):
                raise SpeechError(f"piece {index + 1} was never spoken beside piece {index}")
        with self._lock:
            self.finished.append(index)
        self.done[text].set()
        return speech


def _synth(settings, engine, tmp_path, name):
    return Synthesizer(settings=settings, engines={"espeak": engine}, normalizer=lambda t: t,
                       cache_dir=tmp_path / name)


def test_pieces_finished_out_of_order_are_written_in_order(speech_settings, tmp_path):
    text = " ".join(PIECES)
    sequential = _synth(speech_settings, FakeEngine("espeak", sample_rate=22050), tmp_path, "one")
    assert sequential.split(text) == PIECES
    expected = sequential.speak(text).path.read_bytes()
    engine = OutOfOrderEngine(PIECES)
    result = _synth(speech_settings, engine, tmp_path, "two").speak(text)
    assert engine.finished[:2] == [1, 0]  # really out of order
    assert sorted(engine.finished) == list(range(len(PIECES)))
    assert result.path.read_bytes() == expected


class FailsAtTwo(FakeEngine):
    """Two at once; piece 2 raises, but only after piece 3 has been spoken."""

    concurrency = 2

    def __init__(self):
        super().__init__("espeak", sample_rate=22050)
        self.third_done = threading.Event()

    def synthesize(self, text):
        index = PIECES.index(text)
        speech = super().synthesize(text)
        if index == 2:
            self.third_done.wait(timeout=DEADLINE)
            raise SpeechError("piece 2 cannot be spoken")
        if index == 3:
            self.third_done.set()
        return speech


def _render(engine, tmp_path, prepare, pieces=PIECES):
    """The pipeline alone (no cache, no sidecar) into ``out.wav`` at the engine's rate."""
    return render_pieces(engine, pieces, tmp_path / "out.wav", gap_ms=100, fade_ms=5,
                         prepare=prepare)


def test_an_engine_error_at_a_piece_is_raised_there_and_no_later_piece_is_used(tmp_path):
    engine = FailsAtTwo()
    used: list[int] = []

    def prepare(samples, rate, index):
        used.append(index)
        return samples

    with pytest.raises(EngineTrouble) as trouble:
        _render(engine, tmp_path, prepare)
    assert str(trouble.value.engine_cause) == "piece 2 cannot be spoken"
    assert engine.third_done.is_set()  # a later piece was ready before the error
    assert used == [0, 1]


def _synth_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("speech-synth")]


class TwoAtOnce(FakeEngine):
    concurrency = 2


def test_pieces_are_spoken_a_bounded_few_ahead_of_the_consumer(tmp_path):
    pieces = [f"Câu số {i} của bản tin." for i in range(40)]
    engine = TwoAtOnce("espeak", sample_rate=22050)
    ahead: list[int] = []

    def prepare(samples, rate, index):
        with engine._lock:
            ahead.append(len(engine.calls) - index)
        return samples

    rendered = _render(engine, tmp_path, prepare, pieces)
    assert rendered.frames > 0 and len(ahead) == len(pieces)
    assert max(ahead) <= pipeline._AHEAD + engine.concurrency + 1, ahead


def test_a_consumer_failure_stops_every_synthesis_thread(tmp_path):
    pieces = [f"Câu số {i} của bản tin." for i in range(40)]
    engine = TwoAtOnce("espeak", sample_rate=22050)

    def prepare(samples, rate, index):
        if index == 1:
            raise SpeechError("the consumer gives up")
        return samples

    with pytest.raises(SpeechError, match="gives up"):
        _render(engine, tmp_path, prepare, pieces)
    wait_for(lambda: not _synth_threads(), DEADLINE, "every synthesis thread to end")
    assert len(engine.calls) <= 2 + pipeline._AHEAD + engine.concurrency


def test_an_engine_without_concurrency_is_spoken_by_one_thread(tmp_path):
    engine = FakeEngine("espeak", sample_rate=22050)
    threads: set[str] = set()
    real = engine.synthesize

    def synthesize(text):
        threads.add(threading.current_thread().name)
        return real(text)

    engine.synthesize = synthesize
    rendered = _render(engine, tmp_path, lambda samples, rate, index: np.asarray(samples))
    assert rendered.frames > 0 and len(threads) == 1
