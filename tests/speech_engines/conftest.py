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
    """Factory: the fake Edge service in a mode, with edge-tts pointed at it and its clock skew reset.

    edge-tts keeps the skew it learnt from a 403 in a class attribute (process-wide): each test
    starts from zero and leaves it as it found it.
    """
    import edge_tts.communicate
    from edge_tts.drm import DRM

    from edge_fake import EdgeServer

    monkeypatch.setattr(DRM, "clock_skew_seconds", 0.0)
    servers: list[EdgeServer] = []

    def start(mode: str = "ok", *, skew_s: float = 0.0) -> EdgeServer:
        server = EdgeServer(mp3_bytes, mode=mode, skew_s=skew_s).start()
        servers.append(server)
        monkeypatch.setattr(edge_tts.communicate, "WSS_URL", server.url)
        return server

    yield start
    for server in servers:
        server.stop()
