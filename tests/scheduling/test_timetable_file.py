"""Slots, their occurrences, and the TOML format (round trip and errors)."""

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from broadcaster.exceptions import ScheduleError
from broadcaster.scheduling.timetable import (
    Slot,
    Timetable,
    builtin_schedule,
    dumps_timetable,
    load_timetable,
    loads_timetable,
    same_slots,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")

FULL = """
timezone = "Asia/Ho_Chi_Minh"

[[slot]]
name = "Buổi sáng"
time = "06:00"
days = "daily"
max_minutes = 30

[[slot]]
name = "Thời sự cuối tuần"
time = "18:30"
days = ["Thứ 7", "CN"]
from = 2026-01-01
until = "2026-12-31"
max_minutes = 20

[[slot]]
name = "Họp dân \\"đặc biệt\\""
time = "19:00"
kind = "oneoff"
date = 2026-12-24
max_minutes = 15

[[slot]]
name = "Tiếp sóng VOV1"
time = "05:00"
kind = "relay"
source = "https://stream.example.test/vov1.mp3"
duration_min = 45
days = ["T2", "T3", "T4", "T5", "T6"]

[[slot]]
name = "Tiếp sóng tỉnh (ghi âm)"
time = "11:00"
kind = "relay"
date = "2026-12-01"
source = "relay/tinh.wav"
duration_min = 30
enabled = false
"""


def test_round_trip_keeps_every_field(tmp_path):
    first = loads_timetable(FULL, "full.toml")
    assert [s.kind for s in first.slots] == ["recurring", "recurring", "oneoff", "relay", "relay"]
    text = dumps_timetable(first)
    again = loads_timetable(text, "exported.toml")
    assert same_slots(first, again)
    assert dumps_timetable(again) == text  # stable: a second export is identical
    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    assert same_slots(load_timetable(path), first)


def test_default_file_is_valid_and_unchanged_in_meaning():
    t = load_timetable(builtin_schedule())
    assert [(s.name, s.at, s.weekdays, s.max_minutes, s.kind) for s in t.slots] == [
        ("Buổi sáng", time(6), None, 30, "recurring"),
        ("Buổi chiều", time(17), None, 30, "recurring"),
    ]


def test_occurrences_follow_days_ranges_and_dates():
    t = loads_timetable(FULL)
    weekend, oneoff, relay = t.slots[1], t.slots[2], t.slots[3]
    start = datetime(2026, 11, 27, 0, 0, tzinfo=VN)  # a Friday
    end = datetime(2026, 12, 31, 23, 59, tzinfo=VN)
    assert [d.date() for d in weekend.occurrences(start, end, VN)][:4] == [
        date(2026, 11, 28), date(2026, 11, 29), date(2026, 12, 5), date(2026, 12, 6)
    ]
    assert weekend.next_after(datetime(2026, 12, 31, tzinfo=VN), VN) is None  # range over
    assert oneoff.occurrences(start, end, VN) == [datetime(2026, 12, 24, 19, 0, tzinfo=VN)]
    assert relay.next_after(datetime(2026, 11, 28, 4, 0, tzinfo=VN), VN).date() == date(2026, 11, 30)  # Monday
    assert not t.slots[4].enabled and t.slots[4].is_oneoff


def test_next_slot_skips_disabled_and_optionally_relays():
    t = loads_timetable(FULL)
    monday_4am = datetime(2026, 11, 30, 4, 0, tzinfo=VN).astimezone(timezone.utc)
    assert t.next_slot(monday_4am)[0].name == "Tiếp sóng VOV1"
    assert t.next_slot(monday_4am, include_relay=False)[0].name == "Buổi sáng"
    # the disabled relay on 1 December at 11:00 never comes up
    slot, at = t.next_slot(datetime(2026, 12, 1, 10, 0, tzinfo=VN))
    assert slot.name != "Tiếp sóng tỉnh (ghi âm)"


def test_inclusive_next_after():
    s = Slot(name="a", at=time(6, 0))
    six = datetime(2026, 11, 28, 6, 0, tzinfo=VN)
    assert s.next_after(six, VN) == datetime(2026, 11, 29, 6, 0, tzinfo=VN)
    assert s.next_after(six, VN, inclusive=True) == six
    assert s.last_at_or_before(six, VN) == six


@pytest.mark.parametrize(
    "body, message",
    [
        ('[[slot]]\ntime = "06:00"\nmax_minute = 30\n', "max_minute"),
        ('[[slot]]\ntime = "06:00"\nkind = "weekly"\n', "weekly"),
        ('[[slot]]\ntime = "06:00"\nkind = "oneoff"\n', "cần 'date'"),
        ('[[slot]]\ntime = "06:00"\ndate = 2026-01-01\n', "oneoff"),
        ('[[slot]]\ntime = "06:00"\nkind = "relay"\nduration_min = 30\n', "source"),
        ('[[slot]]\ntime = "06:00"\nkind = "relay"\nsource = "x.wav"\n', "duration_min"),
        ('[[slot]]\ntime = "06:00"\nsource = "x.wav"\n', "relay"),
        ('[[slot]]\ntime = "06:00"\nfrom = 2026-02-01\nuntil = 2026-01-01\n', "trước"),
        ('[[slot]]\ntime = "06:00"\nfrom = "mai"\n', "mai"),
        ('[[slot]]\ntime = "06:00"\nmax_minutes = 0\n', "max_minutes"),
        ('[[slot]]\ntime = "06:00"\nmax_minutes = "nhiều"\n', "nhiều"),
        ('[[slot]]\ntime = "06:00"\nenabled = "có"\n', "enabled"),
        ('[[slot]]\nname = "A"\ntime = "06:00"\n[[slot]]\nname = "A"\ntime = "07:00"\n', "trùng"),
        ('title = "x"\n[[slot]]\ntime = "06:00"\n', "title"),
        ('[[slot]]\ntime = "6h"\n', "HH:MM"),
    ],
)
def test_bad_files_name_the_slot_and_the_reason(body, message):
    with pytest.raises(ScheduleError, match=message) as info:
        loads_timetable(body, "bad.toml")
    assert "bad.toml" in str(info.value)


def test_unreadable_file(tmp_path):
    with pytest.raises(ScheduleError, match="Không đọc được"):
        load_timetable(tmp_path / "missing.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('[[slot]]\nname = "Bu\xf4i"\ntime = "06:00"\n'.encode("latin-1"))
    with pytest.raises(ScheduleError, match="UTF-8"):
        load_timetable(bad)


def test_timetable_lookup():
    t = Timetable(timezone="Asia/Ho_Chi_Minh", slots=(Slot(name="Buổi sáng", at=time(6)),))
    assert t.slot_named(" Buổi sáng ").at == time(6) and t.slot_named("x") is None
