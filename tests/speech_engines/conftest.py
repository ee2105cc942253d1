"""Fixtures for the speech-engine tests: settings, a real MP3, Google intercepted, fakes."""

from __future__ import annotations

import pytest
import responses

from engine_fakes import GoogleStub, make_mp3


@pytest.fixture
def speech_settings(data_dir):
    """Settings with the default engine order (gTTS, then espeak-ng) on a fresh data directory."""
    from broadcaster.config import load_settings

    return load_settings(data_dir, engine_order=["gtts", "espeak"])


@pytest.fixture(scope="session")
def mp3_bytes(tmp_path_factory) -> bytes:
    """A real one-second MP3 encoded by ffmpeg at the start of the session (nothing committed)."""
    path = make_mp3(tmp_path_factory.mktemp("mp3") / "tone.mp3")
    return path.read_bytes()


@pytest.fixture
def http():
    """Every requests call intercepted; an unexpected URL fails the test instead of leaving."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def google(http, mp3_bytes) -> GoogleStub:
    """Google's TTS endpoint answering in its own wire format with the real MP3."""
    return GoogleStub(mp3_bytes).install(http)


@pytest.fixture
def edge_service(mp3_bytes, monkeypatch):
    """Factory: the fake Edge service in a mode (edge_fake.py), with edge-tts pointed at it."""
    from edge_fake import edge_service_factory

    start, stop_all = edge_service_factory(mp3_bytes, monkeypatch)
    yield start
    stop_all()
