"""The station's view of its clusters (issue 14 item 4) in the console: the Cụm loa page and its
self-refreshing panel, revocation by an administrator only, the log's "Cụm loa" view and exports,
and the monthly report's minutes heard per cluster (page, CSV, XLSX)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from receivers_helpers import login, make_user

from broadcaster.localtime import local_midnight_utc

NOW = datetime(2026, 12, 15, 3, 0, tzinfo=timezone.utc)  # 10:00 in Hà Nội


def status(name, **fields):
    body = {"name": name, "zone": None, "state": "playing", "mount": "/dai.mp3", "buffer_s": 1.5, "volume": 1.0,
            "last_error": None, "sent_at": "2026-12-15T10:00:00+07:00"}
    return {**body, **fields}


@pytest.fixture
def clusters(station):
    station.clock = lambda: NOW
    a = station.receivers.add("Cụm loa chợ", "Thôn Đông")
    b = station.receivers.add("Cụm loa đình")
    station.receivers.record_status(a.token, status("Cụm loa chợ", buffer_s=2.5, last_error="mất luồng 3 giây"))
    return a, b


def test_the_page_shows_each_clusters_state(station, app, clusters):
    make_user(station, "bientap", "editor")
    editor = login(app, "bientap")
    page = editor.get("/receivers")
    assert page.status_code == 200
    html = page.text
    assert 'href="/receivers"' in html and ">Cụm loa<" in html  # in the navigation
    assert 'hx-get="/receivers/panel"' in html and 'hx-trigger="every 5s"' in html
    assert "Cụm loa chợ" in html and "Thôn Đông" in html and "Trực tuyến" in html and "Mất kết nối" in html
    assert "15/12/2026 10:00:00" in html  # station-local time
    assert "2,5 giây" in html and "mất luồng 3 giây" in html
    assert "1</strong>/2 cụm loa đang trực tuyến" in html
    assert "Thu hồi" not in html  # only an administrator revokes
    panel = editor.get("/receivers/panel", headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "<html" not in panel.text and "Cụm loa đình" in panel.text


def test_only_an_administrator_revokes_and_the_cluster_is_refused_at_once(station, app, api, clusters):
    from receivers_helpers import bearer

    a, _ = clusters
    make_user(station, "quantri", "admin")
    make_user(station, "trucdai", "operator")
    operator = login(app, "trucdai")
    target = station.receivers.list()[0]
    assert operator.post(f"/receivers/{target.id}/revoke", data={"csrf_token": operator.csrf}).status_code == 403
    admin = login(app, "quantri")
    assert admin.post(f"/receivers/{target.id}/revoke", data={}).status_code == 403  # no CSRF token
    assert not station.receivers.list()[0].revoked
    assert "Thu hồi" in admin.get("/receivers").text
    r = admin.post(f"/receivers/{target.id}/revoke", data={"csrf_token": admin.csrf})
    assert r.status_code == 303 and r.headers["location"] == "/receivers"
    assert "Đã thu hồi mã của cụm loa «Cụm loa chợ»" in admin.get("/receivers").text
    assert api.get("/api/receiver/config", headers=bearer(a.token)).status_code == 401


def upload(station, token, *rows):
    station.receivers.store_log(token, {"rows": [
        {"local_id": i, "started_at": s.isoformat(), "ended_at": e.isoformat() if e else None, "kind": k,
         "mount": "/dai.mp3", "cause": c} for i, (s, e, k, c) in enumerate(rows, start=1)]})


def local(day, hour, minute=0):
    return local_midnight_utc(day, "Asia/Ho_Chi_Minh") + timedelta(hours=hour, minutes=minute)


def test_the_log_shows_the_clusters_rows(station, app, clusters):
    from datetime import date

    a, _ = clusters
    upload(station, a.token, (local(date(2026, 12, 15), 6), local(date(2026, 12, 15), 6, 20), "heard", None),
           (local(date(2026, 12, 15), 6, 20), local(date(2026, 12, 15), 6, 21), "gap", "mất kết nối tới máy chủ phát"))
    make_user(station, "bientap", "editor")
    editor = login(app, "bientap")
    station_log = editor.get("/log").text
    assert 'name="receiver"' in station_log and "Cụm loa (tất cả)" in station_log
    page = editor.get("/log?receiver=all")
    assert page.status_code == 200
    assert "Nhật ký cụm loa" in page.text and "mất kết nối tới máy chủ phát" in page.text
    assert "15/12/2026 06:00:00" in page.text and "đã nghe" in page.text and "gián đoạn" in page.text
    rid = station.receivers.list()[0].id
    assert "mất kết nối tới máy chủ phát" in editor.get(f"/log?receiver={rid}").text
    other = station.receivers.list()[1].id
    assert "mất kết nối tới máy chủ phát" not in editor.get(f"/log?receiver={other}").text
    csv_text = editor.get("/log/export.csv?receiver=all").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Cụm loa,Vùng,Bắt đầu")
    assert "Cụm loa chợ,Thôn Đông,15/12/2026 06:20:00" in csv_text
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(editor.get("/log/export.xlsx?receiver=all").content))
    values = [c.value for row in book["Cụm loa"].iter_rows() for c in row]
    assert "mất kết nối tới máy chủ phát" in values


def test_the_monthly_report_has_minutes_heard_per_cluster(station, app, clusters):
    from datetime import date

    from openpyxl import load_workbook

    a, _ = clusters
    # 30 minutes on the last evening of November (5 of them in December) and 20 in December
    upload(station, a.token, (local(date(2026, 11, 30), 23, 35), local(date(2026, 12, 1), 0, 5), "heard", None),
           (local(date(2026, 12, 2), 6), local(date(2026, 12, 2), 6, 20), "heard", None),
           (local(date(2026, 12, 2), 6, 20), local(date(2026, 12, 2), 6, 21), "gap", "luồng im lặng"))
    make_user(station, "bientap", "editor")
    editor = login(app, "bientap")
    page = editor.get("/reports?period=2026-12").text
    assert "Phút nghe được theo cụm loa" in page
    row = page[page.index('id="phut-nghe-theo-cum-loa"'):]
    assert "Cụm loa chợ" in row and "25,0" in row[:row.index("</table>")]
    assert "Cụm loa đình" in row  # listed with nothing heard
    nov = editor.get("/reports?period=2026-11").text
    nov = nov[nov.index('id="phut-nghe-theo-cum-loa"'):]
    assert "25,0" in nov[:nov.index("</table>")]
    csv_text = editor.get("/reports/export.csv?period=2026-12").content.decode("utf-8-sig")
    assert "Phút nghe được theo cụm loa" in csv_text and "Cụm loa chợ,Thôn Đông,25.0,1" in csv_text
    book = load_workbook(io.BytesIO(editor.get("/reports/export.xlsx?period=2026-12").content))
    rows = [[c.value for c in r] for r in book["Tổng hợp"].iter_rows()]
    assert any(r[0] == "Phút nghe được theo cụm loa" for r in rows)
    assert ["Cụm loa chợ", "Thôn Đông", 25.0, 1] in [r[:4] for r in rows]


def pager_of(html):
    """The pager's links (label → page number) and its 'Trang x / y' line; ({}, None) without a pager."""
    import re

    start = html.find('class="w2-pager"')
    if start < 0:
        return {}, None
    nav = html[start:html.index("</nav>", start)]
    links = {label.strip(): int(n) for n, label in re.findall(r'href="[^"]*[?&;]page=(\d+)[^"]*">([^<]+)</a>', nav)}
    where = re.search(r"Trang (\d+) / (\d+)", nav)
    return links, (int(where.group(1)), int(where.group(2)))


