"""broadcaster.scheduling.aps: the one module that imports APScheduler."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from sched_helpers import local

from broadcaster.scheduling.aps import SlotTrigger
from broadcaster.scheduling.timetable import Slot

REPO = Path(__file__).resolve().parents[2]


def test_one_module_imports_apscheduler_and_scheduler_is_small():
    found = sorted(
        str(p.relative_to(REPO)) for p in (REPO / "broadcaster").rglob("*.py")
        if "apscheduler" in p.read_text(encoding="utf-8").replace("APScheduler", "")
    )
    assert found == ["broadcaster/scheduling/aps.py"]
    lines = len((REPO / "broadcaster" / "scheduling" / "scheduler.py").read_text(encoding="utf-8").splitlines())
    assert lines < 600


def test_trigger_follows_the_timetable_with_an_offset():
    from zoneinfo import ZoneInfo

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    trigger = SlotTrigger(Slot(name="a", at=time(6, 0)), vn, -timedelta(seconds=5))
    first = trigger.get_next_fire_time(None, local(2026, 11, 28, 5, 59, 55))
    assert first == local(2026, 11, 28, 5, 59, 55)  # inclusive at the start
    assert trigger.get_next_fire_time(first, first) == local(2026, 11, 29, 5, 59, 55)
    one_off = SlotTrigger(Slot(name="b", at=time(7), kind="oneoff", on_date=local(2026, 11, 28).date()), vn)
    assert one_off.get_next_fire_time(local(2026, 11, 28, 7, 0), local(2026, 11, 28, 7, 0)) is None
