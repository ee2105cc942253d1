"""Issue 11 item 9, the command line: `broadcaster urgent` with no sound card exits non-zero and says
it could not air (through a running serve and on its own), and its receipt shows station-local time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.api_server import ApiServer

from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player

BIN = Path(sys.executable).parent / "broadcaster"
MESSAGE = "Mưa đá ở thôn Nà Hang, bà con che chắn chuồng trại."


def cli(*args, env):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)


def _onair(station, settings, card):
    return station.on_air(
        player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate, fade_ms=settings.fade_ms),
        stop=threading.Event(), say=lambda message: None,
    )


@pytest.fixture
def env(tmp_path, data_dir):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type hw; card 97 }\nctl.!default { type hw; card 97 }\n")
    # the PC's own clock is not the station's: the receipt must follow the station (Asia/Ho_Chi_Minh)
    return dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]',
                BROADCASTER_OUTPUT_DEVICE="không-có-card-này", TZ="America/New_York")


def _rows(env):
    r = cli("log", "--json", env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_through_serve_without_card_exits_non_zero(station, settings, env, data_dir):
    onair = _onair(station, settings, MemoryCard(missing=True))
    try:
        with ApiServer(station, onair, data_dir):
            r = cli("urgent", "--text", MESSAGE, env=env)
    finally:
        onair.urgent.shutdown()
    assert r.returncode != 0, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: ") and "không phát được" in lines[0].lower(), r.stderr
    assert "Đã gửi lệnh" not in r.stdout
    assert [(MESSAGE in row["title"], row["status"]) for row in _rows(env)] == [(True, "failed")]


def test_alone_without_card_exits_non_zero_and_logs_the_text(env, data_dir):
    r = cli("urgent", "--text", MESSAGE, env=env)
    assert r.returncode != 0, r.stdout
    assert r.stderr.strip().startswith("Lỗi: ") and "Traceback" not in r.stderr, r.stderr
    assert [(MESSAGE in row["title"], row["status"]) for row in _rows(env)] == [(True, "failed")]


def test_receipt_time_is_station_local(station, settings, env, data_dir):
    onair = _onair(station, settings, MemoryCard(speed=8.0, latency=0.02))
    onair.ensure_device()
    try:
        with ApiServer(station, onair, data_dir):
            r = cli("urgent", "--text", MESSAGE, env=env)
            job = onair.urgent.jobs()[0]
            assert job.done.wait(60)
    finally:
        onair.urgent.shutdown()
        onair.player.close()
    assert r.returncode == 0, r.stderr
    shown = re.search(r"nhận lúc (\d\d:\d\d:\d\d)", r.stdout)
    assert shown, r.stdout
    local = job.requested_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M:%S")
    assert shown.group(1) == local, (r.stdout, local)
