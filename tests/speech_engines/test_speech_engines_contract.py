"""One contract for every SpeechEngine: real espeak-ng, gTTS behind an intercepted Google, edge-tts
against the fake Edge service (edge_fake.py), the fake.

Each case says how to build the engine, which setting must change its identity (the cache
key), and how to build a broken one. The same test class runs on all of them, so the fake
used by the chain/cache tests cannot behave differently from the real engines.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import requests

from broadcaster.exceptions import SpeechError
from broadcaster.speech.base import Speech, SpeechEngine
from broadcaster.speech.engines import build_engines
from engine_fakes import MP3_SECONDS, SAMPLE_SENTENCE, FakeEngine, gtts_url_re


@dataclass
class EngineCase:
    name: str
    make: Callable[..., SpeechEngine]
    sound_change: dict[str, object]  # a setting that changes the sound: must change identity()
    broken: Callable[[], SpeechEngine]  # configured so that synthesize() must fail
    seconds: tuple[float, float]  # plausible duration of SAMPLE_SENTENCE
    neutral_change: dict[str, object] = field(default_factory=dict)  # must NOT change identity()


def _espeak_case(request) -> EngineCase:
    from broadcaster.speech.espeak_engine import EspeakEngine

    return EngineCase(
        name="espeak",
        make=lambda **kw: EspeakEngine(**{"voice": "vi", "rate": 140, "pitch": 50, **kw}),
        sound_change={"rate": 170},
        broken=lambda: EspeakEngine(voice="xx-no-such-voice"),
        seconds=(2.0, 8.0),
    )


def _gtts_case(request) -> EngineCase:
    from broadcaster.speech.gtts_engine import GttsEngine

    request.getfixturevalue("google")  # com.vn answers with the real MP3
    http = request.getfixturevalue("http")
    http.add(http.POST, gtts_url_re("com"), body=requests.exceptions.ConnectionError("Connection refused"))
    return EngineCase(
        name="gtts",
        make=lambda **kw: GttsEngine(**{"lang": "vi", "tld": "com.vn", "slow": False, "timeout": 5.0, **kw}),
        sound_change={"slow": True},
        broken=lambda: GttsEngine(lang="vi", tld="com", timeout=5.0),
        seconds=(MP3_SECONDS - 0.03, MP3_SECONDS + 0.03),
        neutral_change={"timeout": 30.0},
    )


def _edge_case(request) -> EngineCase:
    from broadcaster.speech.edge_engine import EdgeEngine

    request.getfixturevalue("edge_service")()  # the fake service, answering as Bing does
    return EngineCase(
        name="edge",
        make=lambda **kw: EdgeEngine(**{"voice": "vi-VN-HoaiMyNeural", "rate": 1.0, "timeout": 10.0, **kw}),
        sound_change={"rate": 1.2},
        broken=lambda: EdgeEngine(voice="vi-VN-NoSuchVoiceNeural", timeout=10.0),  # no audio for it
        seconds=(MP3_SECONDS - 0.03, MP3_SECONDS + 0.03),
        neutral_change={"timeout": 30.0},
    )


def _fake_case(request) -> EngineCase:
    return EngineCase(
        name="fake",
        make=lambda **kw: FakeEngine(**{"rate": 100, **kw}),
        sound_change={"rate": 120},
        broken=lambda: FakeEngine(fail="fake: broken on purpose"),
        seconds=(1.0, 2.5),
    )


CASES = {"espeak": _espeak_case, "gtts": _gtts_case, "edge": _edge_case, "fake": _fake_case}


@pytest.fixture(params=list(CASES))
def case(request) -> EngineCase:
    return CASES[request.param](request)


class TestSpeechEngineContract:
    def test_implements_the_protocol(self, case):
        engine = case.make()
        assert isinstance(engine, SpeechEngine)
        assert engine.name == case.name

    def test_identity_is_stable_json(self, case):
        engine = case.make()
        identity = engine.identity()
        assert isinstance(identity, dict)
        assert json.loads(json.dumps(identity, sort_keys=True)) == identity
        assert case.make().identity() == identity

    def test_identity_follows_sound_settings_only(self, case):
        base = case.make().identity()
        assert case.make(**case.sound_change).identity() != base
        if case.neutral_change:
            assert case.make(**case.neutral_change).identity() == base

    def test_identity_needs_no_working_engine(self, case):
        # identity() feeds the cache lookup that happens before any synthesis: it must not load or call out.
        assert isinstance(case.broken().identity(), dict)

    def test_synthesize_gives_mono_float_audio_of_plausible_length(self, case):
        speech = case.make().synthesize(SAMPLE_SENTENCE)
        assert isinstance(speech, Speech)
        assert isinstance(speech.sample_rate, int) and speech.sample_rate > 0
        samples = speech.samples
        assert samples.dtype == np.float32 and samples.ndim == 1
        assert np.isfinite(samples).all() and np.abs(samples).max() <= 1.0
        assert float(np.sqrt(np.mean(samples**2))) > 0.01  # not silence
        low, high = case.seconds
        assert low <= speech.duration_s <= high

    def test_speech_is_immutable(self, case):
        speech = case.make().synthesize("xin chào")
        with pytest.raises(dataclasses.FrozenInstanceError):
            speech.sample_rate = 1  # type: ignore[misc]

    @pytest.mark.parametrize("text", ["", "   ", "\n"])
    def test_nothing_to_say_is_a_speech_error(self, case, text):
        with pytest.raises(SpeechError):
            case.make().synthesize(text)

    def test_failure_is_a_speech_error(self, case):
        with pytest.raises(SpeechError) as err:
            case.broken().synthesize(SAMPLE_SENTENCE)
        assert str(err.value)

    def test_repeated_calls_agree(self, case):
        engine = case.make()
        first, second = engine.synthesize("Xin chào bà con."), engine.synthesize("Xin chào bà con.")
        assert first.sample_rate == second.sample_rate
        assert abs(first.duration_s - second.duration_s) <= 0.02 * first.duration_s + 0.01

    def test_build_engines_configures_it_from_settings(self, case, speech_settings):
        if case.name == "fake":
            pytest.skip("the fake is not a station engine")
        engine = build_engines(speech_settings)[case.name]
        assert engine.name == case.name
        assert engine.identity() == case.make().identity()  # the defaults in Settings are the station's
