"""What the Playwright walks share: a real `broadcaster serve` subprocess on a free loopback port over a
fresh data directory (ALSA's file plugin as the sound card), one account per role made with
`broadcaster user add --password-stdin`, Debian's Chromium, and logging in through the real form at
a given screen size (1366×768 unless told). Every walk in tests/browser imports these; the first-run walk
starts its own serve (no account yet) with free_port and stop_serve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
BIN = Path(sys.executable).parent / "broadcaster"
PASSWORD = "mat-khau-trinh-duyet-2026"
USERS = {"bientap": "editor", "lanhdao": "leader", "trucdai": "operator"}
SCREENS = {"desktop": (1366, 768), "phone": (390, 844)}

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="cần Chromium của Debian (/usr/bin/chromium): apt-get install chromium")


@pytest.fixture
def serve(tmp_path, data_dir):
    """A running `broadcaster serve` (its URL) with one account per role."""
    home = tmp_path / "home"
    home.mkdir()
    capture = tmp_path / "captured.wav"
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{capture}"; format "wav" }}\n', encoding="utf-8"
    )
    env = dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    for name, role in USERS.items():
        made = subprocess.run([str(BIN), "user", "add", name, "--role", role, "--password-stdin"],
                              input=PASSWORD + "\n", text=True, capture_output=True, env=env, timeout=60)
        assert made.returncode == 0, made.stderr
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    serve_json = data_dir / "run" / "serve.json"
    deadline = time.monotonic() + 60
    url = None
    while time.monotonic() < deadline and url is None:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        if serve_json.exists():
            try:
                url = json.loads(serve_json.read_text())["url"]
            except (ValueError, KeyError):
                pass
        time.sleep(0.1)
    assert url == f"http://127.0.0.1:{port}", (tmp_path / "serve.log").read_text()
    yield url
    stop_serve(proc, signal.SIGTERM)
    log.close()


def stop_serve(proc: subprocess.Popen, how: int) -> None:
    """Stop a serve subprocess with signal `how` and wait for it to end (a hung serve fails the test)."""
    proc.send_signal(how)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a hung serve is a failure of its own
        proc.kill()
        raise


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def fill_login(page, name: str) -> None:
    assert "Đăng nhập" in page.content()
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.content()


def login(browser, url: str, name: str, screen: tuple[int, int] = SCREENS["desktop"]):
    """A new browser context of that screen size, logged in as `name` (the page after login)."""
    width, height = screen
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.goto(url + "/login")
    fill_login(page, name)
    return page


def top(page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"]
