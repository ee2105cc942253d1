"""The login rate limit counts failures per account and source, per source and overall, and keeps
them in the database so a restart does not wipe them (issue 9, item 7)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from broadcaster import accounts
from broadcaster.config import load_settings
from broadcaster.station.facade import Station
from broadcaster.web.app import create_app

PASSWORD = "mat-khau-2026"

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def _try(client, name, password):
    token = CSRF_RE.search(client.get("/login").text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"})


def make_user(station, name: str, role: str) -> None:
    with Session(station.db) as session:
        accounts.add_user(session=session, name=name, role=role, password=PASSWORD, by="test")
        session.commit()


def _client(app) -> TestClient:
    return TestClient(app, follow_redirects=False, raise_server_exceptions=False)


@pytest.fixture
def limited(data_dir):
    """A station whose limits are small enough to reach in a test."""
    settings = load_settings(data_dir, engine_order=["espeak"], login_max_failures=3,
                             login_max_failures_per_source=5, login_max_failures_total=8)
    station = Station.open(settings)
    yield station
    station.close()


def test_failures_per_source_block_every_account_from_it(limited):
    from broadcaster.web.security import LoginLimiter

    limiter = LoginLimiter(engine=limited.db, limit=3, per_source=5, total=100)
    for n in range(5):  # five different account names, one source: each pair is under its limit
        limiter.failed(f"ten-{n}", "10.0.0.7")
    assert limiter.blocked_for("ten-moi", "10.0.0.7") > 0  # a name never tried is refused from there
    assert limiter.blocked_for("ten-moi", "10.0.0.8") == 0  # another source is not


def test_failures_overall_block_everyone(limited):
    from broadcaster.web.security import LoginLimiter

    limiter = LoginLimiter(engine=limited.db, limit=3, per_source=5, total=8)
    for n in range(8):  # a guesser spread over eight sources and names
        limiter.failed(f"ten-{n}", f"10.0.1.{n}")
    assert limiter.blocked_for("ai-do", "10.9.9.9") > 0


def test_per_source_cap_through_the_login_form(limited):
    for role, name in (("editor", "bt1"), ("leader", "ld1")):
        make_user(limited, name, role)
    client = _client(create_app(limited))
    for n in range(5):
        assert _try(client, f"khong-co-{n}", "sai-mat-khau").status_code == 401
    r = _try(client, "bt1", PASSWORD)  # the right password of a real account, from the same source
    assert r.status_code == 429 and "quá nhiều lần" in r.text


def test_a_restart_of_the_app_still_refuses(limited, data_dir):
    make_user(limited, "bt1", "editor")
    client = _client(create_app(limited))
    for _ in range(3):
        assert _try(client, "bt1", "sai-mat-khau").status_code == 401
    assert _try(client, "bt1", PASSWORD).status_code == 429
    # serve restarted: a new station and a new app over the same database
    settings = load_settings(data_dir, engine_order=["espeak"], login_max_failures=3,
                             login_max_failures_per_source=5, login_max_failures_total=8)
    again = Station.open(settings)
    try:
        r = _try(_client(create_app(again)), "bt1", PASSWORD)
        assert r.status_code == 429 and "quá nhiều lần" in r.text
    finally:
        again.close()
