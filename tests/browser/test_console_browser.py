"""The console in a real browser: Debian's Chromium driven by Playwright against a real
`broadcaster serve` subprocess on a free loopback port, with a fresh data directory.

The sound card is ALSA's file plugin (the default device writes to a file, as in the CLI end-to-end
tests), so urgent announcements really play. One user of each role is made with
`broadcaster user add --password-stdin`. The story of issue 5: an editor writes a bulletin and sees
the live reading view, submits it; a leader approves and previews it (<audio> loads: 200, audio/wav);
it shows in the timetable; an operator presses urgent (confirmation asked once); the log shows it;
the month's report downloads as XLSX and has the rows.
"""

from __future__ import annotations

import io

from browser_helpers import browser, login, needs_chromium, serve  # noqa: F401  (fixtures)

TITLE = "Tiêm phòng lở mồm long móng"
TEXT = "UBND xã Dân Tiến thông báo: từ ngày 15/3 đến ngày 15/4/2026 xã tổ chức tiêm phòng cho trâu, bò."
URGENT = "Bão số 3 đang vào đất liền, bà con không ra sông suối."

pytestmark = needs_chromium


def test_the_officers_day_in_the_browser(serve, browser, tmp_path):
    url = serve
    # ---- an editor writes a bulletin, sees how it will be read, submits it
    editor = login(browser, url, "bientap")
    editor.goto(url + "/bulletins/new")
    editor.fill("input[name=title]", TITLE)
    editor.locator("textarea[name=text]").fill(TEXT)
    editor.locator("textarea[name=text]").dispatch_event("keyup")
    # the reading layer spells the dates out: "ngày mười lăm tháng ba"
    editor.wait_for_function("document.body.innerText.includes('mười lăm tháng ba')", timeout=15000)
    editor.locator("form:has(textarea[name=text]) button[type=submit]").first.click()
    editor.wait_for_load_state("networkidle")
    assert TITLE in editor.content()
    bulletin_url = editor.url.split("?")[0]
    submit = editor.locator("form[action$='/submit'] button")
    submit.click()
    editor.wait_for_load_state("networkidle")
    assert "chờ duyệt" in editor.content()
    editor.context.close()

    # ---- a leader approves (renders ahead) and listens to the preview
    leader = login(browser, url, "lanhdao")
    leader.goto(bulletin_url)
    leader.locator("form[action$='/approve'] button").click()
    leader.wait_for_load_state("networkidle")
    assert "đã duyệt" in leader.content()
    # rendered in the background since it was saved (issue 11 item 6): the player shows once it is made
    leader.wait_for_selector("#dung-am-thanh audio", timeout=120000)
    audio = leader.locator("audio").first
    src = audio.get_attribute("src") or audio.locator("source").first.get_attribute("src")
    # the page asks for the preview as it loads: watch that request on a reload
    with leader.expect_response(lambda r: src in r.url, timeout=30000) as answer:
        leader.reload()
    response = answer.value
    assert response.status in (200, 206) and response.headers["content-type"] == "audio/wav"
    # the element decoded it: its duration is known and it has no error
    leader.wait_for_function("(() => { const a = document.querySelector('audio');"
                             " return a.readyState >= 1 && !a.error && a.duration > 1; })()", timeout=30000)

    # ---- it is in this week's timetable
    leader.goto(url + "/timetable")
    week = leader.locator("#tuan").inner_text()
    assert TITLE in week
    leader.context.close()

    # ---- an operator presses urgent; the confirmation is asked once
    operator = login(browser, url, "trucdai")
    operator.goto(url + "/onair")
    operator.fill("#urgent-text", URGENT)
    operator.click("#nut-khan-cap")
    operator.wait_for_load_state("networkidle")
    assert "Xác nhận phát khẩn cấp" in operator.content() and URGENT in operator.inner_text("#noi-dung-khan-cap")
    operator.click("#xac-nhan-khan-cap")
    operator.wait_for_load_state("networkidle")
    assert operator.url.endswith("/onair") and "Đang phát thông báo khẩn cấp" in operator.content()
    # the panel refreshes itself (htmx) until the announcement is done
    operator.wait_for_function("document.querySelector('#onair-panel').innerText.includes('đã phát xong')",
                               timeout=90000)

    # ---- the log shows it, by the operator
    operator.goto(url + "/log?kind=urgent")
    rows = operator.locator("#nhat-ky tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("Thông báo khẩn cấp: " + URGENT[:20] in t and "đã phát" in t and "trucdai" in t for t in texts), texts
    operator.context.close()

    # ---- the month's report downloads and opens
    leader = login(browser, url, "lanhdao")
    leader.goto(url + "/reports")
    with leader.expect_download() as download:
        leader.click("#xuat-xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("bao-cao-phat-song-") and saved.suffix == ".xlsx"
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(saved.read_bytes()))
    summary = {r[0]: r[1:4] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Khẩn cấp"][0] == 1  # one urgent message aired (the tone is not an airing)
    assert summary["Tổng cộng"][0] >= 1
    leader.context.close()
