"""Fixtures for the web console tests: the app over the real station (real SQLite), and clients
logged in through the real /login form (argon2, pre-login CSRF cookie, session cookie)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from broadcaster import accounts
from broadcaster.web.app import create_app

PASSWORD = "mat-khau-2026"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient(TestClient):
    """A TestClient that remembers its session's CSRF token and adds it to form posts."""

    csrf: str | None = None

    def form(self, url: str, data: dict | None = None, *, files=None, csrf: bool = True, **kw):
        """POST a form with this session's CSRF token (csrf=False leaves it out)."""
        data = dict(data or {})
        if csrf and self.csrf:
            data.setdefault("csrf_token", self.csrf)
        return self.post(url, data=data, files=files, **kw)

    def htmx(self, url: str, data: dict | None = None, **kw):
        """POST like htmx does: the CSRF token in the X-CSRF-Token header."""
        headers = {"HX-Request": "true", **({"X-CSRF-Token": self.csrf} if self.csrf else {})}
        return self.post(url, data=data or {}, headers=headers, **kw)


def make_user(station, name: str, role: str, password: str = PASSWORD, full_name: str | None = None) -> None:
    with Session(station.db) as session:
        accounts.add_user(session=session, name=name, role=role, password=password, by="test", full_name=full_name)
        session.commit()


def login(app, name: str, password: str = PASSWORD) -> WebClient:
    """A client logged in through the login form (the real route)."""
    client = WebClient(app, follow_redirects=False, raise_server_exceptions=False)
    page = client.get("/login")
    token = CSRF_RE.search(page.text).group(1)
    r = client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    home = client.get("/bulletins")
    client.csrf = CSRF_RE.search(home.text).group(1)
    return client


@pytest.fixture
def app(station):
    return create_app(station)


@pytest.fixture
def anon(app) -> WebClient:
    return WebClient(app, follow_redirects=False, raise_server_exceptions=False)


@pytest.fixture
def users(station):
    """One account per role: admin1, editor1, leader1, operator1 (password PASSWORD)."""
    names = {"admin": "admin1", "editor": "editor1", "leader": "leader1", "operator": "operator1"}
    for role, name in names.items():
        make_user(station, name, role)
    return names


@pytest.fixture
def as_role(app, users):
    """as_role("leader") → a WebClient logged in as that role's account (cached per role)."""
    clients: dict[str, WebClient] = {}

    def get(role: str) -> WebClient:
        if role not in clients:
            clients[role] = login(app, users[role])
        return clients[role]

    return get
