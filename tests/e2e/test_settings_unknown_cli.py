"""An unknown key in settings.toml (issue 10 item 8), through the installed `broadcaster` command:
CLI commands stop with one `Lỗi:` line per problem naming the closest valid key; `serve` starts
anyway (the key ignored), says so in its log and shows it as a banner on every console page."""

from __future__ import annotations

import html
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from test_cli_hardening import INTERNALS, cli, one_error_line
from test_web_serve import cli as cli_with_input
from test_web_serve import wait_for

BIN = Path(sys.executable).parent / "broadcaster"


def _settings_file(data_dir: Path, text: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_command_stops_on_an_unknown_key_naming_the_closest_one(env, data_dir):
    assert cli("init", env=env).returncode == 0
    path = data_dir / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8") + "espeak_rat = 150\n", encoding="utf-8")
    line = one_error_line(cli("bulletin", "list", env=env), "'espeak_rat'", "'espeak_rate'", "settings.toml")
    assert line == f"Lỗi: Cài đặt không có tên 'espeak_rat' trong {path}; có phải ý bạn là 'espeak_rate'?"
    one_error_line(cli("render", "--text", "Xin chào", "-o", str(data_dir / "x.wav"), env=env), "'espeak_rat'")
    assert not (data_dir / "x.wav").exists()


def test_cli_prints_one_line_per_problem(env, data_dir):
    _settings_file(data_dir, 'espeak_rat = 150\nweb_prot = 8081\nfade_ms = -1\n')
    r = cli("bulletin", "list", env=env)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode != 0 and len(lines) == 3, r.stderr
    assert all(line.startswith("Lỗi: ") for line in lines), r.stderr
    assert "'espeak_rate'" in lines[0] and "'web_port'" in lines[1] and "fade_ms" in lines[2]
    assert not any(bad in r.stderr for bad in INTERNALS), r.stderr


def test_serve_airs_with_an_unknown_key_and_shows_the_banner(env, data_dir):
    assert cli_with_input("user", "add", "bientap", "--role", "editor", "--password-stdin", env=env,
                          input="mat-khau-bien-tap\n").returncode == 0
    _settings_file(data_dir, "espeak_rat = 150\nespeak_pitch = 40\n")
    proc = subprocess.Popen([str(BIN), "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    info_path = data_dir / "run" / "serve.json"
    try:
        info = wait_for(info_path, proc, timeout=90)
        with httpx.Client(base_url=info["url"], follow_redirects=False, timeout=10) as http:
            page = http.get("/login")
            assert page.status_code == 200
            banner = re.search(r'<div class="banner banner-warn" role="alert">(.*?)</div>', page.text, re.S)
            assert banner, page.text
            assert "espeak_rat" in banner.group(1) and "espeak_rate" in banner.group(1)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = http.post("/login", data={"name": "bientap", "password": "mat-khau-bien-tap", "csrf_token": token})
            assert r.status_code == 303
            for url in ("/bulletins", "/bulletins/new"):  # every page of the console carries it
                page = http.get(url)
                assert page.status_code == 200 and "'espeak_rat'" in html.unescape(page.text) and "banner-warn" in page.text, url
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    said = out + err
    assert "Cảnh báo: Cài đặt không có tên 'espeak_rat'" in said and "'espeak_rate'" in said, said
    assert "Traceback" not in said
    deadline = time.monotonic() + 10
    while info_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not info_path.exists()


def test_serve_still_refuses_a_wrong_value(env, data_dir):
    _settings_file(data_dir, "espeak_rat = 150\nsample_rate = 0\n")
    r = subprocess.run([str(BIN), "serve", "--port", "0"], capture_output=True, text=True, env=env, timeout=120)
    one_error_line(r, "sample_rate")
    assert not (data_dir / "run" / "serve.json").exists()
