"""The clusters' HTTP API (issue 14 items 2, 5, 8), exactly as the contract says: Bearer token; 401
for a missing, wrong or revoked token, 403 for another cluster's name, 422 naming the bad field —
each one Vietnamese line, and nothing stored (rows counted before and after)."""

from __future__ import annotations

import pytest
from receivers_helpers import bearer, counts, snapshot

UNAUTHORIZED = {"detail": "Mã cụm loa không hợp lệ hoặc đã bị thu hồi."}
GOOD = {"name": "Cụm loa chợ", "zone": "Thôn Đông", "state": "playing", "mount": "/dai-zone-thon-dong.mp3",
        "buffer_s": 1.2, "volume": 0.8, "last_error": None, "sent_at": "2026-12-01T07:00:05+07:00"}
ROWS = {"rows": [{"local_id": 1, "started_at": "2026-12-01T07:00:00+07:00", "ended_at": "2026-12-01T07:05:00+07:00",
                  "kind": "heard", "mount": "/dai-zone-thon-dong.mp3", "cause": None}]}


def set_stream(station, url, public_host=None):
    # the stream settings come with the fan-out (helper h3); set them on this station's settings
    for key, value in (("stream_url", url), ("stream_public_host", public_host)):
        object.__setattr__(station.settings, key, value)


@pytest.fixture
def cluster(station):
    return station.receivers.add("Cụm loa chợ", "Thôn Đông")


def test_config_gives_the_zone_mount_as_a_listener_url_never_the_password(station, api, cluster):
    r = api.get("/api/receiver/config", headers=bearer(cluster.token))
    assert r.status_code == 200
    assert r.json() == {"name": "Cụm loa chợ", "zone": "Thôn Đông", "station_name": station.settings.station_name,
                        "stream_url": None, "format": "mp3", "report_s": 5.0}
    set_stream(station, "icecast://source:bi-mat-9x@127.0.0.1:8000/dai.mp3", public_host="10.0.0.5")
    r = api.get("/api/receiver/config", headers=bearer(cluster.token))
    assert r.json()["stream_url"] == "http://10.0.0.5:8000/dai-zone-thon-dong.mp3"
    assert "bi-mat-9x" not in r.text
    nozone = station.receivers.add("Cụm loa đình")
    assert api.get("/api/receiver/config", headers=bearer(nozone.token)).json()["stream_url"] == \
        "http://10.0.0.5:8000/dai.mp3"


def test_status_and_log_are_stored(station, api, cluster):
    assert api.post("/api/receiver/status", json=GOOD, headers=bearer(cluster.token)).status_code == 200
    (view,) = station.receivers.list()
    assert view.online and view.playing and view.mount == "/dai-zone-thon-dong.mp3" and view.volume == 0.8
    r = api.post("/api/receiver/log", json=ROWS, headers=bearer(cluster.token))
    assert r.status_code == 200 and r.json() == {"stored": 1, "last_local_id": 1}
    assert api.post("/api/receiver/log", json=ROWS, headers=bearer(cluster.token)).json() == {"stored": 0,
                                                                                               "last_local_id": 1}


def test_a_status_answer_says_whether_the_station_airs_for_the_cluster(station, api, cluster):
    """on_air: a row on air for every cluster or for the cluster's zone; not another zone's urgent."""
    from sqlmodel import Session

    from broadcaster.models import AsRun, AsRunKind, AsRunStatus

    def answer(token):
        r = api.post("/api/receiver/status", json=dict(GOOD, name=name_of[token]), headers=bearer(token))
        assert r.status_code == 200, r.text
        return r.json()

    other = station.receivers.add("Cụm loa bến", "Xóm Bãi")
    name_of = {cluster.token: "Cụm loa chợ", other.token: "Cụm loa bến"}
    assert answer(cluster.token) == {"on_air": False} == answer(other.token)
    with Session(station.db) as session:
        row = AsRun(title="Khẩn", kind=AsRunKind.urgent, status=AsRunStatus.on_air, zones=["thôn đông"])
        session.add(row)
        session.commit()
        assert (answer(cluster.token), answer(other.token)) == ({"on_air": True}, {"on_air": False})
        row.zones = None  # every cluster
        session.add(row)
        session.commit()
        assert (answer(cluster.token), answer(other.token)) == ({"on_air": True}, {"on_air": True})
        row.status = AsRunStatus.aired
        session.add(row)
        session.commit()
    assert answer(cluster.token) == {"on_air": False}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sai-ma"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer "}])
