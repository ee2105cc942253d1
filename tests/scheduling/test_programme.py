"""The programme builder, pure: order, maximum length, overflow, frequency, validity, status."""

from datetime import date, datetime, time, timedelta, timezone

import pytest

from broadcaster.models import DEFERRED_LABEL, BulletinClass, BulletinStatus, Frequency
from broadcaster.scheduling.programme import (
    TOO_LONG,
    Candidate,
    build_programme,
    check_frequency,
    derive_status,
    format_duration,
    why_not,
)
from broadcaster.scheduling.timetable import Slot

DAY = date(2026, 11, 28)
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
MORNING = Slot(name="Buổi sáng", at=time(6, 0), max_minutes=10)
NEXT = ("Buổi chiều", datetime(2026, 11, 28, 17, 0))


def cand(id, minutes, cls=BulletinClass.normal, approved_min=None, **kw):
    """A live bulletin lasting `minutes`, approved `approved_min` minutes after T0 (default: its id)."""
    approved = T0 + timedelta(minutes=id if approved_min is None else approved_min)
    return Candidate(
        id=id, title=f"Tin {id}", bulletin_class=cls, approved_at=approved, duration_s=minutes * 60,
        item_path=f"/items/{id}.wav", **kw,
    )


def titles(items):
    return [i.title for i in items]


def test_priority_first_then_normal_by_approval_time():
    programme = build_programme(
        slot=MORNING,
        day=DAY,
        bulletins=[
            cand(1, 1, approved_min=30),
            cand(2, 1, BulletinClass.priority, approved_min=40),
            cand(3, 1, approved_min=10),
            cand(4, 1, BulletinClass.emergency, approved_min=50),
            cand(5, 1, BulletinClass.priority, approved_min=20),
        ],
    )
    assert titles(programme.items) == ["Tin 4", "Tin 5", "Tin 2", "Tin 3", "Tin 1"]
    assert [i.offset_s for i in programme.items] == [0, 60, 120, 180, 240]
    assert programme.total_s == 300 and programme.overflow == ()


def test_overflow_keeps_order_and_says_where_it_goes():
    programme = build_programme(
        slot=MORNING, day=DAY, next_slot=NEXT,
        bulletins=[cand(1, 4), cand(2, 4), cand(3, 4), cand(4, 1)],
    )
    # 4 + 4 fit in 10 minutes; 3 does not, and the short 4 may not jump ahead of it
    assert titles(programme.items) == ["Tin 1", "Tin 2"]
    assert titles(programme.overflow) == ["Tin 3", "Tin 4"]
    assert programme.total_s == 480
    assert all(d.reason.startswith(DEFERRED_LABEL) and "Buổi chiều 17:00" in d.reason for d in programme.overflow)


def test_an_exact_fit_is_not_overflow():
    programme = build_programme(slot=MORNING, day=DAY, bulletins=[cand(1, 6), cand(2, 4)])
    assert titles(programme.items) == ["Tin 1", "Tin 2"] and programme.total_s == 600


def test_carried_items_go_first_in_their_class_but_not_ahead_of_priority():
    programme = build_programme(
        slot=MORNING,
        day=DAY,
        bulletins=[cand(1, 1), cand(2, 1, carried=True), cand(3, 1, BulletinClass.priority)],
    )
    assert titles(programme.items) == ["Tin 3", "Tin 2", "Tin 1"]
    assert [i.carried for i in programme.items] == [False, True, False]


def test_item_longer_than_the_slot_is_reported_and_blocks_nothing():
    programme = build_programme(slot=MORNING, day=DAY, bulletins=[cand(1, 12), cand(2, 3)])
    assert titles(programme.items) == ["Tin 2"]
    assert programme.overflow[0].title == "Tin 1" and TOO_LONG in programme.overflow[0].reason


def test_emergency_is_never_deferred():
    programme = build_programme(
        slot=MORNING, day=DAY, bulletins=[cand(1, 9), cand(2, 3, BulletinClass.emergency, approved_min=99)]
    )
    assert titles(programme.items) == ["Tin 2"]  # the emergency airs; the normal one waits
    assert titles(programme.overflow) == ["Tin 1"]
    big = build_programme(slot=MORNING, day=DAY, bulletins=[cand(1, 12, BulletinClass.emergency)])
    assert titles(big.items) == ["Tin 1"] and big.notes  # longer than the slot, and said so


