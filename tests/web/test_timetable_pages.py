"""Timetable pages in-process: the week view (programme, length, warnings) and slot editing by role."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select
from w2_helpers import anonymous, login, make_app, text_of, wav

from broadcaster.models import AuditEntry, Bulletin, BulletinClass, BulletinStatus
from broadcaster.scheduling import store


@pytest.fixture
def app(station):
    item = wav(station.settings.data_dir / "cache" / "items" / "x.wav", seconds=0.1)
    now = datetime.now(timezone.utc)
    with Session(station.db) as session:
        for title, minutes, klass, error in [
            ("Lịch tiêm phòng", 20, BulletinClass.normal, None),
            ("Gọi nhập ngũ", 15, BulletinClass.priority, None),
            ("Tin chưa dựng", None, BulletinClass.normal, "Không có bộ đọc nào hoạt động"),
        ]:
            session.add(Bulletin(title=title, text="Nội dung.", bulletin_class=klass, status=BulletinStatus.approved,
                                 approved_at=now - timedelta(hours=1), item_path=str(item) if minutes else None,
                                 item_duration_s=minutes * 60.0 if minutes else None, render_error=error))
        session.commit()
    return make_app(station)


def slots(station):
    with Session(station.db) as session:
        return {s.name: s for s in store.list_slots(session=session)}


def test_week_view_shows_programme_length_and_warnings(app, station):
    client = login(app, station, "bientap", "editor")
    this_week = client.get("/timetable")
    assert this_week.status_code == 200 and "hôm nay" in text_of(this_week.text)
    # next week: every occurrence is still to come, whatever day the test runs
    page = client.get(f"/timetable?week={station.local_today() + timedelta(days=7)}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Lịch phát tuần" in text and "Thứ Hai" in text and "Chủ Nhật" in text and "hôm nay" not in text
    week = page.text[page.text.index('id="tuan"'):page.text.index('id="khung-gio"')]
    # ưu tiên first; 15 + 20 minutes do not fit 30: the rest moves on, in order
    assert "Gọi nhập ngũ" in week and "Quá thời lượng: 2 bản tin chuyển sang khung sau (Lịch tiêm phòng, Tin chưa dựng)" in text_of(week)
    assert "Chưa dựng được âm thanh cho &#39;Tin chưa dựng&#39;: Không có bộ đọc nào hoạt động" in week
    assert "15 phút / 30 phút" in text_of(week)
    # an editor does not edit slots
    assert "/timetable/slots/new" not in page.text


def test_other_weeks_and_a_bad_week(app, station):
    client = login(app, station, "bientap", "editor")
    page = client.get("/timetable?week=2027-01-06")
    assert page.status_code == 200 and "Lịch phát tuần 04/01/2027 – 10/01/2027" in text_of(page.text)
    assert client.get("/timetable?week=tuần-sau").status_code == 400


def test_operator_adds_edits_switches_and_removes_a_slot(app, station):
    client = login(app, station, "trucdai", "operator")
    assert client.get("/timetable/slots/new").status_code == 200
    answer = client.post("/timetable/slots", {"name": "Buổi trưa", "time": "11:30", "kind": "recurring",
                                              "days": ["5", "6"], "max_minutes": "15", "enabled": "on"})
    assert answer.status_code == 303
    noon = slots(station)["Buổi trưa"]
    assert noon.weekdays == [5, 6] and noon.max_minutes == 15 and noon.enabled
    form = client.get(f"/timetable/slots/{noon.id}/edit")
    assert form.status_code == 200 and 'value="Buổi trưa"' in form.text and 'value="11:30"' in form.text
    client.post(f"/timetable/slots/{noon.id}", {"name": "Buổi trưa", "time": "12:00", "kind": "recurring",
                                                "max_minutes": "20", "enabled": "on"})
    noon = slots(station)["Buổi trưa"]
    assert noon.at.strftime("%H:%M") == "12:00" and noon.weekdays is None and noon.max_minutes == 20
    client.post(f"/timetable/slots/{noon.id}/disable", {})
    assert not slots(station)["Buổi trưa"].enabled
    client.post(f"/timetable/slots/{noon.id}/enable", {})
    assert slots(station)["Buổi trưa"].enabled
    client.post(f"/timetable/slots/{noon.id}/delete", {})
    assert "Buổi trưa" not in slots(station)
    assert client.post(f"/timetable/slots/{noon.id}/delete", {}).status_code == 404
    with Session(station.db) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.object_type == "slot").order_by(AuditEntry.id)).all()
    assert [(a.user, a.action) for a in audit] == [("trucdai", f"slot.{v}") for v in ("add", "edit", "disable", "enable", "delete")]


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"name": "X", "time": "25:00", "kind": "recurring"}, "không hợp lệ"),
        ({"name": "Buổi sáng", "time": "07:00", "kind": "recurring"}, "Đã có khung giờ tên"),
        ({"name": "Tiếp sóng", "time": "19:00", "kind": "relay"}, "relay"),
        ({"name": "<b>đậm</b>", "time": "07:00", "kind": "oneoff"}, "date"),
    ],
)
def test_a_bad_slot_comes_back_with_the_reason(app, station, form, reason):
    before = slots(station)
    answer = login(app, station, "quantri", "admin").post("/timetable/slots", {**form, "enabled": "on"})
    assert answer.status_code == 400 and reason in answer.text
    assert "<b>đậm</b>" not in answer.text
    assert slots(station).keys() == before.keys()


def test_wrong_role_anonymous_and_csrf_change_nothing(app, station):
    morning = slots(station)["Buổi sáng"]
    version = lambda: store.timetable_version(session=Session(station.db))  # noqa: E731
    before = version()
    editor = login(app, station, "bientap", "editor")
    for url, data in [("/timetable/slots", {"name": "Mới", "time": "08:00"}),
                      (f"/timetable/slots/{morning.id}", {"name": "Đổi", "time": "08:00"}),
                      (f"/timetable/slots/{morning.id}/disable", {}), (f"/timetable/slots/{morning.id}/delete", {})]:
        assert editor.post(url, data).status_code == 403, url
        answer = anonymous(app).post(url, data)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), url
        assert login(app, station, "trucdai", "operator").post(url, data, csrf=False).status_code == 403, url
    assert editor.get("/timetable/slots/new").status_code == 403
    assert version() == before and slots(station)["Buổi sáng"].enabled