def test_a_missing_or_wrong_token_is_refused_and_nothing_is_stored(station, api, cluster, headers):
    before = snapshot(station.settings.db_path)
    assert api.get("/api/receiver/config", headers=headers).json() == UNAUTHORIZED
    for path, body in (("/api/receiver/status", GOOD), ("/api/receiver/log", ROWS)):
        r = api.post(path, json=body, headers=headers)
        assert (r.status_code, r.json()) == (401, UNAUTHORIZED), path
    assert snapshot(station.settings.db_path) == before


def test_a_revoked_cluster_is_refused_at_once(station, api, cluster):
    assert api.post("/api/receiver/status", json=GOOD, headers=bearer(cluster.token)).status_code == 200
    station.receivers.revoke("Cụm loa chợ")
    before = snapshot(station.settings.db_path)
    for method, path, body in (("GET", "/api/receiver/config", None), ("POST", "/api/receiver/status", GOOD),
                               ("POST", "/api/receiver/log", ROWS)):
        r = api.request(method, path, json=body, headers=bearer(cluster.token))
        assert (r.status_code, r.json()) == (401, UNAUTHORIZED), path
    assert snapshot(station.settings.db_path) == before


def test_a_report_under_another_name_is_403(station, api, cluster):
    station.receivers.add("Cụm loa đình")
    before = counts(station.settings.db_path)
    r = api.post("/api/receiver/status", json={**GOOD, "name": "Cụm loa đình"}, headers=bearer(cluster.token))
    assert (r.status_code, r.json()) == (403, {"detail": "Tên cụm loa không khớp với mã."})
    assert counts(station.settings.db_path) == before
    assert all(v.last_seen is None for v in station.receivers.list())


@pytest.mark.parametrize("path, body, field", [
    ("/api/receiver/status", {**GOOD, "state": "nhảy múa"}, "state"),
    ("/api/receiver/status", {**GOOD, "buffer_s": -0.5}, "buffer_s"),
    ("/api/receiver/status", {k: v for k, v in GOOD.items() if k != "volume"}, "volume"),
    ("/api/receiver/status", {**GOOD, "last_error": "lỗi " * 100}, "last_error"),
    ("/api/receiver/status", [1, 2], None),
    ("/api/receiver/log", {"rows": [{**ROWS["rows"][0], "local_id": 0}]}, "rows[1].local_id"),
    ("/api/receiver/log", {"rows": [ROWS["rows"][0], {**ROWS["rows"][0], "local_id": 2, "started_at": "x"}]},
     "rows[2].started_at"),
    ("/api/receiver/log", {"rows": "không phải danh sách"}, "rows"),
])
def test_a_malformed_body_is_one_line_naming_the_field_and_nothing_is_stored(station, api, cluster, path, body, field):
    before = snapshot(station.settings.db_path)
    r = api.post(path, json=body, headers=bearer(cluster.token))
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and detail
    if field:
        assert f"«{field}»" in detail
    assert snapshot(station.settings.db_path) == before


def test_a_body_that_is_not_json_is_422_and_a_bad_token_still_401(station, api, cluster):
    r = api.post("/api/receiver/status", content=b"{not json", headers={**bearer(cluster.token),
                                                                       "Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = api.post("/api/receiver/status", content=b"{not json", headers=bearer("sai"))
    assert r.status_code == 401
