"""Issue 11 item 6 in a real browser at 1366×768 and 390×844: an editor saves a long bulletin and sees
its render's progress on its page, which stays usable (she submits it while it renders); the
leader's page then plays the item that will air, with its length in minutes and seconds and the
voice and engine that made it, above the Duyệt button; approving returns at once.

5,000 characters (about six minutes on air) keep the walk within the CI's time: its render takes
far longer than the page load that shows its progress. The 20,000-character case, with the render
held back deterministically, is tests/web/test_render_ahead.py."""

from __future__ import annotations

import re

import pytest
from browser_helpers import SCREENS, browser, login, needs_chromium, serve, top  # noqa: F401

REPO_DOCS = __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PARAGRAPH = ("Thực hiện kế hoạch của Ủy ban nhân dân xã về phòng chống thiên tai năm 2026, các thôn rà soát "
             "nhà ở, chằng chống mái tôn, khơi thông cống rãnh và chuẩn bị lương thực cho mùa mưa bão. ")

pytestmark = needs_chromium


@pytest.mark.timeout(900)
@pytest.mark.parametrize("screen", list(SCREENS), ids=list(SCREENS))
def test_hear_before_approving(serve, browser, screen):
    url = serve
    title = f"Phòng chống thiên tai ({screen})"
    # a different text per screen size: each run renders afresh (no cache hit hides the progress)
    text = (f"Thông báo số {len(screen)} của xã. " + PARAGRAPH * 50)[:5_000]
    editor = login(browser, url, "bientap", SCREENS[screen])
    editor.goto(url + "/bulletins/new")
    editor.fill("input[name=title]", title)
    editor.locator("textarea[name=text]").fill(text)
    editor.locator("form:has(textarea[name=text]) button[type=submit]").first.click()
    editor.wait_for_load_state("domcontentloaded")
    # its page shows the background render's progress at once
    editor.wait_for_selector("#dung-am-thanh progress", timeout=15000)
    assert "Đang dựng âm thanh" in editor.inner_text("#dung-am-thanh")
    bulletin_url = editor.url.split("?")[0]
    # the page stays usable while it renders: submitting it works and the progress is still shown
    editor.locator("form[action$='/submit'] button").click()
    editor.wait_for_load_state("domcontentloaded")
    assert "chờ duyệt" in editor.content()
    editor.wait_for_selector("#dung-am-thanh progress", timeout=15000)
    if screen == "desktop":
        editor.screenshot(path=str(REPO_DOCS / "10-dung-am-thanh.png"), full_page=False)
    # the panel refreshes itself (htmx) until the player replaces the progress
    editor.wait_for_selector("#dung-am-thanh audio", timeout=900000)
    editor.context.close()

    leader = login(browser, url, "lanhdao", SCREENS[screen])
    leader.goto(bulletin_url)
    panel = leader.inner_text("#dung-am-thanh")
    length = re.search(r"(\d+) phút (\d+) giây", panel)
    assert length, panel
    assert "Bộ đọc: espeak-ng" in panel and "Giọng: espeak-ng vi" in panel
    # the player decodes the very item that airs, and its length is the one shown
    leader.wait_for_function("(() => { const a = document.querySelector('#dung-am-thanh audio');"
                             " return a.readyState >= 1 && !a.error && a.duration > 30; })()", timeout=60000)
    duration = leader.evaluate("document.querySelector('#dung-am-thanh audio').duration")
    assert abs(int(length.group(1)) * 60 + int(length.group(2)) - duration) <= 1.5
    # above the Duyệt button, on both screens
    assert top(leader, "#dung-am-thanh audio") < top(leader, "form[action$='/approve'] button")
    if screen == "phone":
        leader.locator("#dung-am-thanh").scroll_into_view_if_needed()
        leader.screenshot(path=str(REPO_DOCS / "11-nghe-truoc-khi-duyet-dien-thoai.png"), full_page=False)
    leader.locator("form[action$='/approve'] button").click()
    leader.wait_for_load_state("domcontentloaded")
    assert "đã duyệt" in leader.content() and "phát đúng âm thanh đã nghe" in leader.content()
    assert leader.locator("#dung-am-thanh audio").count() == 1
    leader.context.close()
