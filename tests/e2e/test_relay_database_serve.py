"""A real `broadcaster serve` meets a relay slot an older version stored pointing at the live
database (issue 9, item 1). Real processes, real SQLite; ALSA's default device is a WAV file.

It used to open and close broadcaster.db inside serve (reading it as a WAV), which drops the
process's SQLite locks: the next process to close a connection (any CLI command) then unlinked
the WAL and SHM under the running station, and every later write of serve — web logins,
as-run rows — went to a file no one else could see. Now the slot gets a failed as-run row
with the reason, the database file is never opened by serve, and its writes stay visible.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

BIN = Path(sys.executable).parent / "broadcaster"
PASSWORD = "mat-khau-truc-dai"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def env(file_card_env):
    return file_card_env


def query(db: Path, sql: str, *args):
    """One short connection, opened and closed, like any CLI command would."""
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_until(check, proc, timeout=90.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_serve_refuses_to_relay_its_own_database_and_keeps_it_whole(env, data_dir):
    run = subprocess.run([str(BIN), "user", "add", "trucdai", "--role", "operator", "--password-stdin"],
                         input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    db = data_dir / "broadcaster.db"
    # a one-off relay of the database, due two minutes ago, written as an older version could have;
    # serve last ran five minutes ago, so it catches the slot up at start (inside the misfire grace)
    now = datetime.now(timezone.utc)
    due = (now - timedelta(minutes=2)).astimezone(VN)
    from sqlmodel import Session

    from broadcaster.db import make_engine
    from broadcaster.models import SlotRecord
    from broadcaster.scheduling import store

    engine = make_engine(db)
    try:
        with Session(engine) as session:
            session.add(SlotRecord(name="Lộ", kind="relay", at=due.time().replace(second=0, microsecond=0),
                                   on_date=due.date(), source=str(db), duration_min=30, max_minutes=30))
            store.set_last_check(session=session, at=now - timedelta(minutes=5))
            store.bump_timetable_version(session=session)
            session.commit()
    finally:
        engine.dispose()
    proc = subprocess.Popen([str(BIN), "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    info_path = data_dir / "run" / "serve.json"
    try:
        wait_until(info_path.exists, proc)
        info = json.loads(info_path.read_text())
        # a failed row is opened then closed: wait for it to be closed
        rows = wait_until(lambda: query(db, "select status, reason from as_run where title = ? and status != 'on_air'",
                                        "Tiếp sóng: Lộ"), proc)
        assert [r[0] for r in rows] == ["failed"], rows
        assert "tiếp sóng" in rows[0][1] and "broadcaster.db" in rows[0][1], rows
        # another process has opened and closed the database (the polling above): the WAL is still there
        query(db, "select count(*) from as_run")
        assert Path(f"{db}-wal").exists(), "the WAL was unlinked under the running serve"
        # a web write (a login opens a session row) is seen by a fresh connection
        before = query(db, "select count(*) from web_session")[0][0]
        with httpx.Client(base_url=info["url"], follow_redirects=False, timeout=30) as http:
            page = http.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            answer = http.post("/login", data={"name": "trucdai", "password": PASSWORD, "csrf_token": token})
            assert answer.status_code == 303, answer.text
        assert query(db, "select count(*) from web_session")[0][0] == before + 1
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
