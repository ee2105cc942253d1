"""The whole path with real processes: `broadcaster serve` (its HTTP API) on the paced PulseAudio
sink, then `broadcaster urgent --text` as an officer types it. Needs the web server of `serve`
(W1's run/serve.json); skipped with the reason when this checkout's serve does not write it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from serve_helpers import free_port

BIN = Path(sys.executable).parent / "broadcaster"
MESSAGE = "Thông báo khẩn: đê sông Hồng có nguy cơ tràn."
TARGET_S = 0.5

pytestmark = pytest.mark.paced


def _serve_has_web() -> bool:
    help_text = subprocess.run([str(BIN), "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    return "--port" in help_text


DISPATCH = [sys.executable, "-c", "from broadcaster.cli.entry import main; main()"]


@pytest.mark.parametrize("entry", ["script", "dispatch"])
def test_serve_then_urgent_cli_end_to_end(pulse_server, data_dir, tmp_path, entry):
    if not _serve_has_web():
        pytest.skip("`broadcaster serve` has no HTTP server yet (no --port): the web console is not merged")
    env = pulse_server.client_env(home=tmp_path / "home")
    env.update(BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    recorder = pulse_server.record(tmp_path / "heard.wav")
    recorder.wait_flowing()
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    serve = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        info = data_dir / "run" / "serve.json"
        deadline = time.monotonic() + 60
        while not info.exists():
            assert serve.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "serve did not write run/serve.json"
            time.sleep(0.1)
        assert json.loads(info.read_text())["pid"] == serve.pid
        time.sleep(1.0)  # the stream is open and idle
        t0 = datetime.now(timezone.utc)
        command = [str(BIN)] if entry == "script" else DISPATCH
        run = subprocess.run([*command, "urgent", "--text", MESSAGE], env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert "Đã gửi lệnh khẩn cấp tới đài đang chạy" in run.stdout
        rows = []
        deadline = time.monotonic() + 60
        while len([r for r in rows if r["status"] == "aired"]) < 2:
            assert time.monotonic() < deadline, rows
            time.sleep(0.5)
            out = subprocess.run([str(BIN), "log", "--json"], env=env, capture_output=True, text=True, timeout=60)
            rows = json.loads(out.stdout)
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(20)
        except subprocess.TimeoutExpired:
            serve.kill()
        log.close()
    assert [(r["title"], r["kind"]) for r in rows] == [
        ("Tín hiệu chú ý (khẩn cấp)", "urgent"),
        (f"Thông báo khẩn cấp: {MESSAGE}", "urgent"),
    ]
    first = datetime.fromisoformat(rows[0]["started_at"]).replace(tzinfo=timezone.utc)
    requested = datetime.fromisoformat(rows[0]["requested_at"]).replace(tzinfo=timezone.utc)
    in_station, end_to_end = (first - requested).total_seconds(), (first - t0).total_seconds()
    print(f"\nserve subprocess, {entry}: command→first tone sample {end_to_end * 1000:.0f} ms; request→first {in_station * 1000:.0f} ms")
    assert 0 < in_station <= TARGET_S
    assert not (data_dir / "run" / "serve.json").exists(), "serve left run/serve.json behind"
    if end_to_end > TARGET_S:
        pytest.fail(f"{end_to_end * 1000:.0f} ms from the command to the first tone sample")