def test_the_clusters_log_pages_like_the_station_log(station, app, clusters):
    """120 rows at 50 a page: three pages; the pager is the station log's (first/previous/next/last,
    the filter kept in every link), and a page beyond the end shows the last page."""
    from datetime import date

    a, _ = clusters
    day = date(2026, 12, 15)
    upload(station, a.token, *[(local(day, 5, 0) + timedelta(minutes=n), local(day, 5, 0) + timedelta(minutes=n, seconds=30),
                                "gap", f"gián đoạn số {n:03d}") for n in range(120)])
    make_user(station, "bientap", "editor")
    editor = login(app, "bientap")
    first = editor.get("/log?receiver=all").text
    assert pager_of(first) == ({"Sau ›": 2, "Cuối »": 3}, (1, 3))
    assert "gián đoạn số 119" in first and "gián đoạn số 069" not in first  # newest first, 50 a page
    last = editor.get("/log?receiver=all&page=3")
    assert last.status_code == 200
    assert pager_of(last.text) == ({"« Đầu": 1, "‹ Trước": 2}, (3, 3))
    assert "gián đoạn số 019" in last.text and "gián đoạn số 000" in last.text and "gián đoạn số 020" not in last.text
    assert 'href="/log?receiver=all&amp;page=2"' in last.text  # the filter stays in the links
    beyond = editor.get("/log?receiver=all&page=9")
    assert beyond.status_code == 200
    assert pager_of(beyond.text) == ({"« Đầu": 1, "‹ Trước": 2}, (3, 3))
    assert "gián đoạn số 000" in beyond.text and "trang 3/3" in beyond.text
