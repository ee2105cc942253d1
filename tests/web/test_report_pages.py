"""Report pages in-process: the period's tables and chart, exports, the topic list and its roles."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from w2_helpers import anonymous, login, make_app, text_of

from broadcaster.models import AsRun, AsRunStatus, Bulletin, BulletinClass, BulletinStatus, Topic
from broadcaster.reports.topics import ensure_topics

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def app(station):
    with Session(station.db) as session:
        ensure_topics(session=session)
        bulletin = Bulletin(title="Tiêm phòng gia súc", text="Nội dung.", topic="Kinh tế - xã hội",
                            bulletin_class=BulletinClass.normal, status=BulletinStatus.aired)
        session.add(bulletin)
        session.commit()
        for day in (1, 2, 3):
            at = datetime(2026, 11, day, 6, 0, tzinfo=VN).astimezone(timezone.utc)
            session.add(AsRun(title=bulletin.title, bulletin_id=bulletin.id, status=AsRunStatus.aired, started_at=at,
                              ended_at=at + timedelta(seconds=90), duration_s=90.0))
        session.commit()
    return make_app(station)


def topic_names(station):
    with Session(station.db) as session:
        return [t.name for t in session.exec(select(Topic).order_by(Topic.position)).all()]


def test_month_report_page(app, station):
    page = login(app, station, "bientap", "editor").get("/reports?period=2026-11")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Báo cáo phát sóng — Tháng 11/2026" in text
    assert "3 lượt phát" in text and "4,5 phút" in text
    by_topic = text_of(page.text[page.text.index('id="theo-chu-de"'):])
    assert "Kinh tế - xã hội 3 1 4,5" in by_topic and "Chủ trương của Đảng 0 0 0,0" in by_topic
    assert page.text.count("<svg") == 2 and "Số phút phát theo chủ đề" in page.text
    assert "/reports/export.xlsx?period=2026-11" in page.text
    # an editor reads the list but cannot change it
    assert 'action="/reports/topics"' not in page.text


def test_quarter_and_bad_period(app, station):
    client = login(app, station, "bientap", "editor")
    assert "Quý IV/2026" in client.get("/reports?period=2026-Q4").text
    bad = client.get("/reports?period=2026-13")
    assert bad.status_code == 400 and "không hợp lệ" in bad.text


def test_report_exports(app, station):
    client = login(app, station, "lanhdao", "leader")
    answer = client.get("/reports/export.xlsx?period=2026-11")
    assert answer.status_code == 200 and "bao-cao-phat-song-2026-11.xlsx" in answer.headers["content-disposition"]
    book = load_workbook(io.BytesIO(answer.content))
    rows = {r[0]: r[1:4] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
    assert rows["Kinh tế - xã hội"] == (3, 1, 4.5)
    assert [r[1] for r in book["Chi tiết"].iter_rows(min_row=2, values_only=True)] == ["Tiêm phòng gia súc"]
    csv_text = client.get("/reports/export.csv?period=2026-11").content.decode("utf-8-sig")
    assert "Kinh tế - xã hội,3,1,4.5" in csv_text


def test_leader_edits_topics(app, station):
    client = login(app, station, "lanhdao", "leader")
    answer = client.post("/reports/topics", {"name": "Chuyển đổi số", "period": "2026-11"})
    assert answer.status_code == 303 and answer.headers["location"] == "/reports?period=2026-11#chu-de"
    assert topic_names(station)[-1] == "Chuyển đổi số"
    with Session(station.db) as session:
        economy = session.exec(select(Topic).where(Topic.name == "Kinh tế - xã hội")).one()
    client.post(f"/reports/topics/{economy.id}", {"name": "Kinh tế, xã hội"})
    page = client.get("/reports?period=2026-11")
    assert "Kinh tế, xã hội 3 1 4,5" in text_of(page.text[page.text.index('id="theo-chu-de"'):])  # bulletins followed
    assert "Đã đổi tên chủ đề" in page.text  # the flash message
    client.post(f"/reports/topics/{economy.id}/delete", {})
    assert "Kinh tế, xã hội" not in topic_names(station)
    duplicate = client.post("/reports/topics", {"name": "Chuyển đổi số"})
    assert duplicate.status_code == 400 and "Đã có chủ đề" in duplicate.text


def test_topic_names_are_escaped(app, station):
    client = login(app, station, "quantri", "admin")
    client.post("/reports/topics", {"name": "<img src=x onerror=alert(1)>"})
    page = client.get("/reports")
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text


@pytest.mark.parametrize("role", ["editor", "operator"])
def test_wrong_roles_change_nothing(app, station, role):
    before = topic_names(station)
    client = login(app, station, f"u-{role}", role)
    assert client.post("/reports/topics", {"name": "Mới"}).status_code == 403
    assert client.post("/reports/topics/1", {"name": "Đổi"}).status_code == 403
    assert client.post("/reports/topics/1/delete", {}).status_code == 403
    assert topic_names(station) == before


def test_anonymous_and_missing_csrf_change_nothing(app, station):
    before = topic_names(station)
    answer = anonymous(app).post("/reports/topics", {"name": "Mới"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    leader = login(app, station, "lanhdao", "leader")
    assert leader.post("/reports/topics", {"name": "Mới"}, csrf=False).status_code == 403
    assert leader.post("/reports/topics", {"name": "Mới", "csrf_token": "sai"}, csrf=False).status_code == 403
    assert topic_names(station) == before
