"""Issue 11 item 9: the Trực đài urgent button with no sound card says it could not air."""

from __future__ import annotations

from sqlmodel import Session, select
from w2_helpers import login, make_app, text_of

from broadcaster.models import AsRun, AsRunStatus
from support.onair import cardless_onair  # noqa: F401  (a fixture)

MESSAGE = "Sạt lở đất ở dốc Khau Vai, bà con không đi qua đoạn này."


def test_urgent_without_card_says_it_did_not_air(station, cardless_onair):
    app = make_app(station, onair=cardless_onair)
    client = login(app, station, "trucdai", "operator")
    answer = client.post("/onair/urgent", {"source": "text", "text": MESSAGE, "repeat": "1", "confirmed": "1"},
                         follow_redirects=True)
    page = text_of(answer.text)
    assert "Đang phát thông báo khẩn cấp" not in page, page
    assert "không phát được" in page.lower() and "thiết bị âm thanh" in page, page
    assert answer.status_code >= 400
    with Session(station.db) as session:
        rows = session.exec(select(AsRun)).all()
    assert [(MESSAGE[:40] in r.title, r.status) for r in rows] == [(True, AsRunStatus.failed)]
