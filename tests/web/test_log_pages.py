"""Log review pages in-process: login, filters, escaping, playback only under the data dir, exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from w2_helpers import anonymous, login, make_app, text_of, wav

from broadcaster.models import AsRun, AsRunKind, AsRunStatus, BulletinClass

VN = ZoneInfo("Asia/Ho_Chi_Minh")




@pytest.fixture
def rows(station, tmp_path):
    inside = wav(station.settings.data_dir / "cache" / "items" / "tin.wav")
    outside = wav(tmp_path / "ngoai.wav")
    start = datetime(2026, 12, 1, 6, 0, tzinfo=VN)
    with Session(station.db) as session:
        for n, (title, status, kind, klass, path, operator) in enumerate([
            ("Cắt điện thôn 3", AsRunStatus.aired, AsRunKind.programme, BulletinClass.normal, inside, None),
            ("Gọi nhập ngũ", AsRunStatus.failed, AsRunKind.programme, BulletinClass.priority, None, None),
            ("<script>alert('x')</script> bão", AsRunStatus.aired, AsRunKind.urgent, BulletinClass.emergency, outside, "trucdai"),
        ]):
            at = (start + timedelta(hours=n)).astimezone(timezone.utc)
            session.add(AsRun(title=title, status=status, kind=kind, bulletin_class=klass, started_at=at,
                              ended_at=at + timedelta(seconds=30), duration_s=30.0, path=str(path) if path else None,
                              operator=operator, reason="Không có thiết bị âm thanh" if status == "failed" else None))
        session.commit()
        ids = [r.id for r in session.exec(select(AsRun).order_by(AsRun.id)).all()]
    return ids


@pytest.fixture
def app(station):
    return make_app(station)


def test_anonymous_is_sent_to_login(app, rows):
    for url in ("/log", "/log/export.csv", "/log/export.xlsx", f"/log/{rows[0]}/audio"):
        answer = anonymous(app).get(url)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), url


def test_log_page_lists_and_escapes(app, station, rows):
    page = login(app, station, "bientap", "editor").get("/log")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Nhật ký phát sóng" in text and "3 dòng" in text
    assert "01/12/2026 06:00:00" in text and "Cắt điện thôn 3" in text and "đã phát" in text
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    # newest first
    assert page.text.index("bão") < page.text.index("Gọi nhập ngũ") < page.text.index("Cắt điện thôn 3")
    # only the file under the data dir can be played back
    assert f'/log/{rows[0]}/audio' in page.text and f'/log/{rows[2]}/audio' not in page.text


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("bulletin_class=uu_tien", ["Gọi nhập ngũ"], ["Cắt điện thôn 3", "bão"]),
        ("status=failed", ["Gọi nhập ngũ", "Không có thiết bị âm thanh"], ["Cắt điện thôn 3"]),
        ("kind=urgent&operator=trucdai", ["bão"], ["Gọi nhập ngũ", "Cắt điện thôn 3"]),
        ("date_from=2026-12-02", [], ["Gọi nhập ngũ", "Cắt điện thôn 3", "bão"]),
    ],
)
def test_log_filters(app, station, rows, query, present, absent):
    page = login(app, station, "lanhdao", "leader").get("/log?" + query)
    assert page.status_code == 200
    table = page.text[page.text.index('id="nhat-ky"'):]
    for title in present:
        assert title in table
    for title in absent:
        assert title not in table


def test_bad_filter_says_why(app, station, rows):
    page = login(app, station, "lanhdao", "leader").get("/log?date_from=31/02/2026")
    assert page.status_code == 400
    assert "Từ ngày: ngày &#39;31/02/2026&#39; không hợp lệ" in page.text or "Từ ngày: ngày '31/02/2026' không hợp lệ" in text_of(page.text)


def test_playback_only_under_the_data_dir(app, station, rows):
    client = login(app, station, "trucdai", "operator")
    ok = client.get(f"/log/{rows[0]}/audio")
    assert ok.status_code == 200 and ok.headers["content-type"] == "audio/wav" and ok.content[:4] == b"RIFF"
    assert client.get(f"/log/{rows[2]}/audio").status_code == 404  # a file outside the data dir
    assert client.get(f"/log/{rows[1]}/audio").status_code == 404  # no file
    assert client.get("/log/99999/audio").status_code == 404


def test_exports_follow_the_filter(app, station, rows):
    client = login(app, station, "lanhdao", "leader")
    answer = client.get("/log/export.csv?kind=programme")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [r[4] for r in table[1:]] == ["Cắt điện thôn 3", "Gọi nhập ngũ"]
    assert table[1][1] == "01/12/2026 06:00:00"
    answer = client.get("/log/export.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[2][0] == "Mã" and len(values) == 3 + 3
    assert values[5][4] == "<script>alert('x')</script> bão"  # data, not markup, in a spreadsheet
