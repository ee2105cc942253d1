"""Issue 11 items 7 and 8 in a real browser at 1366×768 and 390×844: an operator lands on Trực đài;
the urgent text box and button are the first thing under the header; at most one device warning;
Bỏ qua / Dừng chương trình disabled while nothing plays; logging out in another tab sends the
polling panel's page to the full login page, and logging in again brings the user back to Trực đài;
logged-in pages are sent with Cache-Control: no-store."""

from __future__ import annotations

import pytest
from browser_helpers import SCREENS, browser, fill_login, login, needs_chromium, serve, top  # noqa: F401

REPO_DOCS = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = needs_chromium


@pytest.mark.parametrize("screen", list(SCREENS), ids=list(SCREENS))
def test_onair_on_a_phone_and_when_the_session_ends(serve, browser, screen):
    url = serve
    page = login(browser, url, "trucdai", SCREENS[screen])
    # an operator lands on Trực đài
    assert page.url == url + "/onair", page.url
    answer = page.reload()
    assert "no-store" in (answer.headers.get("cache-control") or "")
    page.wait_for_selector("#onair-panel h2")
    # the urgent box and button first under the header: above the status panel and the log
    header_bottom = page.locator("header.topbar").bounding_box()
    header_bottom = header_bottom["y"] + header_bottom["height"]
    text_top, button_top = top(page, "#urgent-text"), top(page, "#nut-khan-cap")
    assert header_bottom <= text_top < button_top
    if screen == "desktop":  # side by side: the urgent card first (left), the status panel next to it
        form, panel = page.locator("#khan-cap-form").bounding_box(), page.locator("#onair-panel").bounding_box()
        assert form["y"] <= panel["y"] + 1 and form["x"] < panel["x"]
    else:  # one column: the box and the button above the panel, on the first screen, without scrolling
        assert button_top < top(page, "#onair-panel")
    if screen == "phone":
        button = page.locator("#nut-khan-cap").bounding_box()
        assert button["y"] + button["height"] <= SCREENS[screen][1]
        page.screenshot(path=str(REPO_DOCS / "08-truc-dai-dien-thoai.png"), full_page=False)
    else:
        page.screenshot(path=str(REPO_DOCS / "05-truc-dai.png"), full_page=False)
    # never two device warnings
    assert page.inner_text("body").count("Không có thiết bị âm thanh") <= 1
    # nothing plays on a fresh station: skip and stop cannot be pressed
    assert page.locator("#nut-bo-qua").is_disabled() and page.locator("#nut-dung").is_disabled()

    # ---- the session ends in another tab; the panel (htmx, every 2 s) must not show a fragment
    other = page.context.new_page()
    other.goto(url + "/bulletins")
    other.locator("form[action='/logout'] button").click()
    other.wait_for_load_state("networkidle")
    assert "/login" in other.url
    other.close()
    page.wait_for_url("**/login?next=%2Fonair", timeout=30000)
    # the full login page (its header, its form), not a bare panel
    assert page.locator("header.topbar").count() == 1 and page.locator("input[name=password]").count() == 1
    assert page.locator("#onair-panel").count() == 0
    fill_login(page, "trucdai")
    assert page.url == url + "/onair"
    assert page.locator("header.topbar nav").count() == 1 and page.locator("#nut-khan-cap").count() == 1
    page.context.close()
