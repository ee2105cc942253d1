"""`broadcaster receiver` on bad input: one `Lỗi: …` line, exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _run(args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    return subprocess.run([sys.executable, "-m", "broadcaster.cli.entry", *args], capture_output=True, text=True,
                          timeout=120, env={**clean, "HOME": str(tmp_path), **env}, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args, needle", [
    (["--station", "ftp://192.168.1.10", "--name", "Cụm 1", "--token", "abc"], "--station"),
    (["--station", "192.168.1.10:8080", "--name", "Cụm 1", "--token", "abc"], "--station"),
    (["--station", "http://192.168.1.10:70000", "--name", "Cụm 1", "--token", "abc"], "cổng"),
    (["--station", "http://192.168.1.10:8080", "--name", "Cụm 1"], "thiếu mã"),
    (["--station", "http://192.168.1.10:8080", "--name", "Cụm 1", "--token", "  "], "thiếu mã"),
    (["--name", "Cụm 1", "--token", "abc"], "--station"),
])
def test_bad_options_are_one_line_and_exit_2(tmp_path, args, needle):
    data = tmp_path / "rx"
    run = _run(["receiver", *args, "--data-dir", str(data)], tmp_path)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: ") and needle in lines[0], run.stderr
    assert "Traceback" not in run.stderr and not data.exists()  # validated before anything is written


def test_the_token_may_come_from_the_environment_not_argv(tmp_path, api_only_station):
    # a wrong token from the environment: refused by the station (exit 3), so it was read and sent
    run = _run(["receiver", "--station", api_only_station.url, "--name", "Cụm 1", "--data-dir",
                str(tmp_path / "rx")], tmp_path, BROADCASTER_RECEIVER_TOKEN="wrong-token-123")
    assert run.returncode == 3, run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("Lỗi: Đài từ chối mã của cụm loa")
    assert api_only_station.answered("/api/receiver/config", 401) >= 1


def test_a_station_without_a_stream_is_a_gap_and_the_receiver_keeps_running(api_only_station, receivers):
    from receiver_helpers import wait_for

    token = api_only_station.add("Cụm 1", zone="Thôn Đông")
    rx = receivers(name="Cụm 1", station=api_only_station.url, token=token, zone="Thôn Tây")
    wait_for(lambda: [r for r in rx.rows() if r["reason"] == "đài chưa phát lên máy chủ luồng (chưa đặt stream_url)"],
             60, "a gap row naming the missing stream_url")
    report = wait_for(lambda: [s for s in api_only_station.statuses("Cụm 1") if s["state"] == "stopped"], 30,
                      "a 'stopped' status")[-1]
    assert report["zone"] == "Thôn Đông" and report["mount"] is None  # the station's zone, not --zone's
    assert rx.proc.poll() is None
    assert rx.stop() == 0
    assert "Cảnh báo: đài xếp cụm loa vào vùng «Thôn Đông», không phải «Thôn Tây»" in rx.stdout()


def test_a_missing_card_is_a_gap_and_the_receiver_keeps_trying(receivers):
    from fake_station import FakeStation
    from receiver_helpers import wait_for

    station = FakeStation(stream_url="http://127.0.0.1:9/dai.mp3").up()
    try:
        token = station.add("Cụm 1")
        rx = receivers(name="Cụm 1", station=station.url, token=token,
                       asoundrc="pcm.!default { type hw; card 97 }\nctl.!default { type hw; card 97 }\n")
        wait_for(lambda: [r for r in rx.rows() if (r["reason"] or "").startswith(
            "không phát được ra card âm thanh của cụm loa")], 60, "a gap row naming the card")
        wait_for(lambda: [s for s in station.statuses("Cụm 1") if s["state"] == "offline"
                          and (s["last_error"] or "").startswith("không phát được ra card")], 30,
                 "an 'offline' status naming the card")
        assert rx.proc.poll() is None and rx.stop() == 0
    finally:
        station.down()
