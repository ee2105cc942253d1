"""Station methods that air a slot: programme order, overflow to the next slot, statuses, relays."""

from datetime import date, time, timedelta

from slot_fixtures import clock, durations, player, render, settings, station  # noqa: F401 (fixtures)
from sched_helpers import local
from sched_helpers import add, write_wav

from broadcaster.models import DEFERRED_LABEL, BulletinClass, Frequency
from broadcaster.playout.outcome import Outcome
from broadcaster.scheduling import store
from broadcaster.scheduling.timetable import Slot


def seed(station):
    store.ensure_timetable(engine=station.db, settings=station.settings)
    return station.timetable()


def statuses(rows):
    return [(r.title, r.status.value) for r in rows]


def test_air_slot_plays_the_programme_and_carries_the_overflow(station, render, player, clock):
    t = seed(station)
    morning, evening = t.slot_named("Buổi sáng"), t.slot_named("Buổi chiều")
    add(station, render, "A", 12 * 60)
    add(station, render, "B", 12 * 60)
    add(station, render, "C", 10 * 60)
    add(station, render, "Ưu tiên", 5 * 60, bulletin_class=BulletinClass.priority)
    six = local(2026, 11, 28, 6, 0)
    clock.set(six)
    rows = station.air_slot(slot=morning, planned_at=six, player=player)
    # 5 + 12 + 12 = 29 minutes of 30: C does not fit and moves on, and the log says so
    assert statuses(rows) == [("Ưu tiên", "aired"), ("A", "aired"), ("B", "aired"), ("C", "deferred")]
    assert rows[-1].reason.startswith(DEFERRED_LABEL) and "Buổi chiều 17:00" in rows[-1].reason
    assert all(r.planned_at == six for r in rows)
    assert [p[1] for p in player.played] == [six, six + timedelta(minutes=5), six + timedelta(minutes=17)]

    seventeen = local(2026, 11, 28, 17, 0)
    clock.set(seventeen)
    programme = station.programme(slot=evening, planned_at=seventeen)
    assert [(i.title, i.carried) for i in programme.items][:2] == [("Ưu tiên", False), ("C", True)]
    rows = station.air_slot(slot=evening, planned_at=seventeen, player=player)
    # carried C goes first among thông thường; then A; B no longer fits (5 + 10 + 12 + 12 > 30)
    assert statuses(rows) == [("Ưu tiên", "aired"), ("C", "aired"), ("A", "aired"), ("B", "deferred")]


def test_n_times_and_chosen_slots_and_status_lifecycle(station, render, player, clock):
    t = seed(station)
    morning, evening = t.slot_named("Buổi sáng"), t.slot_named("Buổi chiều")
    once = add(station, render, "Một lần", 60, frequency=Frequency.n_times, times=1)
    evening_only = add(station, render, "Chỉ chiều", 60, frequency="chosen_slots", slot_names=["Buổi chiều"])
    assert station.get_bulletin(once.id).status == "approved"
    six = local(2026, 11, 28, 6, 0)
    clock.set(six - timedelta(minutes=30))
    station.prerender_slot(slot=morning, planned_at=six)
    assert station.get_bulletin(once.id).status == "scheduled"  # placed in an upcoming slot, rendered
    assert station.get_bulletin(evening_only.id).status == "approved"  # not in this slot
    clock.set(six)
    assert statuses(station.air_slot(slot=morning, planned_at=six, player=player)) == [("Một lần", "aired")]
    assert station.get_bulletin(once.id).status == "aired"
    seventeen = local(2026, 11, 28, 17, 0)
    clock.set(seventeen)
    assert statuses(station.air_slot(slot=evening, planned_at=seventeen, player=player)) == [("Chỉ chiều", "aired")]


def test_validity_expiry_is_derived(station, render, player, clock):
    seed(station)
    b = add(station, render, "Hết hạn", 60, valid_until=date(2026, 11, 28))
    clock.set(local(2026, 11, 29, 0, 1))
    station.refresh_statuses()
    assert station.get_bulletin(b.id).status == "expired"
    assert station.due_bulletins(date(2026, 11, 29)) == []


def test_render_failures_are_flagged_ahead_and_logged_at_air(station, render, player, clock):
    t = seed(station)
    morning = t.slot_named("Buổi sáng")
    render.fail["Nội dung Hỏng"] = "Không máy đọc nào dùng được"
    bad = add(station, render, "Hỏng", 60)
    good = add(station, render, "Tốt", 60)
    assert station.get_bulletin(bad.id).render_error == "Không máy đọc nào dùng được"  # at approval
    six = local(2026, 11, 28, 6, 0)
    clock.set(six - timedelta(minutes=30))
    programme = station.prerender_slot(slot=morning, planned_at=six)  # checked again ahead
    assert [(i.title, p) for i, p in programme.problems] == [("Hỏng", "Không máy đọc nào dùng được")]
    clock.set(six)
    rows = station.air_slot(slot=morning, planned_at=six, player=player)
    assert statuses(rows) == [("Hỏng", "failed"), ("Tốt", "aired")]
    assert rows[0].reason == "Không máy đọc nào dùng được"
    assert good.id != bad.id


