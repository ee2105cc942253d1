"""Urgent input is checked before the attention tone goes out (issue 9, item 8).

A `file` that does not decode (/etc/passwd, a text file, the station's database) and an absurd
`every_min` (<= 0, not a number, not finite, more than a day) are refused: 400 with a Vietnamese
message from the API, one `Lỗi:` line from the CLI, and nothing airs — no tone, no as-run row,
not a sample handed to the card.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from support.api_server import ApiServer

from broadcaster.exceptions import BroadcasterError, InputError
from broadcaster.web import api

TOKEN = "s3cr3t-Test_token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MESSAGE = "Lũ quét ở thôn Bản Mế, bà con di chuyển lên vùng cao."
BIN = Path(sys.executable).parent / "broadcaster"




@pytest.fixture
def client(station, onair):
    app = FastAPI()
    app.state.station, app.state.onair, app.state.api_token = station, onair, TOKEN
    app.include_router(api.router)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def not_audio(tmp_path, station) -> dict[str, str]:
    text = tmp_path / "thong-bao.mp3"
    text.write_text("Đây là văn bản, không phải âm thanh.\n" * 50, encoding="utf-8")
    return {"passwd": "/etc/passwd", "text": str(text), "db": str(station.settings.db_path)}


def nothing_aired(station, onair, card) -> None:
    assert station.as_run_log() == []
    assert onair.urgent.jobs() == []
    assert onair.player.now_playing is None
    heard = card.last.captured() if card.streams else np.zeros(0)
    assert not np.any(heard), "the card received sound"


@pytest.mark.parametrize("which", ["passwd", "text", "db"])
def test_a_file_that_does_not_decode_is_refused_before_the_tone(client, station, onair, card, not_audio, which):
    response = client.post("/api/urgent", headers=AUTH, json={"file": not_audio[which]})
    assert response.status_code == 400, response.text
    message = response.json()["error"]
    assert "âm thanh" in message or "dữ liệu của đài" in message, message
    assert "Traceback" not in response.text and "\n" not in message
    nothing_aired(station, onair, card)


@pytest.mark.parametrize("every", [0, -5, 24 * 60 + 1, 1e9, float("inf"), float("nan")])
def test_an_absurd_every_min_is_refused_before_the_tone(client, station, onair, card, every):
    import json

    # NaN / Infinity as Python's json writes them (and reads them back): a client may send them
    body = json.dumps({"text": MESSAGE, "repeat": 2, "every_min": every}, ensure_ascii=False).encode("utf-8")
    response = client.post("/api/urgent", headers={**AUTH, "Content-Type": "application/json"}, content=body)
    assert response.status_code == 400, response.text
    assert "Khoảng cách giữa các lần phát" in response.json()["error"]
    nothing_aired(station, onair, card)


@pytest.mark.parametrize("every", [0, -1, 24 * 60 + 1, float("inf")])
def test_the_desk_itself_refuses_before_anything_airs(station, onair, card, every, not_audio):
    with pytest.raises(InputError):
        onair.urgent.request(text=MESSAGE, repeat=2, every_min=every)
    with pytest.raises(BroadcasterError):
        onair.urgent.request(file=not_audio["passwd"])
    nothing_aired(station, onair, card)


def _cli(args, data_dir) -> subprocess.CompletedProcess:
    env = dict(os.environ, BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    return subprocess.run([str(BIN), "urgent", *args], capture_output=True, text=True, env=env, timeout=120)


def test_the_cli_through_a_running_station_prints_one_line_and_nothing_airs(station, onair, card, data_dir, not_audio):
    with ApiServer(station, onair, data_dir):
        for args in (["--file", not_audio["passwd"]], ["--file", not_audio["text"]],
                     ["--text", MESSAGE, "--repeat", "2", "--every", "100000"],
                     ["--text", MESSAGE, "--repeat", "2", "--every", "nan"]):
            run = _cli(args, data_dir)
            assert run.returncode != 0, (args, run.stdout)
            lines = run.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("Lỗi: "), (args, run.stderr)
            assert "Traceback" not in run.stderr + run.stdout
    nothing_aired(station, onair, card)
