"""Security of the web console: every state-changing route refuses anonymous users, wrong roles and
requests without the session's CSRF token — and a refused request changes nothing in the database.
Typed HTML comes back escaped. The console binds to 127.0.0.1 by default."""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlmodel import Session

from broadcaster.models import Bulletin, Role
from broadcaster.web.app import iter_routes

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PAYLOAD = '<script>alert("x")</script><b onmouseover=1>'
# a form rich enough that an unguarded route would really change something
FORM = {
    "title": "Tin giả", "text": "Nội dung giả", "bulletin_class": "khan_cap", "frequency": "every_slot",
    "comment": "trả lại", "role": "admin", "active": "0", "password": "mat-khau-moi-123", "name": "hacker",
    "full_name": "Kẻ lạ", "at": "09:00", "max_minutes": "10", "kind": "recurring", "enabled": "1",
    "confirm": "1", "repeat": "1",
}


def state_changing_routes(app):
    """(path, method, route) for every POST/PUT/PATCH/DELETE route except the pre-login forms (/login, and
    /setup: loopback only, while no account exists; tests/web/test_first_run_setup.py) and the token API."""
    found = []
    for path, methods, route in iter_routes(app):
        if path in ("/login", "/setup") or path.startswith("/api/"):
            continue
        for method in sorted(methods & UNSAFE):
            found.append((path, method, route))
    return found


def allowed_roles(route) -> set[Role] | None:
    """The roles the route's guard allows (None: any logged-in account; empty set: no guard found)."""
    from broadcaster.web.security import require_user

    for dep in route.dependant.dependencies:
        roles = getattr(dep.call, "roles", None)
        if roles is not None:
            return set(roles)
        if dep.call is require_user:
            return None
    return set()


def snapshot(station) -> list[str]:
    """Every row of every table but the session table (sessions may slide their expiry)."""
    con = sqlite3.connect(station.settings.db_path)
    try:
        return [line for line in con.iterdump() if '"web_session"' not in line]
    finally:
        con.close()


@pytest.fixture
def seeded(station, users):
    """A submitted bulletin (id 1) so bulletin routes have something to change."""
    with Session(station.db) as s:
        b = Bulletin(title="Tin thật", text="Nội dung thật", status="submitted", created_by="editor1")
        s.add(b)
        s.commit()
        bulletin_id = b.id
    slot_ids = [getattr(sl, "id", None) for sl in station.timetable().slots]
    return {"bulletin_id": bulletin_id, "slot_id": next((i for i in slot_ids if i), 1), "name": "editor1"}


def fill(path: str, seeded: dict) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(seeded.get(m.group(1), 1)), path)


def test_the_app_has_state_changing_routes_to_check(app):
    paths = {p for p, _, _ in state_changing_routes(app)}
    # the enumeration works through included routers (a flat app.routes would see none of these)
    assert {"/bulletins", "/bulletins/{bulletin_id}/approve", "/users", "/logout"} <= paths


def test_every_state_changing_route_has_a_guard(app):
    unguarded = [(p, m) for p, m, r in state_changing_routes(app) if allowed_roles(r) == set()]
    assert unguarded == []


def test_anonymous_is_sent_to_login_and_nothing_changes(app, station, seeded, anon):
    before = snapshot(station)
    for path, method, _ in state_changing_routes(app):
        r = anon.request(method, fill(path, seeded), data=FORM)
        assert r.status_code in (303, 401, 403), (path, r.status_code)
        if r.status_code == 303:
            assert r.headers["location"].startswith("/login"), path
    assert snapshot(station) == before


def test_wrong_roles_get_403_and_nothing_changes(app, station, seeded, as_role):
    for role in Role:  # log everyone in first: a login writes an audit row
        as_role(role.value)
    before = snapshot(station)
    checked = 0
    for path, method, route in state_changing_routes(app):
        roles = allowed_roles(route)
        if roles is None:
            continue
        for role in set(Role) - roles:
            client = as_role(role.value)
            r = client.request(method, fill(path, seeded), data={**FORM, "csrf_token": client.csrf},
                               headers={"X-CSRF-Token": client.csrf})
            assert r.status_code == 403, (path, role, r.status_code)
            checked += 1
    assert checked >= 10
    assert snapshot(station) == before


@pytest.mark.parametrize("token", [None, "", "sai-ma-chong-gia-mao"])
def test_missing_or_wrong_csrf_is_refused_and_nothing_changes(app, station, seeded, as_role, token):
    for role in Role:
        as_role(role.value)
    before = snapshot(station)
    for path, method, route in state_changing_routes(app):
        roles = allowed_roles(route)
        client = as_role(sorted(roles)[0].value if roles else "editor")
        data = dict(FORM) if token is None else {**FORM, "csrf_token": token}
        r = client.request(method, fill(path, seeded), data=data)
        assert r.status_code == 403, (path, client.csrf, r.status_code)
        # and a token from another session does not work either
        other = as_role("admin" if client is not as_role("admin") else "editor")
        r = client.request(method, fill(path, seeded), data={**FORM, "csrf_token": other.csrf})
        assert r.status_code == 403, path
    assert snapshot(station) == before


def test_login_form_itself_needs_its_csrf_token(anon, users):
    r = anon.post("/login", data={"name": "admin1", "password": "mat-khau-2026"})
    assert r.status_code == 403
    assert "bc_session" not in r.cookies


def test_typed_html_comes_back_escaped(station, as_role):
    editor, leader, admin = as_role("editor"), as_role("leader"), as_role("admin")
    r = editor.form("/bulletins", {"title": PAYLOAD, "text": PAYLOAD, "bulletin_class": "thong_thuong",
                                   "frequency": "every_slot", "topic": PAYLOAD})
    bid = int(r.headers["location"].rsplit("/", 1)[1])
    editor.form(f"/bulletins/{bid}/submit")
    leader.form(f"/bulletins/{bid}/reject", {"comment": PAYLOAD})
    admin.form("/users", {"name": "nguoimoi", "full_name": PAYLOAD, "role": "editor", "password": "mat-khau-123"})
    pages = {
        "list": editor.get("/bulletins").text,
        "view": editor.get(f"/bulletins/{bid}").text,
        "edit": editor.get(f"/bulletins/{bid}/edit").text,
        "reading": editor.htmx("/bulletins/reading", {"text": PAYLOAD}).text,
        "users": admin.get("/users").text,
        "error": editor.form("/bulletins", {"title": PAYLOAD, "text": "", "frequency": "every_slot"}).text,
    }
    for name, html in pages.items():
        assert "<script>alert" not in html and "<b onmouseover" not in html, name
    assert "&lt;script&gt;alert(" in pages["view"] and "&lt;script&gt;" in pages["users"]


def test_default_bind_is_localhost():
    import inspect

    from broadcaster.cli.serve import serve
    from broadcaster.config import Settings

    assert Settings.model_fields["web_host"].default == "127.0.0.1"
    # the command's --host falls back to the setting (no other default hidden in the signature)
    assert inspect.signature(serve).parameters["host"].default is None