def test_a_late_slot_says_so(station, render, player, clock):
    morning = seed(station).slot_named("Buổi sáng")
    add(station, render, "A", 60)
    six = local(2026, 11, 28, 6, 0)
    clock.set(six + timedelta(minutes=12))
    (row,) = station.air_slot(slot=morning, planned_at=six, player=player)
    assert row.status == "aired" and row.planned_at == six and "Phát muộn 12 phút" in row.reason


def test_missed_rows_name_what_would_have_aired(station, render, clock):
    morning = seed(station).slot_named("Buổi sáng")
    six = local(2026, 11, 28, 6, 0)
    assert [r.title for r in station.log_missed(slot=morning, planned_at=six, reason="máy tắt")] == [
        "Khung giờ Buổi sáng"
    ]
    assert station.slot_handled(slot=morning, planned_at=six)
    add(station, render, "A", 60)
    tomorrow = six + timedelta(days=1)
    rows = station.log_missed(slot=morning, planned_at=tomorrow, reason="máy tắt")
    assert statuses(rows) == [("A", "missed")] and rows[0].reason == "máy tắt"
    # a missed bulletin is carried: it goes first among its class next time
    assert station.programme(slot=morning, planned_at=tomorrow + timedelta(days=1)).items[0].carried


def test_legacy_slot_name_still_works(station, render, player, clock):
    seed(station)
    add(station, render, "A", 60)
    six = local(2026, 11, 28, 6, 0)
    clock.set(six)
    assert statuses(station.air_slot(slot="Buổi sáng", planned_at=six, player=player)) == [("A", "aired")]
    assert statuses(station.air_slot(slot="Không có", planned_at=six + timedelta(hours=1), player=player)) == [
        ("A", "aired")
    ]


def test_file_relay_plays_for_its_set_time(station, player, clock, durations):
    source = write_wav(station.settings.media_path / "relay" / "tinh.wav")  # relative to the media folder
    durations[str(source)] = 3 * 3600  # a long recording: the slot's 20 minutes cut it
    relay = Slot(name="Tiếp sóng tỉnh", at=time(11), kind="relay", source="relay/tinh.wav", duration_min=20)
    eleven = local(2026, 11, 28, 11, 0)
    clock.set(eleven)
    (row,) = station.air_slot(slot=relay, planned_at=eleven, player=player)
    assert row.status == "aired" and row.path == "relay/tinh.wav"
    assert row.ended_at - row.started_at == timedelta(minutes=20)


def test_relay_problems_are_failed_rows(station, player, clock):
    eleven = local(2026, 11, 28, 11, 0)
    clock.set(eleven)
    missing = Slot(name="R1", at=time(11), kind="relay", source="nowhere.mp3", duration_min=20)
    stream = Slot(name="R2", at=time(11), kind="relay", source="https://vov.example.test/live", duration_min=20)
    (row,) = station.air_slot(slot=missing, planned_at=eleven, player=player)
    assert row.status == "failed" and "nowhere.mp3" in row.reason
    (row,) = station.air_slot(slot=stream, planned_at=eleven, player=player)  # unreachable: FakePlayer fails it like the real player
    assert row.status == "failed" and "luồng" in row.reason


def _item_path(station, bulletin) -> str:
    return station.get_bulletin(bulletin.id).item_path


def test_dead_air_is_known_by_its_outcome_alarm_filler_then_the_next_item(station, render, player, clock):
    t = seed(station)
    a = add(station, render, "A", 60)
    add(station, render, "B", 60)
    player.next_results[_item_path(station, a)] = {"outcome": Outcome.SILENCE, "seconds": 8.0}
    six = local(2026, 11, 28, 6, 0)
    clock.set(six)
    rows = station.air_slot(slot=t.slot_named("Buổi sáng"), planned_at=six, player=player)
    assert statuses(rows) == [
        ("A", "failed"), ("Cảnh báo: im lặng trên sóng", "alarm"), ("Nhạc đệm (sau sự cố im lặng)", "aired"),
        ("B", "aired"),
    ]
    assert rows[0].reason == rows[1].reason == "Im lặng trên sóng quá 8 giây"


def test_an_urgent_cut_is_known_by_its_outcome_and_the_item_airs_again(station, render, player, clock):
    t = seed(station)
    a = add(station, render, "A", 60)
    add(station, render, "B", 60)
    player.next_results[_item_path(station, a)] = {"outcome": Outcome.URGENT_CUT}
    six = local(2026, 11, 28, 6, 0)
    clock.set(six)
    rows = station.air_slot(slot=t.slot_named("Buổi sáng"), planned_at=six, player=player)
    assert statuses(rows) == [("A", "interrupted"), ("A", "aired"), ("B", "aired")]
    assert rows[0].reason == "Bị ngắt để phát thông báo khẩn cấp"


def test_a_failure_worded_like_silence_is_not_taken_for_silence(station, render, player, clock):
    # the slot loop reads the outcome, not the words: a file error that happens to start like a
    # silence fault (once recognized by its prefix) gets no alarm and no filler
    t = seed(station)
    a = add(station, render, "A", 60)
    add(station, render, "B", 60)
    player.next_results[_item_path(station, a)] = {"outcome": Outcome.FAILED, "detail": "Im lặng trên sóng? tệp hỏng"}
    six = local(2026, 11, 28, 6, 0)
    clock.set(six)
    rows = station.air_slot(slot=t.slot_named("Buổi sáng"), planned_at=six, player=player)
    assert statuses(rows) == [("A", "failed"), ("B", "aired")]
