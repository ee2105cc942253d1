"""The cluster registry (issue 14 items 2, 4, 5): tokens shown once and kept as sha256 only, revocation
at once, reports checked before anything is stored, idempotent log uploads, online derived from the
last report, and an alarm per cluster offline when a slot starts."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from receivers_helpers import counts

from broadcaster.exceptions import InputError, NotFoundError
from broadcaster.station.receivers import ReceiverRefused, Refusal

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)  # 07:00 in Hà Nội


def report(who, **fields):
    body = {"name": who, "zone": None, "state": "playing", "mount": "/dai.mp3", "buffer_s": 1.5, "volume": 1.0,
            "last_error": None, "sent_at": "2026-12-01T07:00:00+07:00"}
    body.update(fields)
    return body


def test_a_token_is_given_once_and_only_its_hash_is_kept(station):
    added = station.receivers.add("Cụm loa chợ", "Thôn Đông")
    assert added.receiver.zone == "Thôn Đông" and added.receiver.zone_slug == "thon-dong"
    assert len(added.token) >= 40
    con = sqlite3.connect(station.settings.db_path)
    dump = "\n".join(con.iterdump())
    con.close()
    assert added.token not in dump
    assert hashlib.sha256(added.token.encode()).hexdigest() in dump
    # a second cluster of the same zone typed differently joins it; names are unique
    other = station.receivers.add("Cụm loa đình", "thôn đông")
    assert other.receiver.zone == "Thôn Đông" and other.token != added.token
    with pytest.raises(InputError, match="Đã có cụm loa tên «Cụm loa chợ»"):
        station.receivers.add("Cụm loa chợ")
    assert station.receivers.zones() == ["Thôn Đông"]


@pytest.mark.parametrize("name, zone, message", [
    ("", None, "không được để trống"),
    ("x" * 61, None, "dài quá 60"),
    ("Cụm\x07loa", None, "ký tự điều khiển"),
    ("Cụm A", "!!!", "ít nhất một chữ cái"),
])
def test_bad_names_are_refused_before_anything_is_written(station, name, zone, message):
    before = counts(station.settings.db_path)
    with pytest.raises(InputError, match=message):
        station.receivers.add(name, zone)
    assert counts(station.settings.db_path) == before


def test_a_revoked_token_is_refused_at_once(station):
    added = station.receivers.add("Cụm 1")
    station.receivers.record_status(added.token, report("Cụm 1"))
    station.receivers.revoke("Cụm 1")
    for call in (lambda: station.receivers.config(added.token),
                 lambda: station.receivers.record_status(added.token, report("Cụm 1")),
                 lambda: station.receivers.store_log(added.token, {"rows": []})):
        with pytest.raises(ReceiverRefused) as refused:
            call()
        assert refused.value.refusal is Refusal.UNAUTHORIZED
        assert str(refused.value) == "Mã cụm loa không hợp lệ hoặc đã bị thu hồi."
    with pytest.raises(InputError, match="đã bị thu hồi từ trước"):
        station.receivers.revoke("Cụm 1")
    with pytest.raises(NotFoundError, match="Không có cụm loa «Cụm 9»"):
        station.receivers.revoke("Cụm 9")
    (view,) = station.receivers.list()
    assert view.revoked and not view.online


def test_online_follows_the_last_report(station):
    station.clock = lambda: T0
    added = station.receivers.add("Cụm 1")
    assert not station.receivers.list()[0].online  # never reported
    station.receivers.record_status(added.token, report("Cụm 1", buffer_s=2.25))
    (view,) = station.receivers.list()
    assert view.online and view.playing and view.buffer_s == 2.25 and view.last_seen == T0
    station.clock = lambda: T0 + timedelta(seconds=20)
    assert station.receivers.list()[0].online  # within receiver_offline_s (20 s by default)
    station.clock = lambda: T0 + timedelta(seconds=21)
    view = station.receivers.list()[0]
    assert not view.online and not view.playing and view.state_label == "mất kết nối"


@pytest.mark.parametrize("change, field", [
    ({"state": "dancing"}, "state"),
    ({"buffer_s": -1}, "buffer_s"),
    ({"buffer_s": "2"}, "buffer_s"),
    ({"volume": 1.6}, "volume"),
    ({"volume": True}, "volume"),
    ({"last_error": "x" * 301}, "last_error"),
    ({"sent_at": "2026-12-01T07:00:00"}, "sent_at"),
    ({"sent_at": "hôm qua"}, "sent_at"),
    ({"name": 5}, "name"),
    ({"sent_at": None}, "sent_at"),
])
def test_a_malformed_report_names_its_field_and_stores_nothing(station, change, field):
    added = station.receivers.add("Cụm 1")
    before = counts(station.settings.db_path)
    with pytest.raises(ReceiverRefused) as refused:
        station.receivers.record_status(added.token, report("Cụm 1", **change))
    assert refused.value.refusal is Refusal.MALFORMED
    message = str(refused.value)
    assert f"«{field}»" in message and "\n" not in message
    assert counts(station.settings.db_path) == before
    assert station.receivers.list()[0].last_seen is None


def test_a_report_under_another_name_is_refused(station):
    one = station.receivers.add("Cụm 1")
    station.receivers.add("Cụm 2")
    with pytest.raises(ReceiverRefused) as refused:
        station.receivers.record_status(one.token, report("Cụm 2"))
    assert refused.value.refusal is Refusal.NAME_MISMATCH and str(refused.value) == "Tên cụm loa không khớp với mã."
    assert all(v.last_seen is None for v in station.receivers.list())


def rows(*items):
    return {"rows": [dict(local_id=i, started_at=s, ended_at=e, kind=k, mount="/dai.mp3", cause=c)
                     for i, s, e, k, c in items]}


def test_log_uploads_are_idempotent(station):
    added = station.receivers.add("Cụm 1")
    first = rows((1, "2026-12-01T07:00:00+07:00", "2026-12-01T07:10:00+07:00", "heard", None),
                 (2, "2026-12-01T07:10:00+07:00", None, "gap", "mất kết nối tới máy chủ phát"))
    assert station.receivers.store_log(added.token, first) == {"stored": 2, "last_local_id": 2}
    # the same upload again (its answer was lost): nothing new
    assert station.receivers.store_log(added.token, first) == {"stored": 0, "last_local_id": 2}
    # the open gap ends; a new row comes
    second = rows((2, "2026-12-01T07:10:00+07:00", "2026-12-01T07:10:30+07:00", "gap", "mất kết nối tới máy chủ phát"),
                  (3, "2026-12-01T07:10:30+07:00", None, "heard", None))
    assert station.receivers.store_log(added.token, second) == {"stored": 2, "last_local_id": 3}
    assert counts(station.settings.db_path)["receiver_log"] == 3
    # a malformed row anywhere: nothing of the upload is stored
    bad = rows((4, "2026-12-01T07:20:00+07:00", None, "heard", None), (5, "2026-12-01T07:30:00+07:00", None, "ngủ", None))
    with pytest.raises(ReceiverRefused, match=r"«rows\[2\]\.kind»"):
        station.receivers.store_log(added.token, bad)
    assert counts(station.settings.db_path)["receiver_log"] == 3
    with pytest.raises(ReceiverRefused, match="500"):
        station.receivers.store_log(added.token, rows(*[(i, "2026-12-01T07:00:00+07:00", None, "gap", None)
                                                        for i in range(1, 502)]))


class NoCard:
    """A sound card that is not there (on_slot then logs the slot failed): the slot start is what counts here."""

    uses_portaudio = False
    failed_at = None
    is_open = False

    def open(self):
        from broadcaster.exceptions import PlayoutError

        raise PlayoutError("không có card trong phép thử này")

    def close(self):
        pass

    def take_recoveries(self):
        return []

    def take_tap_fault(self):
        return None


def test_each_cluster_offline_at_a_slot_start_gets_one_alarm(station):
    from broadcaster.scheduling import store

    store.ensure_timetable(engine=station.db, settings=station.settings)
    slot = station.timetable().slots[0]
    planned = T0 + timedelta(minutes=2)
    station.clock = lambda: T0
    stale = station.receivers.add("Cụm cũ", "Thôn Đông")
    station.receivers.record_status(stale.token, report("Cụm cũ"))
    station.clock = lambda: T0 + timedelta(minutes=2)
    fresh = station.receivers.add("Cụm mới")
    station.receivers.record_status(fresh.token, report("Cụm mới"))
    station.receivers.add("Cụm chưa chạy")
    station.receivers.add("Cụm đã thu hồi")
    station.receivers.revoke("Cụm đã thu hồi")
    onair = station.on_air(player_factory=NoCard, say=lambda line: None)
    onair.on_slot(slot, planned)
    alarms = [r for r in station.as_run_log() if r.kind.value == "alarm" and "cụm loa" in r.title]
    assert sorted(r.title for r in alarms) == ["Cảnh báo: cụm loa mất kết nối «Cụm chưa chạy»",
                                               "Cảnh báo: cụm loa mất kết nối «Cụm cũ»"]
    assert all(r.slot == slot.name and r.planned_at == planned for r in alarms)
    by_title = {r.title: r.reason for r in alarms}
    assert "(vùng Thôn Đông)" in by_title["Cảnh báo: cụm loa mất kết nối «Cụm cũ»"]
    assert "báo cáo lần cuối lúc 01/12/2026 07:00:00" in by_title["Cảnh báo: cụm loa mất kết nối «Cụm cũ»"]
    assert "chưa kết nối lần nào" in by_title["Cảnh báo: cụm loa mất kết nối «Cụm chưa chạy»"]
    # the same occurrence again (a restart): no second alarm for the same cluster
    assert station.receiver_watch.alarm_offline(slot.name, planned) == []


def test_zones_named_by_an_urgent_are_checked_against_the_clusters(station):
    station.receivers.add("Cụm 1", "Thôn Đông")
    station.receivers.add("Cụm 2", "Xóm Bãi")
    station.receivers.add("Cụm 3", "Xóm Cũ")
    station.receivers.revoke("Cụm 3")
    assert station.receivers.check_zones(["thôn đông", "Xóm Bãi", "THÔN ĐÔNG"]) == ["Thôn Đông", "Xóm Bãi"]
    with pytest.raises(InputError) as refused:
        station.receivers.check_zones(["Xóm Cũ"])
    assert str(refused.value) == "Không có vùng «Xóm Cũ»; các vùng đã biết: Thôn Đông, Xóm Bãi"


def test_a_link_lost_and_back_is_in_the_stations_log(station):
    station.clock = lambda: T0
    added = station.receivers.add("Cụm 1")
    station.receivers.add("Cụm chưa chạy")  # never online: the slot-start alarm speaks for it, not this
    station.receivers.record_status(added.token, report("Cụm 1"))
    assert station.receiver_watch.watch() == []  # online: nothing to say
    station.clock = lambda: T0 + timedelta(seconds=25)
    (lost,) = station.receiver_watch.watch()
    assert lost.title == "Cảnh báo: cụm loa mất kết nối «Cụm 1»" and lost.started_at == T0
    assert "không báo cáo từ 01/12/2026 07:00:00" in lost.reason
    assert station.receiver_watch.watch() == []  # said once
    station.clock = lambda: T0 + timedelta(seconds=40)
    station.receivers.record_status(added.token, report("Cụm 1"))
    (back,) = station.receiver_watch.watch()
    assert back.title == "Cụm loa kết nối lại «Cụm 1»" and "40 giây" in back.reason
    assert (back.started_at, back.ended_at) == (T0, T0 + timedelta(seconds=40))
    onair = station.on_air(player_factory=NoCard, say=lambda line: None)
    assert onair.watch == station.receiver_watch.watch and onair.slot_start == station.receiver_watch.alarm_offline
