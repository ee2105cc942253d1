"""Choosing a bulletin's voice in the console (issue 12 item 4): the form offers every installed
voice, the editor hears one sentence in each (Edge through the fake service of
tests/speech_engines/edge_fake.py, espeak-ng for real) and the choice is stored and checked."""

from __future__ import annotations

import re

import pytest
from support.speech_fakes import load_fake
from sqlmodel import Session, select

from broadcaster.models import Bulletin

AUDIO_SRC = re.compile(r'<audio controls preload="none" src="(/voices/sample/[0-9a-f]{64}\.wav)">')


@pytest.fixture
def settings(data_dir):
    from broadcaster.config import load_settings

    return load_settings(data_dir, engine_order=["edge", "espeak"], edge_timeout=2)


@pytest.fixture(scope="module")
def mp3(tmp_path_factory) -> bytes:
    return load_fake("engine_fakes").make_mp3(tmp_path_factory.mktemp("mp3") / "tone.mp3").read_bytes()


@pytest.fixture
def edge(mp3, monkeypatch):
    start, stop_all = load_fake("edge_fake").edge_service_factory(mp3, monkeypatch)
    yield start
    stop_all()


def _bulletin_data(**overrides):
    data = {"title": "Họp dân", "text": "Tối nay họp dân.", "bulletin_class": "thong_thuong",
            "frequency": "every_slot"}
    data.update(overrides)
    return data


def test_the_form_offers_every_installed_voice(as_role):
    page = as_role("editor").get("/bulletins/new").text
    for voice in ("", "edge:vi-VN-HoaiMyNeural", "edge:vi-VN-NamMinhNeural", "espeak:vi"):
        assert f'name="voice" value="{voice}"' in page
    assert "Giọng mặc định của đài" in page and "Edge NamMinh (nam" in page


def test_the_chosen_voice_is_stored_and_shown_again(station, as_role):
    editor = as_role("editor")
    r = editor.form("/bulletins", _bulletin_data(voice="edge:vi-VN-NamMinhNeural"))
    assert r.status_code == 303, r.text
    bid = int(r.headers["location"].rsplit("/", 1)[1])
    with Session(station.db) as s:
        assert s.get(Bulletin, bid).voice == "edge:vi-VN-NamMinhNeural"
    page = editor.get(f"/bulletins/{bid}/edit").text
    assert 'value="edge:vi-VN-NamMinhNeural" checked' in page


@pytest.mark.parametrize("voice", ["piper:vi_VN-vais1000-medium", "máy:giọng", "edge:vi-VN-NoSuchNeural"])
def test_a_voice_not_installed_is_one_line_and_nothing_is_stored(station, as_role, voice):
    r = as_role("editor").form("/bulletins", _bulletin_data(voice=voice))
    assert r.status_code == 400
    assert re.search(r'<p class="error" role="alert">Giọng đọc [^<]+</p>', r.text)
    assert "Traceback" not in r.text and "pydantic" not in r.text
    with Session(station.db) as s:
        assert s.exec(select(Bulletin)).all() == []


def test_hearing_every_voice_then_playing_each_sample(as_role, edge):
    server = edge()
    editor = as_role("editor")
    r = editor.htmx("/voices/preview", {"sample": "Kính thưa bà con."})
    assert r.status_code == 200, r.text
    sources = AUDIO_SRC.findall(r.text)
    assert len(sources) == 3  # HoaiMy, NamMinh, espeak-ng
    assert sorted(req.voice.split(", ")[1] for req in server.requests) == ["HoaiMyNeural)", "NamMinhNeural)"]
    for src in sources:
        audio = editor.get(src)
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        assert audio.content[:4] == b"RIFF"


def test_a_voice_that_cannot_be_reached_says_so_and_the_others_still_play(as_role, edge):
    edge("forbidden")
    r = as_role("editor").htmx("/voices/preview", {"sample": "Kính thưa bà con."})
    assert r.status_code == 200
    assert len(AUDIO_SRC.findall(r.text)) == 1  # espeak-ng only; no espeak-ng under Edge's name
    assert r.text.count("Không nghe thử được: lỗi gọi Edge TTS") == 2


@pytest.mark.parametrize(("sample", "shown"), [("", "Hãy gõ một câu"), ("à" * 301, "dài quá 300")])
def test_a_bad_sample_sentence_is_one_line(as_role, sample, shown):
    r = as_role("editor").htmx("/voices/preview", {"sample": sample})
    assert r.status_code == 400 and shown in r.text


def test_samples_are_served_by_cache_key_only(as_role, station):
    editor = as_role("editor")
    assert editor.get("/voices/sample/" + "0" * 64 + ".wav").status_code == 404
    assert editor.get("/voices/sample/..%2F..%2Fbroadcaster.db").status_code == 404
    assert as_role("operator").htmx("/voices/preview", {"sample": "Xin chào."}).status_code == 403
