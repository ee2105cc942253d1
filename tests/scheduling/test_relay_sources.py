"""A relay slot's source: an http(s) stream URL or an audio file inside the media folder.

Checked when the slot is saved (the CLI, the store layer itself) and again at air time, by
decoding the file. The station's own files (the database, run/api-token) are refused and are
never opened by the serve process: relaying the live database used to make the process open
and close it, which dropped SQLite's POSIX locks, so the next connection of another process
unlinked the WAL under the running station and its later writes were seen by no one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time, timedelta
from pathlib import Path

import pytest
from sched_helpers import local, write_wav
from sqlmodel import Session, select

from broadcaster.exceptions import ScheduleError
from broadcaster.models import SlotRecord
from broadcaster.scheduling import store
from broadcaster.scheduling.timetable import Slot, Timetable

BIN = Path(sys.executable).parent / "broadcaster"


def run_cli(*args, data_dir) -> subprocess.CompletedProcess:
    env = dict(os.environ, BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)


def slot_names(data_dir) -> set[str]:
    from broadcaster.config import load_settings
    from broadcaster.db import make_engine

    engine = make_engine(load_settings(data_dir).db_path)
    try:
        with Session(engine) as session:
            return {s.name for s in store.list_slots(session=session)}
    finally:
        engine.dispose()


def station_files(station) -> dict[str, Path]:
    token = station.settings.data_dir / "run" / "api-token"
    token.parent.mkdir(parents=True, exist_ok=True)
    token.write_text("s3cr3t-token-value", encoding="utf-8")
    return {"db": station.settings.db_path, "token": token}


def in_other_process(code: str, db: Path) -> str:
    """Run sqlite3 in another process (a CLI command, the web of another serve) on the database."""
    run = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


OPEN_AND_CLOSE = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('select count(*) from as_run').fetchall(); c.close()"
COUNT_BULLETINS = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute('select count(*) from bulletin').fetchone()[0])"


# ----------------------------------------------------------------------------- saving
@pytest.mark.parametrize("which", ["db", "token"])
def test_cli_refuses_the_station_files_as_relay_source_and_stores_nothing(station, which):
    source = station_files(station)[which]
    data_dir = station.settings.data_dir
    before = slot_names(data_dir)
    r = run_cli("schedule", "add", "--name", "Lộ", "--time", "05:00", "--kind", "relay",
                "--source", str(source), "--duration-min", "10", data_dir=data_dir)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: "), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert slot_names(data_dir) == before


def test_cli_import_refuses_a_timetable_that_relays_the_database(station, tmp_path):
    data_dir = station.settings.data_dir
    before = slot_names(data_dir)
    toml = tmp_path / "lich.toml"
    toml.write_text(
        'timezone = "Asia/Ho_Chi_Minh"\n[[slot]]\nname = "Sáng"\ntime = "06:00"\n'
        f'[[slot]]\nname = "Lộ"\ntime = "07:00"\nkind = "relay"\nsource = "{station.settings.db_path}"\n'
        "duration_min = 10\n",
        encoding="utf-8",
    )
    r = run_cli("schedule", "import", str(toml), data_dir=data_dir)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: ") and "tiếp sóng" in lines[0], r.stderr
    assert slot_names(data_dir) == before


def test_cli_accepts_an_audio_file_in_the_media_folder(station):
    data_dir = station.settings.data_dir
    write_wav(station.settings.media_path / "tinh.wav", 0.5)
    r = run_cli("schedule", "add", "--name", "Tỉnh", "--time", "11:00", "--kind", "relay",
                "--source", "tinh.wav", "--duration-min", "10", data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    assert "Tỉnh" in slot_names(data_dir)


def relay(source: str) -> Slot:
    return Slot(name="Lộ", at=time(5), kind="relay", source=source, duration_min=10)


def test_store_refuses_every_source_outside_the_rules(station, tmp_path):
    files = station_files(station)
    media = station.settings.media_path
    outside = write_wav(tmp_path / "ngoai.wav", 0.2)
    media.mkdir(parents=True, exist_ok=True)
    (media / "lo.wav").symlink_to(files["db"])  # a link inside the folder that leads out of it
    (media / "ghi-chu.mp3").write_text("không phải âm thanh", encoding="utf-8")
    cases = {
        str(files["db"]): "dữ liệu",
        str(files["token"]): "dữ liệu",
        str(outside): "thư mục media",
        str(media / ".." / "broadcaster.db"): "dữ liệu",
        "../run/api-token": "dữ liệu",
        "../settings.toml": "dữ liệu",
        "../cache": "thư mục media",
        "lo.wav": "dữ liệu",
        "ghi-chu.mp3": "không phải âm thanh",
        "khong-co.wav": "Không tìm thấy",
        "rtsp://example.test/live": "http",
        "file:///etc/passwd": "http",
    }
    for source, fragment in cases.items():
        with Session(station.db) as session:
            with pytest.raises(ScheduleError) as caught:
                store.add_slot(session=session, slot=relay(source), settings=station.settings)
        assert fragment in str(caught.value), (source, str(caught.value))
        assert "\n" not in str(caught.value)
    # without the station's settings a file cannot be checked: refused, never stored blindly
    write_wav(media / "tinh.wav", 0.2)
    with Session(station.db) as session, pytest.raises(ScheduleError):
        store.add_slot(session=session, slot=relay("tinh.wav"))
    with Session(station.db) as session, pytest.raises(ScheduleError):
        store.replace_slots(session=session, timetable=Timetable(timezone=station.settings.timezone,
                                                                 slots=(relay(str(files["db"])),)),
                            settings=station.settings)
    with Session(station.db) as session:
        assert session.exec(select(SlotRecord).where(SlotRecord.name == "Lộ")).first() is None
        # what the rules allow is stored
        store.add_slot(session=session, slot=relay("tinh.wav"), settings=station.settings)
        store.add_slot(session=session, slot=Slot(name="VOV", at=time(6), kind="relay",
                                                  source="https://vov.example.test/live", duration_min=5))


# ----------------------------------------------------------------------------- air time
def _stored_relay(station, source: str) -> Slot:
    """A relay slot written straight into the table, as an older version could have stored it."""
    with Session(station.db) as session:
        session.add(SlotRecord(name="Lộ", kind="relay", at=time(11), source=source, duration_min=20,
                               max_minutes=30, enabled=True))
        store.bump_timetable_version(session=session)
        session.commit()
    return next(s for s in station.timetable().slots if s.name == "Lộ")


@pytest.mark.parametrize("which", ["db", "token"])
def test_a_stored_relay_of_a_station_file_fails_at_air_time_and_the_database_stays_whole(
    station, player, clock, which
):
    source = station_files(station)[which]
    db = station.settings.db_path
    slot = _stored_relay(station, str(source))
    eleven = local(2026, 11, 28, 11, 0)
    clock.set(eleven)
    station.prerender_slot(slot=slot, planned_at=eleven)  # serve prepares a relay ahead, too
    (row,) = station.air_slot(slot=slot, planned_at=eleven, player=player)
    # another process (a CLI command) opens and closes the database: the WAL must survive it
    in_other_process(OPEN_AND_CLOSE, db)
    assert Path(f"{db}-wal").exists(), "the WAL was unlinked under the running station"
    # and what the station writes next is seen by everyone else
    station.add_bulletin(title="Sau tiếp sóng", text="Nội dung.")
    assert in_other_process(COUNT_BULLETINS, db) == "1"
    assert row.status.value == "failed" and row.reason and "tiếp sóng" in row.reason
    assert player.played == []


def test_a_stored_relay_outside_the_media_folder_fails_at_air_time(station, player, clock, tmp_path):
    outside = write_wav(tmp_path / "ngoai.wav", 0.2)
    slot = _stored_relay(station, str(outside))
    eleven = local(2026, 11, 28, 11, 0)
    clock.set(eleven)
    (row,) = station.air_slot(slot=slot, planned_at=eleven, player=player)
    assert row.status.value == "failed" and "thư mục media" in row.reason
    assert player.played == []


def test_a_relay_file_that_stopped_being_audio_fails_at_air_time(station, player, clock):
    media = station.settings.media_path
    good = write_wav(media / "tinh.wav", 0.2)
    with Session(station.db) as session:
        store.add_slot(session=session, slot=relay("tinh.wav"), settings=station.settings)
    good.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4096)  # replaced after it was saved
    slot = next(s for s in station.timetable().slots if s.name == "Lộ")
    five = local(2026, 11, 28, 5, 0)
    clock.set(five + timedelta(seconds=1))
    (row,) = station.air_slot(slot=slot, planned_at=five, player=player)
    assert row.status.value == "failed" and "không phải âm thanh" in row.reason
    assert player.played == []
