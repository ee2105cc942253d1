"""Issue 11 item 3 in a real browser: an editor attaches a phone's M4A (index at the end, made by
ffmpeg without +faststart) on the new-bulletin form and plays it back at once; a broken file is one
Vietnamese line right under the upload field. Debian's Chromium, a real `broadcaster serve`, at
1366×768 and 390×844."""

from __future__ import annotations

import pytest
from browser_helpers import browser, login, needs_chromium, serve  # noqa: F401  (fixtures)

from support.recordings import PHONE_SECONDS, make_phone_recording

pytestmark = needs_chromium

SIZES = [pytest.param((1366, 768), id="1366x768"), pytest.param((390, 844), id="390x844")]


def _within_width(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["width"] > 0, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1, (selector, box)


@pytest.mark.parametrize("size", SIZES)
def test_phone_recording_on_the_new_bulletin_form_plays_back(serve, browser, tmp_path, size):  # noqa: F811
    url = serve
    phone = make_phone_recording(tmp_path / "ghi-am-dien-thoai.m4a", channels=2)
    broken = tmp_path / "chua-tai-het.m4a"
    broken.write_bytes(phone.read_bytes()[: phone.stat().st_size // 2])
    page = login(browser, url, "bientap", size)

    # ---- a broken file: one line under the upload field, what was typed is kept
    page.goto(url + "/bulletins/new")
    page.fill("input[name=title]", "Thông báo của trưởng thôn")
    page.set_input_files("input[name=recording]", str(broken))
    page.locator("#bulletin-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    error = page.locator("#recording-error")
    error.wait_for(state="visible", timeout=30000)
    message = error.inner_text().strip()
    assert message and "\n" not in message and "ffmpeg" not in page.content(), message
    field = page.locator("input[name=recording]").bounding_box()
    below = error.bounding_box()
    assert 0 <= below["y"] - (field["y"] + field["height"]) < 80, (field, below)
    _within_width(page, "#recording-error")
    assert page.input_value("input[name=title]") == "Thông báo của trưởng thôn"
    page.screenshot(path=str(tmp_path / f"loi-tai-len-{size[0]}.png"), full_page=True)

    # ---- the phone's M4A: saved with the bulletin, played back at once on its page
    page.set_input_files("input[name=recording]", str(phone))
    page.locator("#bulletin-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "/bulletins/" in page.url and "/new" not in page.url, page.content()
    player = page.locator("audio#recording-player")
    player.wait_for(state="attached", timeout=30000)
    player.scroll_into_view_if_needed()
    _within_width(page, "audio#recording-player")
    page.evaluate("() => { const a = document.getElementById('recording-player'); a.muted = true; a.play(); }")
    page.wait_for_function(
        "() => { const a = document.getElementById('recording-player'); return a.currentTime > 0.3 && !a.error; }",
        timeout=30000,
    )
    duration = page.evaluate("() => document.getElementById('recording-player').duration")
    assert abs(duration - PHONE_SECONDS) < 1.0, duration
    page.screenshot(path=str(tmp_path / f"nghe-lai-{size[0]}.png"), full_page=True)
    page.context.close()


@pytest.mark.parametrize("size", SIZES)
def test_docx_import_shows_what_was_dropped_and_puts_it_back(serve, browser, tmp_path, size):  # noqa: F811
    """Issue 11 item 4: the officer sees what the import set aside and can put it back."""
    from support import documents as sample

    url = serve
    docx = tmp_path / "thong-bao.docx"
    docx.write_bytes(sample.official_docx())
    page = login(browser, url, "bientap", size)
    page.goto(url + "/bulletins/new")
    page.set_input_files("form[action='/bulletins/import-docx'] input[type=file]", str(docx))
    page.locator("form[action='/bulletins/import-docx'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.input_value("input[name=title]") == sample.TITLE
    assert "Hoàng Văn Thảo" not in page.input_value("textarea[name=text]")
    signature = page.locator(".dropped-part", has_text="Hoàng Văn Thảo").locator("button.restore-part")
    signature.scroll_into_view_if_needed()
    _within_width(page, "#dropped-parts")
    signature.click()
    assert page.input_value("textarea[name=text]").rstrip().endswith("Hoàng Văn Thảo")
    # the reading view follows the restored text
    page.wait_for_function("document.getElementById('reading').innerText.includes('Hoàng Văn Thảo')", timeout=15000)
    page.context.close()
