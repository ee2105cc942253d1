"""Issue 14 item 3 through the HTTP API and `broadcaster urgent --zone Z` (the fast path to a running
serve, and the command alone): zones reach the fan-out, bad zones are one line, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from support.api_server import ApiServer
from zone_helpers import ZONES, FakeFanout, add_receivers

from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player
from broadcaster.station.urgent import TONE_TITLE
from broadcaster.station.urgent_zones import NO_STREAM_MESSAGE
from broadcaster.web import api

TOKEN = "zone-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MESSAGE = "Sạt lở ở ven suối, bà con thôn Đông không đi qua cầu tràn."
BIN = Path(sys.executable).parent / "broadcaster"
DISPATCH = [sys.executable, "-c", "from broadcaster.cli.entry import main; main()"]


@pytest.fixture
def zoned(station, settings):
    add_receivers(station.db, ZONES)
    fanout = FakeFanout()
    card = MemoryCard(speed=8.0, latency=0.02)
    runner = station.on_air(
        player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate, fade_ms=settings.fade_ms),
        stop=threading.Event(), say=lambda message: None, fanout=fanout,
    )
    runner.ensure_device()
    yield runner, fanout
    runner.urgent.shutdown()
    runner.player.close()


@pytest.fixture
def client(station, zoned):
    app = FastAPI()
    app.state.station, app.state.onair, app.state.api_token = station, zoned[0], TOKEN
    app.include_router(api.router)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_api_urgent_for_zones(client, station, zoned):
    onair, fanout = zoned
    response = client.post("/api/urgent", headers=AUTH, json={"text": MESSAGE, "zones": ["thôn đông"]})
    assert response.status_code == 202, response.text
    assert response.json()["zones"] == ["Thôn Đông"]
    job = onair.urgent.get(response.json()["id"])
    assert job.done.wait(60) and job.state == "done", job.public()
    assert [c["zones"] for c in fanout.calls] == [["Thôn Đông"], ["Thôn Đông"]]
    assert client.get(f"/api/urgent/{job.id}", headers=AUTH).json()["zones"] == ["Thôn Đông"]
    assert [(r.title, r.zones) for r in station.as_run_log()] == [
        (TONE_TITLE, ["Thôn Đông"]), (f"Thông báo khẩn cấp: {MESSAGE}", ["Thôn Đông"])]


@pytest.mark.parametrize(
    "zones, fragment",
    [
        ("Thôn Đông", "Trường zones phải là danh sách tên vùng"),
        ([1], "Trường zones phải là danh sách tên vùng"),
        (["Bến Đò"], "Không có vùng «Bến Đò»; các vùng đã biết: Thôn Đông, Thôn Tây, Xóm Bãi"),
    ],
)
def test_api_bad_zones_one_line_nothing_written(client, station, zoned, zones, fragment):
    response = client.post("/api/urgent", headers=AUTH, json={"text": MESSAGE, "zones": zones})
    assert response.status_code == 400 and fragment in response.json()["error"], response.text
    assert station.as_run_log() == [] and zoned[0].urgent.jobs() == [] and zoned[1].calls == []


# ------------------------------------------------------------------ the command line
@pytest.fixture
def env(tmp_path, data_dir):
    home = tmp_path / "home"
    home.mkdir()
    capture = tmp_path / "captured.wav"
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{capture}"; format "wav" }}\n', encoding="utf-8")
    e = dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    e["_capture"] = str(capture)
    return e


def cli(*args, env, entry=None):
    return subprocess.run([*(entry or [str(BIN)]), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("entry", ["script", "dispatch"])
def test_cli_zone_through_a_running_serve(station, zoned, env, data_dir, entry):
    onair, fanout = zoned
    with ApiServer(station, onair, data_dir):
        r = cli("urgent", "--text", MESSAGE, "--zone", "Xóm Bãi", "--zone", "thon tay", "--operator", "Hà", env=env,
                entry=DISPATCH if entry == "dispatch" else None)
        assert r.returncode == 0, r.stderr
        (job,) = onair.urgent.jobs()
        assert job.done.wait(60) and job.state == "done", job.public()
    assert "Chỉ phát tới vùng: Xóm Bãi, Thôn Tây" in r.stdout, r.stdout
    assert [c["zones"] for c in fanout.calls] == [["Xóm Bãi", "Thôn Tây"]] * 2
    rows = json.loads(cli("log", "--json", env=env).stdout)
    assert [(row["operator"], row["zones"], row["bulletin_class"]) for row in rows] == [
        ("Hà", ["Xóm Bãi", "Thôn Tây"], "khan_cap")] * 2


def test_cli_unknown_zone_through_serve_is_one_line(station, zoned, env, data_dir):
    onair, fanout = zoned
    with ApiServer(station, onair, data_dir):
        r = cli("urgent", "--text", MESSAGE, "--zone", "Bến Đò", env=env)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1, r.stderr
    assert lines[0].startswith("Lỗi: ") and "Không có vùng «Bến Đò»; các vùng đã biết: Thôn Đông, Thôn Tây, Xóm Bãi" in lines[0]
    assert onair.urgent.jobs() == [] and fanout.calls == [] and station.as_run_log() == []


@pytest.mark.parametrize("entry", ["script", "dispatch"])
def test_cli_zone_alone_without_a_stream_is_refused(env, data_dir, entry):
    r = cli("urgent", "--text", MESSAGE, "--zone", "Thôn Đông", env=env, entry=DISPATCH if entry == "dispatch" else None)
    lines = r.stderr.strip().splitlines()
    assert r.returncode != 0 and lines == [f"Lỗi: {NO_STREAM_MESSAGE}"], r.stderr
    assert not Path(env["_capture"]).exists(), "the sound card was opened"
    assert not (data_dir / "broadcaster.db").exists(), "something was written"
