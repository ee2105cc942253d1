"""The voice of a typed urgent message (issue 12 item 4): Piper when it is installed and ready
within the attention tone, else espeak-ng; never an online engine; the row says which spoke.

FastVoice is driven with a renderer that blocks on events the test controls: "not ready within
the tone" is a render that has not finished, not a race against a clock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from urgent_helpers import summary

from broadcaster.exceptions import SpeechError
from broadcaster.station.urgent_voice import FastVoice, wav_seconds

MESSAGE = "Bão số 3 vào đêm nay, bà con chằng chống nhà cửa."


@dataclass(frozen=True)
class Outcome:
    path: Path
    engine: str
    voice: str


class Renderer:
    """Records calls; `hold[name]` is an Event the render of that engine waits for first."""

    def __init__(self, fail: dict[str, str] | None = None) -> None:
        self.calls: list[str] = []
        self.hold: dict[str, threading.Event] = {}
        self.fail = fail or {}

    def __call__(self, text, *, engine, jingles, space_check):
        self.calls.append(engine)
        if engine in self.hold:
            self.hold[engine].wait(60)
        if engine in self.fail:
            raise SpeechError(self.fail[engine])
        return Outcome(Path(f"/tmp/{engine}.wav"), engine, f"{engine}:vi")


def _call(voice: FastVoice):
    return voice(MESSAGE, engine="espeak", jingles=False, space_check=False)


def test_piper_speaks_when_it_is_ready_within_the_tone():
    render = Renderer()
    voice = FastVoice(render_text=render, built=lambda: ["edge", "gtts", "piper", "espeak"], tone_seconds=lambda: 30.0)
    assert _call(voice).engine == "piper" and render.calls == ["piper"]


def test_espeak_speaks_when_piper_is_not_ready_when_the_tone_ends():
    render = Renderer()
    render.hold["piper"] = threading.Event()  # piper's render does not finish until released
    voice = FastVoice(render_text=render, built=lambda: ["piper", "espeak"], tone_seconds=lambda: 0.2)
    try:
        assert _call(voice).engine == "espeak" and render.calls == ["piper", "espeak"]
    finally:
        render.hold["piper"].set()


def test_espeak_speaks_when_piper_fails():
    render = Renderer(fail={"piper": "piper: voice file missing"})
    voice = FastVoice(render_text=render, built=lambda: ["piper", "espeak"], tone_seconds=lambda: 30.0)
    assert _call(voice).engine == "espeak" and render.calls == ["piper", "espeak"]


def test_without_piper_espeak_speaks_at_once_and_online_engines_are_never_asked():
    render = Renderer()
    voice = FastVoice(render_text=render, built=lambda: ["edge", "gtts", "espeak"], tone_seconds=lambda: 30.0)
    assert voice.candidates == []
    assert _call(voice).engine == "espeak" and render.calls == ["espeak"]


def test_wav_seconds_reads_the_tone_length(station):
    from broadcaster.station.urgent_audio import prepare_attention_tone

    assert wav_seconds(prepare_attention_tone(station.settings)) > 0.5
    assert wav_seconds(Path("/nonexistent.wav")) == 0.0


def test_the_urgent_rows_say_which_voice_spoke(station, player):
    desk = station.urgent_desk(player)
    job = desk.request(text=MESSAGE, operator="trực đài")
    assert job.done.wait(60), "the urgent request did not finish"
    assert job.state == "done", job.public()
    rows = station.as_run_log()
    assert [s[1:] for s in summary(rows)] == [("aired", "urgent"), ("aired", "urgent")]
    assert (rows[1].engine, rows[1].voice) == ("espeak", "espeak:vi")
