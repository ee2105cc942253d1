"""`broadcaster serve` serves the web console over HTTP next to the station, with no sound card;
`broadcaster user …` manages accounts. Real subprocesses, real sockets (loopback only)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent / "broadcaster"




def cli(*args, env, input=None):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, input=input, timeout=120)


def wait_for(path: Path, proc, timeout=30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            try:
                return json.loads(path.read_text())
            except ValueError:
                pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("serve.json never appeared")


def test_user_cli_add_list_passwd(env, data_dir):
    r = cli("user", "add", "Lanh.Dao", "--role", "leader", "--full-name", "Trần Văn Bình", "--password-stdin",
            env=env, input="mat-khau-lanh-dao\n")
    assert r.returncode == 0, r.stderr
    assert "lanh.dao" in r.stdout and "lãnh đạo" in r.stdout
    rows = json.loads(cli("user", "list", "--json", env=env).stdout)
    assert [(u["name"], u["role"], u["full_name"], u["active"]) for u in rows] == [
        ("lanh.dao", "leader", "Trần Văn Bình", True)]
    for args, stdin, needle in [
        (["user", "add", "x1", "--role", "boss", "--password-stdin"], "mat-khau-123\n", "Vai trò 'boss'"),
        (["user", "add", "x2", "--role", "editor", "--password-stdin"], "ngan\n", "ít nhất 8"),
        (["user", "add", "lanh.dao", "--role", "editor", "--password-stdin"], "mat-khau-123\n", "đã có"),
        (["user", "add", "Tên có dấu", "--role", "editor", "--password-stdin"], "mat-khau-123\n", "không hợp lệ"),
        (["user", "passwd", "khongco", "--password-stdin"], "mat-khau-123\n", "Không có tài khoản"),
    ]:
        r = cli(*args, env=env, input=stdin)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert r.returncode != 0 and len(lines) == 1 and lines[0].startswith("Lỗi:") and needle in lines[0], r.stderr
    assert len(json.loads(cli("user", "list", "--json", env=env).stdout)) == 1  # nothing half-made
    r = cli("user", "passwd", "lanh.dao", "--password-stdin", env=env, input="mat-khau-moi-99\n")
    assert r.returncode == 0, r.stderr

    from broadcaster import accounts
    from broadcaster.db import make_engine
    from sqlmodel import Session

    engine = make_engine(data_dir / "broadcaster.db")
    with Session(engine) as s:
        assert accounts.authenticate(session=s, name="lanh.dao", password="mat-khau-moi-99") is not None
        assert accounts.authenticate(session=s, name="lanh.dao", password="mat-khau-lanh-dao") is None
    engine.dispose()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_without_a_sound_card_serves_the_console(env, data_dir, stop_signal):
    assert cli("user", "add", "bientap", "--role", "editor", "--password-stdin", env=env,
               input="mat-khau-bien-tap\n").returncode == 0
    proc = subprocess.Popen([str(BIN), "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    info_path = data_dir / "run" / "serve.json"
    try:
        info = wait_for(info_path, proc)
        assert info["pid"] == proc.pid
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", info["url"])  # the default bind is this PC only
        with httpx.Client(base_url=info["url"], follow_redirects=False, timeout=10) as http:
            r = http.get("/")
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
            page = http.get("/login")
            assert page.status_code == 200 and "Đăng nhập" in page.text
            assert "Không có thiết bị âm thanh" in page.text  # the banner: no sound card
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = http.post("/login", data={"name": "bientap", "password": "mat-khau-bien-tap", "csrf_token": token})
            assert r.status_code == 303
            assert "Viết bản tin" in http.get("/bulletins").text
    finally:
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Không mở được thiết bị âm thanh" in out and "Bảng điều khiển web: http://127.0.0.1:" in out
    assert "Traceback" not in err
    assert not info_path.exists()  # removed on exit


def test_serve_on_a_busy_port_is_one_clear_error(env):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        r = subprocess.run([str(BIN), "serve", "--port", str(port)], capture_output=True, text=True, env=env,
                           timeout=60)
    finally:
        busy.close()
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("Lỗi:") and f"Cổng {port}" in lines[0], r.stderr


def test_ctrl_c_stops_a_serve_started_with_sigint_ignored(env, data_dir):
    """A shell script that starts `broadcaster serve &` (no job control) hands it SIGINT ignored;
    Ctrl+C / SIGINT must still stop the station cleanly (as SIGTERM does), not leave it airing."""
    proc = subprocess.Popen([str(BIN), "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    info_path = data_dir / "run" / "serve.json"
    try:
        info = wait_for(info_path, proc)
        assert info["pid"] == proc.pid
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Đã dừng đài." in out
    assert not info_path.exists()
