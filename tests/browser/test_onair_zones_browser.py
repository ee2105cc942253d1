"""Issue 14 item 3 in a real browser at 1366×768 and 390×844: the Trực đài page offers «Tất cả các cụm
loa» (chosen) or the known zones; ticking a zone chooses «Chỉ các vùng»; the confirmation names the
zone; the urgent reaches that zone's mount only (the fan-out is the fake of tests/station/zone_helpers.py:
the real one needs Icecast and is h3's). The console runs in this process (uvicorn in a thread) over an
OnAir with that fan-out, so the receivers and the fan-out can be seen from the test."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest
from browser_helpers import PASSWORD, SCREENS, browser, fill_login, free_port, needs_chromium  # noqa: F401
from sqlmodel import Session

from broadcaster import accounts
from broadcaster.playout.memory import MemoryCard
from broadcaster.playout.player import Player

pytestmark = needs_chromium
MESSAGE = "Nước lên nhanh ở xóm Bãi, bà con sơ tán ngay."


def _zone_helpers():
    if "zone_helpers" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "station" / "zone_helpers.py"
        spec = importlib.util.spec_from_file_location("zone_helpers", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["zone_helpers"] = module
        spec.loader.exec_module(module)
    return sys.modules["zone_helpers"]


zh = _zone_helpers()


@pytest.fixture
def console(station, settings):
    """(URL of the console, the OnAir, the fake fan-out); receivers in three zones, an operator account."""
    import uvicorn

    from broadcaster.web.app import create_app

    zh.add_receivers(station.db, zh.ZONES)
    with Session(station.db) as session:
        accounts.add_user(session=session, name="trucdai", role="operator", password=PASSWORD, by="test")
        session.commit()
    fanout = zh.FakeFanout()
    card = MemoryCard(speed=8.0, latency=0.02)
    onair = station.on_air(player_factory=lambda: Player(stream_factory=card, sample_rate=settings.sample_rate,
                                                         fade_ms=settings.fade_ms),
                           stop=threading.Event(), say=lambda message: None, fanout=fanout)
    onair.ensure_device()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(station, onair=onair), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", onair, fanout
    server.should_exit = True
    thread.join(10)
    onair.urgent.shutdown()
    onair.player.close()


@pytest.mark.parametrize("screen", list(SCREENS), ids=list(SCREENS))
def test_zone_choice_in_the_browser(console, browser, screen):
    url, onair, fanout = console
    width, height = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(url + "/login")
    fill_login(page, "trucdai")
    assert page.url == url + "/onair", page.url
    choice = page.locator("#chon-vung")
    assert choice.is_visible() and "Tất cả các cụm loa" in choice.inner_text()
    assert page.locator("#vung-tat-ca").is_checked() and not page.locator("#vung-chon").is_checked()
    labels = [page.locator("label.w2-zone").nth(i).inner_text().strip() for i in range(3)]
    assert labels == ["Thôn Đông", "Thôn Tây", "Xóm Bãi"]
    # readable: every choice inside the screen's width (no sideways scrolling), the button still on screen
    for i in range(3):
        box = page.locator("label.w2-zone").nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (screen, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    button = page.locator("#nut-khan-cap").bounding_box()
    assert button["y"] + button["height"] <= height, "the urgent button is off the first screen"
    context_shot = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if context_shot.is_dir():
        page.screenshot(path=str(context_shot / f"14-vung-{screen}.png"), full_page=False)

    page.fill("#urgent-text", MESSAGE)
    page.locator("label.w2-zone", has_text="Xóm Bãi").locator("input").check()
    assert page.locator("#vung-chon").is_checked()  # ticking a zone chooses "some zones"
    page.click("#nut-khan-cap")
    page.wait_for_selector("#xac-nhan-khan-cap")
    assert "chỉ các vùng Xóm Bãi" in page.inner_text("#phat-toi")
    page.click("#xac-nhan-khan-cap")
    page.wait_for_url(url + "/onair")
    (job,) = onair.urgent.jobs()
    assert job.done.wait(60) and job.state == "done", job.public()
    assert [c["zones"] for c in fanout.calls] == [["Xóm Bãi"], ["Xóm Bãi"]]
    # choosing "all" again clears the ticks
    page.locator("label.w2-zone", has_text="Thôn Tây").locator("input").check()
    page.check("#vung-tat-ca")
    assert page.locator("input[name=zones]:checked").count() == 0
    context.close()
