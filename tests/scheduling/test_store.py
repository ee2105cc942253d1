"""The timetable in the database: seeding, changes, the version counter, old databases."""

import sqlite3
from datetime import time

import pytest
from sqlmodel import Session

from broadcaster.exceptions import ScheduleError
from broadcaster.scheduling import store
from broadcaster.scheduling.timetable import Slot


def slots(station):
    return [(s.name, s.at) for s in station.timetable().slots]


def test_first_start_seeds_the_default_and_never_again(station):
    # Station.open (like `broadcaster init`) seeded the empty slot table
    assert store.ensure_timetable(engine=station.db, settings=station.settings) is False
    assert slots(station) == [("Buổi sáng", time(6)), ("Buổi chiều", time(17))]
    with Session(station.db) as s:
        for slot in station.timetable().slots:
            store.remove_slot(session=s, ref=slot.name)
    # an officer who removed every slot meant it
    assert store.ensure_timetable(engine=station.db, settings=station.settings) is False
    assert slots(station) == []


def test_seed_from_the_settings_file(settings, tmp_path):
    from broadcaster.db import create_schema, make_engine
    from broadcaster.service import Station

    path = tmp_path / "xa.toml"
    path.write_text('[[slot]]\nname = "Trưa"\ntime = "11:30"\n', encoding="utf-8")
    settings.schedule_file = path
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.db_path)
    create_schema(engine)
    assert store.ensure_timetable(engine=engine, settings=settings) is True
    engine.dispose()
    station = Station.open(settings)
    assert slots(station) == [("Trưa", time(11, 30))]
    station.close()


def test_every_change_bumps_the_version(station):
    store.ensure_timetable(engine=station.db, settings=station.settings)
    with Session(station.db) as s:
        v0 = store.timetable_version(session=s)
        added = store.add_slot(session=s, slot=Slot(name="Trưa", at=time(11, 30), weekdays=frozenset({0, 2})))
        assert store.timetable_version(session=s) == v0 + 1
        store.set_slot_enabled(session=s, ref=added.id, enabled=False)
        store.remove_slot(session=s, ref=str(added.id))
        assert store.timetable_version(session=s) == v0 + 3


def test_names_are_unique_and_refs_must_exist(station):
    store.ensure_timetable(engine=station.db, settings=station.settings)
    with Session(station.db) as s:
        with pytest.raises(ScheduleError, match="Đã có khung giờ"):
            store.add_slot(session=s, slot=Slot(name="Buổi sáng", at=time(7)))
        with pytest.raises(ScheduleError, match="Không có khung giờ 'x'"):
            store.remove_slot(session=s, ref="x")
        with pytest.raises(ScheduleError, match="oneoff"):
            store.add_slot(session=s, slot=Slot(name="y", at=time(7), kind="oneoff"))


def test_import_refuses_another_zone_and_keeps_the_old_slots(station, tmp_path):
    store.ensure_timetable(engine=station.db, settings=station.settings)
    path = tmp_path / "bkk.toml"
    path.write_text('timezone = "Asia/Bangkok"\n[[slot]]\ntime = "06:00"\n', encoding="utf-8")
    with Session(station.db) as s, pytest.raises(ScheduleError, match="Asia/Bangkok"):
        store.import_timetable(session=s, path=path, station_timezone="Asia/Ho_Chi_Minh")
    assert len(slots(station)) == 2


def test_last_check_round_trip(station, clock):
    with Session(station.db) as s:
        assert store.get_last_check(session=s) is None
        store.set_last_check(session=s, at=clock.now())
        s.commit()
        assert store.get_last_check(session=s) == clock.now()


def test_an_older_database_gets_the_new_columns(tmp_path):
    from sqlalchemy import text

    from broadcaster.db import make_engine
    from broadcaster.migrations import HEAD

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE bulletin (id INTEGER PRIMARY KEY, title VARCHAR(300) NOT NULL, text VARCHAR NOT NULL,"
        " bulletin_class VARCHAR(12) NOT NULL, valid_from DATE, valid_until DATE, status VARCHAR(8) NOT NULL,"
        " created_at DATETIME NOT NULL, approved_at DATETIME, item_path VARCHAR, item_engine VARCHAR,"
        " item_duration_s FLOAT, render_error VARCHAR)"
    )
    con.execute(
        "INSERT INTO bulletin (title, text, bulletin_class, status, created_at)"
        " VALUES ('cũ', 'x', 'normal', 'approved', '2026-01-01 00:00:00')"
    )
    con.commit()
    con.close()
    engine = make_engine(path)
    store.ensure_schema(engine)
    from broadcaster.models import Bulletin, Frequency

    with Session(engine) as s:
        old = s.get(Bulletin, 1)
        assert old.frequency == Frequency.every_slot and old.times is None and old.slot_names is None
    with engine.connect() as conn:  # the migrations did it, and recorded it
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    store.ensure_schema(engine)  # idempotent
    engine.dispose()
