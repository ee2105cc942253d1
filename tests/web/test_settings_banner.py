"""The console of a station started with an unknown key in settings.toml (issue 10 item 8): every
page carries the warning as a banner, naming the key and the closest valid one."""

from __future__ import annotations

import html
import re

import pytest

from broadcaster.config import load_settings
from broadcaster.station.facade import Station
from broadcaster.web.app import create_app

from w2_helpers import anonymous, login

BANNER_RE = re.compile(r'<div class="banner banner-warn" role="alert">(.*?)</div>', re.S)


@pytest.fixture
def lenient_station(data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text("espeak_rat = 150\n", encoding="utf-8")
    station = Station.open(load_settings(data_dir, strict=False, engine_order=["espeak"]))
    yield station
    station.close()


def test_every_page_shows_the_unknown_setting(lenient_station):
    app = create_app(lenient_station)
    page = anonymous(app).get("/login")
    banner = BANNER_RE.search(page.text)
    assert banner, page.text
    assert html.unescape(banner.group(1)).strip().startswith(
        "Cảnh báo cài đặt: Cài đặt không có tên 'espeak_rat'"
    ), banner.group(1)
    assert "'espeak_rate'" in html.unescape(banner.group(1))
    for role in ("admin", "editor"):
        client = login(app, lenient_station, f"{role}1", role)
        for url in ("/bulletins", "/log", "/users" if role == "admin" else "/bulletins/new"):
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)
            found = BANNER_RE.findall(r.text)
            assert any("espeak_rat" in b for b in found), (role, url)


def test_no_banner_when_the_settings_are_clean(station):
    page = anonymous(create_app(station)).get("/login")
    assert page.status_code == 200 and "Cảnh báo cài đặt" not in page.text
