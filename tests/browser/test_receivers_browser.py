"""Issue 14 item 4 in a real browser at 1366×768 and 390×844: the "Cụm loa" page of a real `serve`
shows each cluster (name, zone, online, last report, buffer, last error) readably, refreshes itself
when a cluster reports, and an administrator revokes a cluster there, which is refused at once."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest
from browser_helpers import BIN, PASSWORD, SCREENS, browser, login, needs_chromium, serve  # noqa: F401

pytestmark = needs_chromium


def run(data_dir, *args, stdin=None):
    import os

    env = dict(os.environ, BROADCASTER_DATA_DIR=str(data_dir))
    r = subprocess.run([str(BIN), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def post(url, path, token, body):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def report(name, **fields):
    return {"name": name, "zone": None, "state": "playing", "mount": "/dai.mp3", "buffer_s": 1.5, "volume": 1.0,
            "last_error": None, "sent_at": "2026-12-01T07:00:00+07:00", **fields}


@pytest.mark.parametrize("screen", list(SCREENS), ids=list(SCREENS))
def test_the_clusters_page(serve, browser, data_dir, screen):
    url = serve
    run(data_dir, "user", "add", "quantri", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    tokens = {}
    for name, zone in (("Cụm loa chợ Đông", "Thôn Đông"), ("Cụm loa nhà văn hóa xóm Bãi", None)):
        out = run(data_dir, "receivers", "add", name, *(["--zone", zone] if zone else []))
        tokens[name] = out.splitlines()[1].rsplit(" ", 1)[1]
    assert post(url, "/api/receiver/status", tokens["Cụm loa chợ Đông"],
                report("Cụm loa chợ Đông", last_error="mất luồng 2 giây")) == 200

    page = login(browser, url, "trucdai", SCREENS[screen])
    width = SCREENS[screen][0]
    if screen == "phone":
        page.goto(url + "/receivers")
    else:
        page.click("nav a[href='/receivers']")
    page.wait_for_selector("#cum-loa")
    assert page.url == url + "/receivers"
    text = page.inner_text("#cum-loa")
    assert "Cụm loa chợ Đông" in text and "Thôn Đông" in text and "Trực tuyến" in text and "Mất kết nối" in text
    assert "mất luồng 2 giây" in text and "1,5 giây" in text
    assert page.locator(".nut-thu-hoi").count() == 0  # an operator does not revoke
    # readable: nothing wider than the screen, every cluster's name inside it
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for row in page.locator("tr.w2-receiver td:first-child").all():
        box = row.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    page.screenshot(path=f"/tmp/cum-loa-{screen}.png", full_page=True)
    # the other cluster reports: the panel shows it without a reload
    assert post(url, "/api/receiver/status", tokens["Cụm loa nhà văn hóa xóm Bãi"],
                report("Cụm loa nhà văn hóa xóm Bãi")) == 200
    page.wait_for_function("document.querySelector('#cum-loa-tom-tat').innerText.startsWith('2/2')", timeout=60000)
    page.context.close()

    if screen == "desktop":  # an administrator revokes one; its next report is refused
        admin = login(browser, url, "quantri", SCREENS[screen])
        admin.goto(url + "/receivers")
        admin.on("dialog", lambda dialog: dialog.accept())
        admin.locator("tr[data-name='Cụm loa chợ Đông'] .nut-thu-hoi").click()
        admin.wait_for_load_state("networkidle")
        assert "Đã thu hồi mã của cụm loa «Cụm loa chợ Đông»" in admin.inner_text("body")
        assert post(url, "/api/receiver/status", tokens["Cụm loa chợ Đông"], report("Cụm loa chợ Đông")) == 401
        admin.context.close()
