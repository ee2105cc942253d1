"""Issue #12 item 7 and #11 item 10 in a real browser (Chromium, English locale): the "Cách đọc" view
marks the tokens that will be spelled and an editor adds a reading in one step without leaving the
form (htmx takes the text from the textarea); date fields show and take dd/mm/yyyy."""

from __future__ import annotations

import pytest
from browser_helpers import browser, login, needs_chromium, serve  # noqa: F401  (fixtures)

pytestmark = needs_chromium

TEXT = "UBND xã sửa đường ĐT.265 tại khu ABC."


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["desktop", "phone"])
def test_unknown_token_marked_and_read_right_in_one_step(serve, browser, size):  # noqa: F811
    url = serve
    editor = login(browser, url, "bientap")
    editor.set_viewport_size({"width": size[0], "height": size[1]})
    editor.goto(url + "/bulletins/new")
    editor.fill("input[name=title]", "Sửa đường")
    editor.locator("textarea[name=text]").fill(TEXT)
    editor.locator("textarea[name=text]").dispatch_event("keyup")
    editor.wait_for_selector("#reading mark.unknown-token", timeout=15000)
    marks = editor.locator("#reading mark.unknown-token").all_inner_texts()
    assert "a bê xê" in marks and "đê tê hai trăm sáu mươi lăm" in marks
    row = editor.locator("form.lexicon-add:has(input[name=written][value='ABC'])")
    row.locator("input[name=spoken]").fill("an bình cư")
    row.locator("button[type=submit]").click()
    editor.wait_for_function(
        "document.querySelector('#reading').innerText.includes('Đã thêm vào từ điển của đài: ABC')", timeout=15000)
    reading = editor.locator("#reading .reading").inner_text()
    assert "khu an bình cư" in reading and "a bê xê" not in reading
    assert editor.locator("textarea[name=text]").input_value() == TEXT  # the editor's text is untouched
    assert editor.url.endswith("/bulletins/new")
    # dates as dd/mm/yyyy whatever the browser's language (this Chromium runs in English)
    field = editor.locator("input[name=valid_from]")
    assert field.get_attribute("type") == "text" and field.get_attribute("placeholder") == "dd/mm/yyyy"
    field.fill("15/03/2026")
    editor.fill("input[name=valid_until]", "15/04/2026")
    editor.locator("form:has(textarea[name=text]) button[type=submit]").first.click()
    editor.wait_for_load_state("networkidle")
    assert "/bulletins/new" not in editor.url, editor.content()
    editor.goto(editor.url.split("?")[0] + "/edit")
    assert editor.locator("input[name=valid_from]").input_value() == "15/03/2026"
    editor.context.close()
