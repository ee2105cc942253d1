"""The HTTP API in-process (TestClient over the router): token auth, urgent, stop, on-air status."""

from __future__ import annotations


import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playout_helpers import tone, write_wav
from urgent_helpers import air_in_thread, on_air_title, ready_bulletin, wait_for

from broadcaster.station.urgent import SKIP_REASON, STOP_PROGRAMME_REASON, TONE_TITLE
from broadcaster.web import api

TOKEN = "s3cr3t-Test_token-0123456789"
MESSAGE = "Lũ quét ở thôn Bản Mế, bà con di chuyển lên vùng cao."




def _app(station, onair) -> FastAPI:
    app = FastAPI()
    app.state.station, app.state.onair, app.state.api_token = station, onair, TOKEN
    app.include_router(api.router)
    return app


@pytest.fixture
def client(station, onair):
    with TestClient(_app(station, onair), raise_server_exceptions=False) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROUTES = [("post", "/api/urgent", {"text": MESSAGE}), ("post", "/api/urgent/stop", {}), ("get", "/api/onair", None),
          ("get", "/api/urgent/1", None)]


@pytest.mark.parametrize("method, path, body", ROUTES)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sai"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"},
     {"Authorization": "Bearer "}],
)
def test_every_route_refuses_a_missing_or_wrong_token(client, station, method, path, body, headers):
    kwargs = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 401
    assert response.json() == {"error": api.UNAUTHORIZED}
    assert station.as_run_log() == []


def test_urgent_over_http_cuts_in_and_logs(client, station, onair, tmp_path):
    ready_bulletin(station, tmp_path, "Tin A", 440, 8.0)
    thread, _box = air_in_thread(station, onair.player)
    wait_for(lambda: on_air_title(station) == "Tin A")
    status = client.get("/api/onair", headers=AUTH).json()
    assert status["playing"]["title"] == "Tin A" and status["slot"] == "Thử" and status["device_open"] is True
    assert status["playing"]["length_s"] == pytest.approx(8.0) and 0 <= status["playing"]["progress"] <= 1

    response = client.post("/api/urgent", headers=AUTH, json={"text": MESSAGE, "operator": "Lan"})
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["id"] == 1 and answer["requested_at"].endswith("+00:00")
    job = onair.urgent.get(answer["id"])
    assert job.done.wait(60) and job.state == "done"
    thread.join(60)
    rows = station.as_run_log()
    assert [(r.title, r.status.value) for r in rows] == [
        ("Tin A", "interrupted"),
        (TONE_TITLE, "aired"),
        (f"Thông báo khẩn cấp: {MESSAGE}", "aired"),
        ("Tin A", "aired"),
    ]
    assert rows[1].operator == "Lan"
    # the request time in the log is the one the API answered with
    assert rows[1].requested_at.isoformat(timespec="milliseconds").startswith(answer["requested_at"][:23])
    got = client.get(f"/api/urgent/{answer['id']}", headers=AUTH).json()
    assert got["state"] == "done" and got["rows"] == [rows[1].id, rows[2].id]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({}, "Cần đúng một trong ba"),
        ({"text": MESSAGE, "mic": True}, "Cần đúng một trong ba"),
        ({"text": "  "}, "trống"),
        ({"file": "/không/có/tệp.mp3"}, "Không tìm thấy tệp"),
        ({"text": MESSAGE, "repeat": 0}, "Số lần phát"),
        ({"text": MESSAGE, "repeat": "ba"}, "repeat"),
        ({"text": MESSAGE, "every_min": "năm"}, "every_min"),
        ({"text": 5}, "text"),
        ({"text": MESSAGE, "màu": "đỏ"}, "Trường không hợp lệ"),
    ],
)
def test_bad_requests_get_a_vietnamese_error_and_no_row(client, station, onair, body, fragment):
    response = client.post("/api/urgent", headers=AUTH, json=body)
    assert 400 <= response.status_code < 500
    assert fragment in response.json()["error"]
    assert "Traceback" not in response.text
    assert station.as_run_log() == [] and onair.urgent.jobs() == []


def test_not_json_and_no_onair(station, client):
    response = client.post("/api/urgent", headers={**AUTH, "Content-Type": "application/json"}, content="{hỏng".encode())
    assert response.status_code == 400 and response.json()["error"] == "Nội dung yêu cầu phải là JSON"
    with TestClient(_app(station, None)) as bare:
        response = bare.post("/api/urgent", headers=AUTH, json={"text": MESSAGE})
        assert response.status_code == 503 and response.json()["error"] == api.NOT_RUNNING


def test_stop_over_http(client, station, onair, tmp_path):
    # a long attention tone: the stop lands while it airs however slowly this test runs
    # (the built-in one lasts 0.6 s on the 4x fake card, less than a loaded machine may take)
    station.settings.attention_tone = write_wav(tmp_path / "long-tone.wav", tone(880, 120.0))
    response = client.post("/api/urgent", headers=AUTH, json={"text": MESSAGE, "repeat": 4})
    job = onair.urgent.get(response.json()["id"])
    wait_for(lambda: on_air_title(station) == TONE_TITLE)
    assert client.post("/api/urgent/stop", headers=AUTH).json() == {"stopped": True}
    assert job.done.wait(20) and job.state == "stopped"
    assert client.post("/api/urgent/stop", headers=AUTH).json() == {"stopped": False}
    assert [r.status.value for r in station.as_run_log()] == ["interrupted"]


def test_skip_and_stop_programme(station, onair, tmp_path):
    for title, hz in (("Tin A", 440), ("Tin B", 550), ("Tin C", 660), ("Tin D", 770)):
        # long items: the skip and the stop land while they air however slowly this test runs
        # (both are interrupted, so their length costs no time)
        ready_bulletin(station, tmp_path, title, hz, 60.0)
    assert onair.skip() is False and onair.stop_programme() is False  # nothing airs
    thread, box = air_in_thread(station, onair.player)
    wait_for(lambda: on_air_title(station) == "Tin A")
    assert onair.status()["next_in_slot"] == ["Tin B", "Tin C", "Tin D"]
    assert onair.skip() is True
    wait_for(lambda: on_air_title(station) == "Tin B")
    assert onair.stop_programme() is True
    thread.join(30)
    assert [(r.title, r.status.value, r.reason) for r in box["rows"]] == [
        ("Tin A", "interrupted", SKIP_REASON),
        ("Tin B", "interrupted", STOP_PROGRAMME_REASON),
        ("Tin C", "missed", STOP_PROGRAMME_REASON),
        ("Tin D", "missed", STOP_PROGRAMME_REASON),
    ]
    status = onair.status()
    assert status["playing"] is None and status["slot"] is None
