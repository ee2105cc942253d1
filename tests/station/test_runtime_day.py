"""The station as `serve` runs it (OnAir), on an accelerated clock: a whole day of the default
timetable, and the amplifier commands around a slot. Playout is the boundary: a fake player
records what it was given and lets each item's length pass on the clock."""

import shlex
import sys
import threading
from datetime import timedelta

from slot_fixtures import clock, durations, player, render, settings, station  # noqa: F401 (fixtures)
from sched_helpers import local
from sched_helpers import FakePlayer, add, wait_for

from broadcaster.models import DEFERRED_LABEL, BulletinClass
from broadcaster.scheduling import store
from broadcaster.scheduling.clock import AcceleratedClock
from broadcaster.station.amp import Amplifier, run_command


def test_a_whole_day_of_the_default_timetable(station, render, durations):
    clock = AcceleratedClock(local(2026, 11, 28, 0, 0), speed=4320)  # 24 hours in 20 seconds
    station.clock = clock.now
    add(station, render, "Ưu tiên: lịch cắt điện", 5 * 60, bulletin_class=BulletinClass.priority)
    add(station, render, "A", 12 * 60)
    add(station, render, "B", 12 * 60)
    add(station, render, "C", 10 * 60)
    once = add(station, render, "Một lần", 2 * 60, frequency="n_times", times=1)
    player = FakePlayer(clock, durations)
    said: list[str] = []
    onair = station.on_air(player_factory=lambda: player, clock=clock, say=said.append)
    runner = threading.Thread(target=onair.run, daemon=True)
    runner.start()
    try:
        wait_for(lambda: clock.now() >= local(2026, 11, 29, 0, 5), timeout=80, step=0.05)
    finally:
        onair.stop.set()
        runner.join(15)
    assert not runner.is_alive()

    log = station.as_run_log()
    six, seventeen = local(2026, 11, 28, 6, 0), local(2026, 11, 28, 17, 0)
    assert {r.planned_at for r in log} == {six, seventeen}  # every slot of the day, at its planned time
    assert {r.status.value for r in log} <= {"aired", "deferred"}  # nothing missed, failed or on air
    morning = [(r.slot, r.title, r.status.value) for r in log if r.planned_at == six]
    assert morning == [
        ("Buổi sáng", "Ưu tiên: lịch cắt điện", "aired"),
        ("Buổi sáng", "A", "aired"),
        ("Buổi sáng", "B", "aired"),
        ("Buổi sáng", "C", "deferred"),  # 5 + 12 + 12 = 29 of 30 minutes
        ("Buổi sáng", "Một lần", "deferred"),
    ]
    evening = [(r.title, r.status.value) for r in log if r.planned_at == seventeen]
    assert evening == [
        ("Ưu tiên: lịch cắt điện", "aired"),
        ("C", "aired"),  # carried over: first among thông thường
        ("Một lần", "aired"),
        ("A", "aired"),
        ("B", "deferred"),
    ]
    deferred = [r for r in log if r.status == "deferred"]
    assert all(r.reason.startswith(DEFERRED_LABEL) for r in deferred)
    aired = [r for r in log if r.status == "aired"]
    for planned in (six, seventeen):
        in_slot = [r for r in aired if r.planned_at == planned]
        # at 4320x one real second is 72 minutes: 'on time' here means within the hour of the
        # accelerated clock (start accuracy is measured in bench/, not asserted)
        assert planned <= in_slot[0].started_at < planned + timedelta(minutes=60)
        for before, after in zip(in_slot, in_slot[1:]):
            assert after.started_at >= before.ended_at  # one after another
    assert len(player.played) == len(aired) == 7
    assert station.get_bulletin(once.id).status == "aired"  # its one airing is done
    assert any(DEFERRED_LABEL in line for line in said)  # the render-ahead check said so before air


class LoggingPlayer(FakePlayer):
    """Writes "play" into the same file the amplifier commands write to, to check the order."""

    def __init__(self, clock, durations, path):
        super().__init__(clock, durations)
        self.path = path

    def play(self, path, *, on_start=None, timeout=None):
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("play\n")
        return super().play(path, on_start=on_start, timeout=timeout)


def note(path, word):
    code = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')"
    return shlex.join([sys.executable, "-c", code, str(path), word])


def run_slot(station, render, durations, tmp_path, amplifier):
    store.ensure_timetable(engine=station.db, settings=station.settings)
    slot = station.timetable().slot_named("Buổi sáng")
    planned = local(2026, 11, 28, 6, 0)
    clock = AcceleratedClock(planned - timedelta(seconds=amplifier.preroll_s), speed=100)
    station.clock = clock.now
    add(station, render, "A", 60)
    trace = tmp_path / "amp.txt"
    player = LoggingPlayer(clock, durations, trace)
    onair = station.on_air(player_factory=lambda: player, clock=clock, say=lambda m: None, amplifier=amplifier)
    onair.on_slot(slot, planned)
    return trace, player, planned


def test_amplifier_on_preroll_then_off(station, render, durations, tmp_path):
    trace = tmp_path / "amp.txt"
    amp = Amplifier(on_command=note(trace, "on"), off_command=note(trace, "off"), preroll_s=5)
    trace, player, planned = run_slot(station, render, durations, tmp_path, amp)
    assert trace.read_text(encoding="utf-8").split() == ["on", "play", "off"]
    assert player.played[0][1] >= planned  # the pre-roll is over before the first sound
    assert [r.status.value for r in station.as_run_log()] == ["aired"]


def test_failing_amplifier_commands_are_logged_and_the_slot_airs(station, render, durations, tmp_path):
    amp = Amplifier(
        on_command="/nonexistent/relay-board --on",
        off_command=shlex.join([sys.executable, "-c", "import sys; sys.stderr.write('relay busy'); sys.exit(3)"]),
        preroll_s=2,
    )
    run_slot(station, render, durations, tmp_path, amp)
    rows = [(r.title, r.status.value, r.reason) for r in station.as_run_log()]
    assert [(t, s) for t, s, _ in rows] == [("Bật tăng âm", "failed"), ("A", "aired"), ("Tắt tăng âm", "failed")]
    assert "Không chạy được lệnh" in rows[0][2]
    assert "mã lỗi 3: relay busy" in rows[2][2]


def test_amplifier_command_timeout_and_bad_quoting():
    slow = shlex.join([sys.executable, "-c", "import time; time.sleep(10)"])
    outcome = run_command(slow, timeout_s=0.3)
    assert not outcome.ok and "0.3 giây" in outcome.reason
    assert not run_command('echo "unbalanced', timeout_s=1).ok
    assert run_command(shlex.join([sys.executable, "-c", "pass"]), timeout_s=10).ok
    assert Amplifier().switch_on() is None and Amplifier().preroll_s == 0  # nothing configured: nothing run
