"""A real `broadcaster serve` subprocess on the paced sink (tests/support/pulse.py) over a data directory
with one rendered bulletin and one-off slots placed to the second, and waits on the as-run rows it
writes. Used by the failure tests (tests/failures) and the Icecast fan-out's (tests/streaming):

    from support.serve import Serve, add_oneoff, add_tone_bulletin, clear_timetable, next_second, serve_env
    serve = Serve(serve_env(pulse_server, tmp_path, data_dir), tmp_path, 0)
    add_oneoff(station, "Tin", next_second(2.0))
    wait_rows(db, lambda r: r[7] == "Tin" and r[2] == "on_air", 30, serve)   # fails at once if serve exits

Slots are written with store.add_slot (the same call `schedule add` makes) because the
CLI takes HH:MM and these tests need slots a few seconds apart.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from sqlmodel import Session
from support.waiting import wait_for

BIN = Path(sys.executable).parent / "broadcaster"
RATE = 48000


def tone_wav(path: Path, *, seconds: float, hz: float = 440.0, amplitude: float = 0.3) -> Path:
    """A 16-bit mono tone at the station rate (an item that needs no speech engine)."""
    import wave

    t = np.arange(round(seconds * RATE)) / RATE
    samples = np.round(amplitude * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return path


def clear_timetable(station) -> None:
    """Drop the default timetable, so no built-in slot (or its catch-up) airs during a test."""
    from broadcaster.scheduling import store
    from broadcaster.scheduling.timetable import Timetable

    with Session(station.db) as session:
        store.replace_slots(session=session, timetable=Timetable(timezone=station.settings.timezone, slots=()))


def add_oneoff(station, name: str, at_utc: datetime, *, max_minutes: int = 5):
    """A one-off slot at a UTC instant (to the second), in the station's zone."""
    from broadcaster.scheduling import store
    from broadcaster.scheduling.timetable import Slot

    local = at_utc.astimezone(station.tz)
    slot = Slot(name=name, at=local.time().replace(microsecond=0), kind="oneoff", on_date=local.date(),
                max_minutes=max_minutes)
    with Session(station.db) as session:
        store.add_slot(session=session, slot=slot)
    return local.replace(microsecond=0).astimezone(timezone.utc)


def next_second(delay_s: float) -> datetime:
    """A whole-second UTC instant at least delay_s from now."""
    at = datetime.now(timezone.utc) + timedelta(seconds=delay_s)
    return at.replace(microsecond=0) + timedelta(seconds=1)


def rows(db_path: Path) -> list[tuple]:
    """Every as-run row, read with plain sqlite3 (not our code): (id, title, status, started_at, ended_at, reason, kind, slot, planned_at)."""
    with sqlite3.connect(db_path, timeout=10) as con:
        return con.execute(
            "SELECT id, title, status, started_at, ended_at, reason, kind, slot, planned_at FROM as_run ORDER BY id"
        ).fetchall()


def integrity(db_path: Path) -> str:
    with sqlite3.connect(db_path, timeout=10) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0]


def parse_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class _ServeExited(AssertionError):
    """serve ended while a test waited on it."""


class Serve:
    """`broadcaster serve` in a subprocess; stdout/stderr go to files (a pipe could fill and block it)."""

    def __init__(self, env: dict, log_dir: Path, n: int) -> None:
        self.out = log_dir / f"serve-{n}.out"
        self.err = log_dir / f"serve-{n}.err"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(
                [str(BIN), "serve", "--port", "0"], stdout=out, stderr=err, env=env, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def until(self, predicate, timeout: float, what: str):
        """Poll predicate() until it is truthy (returns it) while serve runs; fail with serve's output
        at once if serve exits first, or when `timeout` runs out."""
        def check():
            value = predicate()
            if not value and self.process.poll() is not None:
                raise _ServeExited(f"serve exited ({self.process.returncode}) before {what}: {self.text()}")
            return value

        try:
            return wait_for(check, timeout, what, step=0.05)
        except _ServeExited:
            raise
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}: {self.text()}") from None

    def wait_for(self, needle: str, timeout: float) -> None:
        self.until(lambda: needle in self.text(), timeout, f"serve saying {needle!r}")

    def kill9(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()


def wait_rows(db_path: Path, predicate, timeout: float, serve: Serve) -> list[tuple]:
    """The as-run rows (see rows()) for which predicate(row) holds, once there is one; fails with serve's
    output if serve exits first or none comes within `timeout`."""
    return serve.until(lambda: [r for r in rows(db_path) if predicate(r)], timeout, "the as-run rows awaited")


def serve_env(pulse_server, tmp_path: Path, data_dir: Path, **settings: str) -> dict:
    env = pulse_server.client_env(home=tmp_path / "serve-home")
    env.update(
        BROADCASTER_DATA_DIR=str(data_dir),
        BROADCASTER_ENGINE_ORDER='["espeak"]',
        BROADCASTER_DEVICE_RETRY_S="0.5",
        BROADCASTER_SCHEDULER_POLL_S="0.5",
        PYTHONUNBUFFERED="1",
    )
    env.update({f"BROADCASTER_{k.upper()}": v for k, v in settings.items()})
    return env


def add_tone_bulletin(station, title: str, path: Path, seconds: float, **kwargs):
    """An approved bulletin whose item is an existing WAV (no speech engine needed)."""
    from broadcaster.models import Bulletin, BulletinStatus

    bulletin = station.add_bulletin(title=title, text=f"{title}.", **kwargs)
    with Session(station.db) as session:
        row = session.get(Bulletin, bulletin.id)
        row.status = BulletinStatus.approved
        row.approved_at = datetime.now(timezone.utc)
        row.item_path = str(path)
        row.item_engine = "test"
        row.item_duration_s = seconds
        row.render_state = "done"  # as a finished render leaves it: serve's render worker must not redo it
        session.add(row)
        session.commit()
    return station.get_bulletin(bulletin.id)
