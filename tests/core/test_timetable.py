from datetime import date, datetime, time, timezone

import pytest

from broadcaster.exceptions import ScheduleError
from broadcaster.scheduling.timetable import builtin_schedule, load_timetable


def test_default_timetable_has_two_daily_slots():
    t = load_timetable(builtin_schedule())
    assert t.timezone == "Asia/Ho_Chi_Minh"
    assert [s.at for s in t.slots] == [time(6, 0), time(17, 0)]
    assert all(s.weekdays is None for s in t.slots)


def test_next_slot_in_station_time():
    t = load_timetable(builtin_schedule())
    # 2026-11-28 10:00 UTC = 17:00 local exactly: the next one is tomorrow 06:00
    slot, at = t.next_slot(datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc))
    assert (slot.name, at.date(), at.hour) == ("Buổi sáng", date(2026, 11, 29), 6)
    slot, at = t.next_slot(datetime(2026, 11, 28, 9, 59, tzinfo=timezone.utc))
    assert (at.date(), at.hour) == (date(2026, 11, 28), 17)


def test_weekdays_in_vietnamese(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('[[slot]]\ntime = "07:30"\ndays = ["Thứ 2", "thứ 4", "CN"]\n', encoding="utf-8")
    t = load_timetable(p)
    assert t.slots[0].weekdays == frozenset({0, 2, 6})
    assert t.slots[0].cron_day_of_week() == "mon,wed,sun"
    # Tuesday 2026-12-01 has no slot: the next is Wednesday 07:30
    _, at = t.next_slot(datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc))
    assert at.date() == date(2026, 12, 2)


@pytest.mark.parametrize(
    "body, message",
    [
        ('[[slot]]\ntime = "25:00"\n', "25:00"),
        ('[[slot]]\nname = "x"\n', "time"),
        ('[[slot]]\ntime = "06:00"\ndays = ["thứ 9"]\n', "thứ 9"),
        ('timezone = "Mars/Olympus"\n[[slot]]\ntime = "06:00"\n', "Mars/Olympus"),
        ("timezone = \n", "cú pháp"),
        ('timezone = "Asia/Ho_Chi_Minh"\n', "không có khung giờ"),
    ],
)
def test_bad_timetables_are_explained(tmp_path, body, message):
    p = tmp_path / "bad.toml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(ScheduleError, match=message):
        load_timetable(p)
