"""`broadcaster render --bulletin N` reads the bulletin in the voice its editor chose (issue 12 item 4),
as the station airs it: the voice is one of the things a render needs from the database (issue 13,
start-up: `render --text` needs none of it). edge-tts speaks to the fake Edge service
(tests/speech_engines/edge_fake.py); the command runs in this process (typer's CliRunner)."""

from __future__ import annotations

from functools import partial

import pytest
from support.speech_fakes import load_fake
from cli_helpers import invoke

from broadcaster.cli.app import app

NAMMINH = "Microsoft Server Speech Text to Speech Voice (vi-VN, NamMinhNeural)"
cli = partial(invoke, app)  # cli(*args, data_dir=...)


@pytest.fixture
def edge(tmp_path, monkeypatch):
    mp3 = load_fake("engine_fakes").make_mp3(tmp_path / "tone.mp3").read_bytes()
    start, stop_all = load_fake("edge_fake").edge_service_factory(mp3, monkeypatch)
    yield start
    stop_all()


def test_render_of_a_bulletin_speaks_in_the_bulletin_voice(data_dir, edge, tmp_path, monkeypatch):
    monkeypatch.setenv("BROADCASTER_ENGINE_ORDER", '["edge", "espeak"]')  # the station's Edge voice: HoaiMy
    monkeypatch.setenv("BROADCASTER_EDGE_TIMEOUT", "5")
    server = edge()
    added = cli("bulletin", "add", "--title", "Họp dân", "--text", "Tối nay họp dân ở nhà văn hóa.",
                "--voice", "edge:vi-VN-NamMinhNeural", data_dir=data_dir)
    assert added.exit_code == 0, added.output
    server.requests.clear()  # what the render asks, only
    out = tmp_path / "ban-tin.wav"
    run = cli("render", "--bulletin", added.output.split()[0], "-o", str(out), data_dir=data_dir)
    assert run.exit_code == 0, run.output
    assert out.is_file()
    assert [r.voice for r in server.requests] == [NAMMINH]
