"""Fixtures for the loudspeaker-cluster tests (issue 14): the console app over the real station (real
SQLite), a client logged in through the real form, clusters added through the service, and the
installed `broadcaster` command on an initialized data directory."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from broadcaster import accounts
from broadcaster.web.app import create_app

PASSWORD = "mat-khau-2026"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
BIN = Path(sys.executable).parent / "broadcaster"


@pytest.fixture
def app(station):
    return create_app(station)


@pytest.fixture
def api(app) -> TestClient:
    """An anonymous client: the clusters' API needs only their token."""
    return TestClient(app, follow_redirects=False, raise_server_exceptions=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_user(station, name: str, role: str) -> None:
    with Session(station.db) as session:
        accounts.add_user(session=session, name=name, role=role, password=PASSWORD, by="test")
        session.commit()


def login(app, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    token = CSRF_RE.search(client.get("/login").text).group(1)
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    client.csrf = CSRF_RE.search(client.get("/bulletins").text).group(1)
    return client


def counts(db_path: Path) -> dict[str, int]:
    """Rows in the clusters' tables (and the as-run log): a refused request must change none."""
    con = sqlite3.connect(db_path)
    try:
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("receivers", "receiver_log", "as_run")}
    finally:
        con.close()


def snapshot(db_path: Path) -> list[str]:
    con = sqlite3.connect(db_path)
    try:
        return [line for line in con.iterdump() if '"web_session"' not in line]
    finally:
        con.close()


@pytest.fixture
def cli_env(tmp_path, data_dir):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env.update(HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    run = subprocess.run([str(BIN), "init"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    return env


def cli(env, *args, timeout=120):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=timeout)
