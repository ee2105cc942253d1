"""A real `serve` on loopback trusts no proxy headers unless web_trusted_proxy names the proxy
(issue 9, item 7): a new X-Forwarded-For per failed login does not escape the rate limit, and
X-Forwarded-Proto: https does not make the cookies Secure."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from support.ports import free_port

BIN = Path(sys.executable).parent / "broadcaster"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "mat-khau-2026"


@pytest.fixture
def serve_url(tmp_path, data_dir):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type hw; card 97 }\nctl.!default { type hw; card 97 }\n")
    env = dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]',
               BROADCASTER_OUTPUT_DEVICE="không-có-card-này", BROADCASTER_DEVICE_RETRY_S="1")
    for name, role in (("bt1", "editor"), ("ld1", "leader")):
        r = subprocess.run([str(BIN), "user", "add", name, "--role", role, "--password-stdin"], env=env,
                           input=PASSWORD + "\n", capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        serve = subprocess.Popen([str(BIN), "serve", "--port", str(free_port())], env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
        try:
            info = data_dir / "run" / "serve.json"
            deadline = time.monotonic() + 60
            url = None
            while url is None:
                assert serve.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, "serve did not write run/serve.json"
                try:
                    url = json.loads(info.read_text())["url"]
                except (OSError, ValueError):
                    time.sleep(0.1)
            yield url
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(20)
            except subprocess.TimeoutExpired:
                serve.kill()


def _login(url: str, name: str, password: str, headers: dict) -> httpx.Response:
    """One login try as a fresh browser; cookies are handled by hand (a Secure one would not be sent)."""
    with httpx.Client(base_url=url, timeout=30.0) as client:
        page = client.get("/login", headers=headers)
        prelogin = page.cookies.get("bc_csrf") or re.search(r"bc_csrf=([^;]+)", page.headers["set-cookie"]).group(1)
        token = CSRF_RE.search(page.text).group(1)
        return client.post("/login", headers={**headers, "Cookie": f"bc_csrf={prelogin}"},
                           data={"name": name, "password": password, "csrf_token": token, "next": "/"})


def test_forwarded_for_does_not_escape_the_rate_limit(serve_url):
    for n in range(5):
        r = _login(serve_url, "bt1", "sai-mat-khau", {"X-Forwarded-For": f"203.0.113.{n + 1}"})
        assert r.status_code == 401, r.text
    # a sixth address in the header is still the same loopback client: refused, right password or not
    r = _login(serve_url, "bt1", PASSWORD, {"X-Forwarded-For": "203.0.113.99"})
    assert r.status_code == 429 and "quá nhiều lần" in r.text


def test_forwarded_proto_does_not_make_cookies_secure(serve_url):
    headers = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=serve_url, timeout=30.0) as client:
        page = client.get("/login", headers=headers)
    prelogin = page.headers["set-cookie"]
    assert prelogin.startswith("bc_csrf=") and "secure" not in prelogin.lower(), prelogin
    r = _login(serve_url, "ld1", PASSWORD, headers)
    assert r.status_code == 303, r.text
    session = next(h for h in r.headers.get_list("set-cookie") if h.startswith("bc_session="))
    assert "secure" not in session.lower(), session


@pytest.mark.parametrize("trusted, expected", [(None, None), ("10.0.0.5, 10.0.0.6", "10.0.0.5,10.0.0.6")])
def test_proxy_headers_only_from_the_named_proxy(data_dir, trusted, expected):
    from broadcaster.cli.serve import _bind_web_socket, _WebServer
    from broadcaster.config import load_settings
    from broadcaster.station.facade import Station

    data_dir.mkdir(parents=True, exist_ok=True)
    if trusted is not None:  # as an administrator writes it in settings.toml
        (data_dir / "settings.toml").write_text(f'web_trusted_proxy = "{trusted}"\n', encoding="utf-8")
    station = Station.open(load_settings(data_dir, engine_order=["espeak"]))
    sock = _bind_web_socket("127.0.0.1", 0)
    try:
        web = _WebServer(station, None, sock, host="127.0.0.1", port=0)
        config = web.server.config
        assert config.proxy_headers is (expected is not None)
        if expected is not None:
            assert config.forwarded_allow_ips == expected
        web.engine.dispose()
    finally:
        sock.close()
        station.close()
