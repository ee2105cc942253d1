"""The timetable in the database: seeding, changes, the version counter, old databases."""

import sqlite3
from datetime import date, time

import pytest
from sqlmodel import Session, select

from broadcaster.exceptions import ScheduleError
from broadcaster.models import Bulletin, BulletinStatus, Frequency, SlotRecord
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
    from broadcaster.station.facade import Station

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


@pytest.mark.parametrize("ref", ["²", "①", "٢"])
def test_a_ref_in_digits_that_are_not_plain_digits_is_a_name(station, ref):
    # "²" passes str.isdigit() and int() refuses it; "٢" is 2 to int(), and a slot number is typed
    # in plain digits: each is looked up as a name, never read as a number
    store.ensure_timetable(engine=station.db, settings=station.settings)
    with Session(station.db) as s:
        with pytest.raises(ScheduleError, match=f"Không có khung giờ '{ref}'"):
            store.set_slot_enabled(session=s, ref=ref, enabled=False)
        assert [r.enabled for r in s.exec(select(SlotRecord)).all()] == [True, True]
        store.add_slot(session=s, slot=Slot(name=ref, at=time(12)))
        assert store.set_slot_enabled(session=s, ref=ref, enabled=False).name == ref


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


# ------------------------------------------------------------------ web-form slot editing
def test_slot_from_form_builds_and_validates():
    slot = store.slot_from_form({"name": " Tiếp sóng VOV ", "time": "19:00", "kind": "relay", "days": [],
                                   "source": "http://127.0.0.1/vov1", "duration_min": "60", "enabled": "on"})
    assert (slot.name, slot.kind, slot.duration_min, slot.weekdays, slot.enabled) == (
        "Tiếp sóng VOV", "relay", 60, None, True)
    once = store.slot_from_form({"name": "Họp dân", "time": "08:00", "kind": "oneoff", "date": "2026-12-24",
                                   "source": "ignored", "enabled": ""})
    assert once.on_date == date(2026, 12, 24) and once.source is None and once.enabled is False
    for bad in (
        {"name": "", "time": "06:00"},
        {"name": "X", "time": "25:00"},
        {"name": "X", "time": "06:00", "max_minutes": "-5"},
        {"name": "X", "time": "06:00", "max_minutes": "²"},  # str.isdigit(), and int() refuses it
        {"name": "X", "time": "06:00", "duration_min": "①", "kind": "relay", "source": "http://127.0.0.1/a"},
        {"name": "X", "time": "06:00", "kind": "oneoff"},
        {"name": "X", "time": "06:00", "kind": "relay"},
    ):
        with pytest.raises(ScheduleError):
            store.slot_from_form(bad)


def test_update_slot_renames_and_bulletins_follow(station):
    with Session(station.db) as session:
        before = store.timetable_version(session=session)
        chosen = Bulletin(title="Chỉ buổi sáng", text="Chỉ buổi sáng.", status=BulletinStatus.approved,
                          frequency=Frequency.chosen_slots, slot_names=["Buổi sáng"])
        session.add(chosen)
        session.commit()
        session.refresh(chosen)
        morning = session.exec(select(SlotRecord).where(SlotRecord.name == "Buổi sáng")).one()
        form = store.slot_form_values(store.list_slots(session=session)[0])
        assert form["name"] == "Buổi sáng" and form["time"] == "06:00"
        form.update({"name": "Sáng sớm", "time": "05:45", "max_minutes": "20", "days": ["T2", "T4"]})
        updated = store.update_slot(session=session, ref=morning.id, slot=store.slot_from_form(form))
        assert updated.id == morning.id and updated.at == time(5, 45) and updated.weekdays == [0, 2]
        assert store.timetable_version(session=session) == before + 1
        session.expire_all()
        assert session.get(Bulletin, chosen.id).slot_names == ["Sáng sớm"]
        clash = store.slot_from_form({**form, "name": "Buổi chiều"})
        with pytest.raises(ScheduleError):
            store.update_slot(session=session, ref=morning.id, slot=clash)
        session.rollback()
        assert session.get(SlotRecord, morning.id).name == "Sáng sớm"
        with pytest.raises(ScheduleError):
            store.update_slot(session=session, ref=9999, slot=clash)
