"""broadcaster.localtime: the station's day boundaries and the one date parser."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from broadcaster import localtime
from broadcaster.exceptions import InputError, ScheduleError

UTC = timezone.utc


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        # the station's zone: UTC+7 all year, the local day starts at 17:00 UTC the day before
        ("Asia/Ho_Chi_Minh", date(2026, 12, 1), datetime(2026, 11, 30, 17, 0, tzinfo=UTC)),
        ("Asia/Ho_Chi_Minh", date(2027, 1, 1), datetime(2026, 12, 31, 17, 0, tzinfo=UTC)),
        # a zone with summer time: the offset of that very day counts, not today's
        ("Europe/Berlin", date(2026, 3, 29), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
        ("Europe/Berlin", date(2026, 3, 30), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        ("UTC", date(2026, 6, 1), datetime(2026, 6, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_local_midnight_utc_across_zones(zone, day, expected):
    assert localtime.local_midnight_utc(day, zone) == expected
    assert localtime.local_midnight_utc(day, ZoneInfo(zone)) == expected


def test_station_local_midnight_is_the_same(station):
    day = date(2026, 12, 1)
    assert station.local_midnight_utc(day) == localtime.local_midnight_utc(day, station.tz)


def test_stored_naive_times_are_utc_and_shown_local():
    stored = datetime(2026, 11, 30, 23, 30)  # SQLite gives naive UTC back
    assert localtime.fmt_local(stored, "Asia/Ho_Chi_Minh") == "01/12/2026 06:30:00"
    assert localtime.fmt_local(None, "Asia/Ho_Chi_Minh") == ""
    assert localtime.fmt_minutes(750) == "12,5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-12-01", date(2026, 12, 1)), ("01/12/2026", date(2026, 12, 1)), (" 24/12/2026 ", date(2026, 12, 24)),
     ("", None), ("   ", None), (None, None)],
)
def test_parse_day_reads_both_forms(text, expected):
    assert localtime.parse_day(text, "Từ ngày") == expected


@pytest.mark.parametrize("bad", ["31/02/2026", "2026-13-01", "hôm qua", "12/2026"])
def test_parse_day_names_the_field_and_the_value(bad):
    with pytest.raises(InputError) as caught:
        localtime.parse_day(bad, "Phát từ ngày")
    assert str(caught.value).startswith(f"Phát từ ngày: ngày '{bad}' không hợp lệ (")


def test_every_date_field_uses_the_one_parser():
    """The bulletin form, the log filter and the timetable file say the same thing about a bad date."""
    from broadcaster.station import bulletins
    from broadcaster.reports.log import LogFilter
    from broadcaster.scheduling.timetable import parse_date

    expected = str(_error(localtime.parse_day, "31/02/2026", "Từ ngày"))
    assert str(_error(bulletins.parse_date, "31/02/2026", "Từ ngày")) == expected
    assert str(_error(lambda v, w: LogFilter.parse(date_from=v), "31/02/2026", "Từ ngày")) == expected
    timetable_error = _error(parse_date, "31/02/2026", "Từ ngày")
    assert isinstance(timetable_error, ScheduleError) and str(timetable_error) == expected
    assert parse_date(date(2026, 12, 1), "x") == date(2026, 12, 1)  # a TOML date stays a date


def _error(parse, value, what):
    with pytest.raises((InputError, ScheduleError)) as caught:
        parse(value, what)
    return caught.value
