"""Picking a bulletin's voice by ear in a real browser (issue 12 item 4): the editor presses
"Nghe thử mọi giọng", every voice of the station's order comes back as an <audio> that Chromium
decodes, one is chosen and saved. The form fits a 390×844 phone screen without sideways scrolling.
The running `serve` (browser_helpers' fixture) is offline: espeak-ng is its one voice."""

from __future__ import annotations

import json
import os
import subprocess

from browser_helpers import BIN, SCREENS, browser, login, needs_chromium, serve  # noqa: F401 (fixtures)

pytestmark = needs_chromium


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_an_editor_hears_the_voices_and_picks_one(serve, browser, data_dir):  # noqa: F811
    url = serve
    editor = login(browser, url, "bientap")
    editor.goto(url + "/bulletins/new")
    editor.fill("input[name=title]", "Họp dân")
    editor.locator("textarea[name=text]").fill("Tối nay họp dân tại nhà văn hóa thôn.")
    editor.fill("input[name=sample]", "Kính thưa bà con.")
    editor.click("button:has-text('Nghe thử mọi giọng')")
    editor.wait_for_selector("#voice-samples audio", timeout=60000)
    # the sample decodes in the browser: load it and wait for its duration
    editor.evaluate("document.querySelector('#voice-samples audio').load()")
    editor.wait_for_function("(() => { const a = document.querySelector('#voice-samples audio');"
                             " return a.readyState >= 1 && !a.error && a.duration > 0.3; })()", timeout=30000)
    assert "espeak-ng vi" in editor.inner_text("#voice-samples")
    editor.check("input[name=voice][value='espeak:vi']")
    editor.locator("form:has(textarea[name=text]) button[type=submit]").first.click()
    editor.wait_for_load_state("networkidle")
    assert "Họp dân" in editor.content()
    editor.context.close()
    env = dict(os.environ, BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    listed = subprocess.run([str(BIN), "bulletin", "list", "--json"], capture_output=True, text=True, env=env,
                            timeout=60, check=True)
    assert [b["voice"] for b in json.loads(listed.stdout)] == ["espeak:vi"]


def test_the_voice_choice_fits_a_phone_screen(serve, browser):  # noqa: F811
    url = serve
    page = login(browser, url, "bientap", SCREENS["phone"])
    page.goto(url + "/bulletins/new")
    page.click("button:has-text('Nghe thử mọi giọng')")
    page.wait_for_selector("#voice-samples audio", timeout=60000)
    assert page.locator("#voice-choice").is_visible() and _fits(page)
    page.context.close()