def test_n_times_stops_when_aired_enough():
    live = cand(1, 1, frequency=Frequency.n_times, times=2, aired_count=1)
    done = cand(2, 1, frequency=Frequency.n_times, times=2, aired_count=2)
    programme = build_programme(slot=MORNING, day=DAY, bulletins=[live, done])
    assert titles(programme.items) == ["Tin 1"]
    assert why_not(done, slot=MORNING, day=DAY) == "đã phát đủ 2 lần"


def test_already_aired_in_this_occurrence_is_not_repeated():
    programme = build_programme(slot=MORNING, day=DAY, bulletins=[cand(1, 1, aired_here=True), cand(2, 1)])
    assert titles(programme.items) == ["Tin 2"]


def test_chosen_slots():
    only_evening = cand(1, 1, frequency=Frequency.chosen_slots, slot_names=("Buổi chiều",))
    both = cand(2, 1, frequency=Frequency.chosen_slots, slot_names=("Buổi sáng", "Buổi chiều"))
    assert titles(build_programme(slot=MORNING, day=DAY, bulletins=[only_evening, both]).items) == ["Tin 2"]
    evening = Slot(name="Buổi chiều", at=time(17, 0))
    assert titles(build_programme(slot=evening, day=DAY, bulletins=[only_evening, both]).items) == ["Tin 1", "Tin 2"]


@pytest.mark.parametrize(
    "valid_from, valid_until, airs",
    [
        (None, None, True),
        (DAY, DAY, True),
        (DAY + timedelta(days=1), None, False),
        (None, DAY - timedelta(days=1), False),
        (DAY - timedelta(days=3), DAY + timedelta(days=3), True),
    ],
)
def test_validity_window(valid_from, valid_until, airs):
    c = cand(1, 1, valid_from=valid_from, valid_until=valid_until)
    assert bool(build_programme(slot=MORNING, day=DAY, bulletins=[c]).items) is airs


@pytest.mark.parametrize("status", [BulletinStatus.draft, BulletinStatus.aired, BulletinStatus.expired])
def test_only_live_statuses_air(status):
    assert build_programme(slot=MORNING, day=DAY, bulletins=[cand(1, 1, status=status)]).items == ()


def test_unrendered_item_is_in_the_programme_with_its_problem():
    c = Candidate(id=1, title="Tin 1", approved_at=T0, render_error="espeak-ng: không có giọng vi")
    programme = build_programme(slot=MORNING, day=DAY, bulletins=[c])
    assert programme.problems == [(programme.items[0], "espeak-ng: không có giọng vi")]


def test_relay_slot_airs_its_source_only():
    relay = Slot(name="VOV", at=time(5, 0), kind="relay", source="https://example.test/vov1", duration_min=45)
    programme = build_programme(slot=relay, day=DAY, bulletins=[cand(1, 1)])
    assert programme.items == () and programme.relay.source.endswith("vov1") and programme.total_s == 45 * 60


@pytest.mark.parametrize(
    "kw, expected",
    [
        ({"status": BulletinStatus.draft, "aired_count": 5}, BulletinStatus.draft),
        ({"frequency": Frequency.n_times, "times": 2, "aired_count": 2}, BulletinStatus.aired),
        ({"frequency": Frequency.n_times, "times": 3, "aired_count": 1, "valid_until": DAY - timedelta(1)},
         BulletinStatus.expired),
        ({"valid_until": DAY - timedelta(1), "aired_count": 4}, BulletinStatus.aired),
        ({"valid_until": DAY - timedelta(1), "aired_count": 0}, BulletinStatus.expired),
        ({"valid_until": DAY, "aired_count": 4}, BulletinStatus.scheduled),
        ({"status": BulletinStatus.expired, "valid_until": DAY}, BulletinStatus.approved),  # window extended
    ],
)
def test_derived_status(kw, expected):
    args = {"status": BulletinStatus.scheduled, "frequency": Frequency.every_slot, "times": None,
            "valid_until": None, "aired_count": 0, "today": DAY} | kw
    assert derive_status(**args) == expected


def test_frequency_checks_and_durations():
    assert check_frequency(Frequency.n_times, None, None)
    assert check_frequency(Frequency.chosen_slots, None, [" "])
    assert check_frequency(Frequency.n_times, 3, None) is None
    assert [format_duration(s) for s in (None, 5, 65, 3725, 1428, 1200)] == [
        "?", "5 giây", "1 phút 5 giây", "1 giờ 2 phút 5 giây", "23 phút 48 giây", "20 phút"]
