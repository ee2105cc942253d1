"""No exception in a background loop ends the station (issue 9, item 2): the pre-render, a slot
job, the OnAir loop and the urgent worker each get a failure injected once; the failure becomes
an alarm row (no library internals in it), and the station goes on: the next slot still airs.

The timetable is the default one (06:00 and 17:00) on an accelerated clock; playout and
rendering are faked (sched_helpers), the database is real."""

from __future__ import annotations

import threading

import sqlalchemy.exc
from sched_helpers import FakePlayer, add, local, wait_for

from broadcaster.models import AsRunKind, AsRunStatus
from broadcaster.scheduling.clock import AcceleratedClock

SIX, SEVENTEEN = local(2026, 11, 28, 6, 0), local(2026, 11, 28, 17, 0)


def _fail_once(target, name: str, exc: Exception, *, when=lambda: True):
    """Make target.name raise `exc` the first time it is called (and `when()` holds), then work."""
    original = getattr(target, name)
    state = {"raised": 0}

    def wrapper(*args, **kwargs):
        if not state["raised"] and when():
            state["raised"] += 1
            raise exc
        return original(*args, **kwargs)

    setattr(target, name, wrapper)
    return state


def _alarms(station) -> list:
    return [r for r in station.as_run_log() if r.kind == AsRunKind.alarm]


def _run(station, durations, *, until, retry_s: float | None = None, before_start=None, done=None):
    """OnAir.run in a thread on an accelerated clock from 03:00 until the clock reaches `until`
    and `done()` (what the test waits for: the rows it expects) holds.

    Returns (onair, whether run() was still running then)."""
    clock = AcceleratedClock(local(2026, 11, 28, 3, 0), speed=4320)  # an hour in 0.8 s; 3 h before the first slot
    station.clock = clock.now
    # at 4320× a loaded machine's half-second stall is 36 minutes of station time: a slot job that
    # late must still air (these tests are about faults, not about the misfire grace)
    station.settings.misfire_grace_s = 24 * 3600
    if retry_s is not None:
        station.settings.device_retry_s = retry_s
    onair = station.on_air(player_factory=lambda: FakePlayer(clock, durations), clock=clock, say=lambda _m: None)
    if before_start is not None:
        before_start(onair)
    runner = threading.Thread(target=onair.run, name="onair-test", daemon=True)
    runner.start()
    try:
        wait_for(lambda: (clock.now() >= until and (done is None or done())) or not runner.is_alive(),
                 timeout=60, step=0.02)
        alive = runner.is_alive()
    finally:
        onair.stop.set()
        runner.join(15)
    return onair, alive


def _aired_at(station, planned) -> list[str]:
    return [r.title for r in station.as_run_log() if r.planned_at == planned and r.status == AsRunStatus.aired]


def test_a_failing_prerender_is_an_alarm_and_the_slots_still_air(station, render, durations):
    add(station, render, "A", 60)
    timeout = sqlalchemy.exc.TimeoutError(
        "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00 "
        "(Background on this error at: https://sqlalche.me/e/20/3o7r)")
    failed = _fail_once(station.items, "prerender_due", timeout)
    _onair, alive = _run(station, durations, until=local(2026, 11, 28, 17, 30),
                         done=lambda: _aired_at(station, SIX) == ["A"] and _aired_at(station, SEVENTEEN) == ["A"])
    assert failed["raised"] == 1
    assert alive, "OnAir.run ended after the pre-render failed"
    log = [(r.title, r.status, r.planned_at) for r in station.as_run_log()]
    assert _aired_at(station, SIX) == ["A"] and _aired_at(station, SEVENTEEN) == ["A"], log
    alarms = _alarms(station)
    assert alarms and alarms[0].status == AsRunStatus.alarm
    assert "sqlalche" not in alarms[0].reason and "QueuePool" not in alarms[0].reason, alarms[0].reason


def test_a_failing_slot_job_is_an_alarm_and_the_next_slot_airs(station, render, durations):
    add(station, render, "A", 60)
    failed = _fail_once(station.slots, "air_slot", RuntimeError("lỗi thử"))
    _onair, alive = _run(station, durations, until=local(2026, 11, 28, 17, 30),
                         done=lambda: _aired_at(station, SEVENTEEN) == ["A"])
    assert failed["raised"] == 1 and alive
    assert _aired_at(station, SEVENTEEN) == ["A"]
    alarms = _alarms(station)
    assert len(alarms) == 1 and "Buổi sáng" in alarms[0].title + alarms[0].reason, alarms


def test_a_failure_in_the_onair_loop_is_an_alarm_and_the_loop_goes_on(station, render, durations):
    add(station, render, "A", 60)
    in_loop = lambda: threading.current_thread().name == "onair-test"  # noqa: E731 - not the slot jobs

    def inject(onair):
        state["start"] = _fail_once(onair, "ensure_device", RuntimeError("lỗi thử lúc khởi động"), when=in_loop)

    state: dict = {}
    onair, alive = _run(station, durations, until=local(2026, 11, 28, 6, 30), retry_s=0.5, before_start=inject,
                        done=lambda: _aired_at(station, SIX) == ["A"])
    assert state["start"]["raised"] == 1 and alive
    assert _aired_at(station, SIX) == ["A"]
    assert _alarms(station)


def test_a_failing_urgent_worker_is_an_alarm_and_the_next_request_airs(station, render, durations):
    clock = AcceleratedClock(local(2026, 11, 28, 5, 50), speed=50)
    station.clock = clock.now
    onair = station.on_air(player_factory=lambda: FakePlayer(clock, durations), clock=clock, say=lambda _m: None)
    try:
        assert onair.ensure_device()
        failed = _fail_once(onair.urgent, "_air_group", RuntimeError("lỗi thử"))
        first = onair.urgent.request(text="Thông báo khẩn thứ nhất")
        assert first.done.wait(30) and first.state == "failed"
        assert failed["raised"] == 1
        alarms = _alarms(station)
        assert len(alarms) == 1 and "khẩn cấp" in alarms[0].title + alarms[0].reason, alarms
        second = onair.urgent.request(text="Thông báo khẩn thứ hai")
        assert second.done.wait(30) and second.state == "done", second.public()
    finally:
        onair.urgent.shutdown()
