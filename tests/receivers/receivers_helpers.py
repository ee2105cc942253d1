"""Helpers of the receivers tests (a module of its own: `from conftest import` finds another folder's conftest)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from broadcaster import accounts

PASSWORD = "mat-khau-2026"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
BIN = Path(sys.executable).parent / "broadcaster"


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


def cli(env, *args, timeout=120):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=timeout)
