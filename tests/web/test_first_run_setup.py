"""Issue 11 item 1 at the app level: the one-time set-up page (first admin + the station's name).

Served only while no account exists and only to a loopback client; a browser elsewhere on the LAN
is refused (a TestClient with another client address). Bad input is one Vietnamese line and
writes nothing; success logs the new administrator in and every page title carries the name."""

from __future__ import annotations

import re
import tomllib

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from w2_helpers import make_app, text_of

from broadcaster.models import Role, User
from broadcaster.web.security import PRELOGIN_COOKIE

STATION = "Đài truyền thanh xã Dân Tiến"
GOOD = {"station_name": STATION, "full_name": "Nguyễn Thị Hoa", "name": "hoa", "password": "mat-khau-2026",
        "password_again": "mat-khau-2026"}


def client(app, host="127.0.0.1") -> TestClient:
    return TestClient(app, client=(host, 51000), raise_server_exceptions=False, follow_redirects=False)


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def users(station):
    with Session(station.db) as session:
        return session.exec(select(User)).all()


def test_fresh_station_sends_the_local_browser_to_setup_and_creates_the_admin(station):
    app = make_app(station)
    browser = client(app)
    first = browser.get("/", follow_redirects=True)
    assert first.url.path == "/setup" and first.status_code == 200
    assert "Cài đặt lần đầu" in first.text and 'name="password_again"' in first.text
    done = browser.post("/setup", data={**GOOD, "csrf_token": csrf_of(first)})
    assert done.status_code == 303
    console = browser.get("/", follow_redirects=True)
    assert console.status_code == 200 and console.url.path == "/bulletins"
    title = re.search(r"<title>(.*?)</title>", console.text, re.S).group(1)
    assert STATION in title, title
    assert "Nguyễn Thị Hoa" in text_of(console.text)
    [admin] = users(station)
    assert (admin.name, admin.role, admin.full_name) == ("hoa", Role.admin, "Nguyễn Thị Hoa")
    saved = tomllib.loads(station.settings.settings_path.read_text(encoding="utf-8"))
    assert saved["station_name"] == STATION
    from broadcaster.config import load_settings

    assert load_settings(station.settings.data_dir).station_name == STATION  # the next start keeps it
    # one-time: now it is gone, for everyone
    assert browser.get("/setup").status_code == 303
    again = client(app).post("/setup", data={**GOOD, "name": "ke-la", "csrf_token": "x"},
                             cookies={PRELOGIN_COOKIE: "x" * 30})
    assert again.status_code == 404 and len(users(station)) == 1


def test_a_client_that_is_not_this_pc_is_refused(station):
    app = make_app(station)
    lan = client(app, host="192.168.1.23")
    page = lan.get("/setup")
    assert page.status_code == 403 and "chỉ mở được trên chính máy tính của đài" in text_of(page.text)
    assert 'name="password"' not in page.text
    # no redirect to set-up from the login page either: a plain login form
    login = lan.get("/login")
    assert login.status_code == 200 and 'action="/login"' in login.text
    assert "Đài chưa có tài khoản nào" in text_of(login.text) and "máy tính của đài" in text_of(login.text)
    refused = lan.post("/setup", data={**GOOD, "csrf_token": "x" * 30}, cookies={PRELOGIN_COOKIE: "x" * 30})
    assert refused.status_code == 403 and users(station) == []
    assert "station_name" not in tomllib.loads(station.settings.settings_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("field, value, message", [
    ("station_name", "  ", "Hãy nhập tên đài"),
    ("full_name", "", "Hãy nhập họ và tên"),
    ("name", "Hoà Nguyễn", "Tên đăng nhập"),
    ("password", "ngan", "ít nhất 8 ký tự"),
    ("password_again", "mat-khau-khac", "Hai lần nhập mật khẩu không khớp"),
])
def test_bad_input_is_one_line_and_writes_nothing(station, field, value, message):
    app = make_app(station)
    browser = client(app)
    page = browser.get("/setup")
    before = station.settings.settings_path.read_text(encoding="utf-8")
    answer = browser.post("/setup", data={**GOOD, field: value, "csrf_token": csrf_of(page)})
    assert answer.status_code == 400
    errors = re.findall(r'<p class="error" role="alert">(.*?)</p>', answer.text)
    assert len(errors) == 1 and message in errors[0], errors
    assert "Traceback" not in answer.text and "pydantic" not in answer.text.lower()
    assert users(station) == [] and station.settings.settings_path.read_text(encoding="utf-8") == before
    if field != "station_name":
        assert STATION in answer.text  # what was typed stays


def test_without_the_csrf_cookie_nothing_is_created(station):
    app = make_app(station)
    answer = client(app).post("/setup", data={**GOOD, "csrf_token": "abc"})
    assert answer.status_code == 403 and users(station) == []


def test_station_name_reaches_the_exports(station):
    import io

    from openpyxl import load_workbook

    from broadcaster import firstrun

    form = firstrun.check_setup(station_name=STATION, full_name="Lê Văn Nam", name="nam",
                                password="mat-khau-2026", again="mat-khau-2026")
    assert firstrun.create_first_admin(station.db, form, station.settings) is not None
    app = make_app(station)
    from w2_helpers import login

    browser = login(app, station, "nam", "admin")
    report = browser.get("/reports/export.xlsx")
    assert report.status_code == 200, report.text[:300]
    first = next(load_workbook(io.BytesIO(report.content))["Tổng hợp"].iter_rows(values_only=True))
    assert first[0].startswith(STATION)
    log = browser.get("/log/export.xlsx")
    assert log.status_code == 200
    heading = next(load_workbook(io.BytesIO(log.content)).active.iter_rows(values_only=True))
    assert heading[0].startswith(STATION)
