"""The station's voice settings (issue 12 item 4): default voice, engine order, speaking rate per
voice. Each reaches the engine that speaks (Edge's SSML rate on the fake service, espeak-ng's
words per minute); a wrong value is one ConfigError line naming the setting."""

from __future__ import annotations

import pytest

from broadcaster.config import load_settings
from broadcaster.exceptions import ConfigError
from broadcaster.speech.engines import build_engines
from broadcaster.speech.synth import Synthesizer
from engine_fakes import SAMPLE_SENTENCE


def test_the_default_order_puts_the_natural_voices_first_and_offline_ones_last(data_dir):
    assert load_settings(data_dir).engine_order == ["edge", "gtts", "piper", "espeak"]


def test_a_rate_for_an_edge_voice_reaches_the_service(edge_service, data_dir):
    server = edge_service()
    settings = load_settings(data_dir, engine_order=["edge", "espeak"], edge_timeout=5,
                             voice_rates={"edge:vi-VN-NamMinhNeural": 0.8, "edge:vi-VN-HoaiMyNeural": 1.1})
    synth = Synthesizer(settings=settings)
    synth.speak(SAMPLE_SENTENCE)  # the engine's own voice (HoaiMy) at its rate
    synth.speak(SAMPLE_SENTENCE, voice="edge:vi-VN-NamMinhNeural")
    assert [(r.voice.split(", ")[1], r.rate) for r in server.requests] == [
        ("HoaiMyNeural)", "+10%"), ("NamMinhNeural)", "-20%")]


def test_a_rate_for_espeak_scales_its_words_per_minute(data_dir):
    settings = load_settings(data_dir, espeak_rate=140, voice_rates={"espeak:vi": 1.5})
    assert build_engines(settings)["espeak"].rate == 210
    assert build_engines(load_settings(data_dir, espeak_rate=140))["espeak"].rate == 140


def test_the_settings_file_takes_a_table_of_rates_and_a_default_voice(data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text(
        'default_voice = "edge:vi-VN-NamMinhNeural"\n[voice_rates]\n"espeak:vi" = 0.9\n', encoding="utf-8")
    settings = load_settings(data_dir)
    assert settings.default_voice == "edge:vi-VN-NamMinhNeural" and settings.voice_rates == {"espeak:vi": 0.9}


def test_the_environment_takes_rates_as_json(data_dir, monkeypatch):
    monkeypatch.setenv("BROADCASTER_VOICE_RATES", '{"edge:vi-VN-HoaiMyNeural": 1.2}')
    assert load_settings(data_dir).voice_rates == {"edge:vi-VN-HoaiMyNeural": 1.2}


@pytest.mark.parametrize(
    ("overrides", "named", "shown"),
    [
        ({"voice_rates": {"gtts:vi": 0.9}}, "voice_rates", "gTTS không đổi được tốc độ"),
        ({"voice_rates": {"edge:vi-VN-HoaiMyNeural": 3.0}}, "voice_rates", "tốc độ phải từ 0.5 đến 2"),
        ({"voice_rates": {"HoaiMy": 1.0}}, "voice_rates", "máy:giọng"),
        ({"default_voice": "loa:giọng"}, "default_voice", "máy:giọng"),
        ({"engine_order": ["edge", "azure"]}, "engine_order", "azure"),
        ({"edge_timeout": 0}, "edge_timeout", "lớn hơn 0"),
    ],
)
def test_a_wrong_voice_setting_is_one_line_naming_it(data_dir, overrides, named, shown):
    with pytest.raises(ConfigError) as err:
        load_settings(data_dir, **overrides)
    message = str(err.value)
    assert named in message and shown in message
    assert "\n" not in message and "pydantic" not in message.lower() and "Traceback" not in message


def test_an_empty_default_voice_in_the_file_means_the_engine_order(data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text('default_voice = ""\n', encoding="utf-8")
    assert load_settings(data_dir).default_voice is None
