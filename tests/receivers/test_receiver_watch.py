"""The station's watch over its clusters' links (issue 14 item 4) is a part of its own, built with its
collaborators only (the database, the settings, the clock, the as-run log it writes alarms to; no
Station facade and no registry object): a cluster offline at a slot's start, a link lost and back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from broadcaster.station.asrun import AsRunLog
from broadcaster.station.receivers import Receivers

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)  # 07:00 in Hà Nội


def report(who):
    return {"name": who, "zone": None, "state": "playing", "mount": "/dai.mp3", "buffer_s": 1.5, "volume": 1.0,
            "last_error": None, "sent_at": "2026-12-01T07:00:00+07:00"}


@pytest.fixture
def parts(station):
    """The station's database and settings only; the parts are built here, the facade is not used."""
    now = [T0]
    asrun = AsRunLog(engine=station.db, settings=station.settings, clock=lambda: now[0])
    registry = Receivers(engine=station.db, settings=station.settings, clock=lambda: now[0])
    return station.settings, station.db, now, asrun, registry


def test_the_watch_is_built_with_its_collaborators_only(parts):
    from broadcaster.station.receiver_watch import ReceiverWatch

    settings, engine, now, asrun, registry = parts
    watch = ReceiverWatch(engine=engine, settings=settings, clock=lambda: now[0], alarms=asrun)
    one = registry.add("Cụm 1", "Thôn Đông")
    registry.add("Cụm chưa chạy")
    registry.record_status(one.token, report("Cụm 1"))
    assert watch.watch() == []  # online (and one never seen): nothing to say
    now[0] = T0 + timedelta(seconds=25)
    (lost,) = watch.watch()
    assert lost.title == "Cảnh báo: cụm loa mất kết nối «Cụm 1»" and lost.started_at == T0
    planned = T0 + timedelta(seconds=30)
    alarms = watch.alarm_offline("Sáng", planned)
    assert sorted(r.title for r in alarms) == ["Cảnh báo: cụm loa mất kết nối «Cụm 1»",
                                               "Cảnh báo: cụm loa mất kết nối «Cụm chưa chạy»"]
    assert "(vùng Thôn Đông)" in next(r.reason for r in alarms if "Cụm 1" in r.title)
    assert watch.alarm_offline("Sáng", planned) == []  # one per cluster per slot occurrence
    now[0] = T0 + timedelta(seconds=40)
    registry.record_status(one.token, report("Cụm 1"))
    (back,) = watch.watch()
    assert back.title == "Cụm loa kết nối lại «Cụm 1»" and (back.started_at, back.ended_at) == (T0, now[0])
    assert sorted(r.id for r in asrun.as_run_log()) == sorted(r.id for r in [lost, *alarms, back])  # its log
