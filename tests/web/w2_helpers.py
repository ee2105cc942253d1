"""Helpers for the timetable/on-air/log/report page tests: an app over the real station, clients
logged in as each role (session made through broadcaster.accounts, as the login route does)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from broadcaster import accounts
from broadcaster.web.app import create_app
from broadcaster.web.security import SESSION_COOKIE

PASSWORD = "mat-khau-thu-2026"


class Client:
    """A TestClient logged in as one account; `post` adds the session's CSRF token."""

    def __init__(self, app, cookie: str | None, csrf: str | None) -> None:
        self.http = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        if cookie:
            self.http.cookies.set(SESSION_COOKIE, cookie)
        self.csrf = csrf

    def get(self, url, **kw):
        return self.http.get(url, **kw)

    def post(self, url, data=None, files=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf and self.csrf:
            data["csrf_token"] = self.csrf
        return self.http.post(url, data=data, files=files, **kw)


def login(app, station, name: str, role: str) -> Client:
    with Session(station.db) as session:
        try:
            user = accounts.get_user(session=session, name=name)
        except Exception:
            user = accounts.add_user(session=session, name=name, role=role, password=PASSWORD, by="test")
        cookie, row = accounts.open_session(session=session, user=user)
        csrf = row.csrf_token
        session.commit()
    return Client(app, cookie, csrf)


def anonymous(app) -> Client:
    return Client(app, None, None)


def make_app(station, onair=None):
    return create_app(station, onair=onair)


def text_of(html: str) -> str:
    """Visible text, roughly (tags out, whitespace squeezed) for assertions on what a page says."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def wav(path, seconds=0.2, rate=8000):
    """A silent 16-bit mono WAV (made parents included)."""
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return path
