"""Issue 11 item 1 in a real browser: a fresh data directory with no account, `broadcaster serve`
says which address to open, the browser on this PC lands on the one-time set-up page, the officer
names the station and makes the first administrator, lands in the console, and every page title
carries the station's name. At 1366×768 and on a 390×844 phone screen.

(A client that is not this PC is refused: tests/web/test_first_run_setup.py checks it at the app
level with another client address; a browser here is always on loopback.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from browser_helpers import BIN, browser, free_port, needs_chromium, stop_serve  # noqa: F401  (fixtures)

STATION = "Đài truyền thanh xã Dân Tiến"
PASSWORD = "mat-khau-lan-dau-2026"
SIZES = {"may-tinh": (1366, 768), "dien-thoai": (390, 844)}

pytestmark = needs_chromium


@pytest.fixture
def fresh_serve(tmp_path, data_dir):
    """`broadcaster init` then `broadcaster serve` on a fresh data directory: no account at all.
    Yields (the address serve told the officer to open, serve's output so far)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text('pcm.!default { type file; slave.pcm "null"; file "/dev/null"; format "raw" }\n')
    env = dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    made = subprocess.run([str(BIN), "init"], capture_output=True, text=True, env=env, timeout=120)
    assert made.returncode == 0, made.stderr
    port = free_port()
    out_path = tmp_path / "serve.log"
    out = open(out_path, "w")
    proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    address = None
    while address is None:
        assert proc.poll() is None, out_path.read_text()
        assert time.monotonic() < deadline, "serve never said which address to open:\n" + out_path.read_text()
        found = re.search(r"mở (http://\S+/setup)", out_path.read_text(encoding="utf-8"))
        address = found.group(1) if found else None
        time.sleep(0.1)
    yield address, f"http://127.0.0.1:{port}"
    stop_serve(proc, signal.SIGINT)
    out.close()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", list(SIZES))
def test_first_run_in_the_browser(fresh_serve, browser, tmp_path, size):
    address, base = fresh_serve
    assert address == base + "/setup"
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    # the officer opens the console's plain address: no account yet, so the set-up page
    page.goto(base + "/")
    page.wait_for_url("**/setup")
    assert page.locator("h1").inner_text() == "Cài đặt lần đầu"
    assert no_sideways_scroll(page)
    shots = os.environ.get("BROADCASTER_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / f"cai-dat-lan-dau-{size}.png"), full_page=True)
    # a mistake first: one Vietnamese line, what was typed stays
    page.fill("input[name=station_name]", STATION)
    page.fill("input[name=full_name]", "Nguyễn Thị Hoa")
    page.fill("input[name=name]", "hoa")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD + "x")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("p.error").inner_text() == "Hai lần nhập mật khẩu không khớp"
    assert page.input_value("input[name=station_name]") == STATION
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/bulletins")
    assert STATION in page.title(), page.title()
    assert page.locator("header .brand").inner_text() == STATION
    assert "Nguyễn Thị Hoa" in page.locator("header").inner_text()
    assert no_sideways_scroll(page)
    for path in ("/timetable", "/onair", "/log", "/reports", "/users"):
        page.goto(base + path)
        assert page.title().endswith("— " + STATION), (path, page.title())
    # one-time: the set-up page is gone (to the login page), and a new browser gets the login form
    page.goto(base + "/setup")
    assert "/setup" not in page.url
    other = browser.new_context(viewport={"width": width, "height": height}).new_page()
    other.goto(base + "/")
    other.wait_for_url("**/login?**")
    assert other.locator("h1").inner_text() == "Đăng nhập"
    assert STATION in other.title()
    other.context.close()
    context.close()
