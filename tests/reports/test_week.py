"""broadcaster.reports.week: the week view, built from its collaborators (no station)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlmodel import Session

from broadcaster.models import AsRunStatus, BulletinClass, BulletinStatus, Frequency
from broadcaster.reports.week import week_view
from broadcaster.scheduling import store
from reports_helpers import add_bulletin, add_row, vn, write_wav


def week_of(station, *, week_start, now):
    """The week view from the pieces the console hands it: the engine, the timetable, the zone, now."""
    return week_view(engine=station.db, timetable=station.timetable(), tz=station.tz, week_start=week_start, now=now)


def test_week_view_programme_overflow_problems_and_past(station, tmp_path):
    # the default timetable: Buổi sáng 06:00 and Buổi chiều 17:00, 30 minutes, every day
    items = station.settings.data_dir / "cache" / "items"
    long_item = write_wav(items / "long.wav", 0.1)
    short_item = write_wav(items / "short.wav", 0.1)
    now = vn(2026, 12, 2, 12, 0)  # Wednesday noon
    with Session(station.db) as session:
        add_bulletin(session, "Bài dài", item_path=str(long_item), item_duration_s=25 * 60,
                     approved_at=now - timedelta(days=3), valid_from=date(2026, 12, 1))
        add_bulletin(session, "Bài ngắn", item_path=str(short_item), item_duration_s=10 * 60,
                     approved_at=now - timedelta(days=2), valid_from=date(2026, 12, 1))
        add_bulletin(session, "Bài lỗi", render_error="Không đọc được văn bản", valid_from=date(2026, 12, 1),
                     approved_at=now - timedelta(days=1), klass=BulletinClass.priority)
        add_bulletin(session, "Bản nháp", status=BulletinStatus.draft)
        add_row(session, at=vn(2026, 12, 1, 6, 0, 5), title="Bài dài", slot="Buổi sáng",
                planned_at=vn(2026, 12, 1, 6, 0), seconds=1500)
        add_row(session, at=vn(2026, 12, 1, 6, 25, 5), title="Bài ngắn", slot="Buổi sáng",
                planned_at=vn(2026, 12, 1, 6, 0), seconds=0, status=AsRunStatus.missed, reason="Máy tắt")
        session.commit()
    days = week_of(station, week_start=date(2026, 12, 3), now=now)
    assert [d.day for d in days] == [date(2026, 11, 30) + timedelta(days=n) for n in range(7)]
    assert days[0].label == "Thứ Hai" and days[2].is_today and not days[1].is_today
    assert all(len(d.occurrences) == 2 for d in days)
    tuesday_morning = days[1].occurrences[0]
    assert tuesday_morning.past and tuesday_morning.programme is None
    assert [e.title for e in tuesday_morning.aired] == ["Bài dài", "Bài ngắn"]
    assert any("bỏ lỡ" in w and "Máy tắt" in w for w in tuesday_morning.warnings)
    evening = days[2].occurrences[1]  # Wednesday 17:00, still to come
    assert not evening.past and evening.at == vn(2026, 12, 2, 17, 0)
    programme = evening.programme
    assert [i.title for i in programme.items] == ["Bài lỗi", "Bài dài"]
    assert [d.title for d in programme.overflow] == ["Bài ngắn"]
    assert evening.total_s == 25 * 60 and evening.fill == pytest.approx(25 / 30)
    assert any(w.startswith("Quá thời lượng: 1 bản tin") and "Bài ngắn" in w for w in evening.warnings)
    assert any("Bài lỗi" in w and "Không đọc được văn bản" in w for w in evening.warnings)
    # a day before the bulletins' window has an empty programme and no warnings
    monday = days[0].occurrences[1]
    assert monday.past and not monday.warnings and monday.total_s == 0


def test_week_view_skips_disabled_and_follows_weekdays(station):
    with Session(station.db) as session:
        store.set_slot_enabled(session=session, ref="Buổi chiều", enabled=False)
        slot = store.slot_from_form({"name": "Cuối tuần", "time": "19:30", "days": ["T7", "CN"], "max_minutes": "15"})
        store.add_slot(session=session, slot=slot)
    days = week_of(station, week_start=date(2026, 12, 7), now=vn(2026, 12, 1, 0, 0))
    names = [[o.slot.name for o in d.occurrences] for d in days]
    assert names[:5] == [["Buổi sáng"]] * 5
    assert names[5] == names[6] == ["Buổi sáng", "Cuối tuần"]


# ------------------------------------------------------------------------ slot editing


def test_week_programmes_match_station_programme(station):
    items = station.settings.data_dir / "cache" / "items"
    now = vn(2026, 12, 2, 6, 30)
    with Session(station.db) as session:
        for n in range(6):
            add_bulletin(session, f"Tin {n}", item_path=str(write_wav(items / f"{n}.wav", 0.05)),
                         item_duration_s=300 + 60 * n, approved_at=now - timedelta(hours=n),
                         klass=(BulletinClass.priority if n % 2 else BulletinClass.normal),
                         frequency=Frequency.n_times if n == 3 else Frequency.every_slot, times=2 if n == 3 else None)
        # Tin 3 aired once already, and in this week's Wednesday-evening occurrence (a restart must not repeat it)
        add_row(session, at=vn(2026, 12, 1, 6, 0), title="Tin 3", bulletin_id=4, slot="Buổi sáng",
                planned_at=vn(2026, 12, 1, 6, 0))
        add_row(session, at=vn(2026, 12, 2, 17, 0), title="Tin 3", bulletin_id=4, slot="Buổi chiều",
                planned_at=vn(2026, 12, 2, 17, 0))
        session.commit()
    days = week_of(station, week_start=date(2026, 12, 2), now=now)
    upcoming = [o for d in days for o in d.occurrences if not o.past]
    assert len(upcoming) == 9
    for occurrence in upcoming:
        assert occurrence.programme == station.programme(slot=occurrence.slot, planned_at=occurrence.at)
    evening = next(o for o in upcoming if o.at == vn(2026, 12, 2, 17, 0))
    assert 4 not in [i.bulletin_id for i in evening.programme.items]


def test_week_view_needs_no_station(tmp_path):
    """A lower layer: an engine and a timetable file are enough, the zone may be its name."""
    from broadcaster.db import create_schema, make_engine
    from broadcaster.scheduling.timetable import Slot, Timetable

    engine = make_engine(tmp_path / "week.sqlite")
    try:
        create_schema(engine)
        timetable = Timetable(timezone="Asia/Ho_Chi_Minh", slots=(Slot(name="Trưa", at=time(11, 30), max_minutes=15),))
        days = week_view(engine=engine, timetable=timetable, tz="Asia/Ho_Chi_Minh", week_start=date(2026, 12, 9),
                         now=vn(2026, 12, 9, 11, 0))
    finally:
        engine.dispose()
    assert [d.day for d in days][0] == date(2026, 12, 7) and days[2].is_today
    wednesday = days[2].occurrences
    assert [(o.slot.name, o.at, o.past) for o in wednesday] == [("Trưa", vn(2026, 12, 9, 11, 30), False)]
    assert not wednesday[0].programme.items and wednesday[0].warnings == []
