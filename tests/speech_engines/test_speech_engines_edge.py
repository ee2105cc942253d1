"""Edge neural voices through edge-tts's own code against a fake service (edge_fake.py).

Only the websocket address is changed; the upgrade request, its clock-derived token, the two
text frames in and the service's text and binary frames out are the real protocol. Each way the
service can fail (403 with a Date header, a turn without audio, a silent hang) must end in one
SpeechError within the timeout, and the chain must then speak with the next engine.
"""

from __future__ import annotations

import numpy as np
import pytest

from broadcaster import media
from broadcaster.exceptions import InputError, SpeechError
from broadcaster.speech.edge_engine import EDGE_SAMPLE_RATE, EdgeEngine
from broadcaster.speech.espeak_engine import EspeakEngine
from broadcaster.speech.synth import Synthesizer
from engine_fakes import MP3_SECONDS, SAMPLE_SENTENCE

FRAME_S = 0.03
HOAIMY = "Microsoft Server Speech Text to Speech Voice (vi-VN, HoaiMyNeural)"
NAMMINH = "Microsoft Server Speech Text to Speech Voice (vi-VN, NamMinhNeural)"


def test_request_carries_voice_rate_and_text_and_the_audio_is_the_mp3(edge_service, mp3_bytes):
    server = edge_service()
    speech = EdgeEngine(voice="vi-VN-HoaiMyNeural", rate=0.9, timeout=10).synthesize(SAMPLE_SENTENCE)
    [request] = server.requests
    assert request.voice == HOAIMY
    assert request.rate == "-10%" and request.pitch == "+0Hz" and request.volume == "+0%"
    assert request.text == SAMPLE_SENTENCE
    assert request.config["context"]["synthesis"]["audio"]["outputFormat"] == "audio-24khz-48kbitrate-mono-mp3"
    assert request.headers["Origin"] == "chrome-extension://jdiccldimpdaibmpdkjnbmckianbfold"
    assert speech.sample_rate == EDGE_SAMPLE_RATE
    assert speech.duration_s == pytest.approx(MP3_SECONDS, abs=FRAME_S)
    # the MP3 arrived in many binary frames: joined, it is the very file the service sent
    reference = media.decode(mp3_bytes, sample_rate=EDGE_SAMPLE_RATE)
    assert len(speech.samples) == len(reference) and np.allclose(speech.samples, reference, atol=1e-4)


def test_the_male_voice_is_asked_for_by_name(edge_service):
    server = edge_service()
    engine = EdgeEngine(timeout=10).with_voice("vi-VN-NamMinhNeural", rate=1.25)
    engine.synthesize("Kính thưa bà con.")
    assert [(r.voice, r.rate) for r in server.requests] == [(NAMMINH, "+25%")]
    assert engine.identity() != EdgeEngine(timeout=10).identity()


def test_a_text_with_markup_characters_reaches_the_service_as_text(edge_service):
    server = edge_service()
    EdgeEngine(timeout=10).synthesize("Hội Nông dân & Đoàn Thanh niên <thông báo>")
    assert server.requests[0].text == "Hội Nông dân & Đoàn Thanh niên <thông báo>"


def test_a_403_with_the_servers_date_corrects_the_clock_and_the_retry_speaks(edge_service):
    from edge_tts.drm import DRM

    server = edge_service("skewed", skew_s=3 * 3600)  # the station's clock is three hours behind
    speech = EdgeEngine(timeout=10).synthesize(SAMPLE_SENTENCE)
    assert len(server.refused) == 1 and len(server.requests) == 1
    assert speech.duration_s == pytest.approx(MP3_SECONDS, abs=FRAME_S)
    assert DRM.clock_skew_seconds == pytest.approx(3 * 3600, abs=120)


@pytest.mark.parametrize(
    ("mode", "shown"),
    [("forbidden", "HTTP 403"), ("no_audio", "không gửi âm thanh"), ("hang", "không trả lời sau 1 giây")],
)
def test_each_failure_of_the_service_is_one_speech_error(edge_service, mode, shown):
    edge_service(mode)
    with pytest.raises(SpeechError) as err:
        EdgeEngine(timeout=1).synthesize(SAMPLE_SENTENCE)
    assert shown in str(err.value)
    assert err.value.fields["engine"] == "edge"
    assert "Traceback" not in str(err.value) and "\n" not in str(err.value)


def test_nothing_listening_is_a_speech_error(edge_service, monkeypatch):
    import socket

    import edge_tts.communicate

    with socket.socket() as sock:  # a port that was free a moment ago: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", f"ws://127.0.0.1:{port}/x?TrustedClientToken=t")
    with pytest.raises(SpeechError, match="Edge TTS"):
        EdgeEngine(timeout=5).synthesize(SAMPLE_SENTENCE)


@pytest.mark.parametrize("mode", ["forbidden", "no_audio", "hang"])
def test_the_chain_falls_back_to_the_offline_voice(edge_service, speech_settings, tmp_path, mode):
    edge_service(mode)
    engines = {"edge": EdgeEngine(timeout=1), "espeak": EspeakEngine()}
    synth = Synthesizer(settings=speech_settings, engines=engines, cache_dir=tmp_path)
    result = synth.speak(SAMPLE_SENTENCE, order=["edge", "espeak"])
    assert result.engine == "espeak" and result.voice == "espeak:vi"
    assert len(result.failures) == 1 and result.failures[0].startswith("edge: ")


def test_the_chain_speaks_with_edge_when_the_service_answers(edge_service, speech_settings, tmp_path):
    server = edge_service()
    engines = {"edge": EdgeEngine(timeout=10), "espeak": EspeakEngine()}
    synth = Synthesizer(settings=speech_settings, engines=engines, cache_dir=tmp_path)
    result = synth.speak(SAMPLE_SENTENCE, order=["edge", "espeak"])
    assert (result.engine, result.voice, result.failures) == ("edge", "edge:vi-VN-HoaiMyNeural", ())
    again = synth.speak(SAMPLE_SENTENCE, order=["edge", "espeak"], voice="edge:vi-VN-NamMinhNeural")
    assert again.voice == "edge:vi-VN-NamMinhNeural" and again.path != result.path  # its own cache entry
    assert [r.voice for r in server.requests][-1] == NAMMINH


@pytest.mark.parametrize("bad", [{"voice": "HoaiMy"}, {"rate": 3.0}, {"timeout": 0}])
def test_bad_configuration_is_refused(bad):
    with pytest.raises(ValueError):
        EdgeEngine(**bad)


def test_a_bad_voice_name_is_an_input_error():
    with pytest.raises(InputError, match="Giọng Edge"):
        EdgeEngine().with_voice("không phải giọng")


def test_edge_tts_is_not_imported_by_building_the_engine():
    import subprocess
    import sys

    code = ("import sys; from broadcaster.config import Settings; from broadcaster.speech.engines import build_engines;"
            "build_engines(Settings()); print('edge_tts' in sys.modules, 'aiohttp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "False"]
