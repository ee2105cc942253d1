"""Login, sessions, rate limiting and the accounts page."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from broadcaster import accounts
from broadcaster.models import AuditEntry, User, WebSession

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login_attempt(client, name, password, next_url="/"):
    token = CSRF_RE.search(client.get("/login").text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": next_url})


def test_login_sets_a_safe_cookie_and_logout_kills_the_session(app, anon, users, station):
    r = _login_attempt(anon, "admin1", "mat-khau-2026", next_url="/users")
    assert r.status_code == 303 and r.headers["location"] == "/users"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("bc_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie
    with Session(station.db) as s:
        stored = s.exec(select(WebSession)).all()
        # only a digest of the cookie is stored
        assert len(stored) == 1 and stored[0].id not in cookie
    assert anon.get("/users").status_code == 200
    old = anon.cookies.get("bc_session")
    csrf = CSRF_RE.search(anon.get("/users").text).group(1)
    assert anon.post("/logout", data={"csrf_token": csrf}).status_code == 303
    anon.cookies.set("bc_session", old)  # replaying the old cookie does not work
    r = anon.get("/users")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_wrong_password_and_rate_limit(anon, users, station):
    for _ in range(5):
        r = _login_attempt(anon, "editor1", "sai-mat-khau")
        assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in r.text
    # the sixth try is refused even with the right password
    r = _login_attempt(anon, "editor1", "mat-khau-2026")
    assert r.status_code == 429 and "quá nhiều lần" in r.text
    # another account from the same address is not locked out by it
    assert _login_attempt(anon, "leader1", "mat-khau-2026").status_code == 303
    with Session(station.db) as s:
        failed = s.exec(select(AuditEntry).where(AuditEntry.action == "login.failed")).all()
    assert len(failed) == 5


def test_limiter_window_expires():
    from broadcaster.web.security import LoginLimiter

    now = [1000.0]
    limiter = LoginLimiter(limit=5, window_s=300, clock=lambda: now[0])
    for _ in range(5):
        limiter.failed("a", "1.2.3.4")
    assert limiter.blocked_for("a", "1.2.3.4") > 0
    assert limiter.blocked_for("a", "5.6.7.8") == 0
    now[0] += 301
    assert limiter.blocked_for("a", "1.2.3.4") == 0


def test_no_open_redirect_after_login(anon, users):
    r = _login_attempt(anon, "editor1", "mat-khau-2026", next_url="//evil.example/x")
    assert r.headers["location"] == "/"


def test_unknown_and_inactive_accounts_cannot_log_in(anon, users, station):
    assert _login_attempt(anon, "khongco", "mat-khau-2026").status_code == 401
    with Session(station.db) as s:
        accounts.set_active(session=s, name="operator1", active=False, by="admin1")
        s.commit()
    assert _login_attempt(anon, "operator1", "mat-khau-2026").status_code == 401


def test_admin_manages_accounts_and_every_change_is_recorded(station, as_role, app):
    admin = as_role("admin")
    editor = as_role("editor")
    r = admin.form("/users", {"name": "Lan.Nguyen", "full_name": "Nguyễn Thị Lan", "role": "leader",
                              "password": "mat-khau-lan-1"})
    assert r.status_code == 303
    assert "Nguyễn Thị Lan" in admin.get("/users").text
    assert admin.form("/users", {"name": "x", "role": "leader", "password": "ngan"}).status_code == 400
    admin.form("/users/lan.nguyen/role", {"role": "operator"})
    admin.form("/users/editor1/active", {"active": "0"})
    # the deactivated editor's live session is gone at once
    r = editor.get("/bulletins")
    assert r.status_code == 303
    assert admin.form("/users/admin1/active", {"active": "0"}).status_code == 400  # not yourself
    with Session(station.db) as s:
        lan = s.exec(select(User).where(User.name == "lan.nguyen")).one()
        assert (lan.role, lan.created_by) == ("operator", "admin1")
        assert s.exec(select(User).where(User.name == "editor1")).one().active is False
        done = [(a.user, a.action, a.object_id) for a in s.exec(select(AuditEntry).where(AuditEntry.object_type == "user"))
                if a.action.startswith("user.")]
    assert ("admin1", "user.add", "lan.nguyen") in done
    assert ("admin1", "user.role", "lan.nguyen") in done
    assert ("admin1", "user.deactivate", "editor1") in done


def test_htmx_request_without_session_gets_401_with_redirect(anon):
    r = anon.post("/bulletins/reading", data={"text": "x"}, headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")


def test_pages_are_vietnamese_and_link_the_vendored_htmx(anon, as_role):
    page = anon.get("/login").text
    assert 'lang="vi"' in page and "Đăng nhập" in page and "/static/vendor/htmx.min.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    js = anon.get("/static/vendor/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:200]
    nav = as_role("editor").get("/bulletins").text
    assert "Tài khoản" not in nav and "Đăng xuất" in nav
    assert 'href="/users"' in as_role("admin").get("/bulletins").text


def test_sound_card_banner_when_the_player_is_not_open(station, users):
    from fastapi.testclient import TestClient

    from broadcaster.web.app import create_app

    class Closed:
        is_open = False

    class FakeOnAir:  # only the attribute the banner reads
        player = Closed()

    client = TestClient(create_app(station, onair=FakeOnAir()))
    assert "Không có thiết bị âm thanh" in client.get("/login").text
    Closed.is_open = True
    assert "Không có thiết bị âm thanh" not in client.get("/login").text


def test_api_token_file_is_private(station, app):
    import stat

    path = station.settings.data_dir / "run" / "api-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == app.state.api_token


def test_oversized_requests_are_refused_before_parsing(as_role):
    editor = as_role("editor")
    r = editor.post("/bulletins/reading", content=b"x", headers={"Content-Length": str(61 * 1024 * 1024),
                                                                 "X-CSRF-Token": editor.csrf})
    assert r.status_code == 413 and "quá lớn" in r.text


def test_the_last_admin_cannot_be_demoted_or_locked(station, as_role):
    admin = as_role("admin")
    r = admin.form("/users/admin1/role", {"role": "editor"})
    assert r.status_code == 400 and "ít nhất một tài khoản quản trị" in r.text
    admin.form("/users", {"name": "admin2", "role": "admin", "password": "mat-khau-admin2"})
    assert admin.form("/users/admin1/role", {"role": "editor"}).status_code == 303
    with Session(station.db) as s:
        assert s.exec(select(User).where(User.name == "admin1")).one().role == "editor"


def test_bad_path_values_get_a_vietnamese_page(as_role):
    r = as_role("editor").get("/bulletins/abc")
    assert r.status_code == 400 and "không hợp lệ" in r.text and "<html" in r.text


def test_cookies_are_secure_over_https(app, users):
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="https://console.local", follow_redirects=False)
    page = client.get("/login")
    assert "Secure" in page.headers["set-cookie"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"name": "editor1", "password": "mat-khau-2026", "csrf_token": token})
    session_cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("bc_session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie


def test_pages_cannot_be_framed(anon):
    r = anon.get("/login")
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
