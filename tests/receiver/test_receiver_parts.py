"""The receiver's parts in-process: its log (journal), the station client, the upload cursor."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from fake_station import FakeStation, check_status

from broadcaster.receiver.api import (OptionError, ReceiverConfig, Refusal, StationBadAnswer, StationClient,
                                      StationRefused, StationUnreachable, check_options)
from broadcaster.receiver.journal import GapCause, ReceiverJournal

T0 = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def journal(tmp_path):
    from broadcaster.db import create_schema, make_engine

    engine = make_engine(tmp_path / "rx.db")
    create_schema(engine)
    yield ReceiverJournal(engine=engine)
    engine.dispose()


def test_heard_and_gap_rows_with_causes_and_only_final_rows_pending(journal):
    journal.heard("/dai.mp3", at(0))
    journal.gap(GapCause.LINK_LOST, "/dai.mp3", at(60), provisional=True)  # a first guess at the loss
    journal.gap(GapCause.NO_MOUNT, "/dai.mp3", at(61))  # the next attempt says better: corrected in place
    journal.gap(GapCause.LINK_LOST, "/dai.mp3", at(90))  # a confirmed cause changes: a new gap
    journal.gap(GapCause.LINK_LOST, "/dai.mp3", at(95))  # the same cause again: nothing new
    journal.heard("/dai.mp3", at(100))
    rows = journal.pending(0)
    assert [(r["kind"], r["cause"], r["started_at"], r["ended_at"]) for r in rows] == [
        ("heard", None, at(0).isoformat(), at(60).isoformat()),
        ("gap", "máy chủ phát không có luồng của đài", at(60).isoformat(),
         at(90).isoformat()),
        ("gap", "mất kết nối tới máy chủ phát", at(90).isoformat(), at(100).isoformat()),
    ]  # the heard row open since 100 s is not final: not handed out
    assert [r["local_id"] for r in rows] == [1, 2, 3] and {r["mount"] for r in rows} == {"/dai.mp3"}
    assert journal.pending(2) == rows[2:]
    journal.end(at(130))
    assert journal.pending(3)[0]["ended_at"] == at(130).isoformat()


def test_rows_a_crash_left_open_are_recovered(journal, tmp_path):
    journal.heard("/dai.mp3", at(0))
    fresh = ReceiverJournal(engine=journal.db)  # the next start after a power cut
    assert fresh.recover() == 1
    (row,) = fresh.pending(0)
    assert row["kind"] == "heard" and row["ended_at"] is None and "dừng đột ngột" in row["cause"]


@pytest.mark.parametrize("station, token, name, zone, needle", [
    ("ftp://dai.local", "abc", "Cụm 1", None, "--station"),
    ("dai.local:8080", "abc", "Cụm 1", None, "--station"),
    ("http://dai.local:99999", "abc", "Cụm 1", None, "cổng"),
    ("http://user:pw@dai.local", "abc", "Cụm 1", None, "mật khẩu"),
    ("http://dai.local", "", "Cụm 1", None, "thiếu mã"),
    ("http://dai.local", "có dấu", "Cụm 1", None, "mã cụm loa không hợp lệ"),
    ("http://dai.local", "abc", " ", None, "--name"),
    ("http://dai.local", "abc", "Cụm 1", "!!!", "--zone"),
])
def test_options_are_refused_with_one_line(station, token, name, zone, needle):
    with pytest.raises(OptionError) as caught:
        check_options(station=station, token=token, name=name, zone=zone)
    assert needle in str(caught.value) and "\n" not in str(caught.value) and caught.value.exit_code == 2


def test_config_answers_that_break_the_contract_are_bad_answers():
    good = {"name": "A", "zone": None, "station_name": "Đài", "stream_url": "http://h:8000/dai.mp3",
            "format": "mp3", "report_s": 5.0}
    assert ReceiverConfig.from_json(good).mount == "/dai.mp3"
    for broken in ([], {**good, "stream_url": "/etc/passwd"}, {**good, "stream_url": "icecast://s:pw@h:1/x"},
                   {**good, "format": "wav"}, {**good, "report_s": -1}, {**good, "name": None}):
        with pytest.raises(StationBadAnswer):
            ReceiverConfig.from_json(broken)


def _client(station: FakeStation, token: str, name: str = "Cụm 1") -> StationClient:
    return StationClient(check_options(station=station.url, token=token, name=name, zone=None), timeout=5)


def test_client_refusals_and_bad_answers_are_typed(api_only_station):
    station = api_only_station
    token = station.add("Cụm 1", zone="Thôn Đông")
    config = _client(station, token).config()
    assert (config.name, config.zone, config.stream_url, config.report_s) == ("Cụm 1", "Thôn Đông", None, 1.0)
    with pytest.raises(StationRefused) as wrong:
        _client(station, token + "x").config()
    assert wrong.value.refusal is Refusal.TOKEN and wrong.value.exit_code == 3 and token not in str(wrong.value)
    station.config_answer = (500, b"<html>Internal error</html>")
    with pytest.raises(StationBadAnswer):
        _client(station, token).config()
    with pytest.raises(StationBadAnswer):  # 422: a report the station finds malformed
        _client(station, token).status({"name": "Cụm 1"})
    with pytest.raises(StationRefused) as other:  # a report in another cluster's name
        _client(station, token).status(_valid_report(name="Cụm 2"))
    assert other.value.refusal is Refusal.NAME
    station.revoke("Cụm 1")
    with pytest.raises(StationRefused):
        _client(station, token).status(_valid_report())
    assert station.statuses("Cụm 1") == []  # nothing stored on any refusal
    station.down()
    with pytest.raises(StationUnreachable):
        _client(station, token).config()


def _valid_report(name: str = "Cụm 1") -> dict:
    return {"name": name, "zone": None, "state": "playing", "mount": "/dai.mp3", "buffer_s": 0.1, "volume": 1.0,
            "last_error": None, "sent_at": datetime.now(timezone.utc).isoformat()}


def _receiver(tmp_path, station, token, journal):
    from broadcaster.receiver.runner import Receiver, ReceiverParts

    options = check_options(station=station.url, token=token, name="Cụm 1", zone=None)
    parts = ReceiverParts(options=options, data_dir=tmp_path, journal=journal, player=None,
                          source_factory=lambda url: None, dead_air_s=5.0, volume=0.8)
    return Receiver(parts, client=StationClient(options, timeout=5))


def test_the_status_report_follows_the_contract(tmp_path, api_only_station, journal):
    token = api_only_station.add("Cụm 1")
    receiver = _receiver(tmp_path, api_only_station, token, journal)
    report = receiver._report()
    assert check_status(report) is None, report
    receiver.last_error = "x" * 1000
    receiver._error(receiver.last_error)
    assert check_status(receiver._report()) is None


def test_a_lost_upload_answer_is_retried_without_duplicates(tmp_path, api_only_station, journal):
    station = api_only_station
    token = station.add("Cụm 1")
    journal.heard("/dai.mp3", at(0))
    journal.gap(GapCause.LINK_LOST, "/dai.mp3", at(30))
    journal.heard("/dai.mp3", at(40))  # rows 1, 2 final; 3 open
    receiver = _receiver(tmp_path, station, token, journal)
    station.drop_next_log_answer = True  # stored, but the answer never reaches the receiver
    with pytest.raises(StationUnreachable):
        receiver._upload()
    assert receiver.uploaded_through == 0 and len(station.log_rows("Cụm 1")) == 2
    receiver._upload()  # the retry sends the same rows: the station skips them
    assert [r["local_id"] for r in station.log_rows("Cụm 1")] == [1, 2]
    assert receiver.uploaded_through == 2
    assert json.loads((tmp_path / "receiver.json").read_text())["uploaded_through"] == 2  # kept over a restart
    journal.end(at(50))
    again = _receiver(tmp_path, station, token, journal)  # a restart uploads only what is new
    assert again.uploaded_through == 2
    again._upload()
    assert [r["local_id"] for r in station.log_rows("Cụm 1")] == [1, 2, 3]
    assert "token" not in (tmp_path / "receiver.json").read_text() and token not in (tmp_path / "receiver.json").read_text()


def test_dead_air_after_a_loss_does_not_rewrite_the_loss(journal):
    journal.heard("/dai.mp3", at(0))
    journal.gap(GapCause.LINK_LOST, "/dai.mp3", at(10), provisional=True)
    journal.gap(GapCause.SILENCE, "/dai.mp3", at(12))  # reconnected to a silent stream: a gap of its own
    journal.end(at(20))
    assert [(r["kind"], r["cause"]) for r in journal.pending(0)] == [
        ("heard", None), ("gap", "mất kết nối tới máy chủ phát"), ("gap", "luồng im lặng")]


def test_ffmpeg_words_give_the_cause_and_a_port_is_no_status_code():
    from broadcaster.receiver.runner import classify

    url = "http://127.0.0.1:40400/dai.mp3"
    assert classify(f"Không phát được luồng {url}: {url}: Connection refused") is GapCause.LINK_LOST
    assert classify(f"Không phát được luồng {url}: {url}: Server returned 404 Not Found") is GapCause.NO_MOUNT
    assert classify(f"Luồng {url} không gửi âm thanh trong 4 giây") is GapCause.LINK_LOST
    assert classify("Server returned 403 Forbidden (access denied)") is GapCause.STREAM_REFUSED


def test_a_long_heard_row_is_split_so_the_station_gets_it(journal):
    journal.heard("/dai.mp3", at(0))
    assert not journal.split(at(1800)) and journal.pending(0) == []
    assert journal.split(at(3600))  # an hour: final, uploadable; the cluster goes on hearing
    (row,) = journal.pending(0)
    assert (row["kind"], row["started_at"], row["ended_at"]) == ("heard", at(0).isoformat(), at(3600).isoformat())
    journal.gap(GapCause.LINK_LOST, "/dai.mp3", at(4000))
    assert [(r["started_at"], r["ended_at"]) for r in journal.pending(1)] == [(at(3600).isoformat(),
                                                                              at(4000).isoformat())]
    assert not journal.split(at(9000))  # a gap is never split
