"""The console sheds load before the station suffers (issue 9, item 2): a bounded number of console
requests in flight and a short queue, then 503 with a Vietnamese page and Retry-After; the urgent
routes are never shed; at most web_max_exports exports are built at once."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from w2_helpers import login

from broadcaster.reports import log as report_log
from broadcaster.config import load_settings
from broadcaster.station.facade import Station
from broadcaster.web.app import create_app


class FakeDesk:
    def __init__(self) -> None:
        self.requests: list[dict] = []

    def request(self, **kwargs):
        self.requests.append(kwargs)
        job = SimpleNamespace(id=len(self.requests), state="pending", label="thử")
        job.public = lambda: {"requested_at": datetime.now(timezone.utc).isoformat(), "state": "pending", "zones": None}
        return job


@pytest.fixture
def small(data_dir):
    settings = load_settings(data_dir, engine_order=["espeak"], web_max_concurrent=1, web_queue=0,
                             web_max_exports=1)
    station = Station.open(settings)
    yield station
    station.close()


def _held_route(app):
    """GET /slow: holds the console's one place until released."""
    entered, release = threading.Event(), threading.Event()

    @app.get("/slow")
    def slow():
        entered.set()
        release.wait(30)
        return {"ok": True}

    return entered, release


def test_a_full_console_answers_503_in_vietnamese_but_urgent_gets_through(small):
    onair = SimpleNamespace(urgent=FakeDesk())
    app = create_app(small, onair=onair)
    entered, release = _held_route(app)
    operator = login(app, small, "truc.dai", "operator")
    token = app.state.api_token
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        client.cookies.set("bc_session", operator.http.cookies.get("bc_session"))
        holder = threading.Thread(target=client.get, args=("/slow",), daemon=True)
        holder.start()
        try:
            assert entered.wait(30)
            busy = client.get("/bulletins")
            assert busy.status_code == 503, busy.status_code
            assert "Máy chủ đang bận" in busy.text and 'lang="vi"' in busy.text
            assert busy.headers["retry-after"].isdigit()
            # the urgent API and the on-air urgent form are never shed
            urgent = client.post("/api/urgent", json={"text": "Khẩn: nước lên"},
                                 headers={"Authorization": f"Bearer {token}"})
            assert urgent.status_code == 202, urgent.text
            assert onair.urgent.requests and onair.urgent.requests[0]["text"] == "Khẩn: nước lên"
            form = client.post("/onair/urgent", data={"source": "text", "text": "Khẩn: nước lên",
                                                      "csrf_token": operator.csrf})
            assert form.status_code == 200 and "PHÁT NGAY" in form.text
        finally:
            release.set()
            holder.join(30)
        assert client.get("/bulletins").status_code == 200  # the place is free again


@pytest.fixture
def one_export(data_dir):
    settings = load_settings(data_dir, engine_order=["espeak"], web_max_concurrent=4, web_max_exports=1)
    station = Station.open(settings)
    yield station
    station.close()


def test_a_second_export_at_once_is_refused_and_the_slot_comes_back(one_export, monkeypatch):
    small = one_export
    entered, release = threading.Event(), threading.Event()
    real = report_log.log_csv

    def slow_csv(**kwargs):
        entered.set()
        release.wait(30)
        yield from real(**kwargs)

    monkeypatch.setattr(report_log, "log_csv", slow_csv)
    app = create_app(small)
    editor = login(app, small, "bt1", "editor")
    with TestClient(app, raise_server_exceptions=False) as client:
        client.cookies.set("bc_session", editor.http.cookies.get("bc_session"))
        first: dict = {}
        holder = threading.Thread(target=lambda: first.update(r=client.get("/log/export.csv")), daemon=True)
        holder.start()
        try:
            assert entered.wait(30)
            second = client.get("/log/export.xlsx")
            assert second.status_code == 503 and "Máy chủ đang bận" in second.text
        finally:
            release.set()
            holder.join(30)
        assert first["r"].status_code == 200 and first["r"].content.startswith("\ufeff".encode())
        again = client.get("/log/export.xlsx")
        assert again.status_code == 200 and again.content[:2] == b"PK"
